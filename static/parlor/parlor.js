// The parlor's own small behaviours, loaded on every page from this site (the
// Content-Security-Policy allows no inline script or on* attributes).
"use strict";
document.addEventListener("click", function (event) {
  // A button with data-print prints the page (the client's history, the day sheets, My day).
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});

// The navigation bar's client search (htmx fills #nav-search-results as one types): the arrow keys
// move through the suggestions, Enter opens the best match, Escape closes the list.
(function () {
  var input = document.getElementById("nav-search-input");
  var box = document.getElementById("nav-search-results");
  if (!input || !box) {
    return;
  }
  function items() {
    return Array.prototype.slice.call(box.querySelectorAll("[data-suggestion]"));
  }
  function move(from, step) {
    var list = items();
    if (!list.length) {
      return;
    }
    var next = list.indexOf(from) + step;
    if (next < 0) {
      input.focus();
      return;
    }
    list[Math.min(next, list.length - 1)].focus();
  }
  input.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown") {
      event.preventDefault();
      move(null, 1);
    } else if (event.key === "Escape") {
      box.innerHTML = "";
    } else if (event.key === "Enter") {
      var best = box.querySelector("[data-testid=nav-search-result]");
      if (best) {
        event.preventDefault();
        best.click();
      }
    }
  });
  box.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown") {
      event.preventDefault();
      move(document.activeElement, 1);
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      move(document.activeElement, -1);
    } else if (event.key === "Escape") {
      box.innerHTML = "";
      input.focus();
    }
  });
  document.addEventListener("click", function (event) {
    if (!event.target.closest(".nav-search")) {
      box.innerHTML = "";
    }
  });
})();
