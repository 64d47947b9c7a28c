// The day view: drag an appointment onto a free cell to move it there (another time, masseur or room).
// The drop posts to the appointment's move page (htmx), so the move service's checks decide: the page
// reloads with the appointment moved, or the reason it cannot move shows above the grid. Without
// JavaScript nothing is draggable and the appointment's own page has the move form.
"use strict";
(function () {
  var grid = document.querySelector("[data-drag-moves]");
  var token = document.querySelector("#drag-csrf [name=csrfmiddlewaretoken]");
  // htmx loads deferred, after this script: it is looked up when something is dropped.
  if (!grid || !token) {
    return;
  }
  var dragged = null;

  function dropCell(event) {
    return event.target.closest ? event.target.closest("[data-drop-starts]") : null;
  }
  function clearTargets() {
    grid.querySelectorAll(".drop-target").forEach(function (cell) {
      cell.classList.remove("drop-target");
    });
  }

  grid.addEventListener("dragstart", function (event) {
    var entry = event.target.closest ? event.target.closest("[data-move-url]") : null;
    if (!entry) {
      return;
    }
    dragged = entry;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", entry.getAttribute("data-appointment"));
    entry.classList.add("dragging");
  });
  grid.addEventListener("dragend", function () {
    if (dragged) {
      dragged.classList.remove("dragging");
    }
    dragged = null;
    clearTargets();
  });
  grid.addEventListener("dragover", function (event) {
    var cell = dropCell(event);
    if (cell && dragged) {
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      clearTargets();
      cell.classList.add("drop-target");
    }
  });
  grid.addEventListener("dragleave", function (event) {
    var cell = dropCell(event);
    if (cell) {
      cell.classList.remove("drop-target");
    }
  });
  grid.addEventListener("drop", function (event) {
    var cell = dropCell(event);
    if (!cell || !dragged || !window.htmx) {
      return;
    }
    event.preventDefault();
    var url = dragged.getAttribute("data-move-url");
    clearTargets();
    htmx.ajax("POST", url, {
      target: "#drag-feedback",
      swap: "innerHTML",
      values: {
        csrfmiddlewaretoken: token.value,
        drag: "1",
        starts_at: cell.getAttribute("data-drop-starts"),
        masseur: cell.getAttribute("data-drop-masseur") || "",
        room: cell.getAttribute("data-drop-room") || "",
      },
    });
  });
})();
