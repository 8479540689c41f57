// pager dashboard: the only script. The pages work without it.
"use strict";

// Ask before what can't be undone from here (a form with data-confirm: Resolve).
document.addEventListener("submit", (event) => {
  const question = event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});

// Keep an open dashboard current (body data-refresh, seconds), but never reload under
// someone's thumb: only when the tab is visible and nothing on the page has focus.
const every = Number(document.body.dataset.refresh || 0);
if (every > 0) {
  window.setInterval(() => {
    const busy = document.activeElement && document.activeElement !== document.body;
    if (document.visibilityState === "visible" && !busy) window.location.reload();
  }, every * 1000);
}
