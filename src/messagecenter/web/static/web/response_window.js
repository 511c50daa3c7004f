// The seller's deadline to answer, live (docs/escalation.md, "The page counts down").
//
// The conversation page renders the deadline in the reader's own time zone (their
// setting, not the browser's) and says what follows; this file adds how long is left and
// keeps it true without a reload. When the moment comes, and when the sweep's notice
// arrives on the person's event stream (site.js passes each event on as a "live:event"
// DOM event), the page fetches itself again and shows the deadline block as the server
// now renders it: "Ask customer service to help" for the buyer. Without script the page
// is as rendered, and a reload shows the same.

(() => {
  const MINUTE = 60 * 1000;
  const HOUR = 60 * MINUTE;
  const DAY = 24 * HOUR;

  const plural = (count, word) => `${count} ${word}${count === 1 ? "" : "s"}`;

  // "2 days, 5 hours", "5 hours, 12 minutes", "12 minutes", "less than a minute".
  function remaining(ms) {
    if (ms < MINUTE) {
      return "less than a minute";
    }
    const days = Math.floor(ms / DAY);
    const hours = Math.floor((ms % DAY) / HOUR);
    const minutes = Math.floor((ms % HOUR) / MINUTE);
    if (days > 0) {
      return hours > 0 ? `${plural(days, "day")}, ${plural(hours, "hour")}` : plural(days, "day");
    }
    if (hours > 0) {
      return minutes > 0
        ? `${plural(hours, "hour")}, ${plural(minutes, "minute")}`
        : plural(hours, "hour");
    }
    return plural(minutes, "minute");
  }

  // The block as the server renders it now (the page itself, fetched again): its
  // deadline passed, the buyer's button appears; answered, it is gone.
  async function reload(block) {
    const response = await fetch(window.location.href, {
      headers: { Accept: "text/html" },
      credentials: "same-origin",
    });
    if (!response.ok) {
      return null;
    }
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = page.getElementById(block.id);
    if (fresh) {
      block.replaceWith(fresh);
    } else {
      block.remove();
    }
    return fresh;
  }

  // `retry`: how long to wait at a passed deadline before asking the server again (0 the
  // first time; longer once the server said "not yet", its clock a moment behind ours).
  function follow(block, retry = 0) {
    const clock = block.querySelector("[data-countdown]");
    const due = clock ? Date.parse(clock.dataset.dueAt) : NaN;
    let timer = null;
    let reloading = false;

    const again = async () => {
      // Put aside for the block as it now stands (site.js, a wait set aside or back while
      // a reply is being written): nothing left to follow here.
      if (reloading || !block.isConnected) {
        return;
      }
      reloading = true;
      window.clearTimeout(timer);
      const fresh = await reload(block).catch(() => null);
      if (fresh) {
        follow(fresh, 15_000);
      }
    };

    const tick = () => {
      if (!block.isConnected) {
        return;
      }
      const left = due - Date.now();
      if (left <= 0) {
        clock.textContent = "The deadline has passed.";
        timer = window.setTimeout(again, retry);
        return;
      }
      clock.textContent = `${remaining(left)} left.`;
      // Each minute while minutes are shown; each second in the last minute.
      const step = left <= MINUTE ? 1000 : Math.min(MINUTE, left - MINUTE + 1000);
      timer = window.setTimeout(tick, step);
    };

    if (clock && !Number.isNaN(due) && !block.hasAttribute("data-deadline-passed")) {
      clock.hidden = false;
      tick();
    }

    // The sweep marked the deadline (its notice in this conversation), or the seller
    // answered: the block shows what now holds.
    const conversationId = Number(block.dataset.conversationId);
    const onLive = (event) => {
      const { type, data } = event.detail || {};
      if (type === "message.created" && data && data.conversation_id === conversationId) {
        document.removeEventListener("live:event", onLive);
        again();
      }
    };
    document.addEventListener("live:event", onLive);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const block = document.querySelector("[data-response-window]");
    if (block && window.fetch && window.DOMParser) {
      follow(block);
    }
  });
})();
