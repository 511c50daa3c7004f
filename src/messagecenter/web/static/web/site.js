// Small conveniences on top of pages that work without script: "Select all" in the
// Message Center, a confirmation before deleting for ever, and no second submit of a form
// while the first is on its way (the idempotency key makes a second one harmless anyway).
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
