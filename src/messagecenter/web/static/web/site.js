// Small conveniences on top of pages that work without script: "Select all" in the
// Message Center, a confirmation before deleting for ever, no second submit of a form
// while the first is on its way (the idempotency key makes a second one harmless anyway),
// a seller's "Insert saved reply" without reloading the page, and live pages (the end of
// this file): badges, the list and the open conversation follow the event stream.
"use strict";

// A list's rows to tick: conversations, and notices and promotions (broadcasts). Counting
// only conversations left a phone, where the bulk bar shows only with a selection, unable
// to act on a notice alone, and "Select all" leaving the notices out.
const ROW_BOX_NAMES = new Set(["conversation_ids", "broadcast_ids"]);
const ROW_BOXES = [...ROW_BOX_NAMES]
  .map((name) => `input[type="checkbox"][name="${name}"]`)
  .join(", ");

// The page's menus (Mute, Report, …) and the header's "Menu" on a phone, while open.
const OPEN_MENUS = "details.menu[open], details.site-menu[open]";

// "Select all", the count of selected rows and the bulk bar of one list form; again after
// a live page swaps the list in.
function enhanceBulk(form) {
  const selectAll = form.querySelector("[data-select-all]");
  const count = form.querySelector("[data-selected-count]");
  const bar = form.querySelector(".bulk-bar");
  if (bar) {
    bar.dataset.enhanced = "";
  }
  const boxes = () => [...form.querySelectorAll(ROW_BOXES)];
  const update = () => {
    const chosen = boxes().filter((box) => box.checked).length;
    if (selectAll) {
      selectAll.checked = chosen > 0 && chosen === boxes().length;
      selectAll.indeterminate = chosen > 0 && chosen < boxes().length;
    }
    if (count) {
      count.textContent = chosen ? `${chosen} selected` : "";
    }
    if (bar) {
      bar.toggleAttribute("data-has-selection", chosen > 0);
    }
  };
  if (selectAll) {
    selectAll.closest("[data-select-all-wrap]").hidden = false;
    selectAll.addEventListener("change", () => {
      for (const box of boxes()) {
        box.checked = selectAll.checked;
      }
      update();
    });
  }
  form.addEventListener("change", (event) => {
    if (ROW_BOX_NAMES.has(event.target.name)) {
      update();
    }
  });
  update();
}

document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("[data-bulk]")) {
    enhanceBulk(form);
  }

  // After an action the page loads again with what it did at the top ("1 conversation
  // moved to Trash.", "Report sent …"), or with the answer to what was asked ("Is this
  // e-mail from us?"). A live region already there when the page loads is not read out,
  // and the focus was at the start of the page: a screen reader said nothing of it, and
  // an Undo was a long way off by keyboard. That part takes the focus — unless the page
  // gives it to a field of its own, or the address points somewhere in the page.
  const answer = document.querySelector("[data-takes-focus]");
  if (answer && !window.location.hash && !document.querySelector("[autofocus]")) {
    answer.focus();
  }
  // A form the server refused comes back with the reason beside it, but the page loaded
  // at its top: on a phone the reason of a form far down the page (a return on the order
  // page, a reply under a long conversation) was screens away, the focus at the start, so
  // it looked as if nothing had happened. The reason takes the focus, and with it the view.
  const refusal = document.querySelector(".alert--error[role=alert]");
  if (refusal && !answer && !window.location.hash && !document.querySelector("[autofocus]")) {
    if (!refusal.hasAttribute("tabindex")) {
      refusal.tabIndex = -1;
    }
    refusal.focus();
  }
  // After sending, the page loads again at the message sent (#message-<id>), as a link to
  // a message does: the browser scrolled to it but left the focus on the page itself, so
  // a screen reader said nothing of it and Tab started again from the top. It takes the
  // focus.
  const linked = /^#message-\d+$/.test(window.location.hash)
    ? document.getElementById(window.location.hash.slice(1))
    : null;
  if (linked && !document.querySelector("[autofocus]")) {
    if (!linked.hasAttribute("tabindex")) {
      linked.tabIndex = -1;
    }
    linked.focus();
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.dataset.confirm)) {
      event.preventDefault();
    }
    // An open menu closes when you click anywhere else, as menus do.
    for (const menu of document.querySelectorAll(OPEN_MENUS)) {
      if (!menu.contains(event.target)) {
        menu.open = false;
      }
    }
  });

  document.addEventListener("keydown", (event) => {
    const menu = event.target.closest && event.target.closest(OPEN_MENUS);
    if (event.key === "Escape" && menu) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });

  // And when the keyboard moves on past it: an open menu lies over the page, and would
  // hide what Tab reaches next. (Focus leaving the window closes nothing.)
  document.addEventListener("focusout", (event) => {
    const menu = event.target.closest && event.target.closest(OPEN_MENUS);
    if (menu && event.relatedTarget && !menu.contains(event.relatedTarget)) {
      menu.open = false;
    }
  });

  // Without script the picker's form reloads the page with the reply in the box (and
  // loses what was typed). Here the reply goes in at the cursor, keeping what is there.
  // Choosing alone inserts nothing: arrowing through a list with the keyboard must not
  // write into the message.
  for (const picker of document.querySelectorAll("[data-saved-replies]")) {
    const textarea = document.getElementById(picker.dataset.savedReplies);
    const select = picker.querySelector("select");
    if (!textarea || !select) {
      continue;
    }
    // Until the box has had the focus, its cursor is at the start: add at the end instead.
    let hasCursor = document.activeElement === textarea;
    textarea.addEventListener("focus", () => {
      hasCursor = true;
    });
    picker.addEventListener("submit", (event) => {
      event.preventDefault();
      const option = select.selectedOptions[0];
      if (!option || !option.value) {
        select.focus();
        return;
      }
      const body = option.dataset.body;
      const start = hasCursor ? textarea.selectionStart : textarea.value.length;
      const end = hasCursor ? textarea.selectionEnd : textarea.value.length;
      const before = textarea.value.slice(0, start);
      // A reply added after some text starts on its own line.
      const separator = before && !before.endsWith("\n") ? "\n" : "";
      textarea.setRangeText(separator + body, start, end, "end");
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
      select.value = "";
      textarea.focus();
    });
  }

  for (const input of document.querySelectorAll('input[type="file"][data-max-bytes]')) {
    checkFilesBeforeUpload(input);
  }

  for (const form of document.querySelectorAll("[data-submit-once]")) {
    form.addEventListener("submit", () => {
      for (const button of form.querySelectorAll('button[type="submit"]')) {
        // After the browser has taken the submission, so the button's value is still sent.
        setTimeout(() => {
          button.disabled = true;
        }, 0);
      }
    });
  }
});

// The server's limits on attachments, checked when files are chosen: a file it would
// refuse is never uploaded (10 MB on a phone's connection), and the reason shows on the
// file field. The server checks again; this only saves the upload. A file it refused
// anyway (by its content: a text file named fake.jpg) comes back as its page with the
// reason on the field and no file chosen: the reason stays until the person chooses again.
function checkFilesBeforeUpload(input) {
  const error = document.getElementById(`${input.id}-error`);
  const maxBytes = Number(input.dataset.maxBytes);
  const maxFiles = Number(input.dataset.maxFiles);
  const check = () => {
    const files = Array.from(input.files || []);
    let problem = "";
    if (files.length > maxFiles) {
      problem = `At most ${maxFiles} attachments per message.`;
    } else {
      const tooLarge = files.find((file) => file.size > maxBytes);
      const empty = files.find((file) => file.size === 0);
      if (tooLarge) {
        problem = `${tooLarge.name} is larger than ${input.dataset.maxMegabytes} MB.`;
      } else if (empty) {
        problem = `${empty.name} is empty.`;
      }
    }
    input.setCustomValidity(problem);
    if (problem) {
      input.setAttribute("aria-invalid", "true");
    } else {
      input.removeAttribute("aria-invalid");
    }
    if (error) {
      error.textContent = problem;
      error.hidden = !problem;
    }
  };
  input.addEventListener("change", check);
  // Files the browser kept (going Back to the page) are checked as if just chosen.
  if (input.files && input.files.length) {
    check();
  }
}

// The development mailbox shows an e-mail's HTML in a frame where no script runs; sized
// here to the whole e-mail, so the footer is never hidden behind the frame's own scroll bar.
function fitMailFrame(frame) {
  const fit = () => {
    const document = frame.contentDocument;
    if (document && document.documentElement) {
      frame.style.height = `${document.documentElement.scrollHeight}px`;
    }
  };
  frame.addEventListener("load", fit);
  fit();
}
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("iframe.mail-frame").forEach(fitMailFrame);
});

// Coming back with the browser's Back button shows the page as it was left: enable again.
window.addEventListener("pageshow", () => {
  for (const button of document.querySelectorAll("[data-submit-once] button[disabled]")) {
    button.disabled = false;
  }
});

// Back after sending shows the form again as it was sent: the browser puts back what was
// typed, but the page is made anew, with a new idempotency key, so sending it again made a
// second message or a second case. The key each form was sent with is kept for this tab
// (sessionStorage, with a hash of what the form carried, not the words themselves); a page
// whose form the browser filled back in with exactly that gets the key back, and the server
// answers with what the first send made (docs/api.md, "Idempotency"). Only a form the
// browser filled back in: the same words typed again are a new message.
const SENT_FORMS = "message-center:sent-forms";

function sentForms() {
  try {
    return JSON.parse(window.sessionStorage.getItem(SENT_FORMS)) || [];
  } catch {
    return [];
  }
}

// FNV-1a over what the form would send (its action and text fields, not its key or token).
function fingerprintOf(form) {
  const fields = [form.action];
  for (const [name, value] of new FormData(form)) {
    if (typeof value === "string" && name !== "idempotency_key" && name !== "csrfmiddlewaretoken") {
      fields.push(name, value);
    }
  }
  const text = JSON.stringify(fields);
  let hash = 0x811c9dc5;
  let second = 0x01000193;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    hash = Math.imul(hash ^ code, 0x01000193);
    second = Math.imul(second ^ code, 0x811c9dc5);
  }
  return `${(hash >>> 0).toString(16)}-${(second >>> 0).toString(16)}-${text.length}`;
}

function filledBackIn(form) {
  return [...form.elements].some((field) =>
    field.tagName === "TEXTAREA" || field.type === "text"
      ? field.value !== field.defaultValue
      : false,
  );
}

// The browser fills a form back in as the page is parsed, or by the time it has loaded
// (when depends on the browser): the key is given back at either.
function giveBackSentKeys() {
  for (const key of document.querySelectorAll('form input[name="idempotency_key"]')) {
    const form = key.form;
    if (filledBackIn(form)) {
      const sent = sentForms().find((entry) => entry.fingerprint === fingerprintOf(form));
      if (sent) {
        // The page's own key is kept for a form changed before it is sent (below).
        key.dataset.freshKey ??= key.value;
        key.value = sent.key;
      }
    }
  }
}

document.addEventListener("DOMContentLoaded", () => {
  giveBackSentKeys();
  for (const key of document.querySelectorAll('form input[name="idempotency_key"]')) {
    const form = key.form;
    form.addEventListener("submit", () => {
      // A form given its sent key back but then changed is another message: sent with that
      // key it was refused ("This idempotency key was already used for a different
      // message."), so it goes with the key the page was made with.
      if (key.dataset.freshKey) {
        const sent = sentForms().find((entry) => entry.key === key.value);
        if (!sent || sent.fingerprint !== fingerprintOf(form)) {
          key.value = key.dataset.freshKey;
        }
      }
      // The newest twenty sends of this tab are plenty for its Back button.
      const kept = sentForms()
        .filter((entry) => entry.key !== key.value)
        .slice(-19);
      kept.push({ fingerprint: fingerprintOf(form), key: key.value });
      try {
        window.sessionStorage.setItem(SENT_FORMS, JSON.stringify(kept));
      } catch {
        // Storage full or refused: Back and Send then sends again, as without script.
      }
    });
  }
});
window.addEventListener("pageshow", giveBackSentKeys);

// A message's id from its <li id="message-…">.
function messageIdOf(item) {
  return Number(item.id.slice("message-".length));
}

// The <ol> of messages a conversation's view answers with X-Partial: messages (the
// messages alone, as conversations/_messages.html renders them), or null when it does
// not answer (offline, refused, not a list).
async function messagesPartial(url) {
  let response;
  try {
    response = await fetch(url, { headers: { "X-Partial": "messages" } });
  } catch {
    return null;
  }
  if (!response.ok) {
    return null;
  }
  const fresh = document.createElement("div");
  fresh.innerHTML = await response.text();
  putLiveParts(fresh);
  return fresh.querySelector("ol");
}

// What a view's answer to X-Partial: messages carries beside the messages, each part marked
// [data-live-part] (the console case page's line under its title: the status a customer's
// message moves, what the customer sees), put in place of the page's own as the server
// renders it now: one way for the messages and what they change. A part with a choice the
// person has changed and not sent yet (the "Set status" form, a status picked) is theirs:
// left as it is, so a live update never undoes what they are doing.
function putLiveParts(fresh) {
  for (const part of fresh.querySelectorAll("[data-live-part]")) {
    const shown = document.querySelector(
      `[data-live-part="${CSS.escape(part.dataset.livePart)}"]`,
    );
    if (shown && !changedByPerson(shown)) {
      shown.replaceWith(part);
    }
  }
}

// A choice picked and not sent, or words typed and not sent (a reply's draft, a report's
// reason): the person's, not to be put back as the server renders it.
function changedByPerson(part) {
  const picked = Array.from(part.querySelectorAll("select")).some((select) =>
    Array.from(select.options).some((option) => option.selected !== option.defaultSelected),
  );
  const typed = Array.from(part.querySelectorAll("textarea, input[type=text]")).some(
    (field) => field.value !== field.defaultValue,
  );
  return picked || typed;
}

// A conversation's page shows its newest messages (docs/conversations.md, "A conversation's
// page"). Without script "Show older messages" and "Show newer messages" load the page
// before or after what is shown; here the messages are added in place (the same view,
// asked for the messages alone with X-Partial: messages) and the link moves on.
function enhanceMoreMessages(thread) {
  for (const link of document.querySelectorAll("a[data-more-messages]")) {
    const isOlder = link.dataset.moreMessages === "older";
    link.addEventListener("click", async (event) => {
      event.preventDefault();
      if (link.getAttribute("aria-busy") === "true") {
        return;
      }
      link.setAttribute("aria-busy", "true");
      const list = await messagesPartial(link.href);
      if (!list) {
        // Offline or refused: the page itself, as without script.
        window.location.assign(link.href);
        return;
      }
      // Only what lies beyond the messages shown, in the direction asked.
      const shown = [...thread.querySelectorAll(":scope > li[id^='message-']")].map(messageIdOf);
      const added = [...list.querySelectorAll(":scope > li[id^='message-']")].filter((item) =>
        isOlder ? messageIdOf(item) < Math.min(...shown) : messageIdOf(item) > Math.max(...shown),
      );
      if (isOlder) {
        thread.prepend(...added);
      } else {
        thread.append(...added);
      }
      link.removeAttribute("aria-busy");
      const next = isOlder ? list.dataset.olderUrl : list.dataset.newerUrl;
      const announcer = document.querySelector("[data-live-announcer]");
      if (announcer) {
        const count = added.length === 1 ? "1 message" : `${added.length} messages`;
        announcer.textContent = `${count} ${isOlder ? "older" : "newer"} shown`;
      }
      if (next) {
        link.href = next;
        return;
      }
      // Nothing more that way: the link goes, and the focus to the nearest message added.
      const nav = link.closest("[data-more-messages-nav]");
      if (!isOlder) {
        // Up to the newest again: new messages are added live once more (startLive).
        delete thread.dataset.hasNewer;
      }
      const nearest = isOlder ? added[added.length - 1] : added[0];
      if (nearest) {
        nearest.tabIndex = -1;
        nearest.focus();
      }
      (nav || link).remove();
    });
  }
}

// A link to a message made before the page showed only the newest messages carries the
// message's anchor alone (#message-<id>), as an older e-mail's does: when that message is
// not on the page, the page that shows it is asked for (?message=, the server's way).
function findLinkedMessage() {
  const found = /^#message-(\d+)$/.exec(window.location.hash);
  const params = new URLSearchParams(window.location.search);
  if (!found || document.getElementById(`message-${found[1]}`) || params.has("message")) {
    return;
  }
  if (!document.querySelector('a[data-more-messages="older"]')) {
    return;
  }
  params.delete("before");
  params.delete("after");
  params.set("message", found[1]);
  window.location.replace(`${window.location.pathname}?${params}${window.location.hash}`);
}

document.addEventListener("DOMContentLoaded", () => {
  const thread = document.querySelector("[data-live-conversation]");
  if (thread && window.fetch) {
    findLinkedMessage();
    window.addEventListener("hashchange", findLinkedMessage);
    enhanceMoreMessages(thread);
  }
});

// Live pages (docs/realtime.md, "Live pages"): a signed-in page follows the person's event
// stream and updates what it shows — the header badge, the folder counts, the Message
// Center's list, the open conversation — without a reload. Without script, or without
// EventSource, the pages are as the server rendered them.
const API = "/api/v1";
// A position beyond anyone's newest event: the stream answers with a resync carrying the
// person's newest sequence number, so a page starts from "now" (and refreshes once, which
// also covers what happened while it loaded) instead of replaying the whole log.
const FROM_NOW = "999999999999999999";
const COUNT_EVENTS = new Set([
  "message.created",
  "conversation.read",
  "conversation.unread",
  "conversation.archived",
  "conversation.moved_to_inbox",
  "conversation.trashed",
  "conversation.restored",
  "conversation.deleted",
  "message_center.seen",
  "resync",
  // A broadcast (notice, promotion) for this person became visible: no id, not in the log.
  "broadcast",
  // This person's copy of one changed (read, moved, deleted): in the log like the above.
  "broadcast.read",
  "broadcast.unread",
  "broadcast.archived",
  "broadcast.moved_to_inbox",
  "broadcast.trashed",
  "broadcast.restored",
  "broadcast.deleted",
]);
// Events that move a conversation between boxes (or delete it).
const BOX_EVENTS = new Set([
  "conversation.archived",
  "conversation.moved_to_inbox",
  "conversation.trashed",
  "conversation.restored",
  "conversation.deleted",
]);
// The same for a notice or promotion: an open notice page follows them.
const BROADCAST_BOX_EVENTS = new Set([
  "broadcast.archived",
  "broadcast.moved_to_inbox",
  "broadcast.trashed",
  "broadcast.restored",
  "broadcast.deleted",
]);

// Loads the conversation page again, unless a reply is being written: then it says what
// happened instead, and the reply (which would bring the conversation back) says so too.
function followBoxChange() {
  // This page is on its way elsewhere (most often the list, after its own Move to Trash,
  // whose event can arrive first): a reload would call that navigation off.
  if (leaving) {
    return;
  }
  const draft = document.querySelector("textarea[name=body]");
  if (draft && draft.value.trim()) {
    const announcer = document.querySelector("[data-live-announcer]");
    if (announcer) {
      announcer.textContent = "This conversation was moved in another window.";
    }
    return;
  }
  window.location.reload();
}

// A seller's wait to answer in this conversation was set aside (the buyer's account
// suspended or erased, "No response needed" on another device) or is back with a new
// deadline (the suspension lifted): the page says what now holds — the "suspended" notice
// in place of the reply box or the reply box again, the deadline, "No response needed".
// Loaded again, unless a reply is being written: then the page's parts are put in place as
// the server now renders them (data-live-part), all but the one holding the draft, which is
// the person's (putLiveParts), and the live region says why the rest changed.
async function followWaitChange() {
  if (leaving) {
    return;
  }
  const draft = document.querySelector("textarea[name=body]");
  if (!draft || !draft.value.trim()) {
    window.location.reload();
    return;
  }
  const response = await fetch(window.location.href, { headers: { Accept: "text/html" } });
  if (!response.ok) {
    return;
  }
  putLiveParts(new DOMParser().parseFromString(await response.text(), "text/html"));
  const announcer = document.querySelector("[data-live-announcer]");
  if (announcer) {
    announcer.textContent =
      "This conversation changed while you were writing: " +
      "reload to see whether your reply can be sent.";
  }
}

// An open notice or promotion moved elsewhere: shown as it is now (nothing to lose on
// it: it has no reply box). Deleted for ever, it is gone: back to the list.
function followBroadcastBoxChange(type, listUrl) {
  if (leaving) {
    return;
  }
  if (type === "broadcast.deleted" && listUrl) {
    window.location.assign(listUrl);
    return;
  }
  window.location.reload();
}

// A customer-service case changed: its status line (conversation page, Contact customer
// service page) says where it stands now (docs/support.md).
const CASE_EVENTS = ["case.updated"];
// Nudges: in nobody's log, so no id (docs/realtime.md, "Nudges"); a page's own script
// follows them through live:event — the agent's queue page (console_queue.js), "… is
// typing" in a conversation (typing.js).
const NUDGE_EVENTS = ["queue.changed", "conversation.typing"];
// A seller's wait to answer set aside or back (docs/realtime.md): it leaves or joins the
// Response needed list, and an open conversation shows its notices as they now stand.
const WAIT_EVENTS = ["conversation.no_response_needed", "conversation.response_needed"];
const LIST_EVENTS = [
  "message.created",
  "conversation.read",
  "conversation.unread",
  "conversation.archived",
  "conversation.moved_to_inbox",
  "conversation.trashed",
  "conversation.restored",
  "conversation.muted",
  "conversation.unmuted",
  "conversation.deleted",
  ...WAIT_EVENTS,
  "resync",
  "broadcast",
  "broadcast.read",
  "broadcast.unread",
  "broadcast.archived",
  "broadcast.moved_to_inbox",
  "broadcast.trashed",
  "broadcast.restored",
  "broadcast.deleted",
];

function csrfToken() {
  const found = document.cookie.split("; ").find((pair) => pair.startsWith("csrftoken="));
  return found ? decodeURIComponent(found.slice("csrftoken=".length)) : "";
}

// Set while the page is being left: a refresh whose fetch the navigation cancels then
// ("Failed to fetch", an AbortError) did not fail, and a box change is not followed (the
// page it goes to shows it; a reload would call that navigation off). Cleared again if
// the page stays after all (a download, a navigation called off), and when it comes back
// from the back/forward cache.
let leaving = false;
window.addEventListener("beforeunload", () => {
  leaving = true;
  setTimeout(() => {
    leaving = false;
  }, 3000);
});
window.addEventListener("pagehide", () => {
  leaving = true;
});
window.addEventListener("pageshow", () => {
  leaving = false;
});

// A live refresh that failed says so in the console (the browser tests' log records it),
// unless the page was being left; the next refresh runs all the same.
function refreshFailed(error) {
  if (leaving || (error && error.name === "AbortError")) {
    return;
  }
  console.error("A live refresh failed:", error);
}

// Calls `run` once, `wait` ms after the last of a burst of calls; never two runs at once.
function debounced(run, wait) {
  let timer = null;
  let running = null;
  let again = false;
  const fire = async () => {
    timer = null;
    if (running) {
      again = true;
      return;
    }
    running = Promise.resolve().then(run).catch(refreshFailed);
    await running;
    running = null;
    if (again) {
      again = false;
      fire();
    }
  };
  return () => {
    clearTimeout(timer);
    timer = setTimeout(fire, wait);
  };
}

// "3" with its screen-reader words, as the server renders a badge; or none at 0.
function setBadge(container, count, words, attributes = {}) {
  let badge = container.querySelector(":scope > .badge--unread");
  if (!count) {
    if (badge) {
      badge.remove();
    }
    return;
  }
  if (!badge) {
    badge = document.createElement("span");
    badge.className = "badge badge--unread";
    for (const [name, value] of Object.entries(attributes)) {
      badge.setAttribute(name, value);
    }
    container.append(" ", badge);
  }
  const hidden = document.createElement("span");
  hidden.className = "visually-hidden";
  hidden.textContent = ` ${words}`;
  badge.replaceChildren(String(count), hidden);
}

function startLive() {
  const body = document.body;
  if (!body || !("live" in body.dataset) || !window.EventSource || !window.fetch) {
    return;
  }
  const announcer = document.querySelector("[data-live-announcer]");
  const headerLink = document.querySelector("[data-live-header-link]");
  const listRegion = document.querySelector("[data-live-list]");
  const thread = document.querySelector("[data-live-conversation]");
  const conversationId = thread ? Number(thread.dataset.liveConversation) : null;
  const notice = document.querySelector("[data-live-broadcast]");
  const broadcastId = notice ? Number(notice.dataset.liveBroadcast) : null;

  const refreshCounts = debounced(async () => {
    const response = await fetch(`${API}/folders`, { headers: { Accept: "application/json" } });
    if (!response.ok) {
      return;
    }
    const data = await response.json();
    if (headerLink) {
      setBadge(headerLink, data.unseen_count, "new", { "data-testid": "header-unread" });
    }
    for (const folder of data.folders) {
      const tab = document.querySelector(`[data-folder-key="${CSS.escape(folder.key)}"] > a`);
      if (tab) {
        setBadge(tab, folder.unread_count, "unread");
      }
    }
  }, 300);

  const refreshList = debounced(async () => {
    const response = await fetch(window.location.href, { headers: { "X-Partial": "list" } });
    if (!response.ok || !listRegion) {
      return;
    }
    const html = await response.text();
    // What the person is doing stays: the ticked boxes, and the focus if it was in the list.
    const checked = new Set(
      [...listRegion.querySelectorAll(ROW_BOXES)]
        .filter((box) => box.checked)
        .map((box) => `${box.name}:${box.value}`),
    );
    const focused = listRegion.contains(document.activeElement) ? document.activeElement : null;
    const focusedId = focused && focused.id;
    const focusedHref = focused && focused.getAttribute("href");
    const openMenus = [...listRegion.querySelectorAll("details[open]")].map((menu) =>
      [...listRegion.querySelectorAll("details")].indexOf(menu),
    );
    const fresh = document.createElement("div");
    fresh.innerHTML = html;
    const freshMenus = fresh.querySelectorAll("details");
    for (const index of openMenus) {
      if (freshMenus[index]) {
        freshMenus[index].open = true;
      }
    }
    for (const box of fresh.querySelectorAll(ROW_BOXES)) {
      box.checked = checked.has(`${box.name}:${box.value}`);
    }
    listRegion.replaceChildren(...fresh.childNodes);
    for (const form of listRegion.querySelectorAll("[data-bulk]")) {
      enhanceBulk(form);
    }
    if (focused) {
      const again =
        (focusedId && document.getElementById(focusedId)) ||
        (focusedHref && listRegion.querySelector(`a[href="${CSS.escape(focusedHref)}"]`));
      if (again) {
        again.focus();
      }
    }
  }, 300);

  // New messages for an open conversation, as the server renders them on its page. The page
  // (data-messages-url) asks its own view with X-Partial: messages, as "Show newer messages"
  // does: every message then comes from the one template that renders it on a page load
  // (conversations/_messages.html; the agent's case page, support/_case_messages.html) —
  // the safety warning with its reasons and its masked body, the Report menu, "Ref.",
  // "sent by e-mail", attachments at the addresses that page serves them from, the time in
  // the person's zone — so a message that arrives live never shows less than it does after
  // a reload (a phishing message once arrived without its warning, and an attachment on the
  // case page raised a script error, when this script built them from the JSON API).
  // Reading that view marks the conversation read, as opening it does.
  // Returns the <li> elements of the messages after `after` that the page does not show.
  const newMessagesFromPage = async (after) => {
    const added = [];
    let url = `${thread.dataset.messagesUrl}?after=${after}`;
    // A page holds 50 messages: more that arrived at once come on the next ("newer") page.
    while (url) {
      const list = await messagesPartial(url);
      if (!list) {
        break;
      }
      // With nothing after `after` (deleted or hidden since) the view answers the newest
      // page: only what is beyond the page's last message, and not on it yet, is added.
      for (const item of list.querySelectorAll(":scope > li[id^='message-']")) {
        if (messageIdOf(item) > after && !document.getElementById(item.id)) {
          added.push(item);
        }
      }
      url = list.dataset.newerUrl;
    }
    return added;
  };

  const refreshThread = debounced(async () => {
    // A page of older messages: new ones wait for "Show newer messages", not after these.
    if ("hasNewer" in thread.dataset) {
      return;
    }
    const shown = [...thread.querySelectorAll("li[id^='message-']")].map(messageIdOf);
    const after = shown.length ? Math.max(...shown) : 0;
    const added = await newMessagesFromPage(after);
    if (!added.length) {
      return;
    }
    const empty = thread.querySelector(":scope > li.empty");
    if (empty) {
      empty.remove();
    }
    thread.append(...added);
  }, 100);

  // A page with live parts (a list, a thread, a notice) says where in the log it was read
  // from (data-live-after, read before anything it shows: realtime/pages.py): its stream
  // starts there, so what happened while it loaded comes as events and is applied. Other
  // pages start from now: the first message answers FROM_NOW with a resync, and only the
  // counts are refreshed then (cheap).
  let lastEventId = body.dataset.liveAfter ?? null;
  const onEvent = (event) => {
    let data = {};
    try {
      data = JSON.parse(event.data);
    } catch {
      // Not JSON: act on the kind alone.
    }
    const isStart = lastEventId === null;
    // A broadcast or a nudge carries no id: the position stays that of the last logged event.
    if (event.type !== "broadcast" && !NUDGE_EVENTS.includes(event.type)) {
      lastEventId = event.lastEventId || lastEventId || "0";
    }
    if (COUNT_EVENTS.has(event.type)) {
      refreshCounts();
    }
    if (isStart && event.type === "resync") {
      return;
    }
    // Other scripts of a page follow the same stream (response_window.js).
    document.dispatchEvent(new CustomEvent("live:event", { detail: { type: event.type, data } }));
    if (listRegion && LIST_EVENTS.includes(event.type)) {
      refreshList();
    }
    if (
      thread &&
      (event.type === "resync" ||
        (event.type === "message.created" && data.conversation_id === conversationId))
    ) {
      refreshThread();
    }
    if (event.type === "case.updated") {
      for (const line of document.querySelectorAll(
        `[data-case-status="${Number(data.conversation_id)}"]`,
      )) {
        const label = line.querySelector("[data-case-status-label]") || line;
        label.textContent = line.dataset.caseNumber
          ? `${line.dataset.caseNumber} · ${data.status_label}`
          : data.status_label;
        const detail = line.querySelector("[data-case-status-detail]");
        if (detail && data.status !== "open") {
          detail.textContent = data.status === "solved" ? "Reply to open it again." : "";
        }
      }
    }
    // The open conversation changed box elsewhere (another tab, the phone): the page shows
    // it as it is now, so it never offers "Move to Trash" for a conversation in Trash.
    if (thread && BOX_EVENTS.has(event.type) && data.conversation_id === conversationId) {
      followBoxChange();
    }
    if (thread && WAIT_EVENTS.includes(event.type) && data.conversation_id === conversationId) {
      followWaitChange().catch(refreshFailed);
    }
    if (notice && BROADCAST_BOX_EVENTS.has(event.type) && data.broadcast_id === broadcastId) {
      followBroadcastBoxChange(event.type, notice.dataset.listUrl);
    }
    // Someone else's message (it is unread when it arrives), in a conversation not muted.
    if (event.type === "message.created" && announcer && data.unread_count > 0 && !data.is_muted) {
      announcer.textContent = "1 new message";
      // Emptied again, so the next one is announced too.
      setTimeout(() => {
        announcer.textContent = "";
      }, 3000);
    }
  };

  let source = null;
  const open = () => {
    source = new EventSource(`${API}/sync/stream?after=${lastEventId ?? FROM_NOW}`);
    // Each time the stream is (re)connected — first, after a drop, back from the
    // back/forward cache — from which moment every nudge reaches the page: a page that
    // follows nudges (the queue's) catches up on what it missed before (live:open).
    source.addEventListener("open", () => {
      document.dispatchEvent(new CustomEvent("live:open"));
    });
    for (const kind of new Set([
      ...COUNT_EVENTS,
      ...LIST_EVENTS,
      ...CASE_EVENTS,
      ...NUDGE_EVENTS,
    ])) {
      source.addEventListener(kind, onEvent);
    }
  };
  open();
  // Leaving (or going into the back/forward cache): close, so no connection is held; coming
  // back from that cache: follow again from where the page stood.
  window.addEventListener("pagehide", () => {
    source.close();
  });
  window.addEventListener("pageshow", (event) => {
    if (event.persisted && source.readyState === EventSource.CLOSED) {
      open();
      refreshCounts();
    }
  });
}

document.addEventListener("DOMContentLoaded", startLive);
