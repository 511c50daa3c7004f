// Passkeys (docs/accounts.md#passkeys): the browser's part of each ceremony. A form or
// button marked data-passkey-register or data-passkey-use asks the server for the options
// (data-options-url), hands them to the authenticator (navigator.credentials), and sends
// its answer back (data-url); the server checks everything. Without WebAuthn in the
// browser, the passkey parts stay hidden and the other ways to sign in remain.

(() => {
  if (!window.PublicKeyCredential || !navigator.credentials) {
    return;
  }

  function toBase64url(buffer) {
    const bytes = new Uint8Array(buffer);
    let text = "";
    for (const byte of bytes) {
      text += String.fromCharCode(byte);
    }
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function fromBase64url(text) {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
    return Uint8Array.from(binary, (character) => character.charCodeAt(0)).buffer;
  }

  function csrf() {
    const found = document.cookie.split("; ").find((pair) => pair.startsWith("csrftoken="));
    return found ? decodeURIComponent(found.slice("csrftoken=".length)) : "";
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify(body || {}),
    });
    let data = {};
    try {
      data = await response.json();
    } catch {
      data = {};
    }
    if (!response.ok) {
      const error = data.error || {};
      if (error.code === "recent_sign_in_required" && error.confirm_url) {
        window.location.assign(error.confirm_url);
      }
      throw new Error(error.message || "Something went wrong. Try again.");
    }
    return data;
  }

  function withIds(descriptors) {
    return (descriptors || []).map((descriptor) => ({
      ...descriptor,
      id: fromBase64url(descriptor.id),
    }));
  }

  function creationOptions(json) {
    return {
      ...json,
      challenge: fromBase64url(json.challenge),
      user: { ...json.user, id: fromBase64url(json.user.id) },
      excludeCredentials: withIds(json.excludeCredentials),
    };
  }

  function requestOptions(json) {
    return {
      ...json,
      challenge: fromBase64url(json.challenge),
      allowCredentials: withIds(json.allowCredentials),
    };
  }

  function credentialJSON(credential) {
    const response = credential.response;
    const answer = {
      clientDataJSON: toBase64url(response.clientDataJSON),
    };
    if (response.attestationObject) {
      answer.attestationObject = toBase64url(response.attestationObject);
      answer.transports = response.getTransports ? response.getTransports() : [];
    } else {
      answer.authenticatorData = toBase64url(response.authenticatorData);
      answer.signature = toBase64url(response.signature);
      if (response.userHandle) {
        answer.userHandle = toBase64url(response.userHandle);
      }
    }
    return {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      response: answer,
      clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
    };
  }

  function say(area, text) {
    const status = area.querySelector("[data-passkey-status]");
    if (status) {
      status.textContent = text;
      status.hidden = !text;
    }
  }

  function showRecoveryCodes(area, codes) {
    const section = document.querySelector("[data-passkey-recovery-codes]");
    if (!section || !codes || !codes.length) {
      return false;
    }
    const list = section.querySelector("ul");
    list.replaceChildren(
      ...codes.map((code) => {
        const item = document.createElement("li");
        item.textContent = code;
        return item;
      })
    );
    section.hidden = false;
    // The rest of the page was read before the passkey: it still said "You have no
    // passkey" and "Two-factor sign-in is off" around the codes. Only the codes now; their
    // "Done" loads the page as it is.
    const main = section.closest("main");
    for (let kept = section; main && kept !== main; kept = kept.parentElement) {
      for (const other of kept.parentElement.children) {
        if (other !== kept) {
          other.hidden = true;
        }
      }
    }
    section.querySelector("a")?.focus();
    area.hidden = true;
    return true;
  }

  function cancelled(error) {
    return error && (error.name === "NotAllowedError" || error.name === "AbortError");
  }

  // The browser refuses a relying party that is not this address's domain: the site is
  // open at another address than its passkeys' (PASSKEY_RP_ID), e.g. 127.0.0.1.
  function explained(error, otherwise) {
    if (cancelled(error)) {
      return otherwise;
    }
    if (error && error.name === "SecurityError") {
      return "Passkeys do not work at this address of the site. Open it at its usual address.";
    }
    return error.message;
  }

  async function register(form, button) {
    const name = form.elements.name.value.trim();
    if (!name) {
      form.elements.name.focus();
      return;
    }
    button.disabled = true;
    say(form, "Follow your browser's steps to create the passkey…");
    try {
      const options = await post(form.dataset.optionsUrl);
      const credential = await navigator.credentials.create({
        publicKey: creationOptions(options),
      });
      const result = await post(form.dataset.url, {
        name,
        credential: credentialJSON(credential),
      });
      if (!showRecoveryCodes(form, result.recovery_codes)) {
        window.location.assign(form.dataset.next);
      }
    } catch (error) {
      say(form, explained(error, "No passkey was added."));
    } finally {
      button.disabled = false;
    }
  }

  async function use(button) {
    const area = button.closest("[data-passkey-area]") || button.parentElement;
    button.disabled = true;
    say(area, "Follow your browser's steps to use your passkey…");
    try {
      const options = await post(button.dataset.optionsUrl);
      const credential = await navigator.credentials.get({ publicKey: requestOptions(options) });
      const result = await post(button.dataset.url, {
        credential: credentialJSON(credential),
        next: button.dataset.next || "",
      });
      window.location.assign(result.next);
    } catch (error) {
      say(area, explained(error, "The passkey was not used."));
      button.disabled = false;
    }
  }

  for (const element of document.querySelectorAll("[data-passkey-only]")) {
    element.hidden = false;
  }
  for (const form of document.querySelectorAll("form[data-passkey-register]")) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      register(form, form.querySelector("button[type=submit]"));
    });
  }
  for (const button of document.querySelectorAll("button[data-passkey-use]")) {
    button.addEventListener("click", () => use(button));
  }
})();
