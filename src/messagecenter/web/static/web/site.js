// Small conveniences on top of pages that work without script: "Select all" in the
// Message Center, a confirmation before deleting for ever, no second submit of a form
// while the first is on its way (the idempotency key makes a second one harmless anyway),
// and a seller's "Insert saved reply" without reloading the page.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("[data-bulk]")) {
    const selectAll = form.querySelector("[data-select-all]");
    const count = form.querySelector("[data-selected-count]");
    const bar = form.querySelector(".bulk-bar");
    if (bar) {
      bar.dataset.enhanced = "";
    }
    const boxes = () => [...form.querySelectorAll('input[name="conversation_ids"]')];
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
      if (event.target.name === "conversation_ids") {
        update();
      }
    });
    update();
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.dataset.confirm)) {
      event.preventDefault();
    }
    // An open menu closes when you click anywhere else, as menus do.
    for (const menu of document.querySelectorAll("details.menu[open]")) {
      if (!menu.contains(event.target)) {
        menu.open = false;
      }
    }
  });

  document.addEventListener("keydown", (event) => {
    const menu = event.target.closest && event.target.closest("details.menu[open]");
    if (event.key === "Escape" && menu) {
      menu.open = false;
      menu.querySelector("summary").focus();
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

// Coming back with the browser's Back button shows the page as it was left: enable again.
window.addEventListener("pageshow", () => {
  for (const button of document.querySelectorAll("[data-submit-once] button[disabled]")) {
    button.disabled = false;
  }
});
