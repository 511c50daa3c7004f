// The agent's queue page, live (docs/support.md, "The console").
//
// Every committed change to a team's cases (a new request or chat, an assignment, a
// status, a customer's reply) sends the open queue pages of the team's agents a
// `queue.changed` nudge on their event stream; site.js passes it on as a "live:event" DOM
// event. The page then fetches itself again and shows the queue counts and the cases as
// the server renders them now: the same reads, access and order as a reload. The filter
// form is left alone, so nothing being typed there is lost. Without script the page is as
// rendered, and a reload shows the same.
//
// A nudge is in no log: one sent while the page loaded (before its stream was subscribed)
// or while its stream was reconnecting after a drop never comes. So the page also fetches
// itself each time its stream opens (site.js's "live:open": from then on every nudge
// reaches it) — one fetch more per load, and one per reconnect.

(() => {
  const FOLLOWED = new Set(["queue.changed", "resync"]);

  async function showAgain() {
    const response = await fetch(window.location.href, {
      headers: { Accept: "text/html" },
      credentials: "same-origin",
    });
    if (!response.ok) {
      return;
    }
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    for (const region of document.querySelectorAll("[data-live-queue]")) {
      const fresh = page.getElementById(region.id);
      if (!fresh) {
        continue;
      }
      // A link the agent was on keeps the focus where it can.
      const focused = region.contains(document.activeElement)
        ? document.activeElement.getAttribute("href")
        : null;
      region.replaceWith(fresh);
      const back = focused && fresh.querySelector(`a[href="${CSS.escape(focused)}"]`);
      if (back) {
        back.focus();
      }
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (!document.querySelector("[data-live-queue]") || !window.fetch || !window.DOMParser) {
      return;
    }
    // site.js's: a burst of changes (a merge, a busy team) is one fetch, never two at once.
    const refresh = debounced(showAgain, 500);
    document.addEventListener("live:event", (event) => {
      if (FOLLOWED.has((event.detail || {}).type)) {
        refresh();
      }
    });
    document.addEventListener("live:open", refresh);
  });
})();
