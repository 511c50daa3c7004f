// An agent's open case page, told of what colleagues do to the case (docs/support.md, "The
// console").
//
// Every committed change to a team's cases sends its agents' pages a `queue.changed` nudge
// (site.js passes it on as a "live:event" DOM event). A case page of that team then asks
// for the line under its title as the case now stands (X-Partial: standing) and puts it in
// place (site.js's putLiveParts): a colleague who took the case, a new status or priority
// show without a reload. A case the agent can no longer open — transferred to a team they
// are not in — answers 404, and a merged one redirects to the case it was merged into: the
// page then says so, and its forms are set aside (inert), so nobody types an answer or
// picks a status that would be refused. As on the queue page, the stream's opening
// ("live:open") asks too: a nudge sent while the page loaded, or while its stream was
// reconnecting, never comes.

(() => {
  function teamShown() {
    const line = document.querySelector('[data-live-part="case-status"]');
    return line ? line.dataset.caseTeam : null;
  }

  function setAside(root, words, link) {
    if (root.dataset.caseGone) {
      return;
    }
    root.dataset.caseGone = "true";
    const notice = document.createElement("div");
    notice.className = "alert alert--error";
    notice.setAttribute("role", "alert");
    notice.dataset.testid = "case-gone";
    const text = document.createElement("p");
    text.textContent = words + " ";
    const away = document.createElement("a");
    away.href = link.href;
    away.textContent = link.text;
    text.append(away);
    notice.append(text);
    const head = root.querySelector(".thread__head");
    (head || root.firstElementChild).after(notice);
    for (const form of root.querySelectorAll("form")) {
      form.inert = true;
    }
  }

  async function lookAgain(root) {
    const response = await fetch(root.dataset.caseUrl, {
      headers: { "X-Partial": "standing", Accept: "text/html" },
      credentials: "same-origin",
    });
    if (response.status === 404) {
      const queues = root.querySelector(".back-link a");
      setAside(
        root,
        "This case was moved to a team you do not work in: it is no longer yours to change.",
        { href: queues ? queues.href : "/console/", text: "Back to the queues" },
      );
      return;
    }
    if (!response.ok) {
      throw new Error(`The case's line answered ${response.status}.`);
    }
    if (response.redirected) {
      setAside(root, "This case was merged into another case.", {
        href: response.url,
        text: "Open the case it was merged into",
      });
      return;
    }
    const fresh = document.createElement("div");
    fresh.innerHTML = await response.text();
    putLiveParts(fresh);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const root = document.querySelector("[data-case-url]");
    if (!root || !window.fetch) {
      return;
    }
    // site.js's: a burst of changes (a merge, a busy team) is one fetch, never two at once.
    const refresh = debounced(() => lookAgain(root), 500);
    document.addEventListener("live:event", (event) => {
      const detail = event.detail || {};
      if (root.dataset.caseGone) {
        return;
      }
      if (detail.type === "resync") {
        refresh();
      } else if (
        detail.type === "queue.changed" &&
        String((detail.data || {}).team_id) === teamShown()
      ) {
        refresh();
      }
    });
    document.addEventListener("live:open", () => {
      if (!root.dataset.caseGone) {
        refresh();
      }
    });
  });
})();
