// "… is typing" in an open conversation (docs/conversations.md#typing), both ways: while
// the person types a reply, the page tells the server at most every few seconds
// (POST /api/v1/conversations/{id}/typing, which sends the others a nudge and stores
// nothing); when the others' nudge arrives on this person's stream (site.js passes it on
// as a "live:event" DOM event), the page shows "Customer Service is typing…" under the
// messages, until their message arrives or they stop for a while. Without script, nothing.

(() => {
  // As the server's TYPING_INTERVAL_SECONDS: more often would be answered and dropped.
  const TELL_EVERY_MS = 3000;
  // Shown this long after the last nudge: two of them missed means they stopped.
  const SHOWN_MS = 7000;

  function tell(conversationId, box) {
    let toldAt = 0;
    box.addEventListener("input", () => {
      const now = Date.now();
      if (!box.value.trim() || now - toldAt < TELL_EVERY_MS) {
        return;
      }
      toldAt = now;
      fetch(`/api/v1/conversations/${conversationId}/typing`, {
        method: "POST",
        headers: { "X-CSRFToken": csrfToken() },
        credentials: "same-origin",
      }).catch(() => {});
    });
    // Sent: the next keystroke is news again.
    box.form.addEventListener("submit", () => {
      toldAt = 0;
    });
  }

  function show(conversationId, indicator) {
    let timer = null;
    const hide = () => {
      window.clearTimeout(timer);
      indicator.hidden = true;
      indicator.textContent = "";
    };
    document.addEventListener("live:event", (event) => {
      const { type, data } = event.detail || {};
      if (!data || data.conversation_id !== conversationId) {
        return;
      }
      if (type === "conversation.typing") {
        indicator.textContent = `${data.name} is typing…`;
        indicator.hidden = false;
        window.clearTimeout(timer);
        timer = window.setTimeout(hide, SHOWN_MS);
      } else if (type === "message.created" && data.unread_count > 0) {
        // Someone else's message arrived: what they were typing is here.
        hide();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const thread = document.querySelector("[data-live-conversation]");
    if (!thread || !window.fetch) {
      return;
    }
    const conversationId = Number(thread.dataset.liveConversation);
    // Only from a reply box: a page where the person cannot reply here (an agent in a
    // buyer–seller conversation, an order update) has none, and tells nobody anything;
    // the server refuses such signs too (actions.tell_typing).
    const box = document.getElementById("reply-body");
    if (box && box.form) {
      tell(conversationId, box);
    }
    const indicator = document.querySelector("[data-typing-indicator]");
    if (indicator) {
      show(conversationId, indicator);
    }
  });
})();
