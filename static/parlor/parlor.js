// The parlor's own small behaviours, loaded on every page from this site (the
// Content-Security-Policy allows no inline script or on* attributes).
"use strict";
document.addEventListener("click", function (event) {
  // A button with data-print prints the page (the client's history).
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});
