(function () {
  "use strict";
  var filter = document.getElementById("review-filter");
  var count = document.getElementById("review-count");
  var items = Array.prototype.slice.call(document.querySelectorAll(".review-item"));
  function applyFilter() {
    var q = filter ? filter.value.trim().toLowerCase() : "";
    var shown = 0;
    items.forEach(function (el) {
      var hit = q === "" || (el.getAttribute("data-search") || "").indexOf(q) !== -1;
      el.hidden = !hit;
      if (hit) { shown += 1; }
    });
    if (count) { count.textContent = shown + " of " + items.length + " shown"; }
  }
  if (filter) { filter.addEventListener("input", applyFilter); }
  applyFilter();
  Array.prototype.forEach.call(document.querySelectorAll("[data-toggle-all]"), function (button) {
    button.addEventListener("click", function () {
      var open = button.getAttribute("data-toggle-all") === "open";
      var scope = document.getElementById(button.getAttribute("data-target")) || document;
      Array.prototype.forEach.call(scope.querySelectorAll("details"), function (d) {
        if (!d.hidden) { d.open = open; }
      });
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll("section > h2"), function (h) {
    h.addEventListener("click", function () { h.parentNode.classList.toggle("collapsed"); });
  });
  var errors = window.__scriptErrors || [];
  if (errors.length > 0) {
    var box = document.getElementById("script-errors");
    box.hidden = false;
    box.textContent = errors.join("\n");
    document.body.dataset.ready = "error";
  } else {
    document.body.dataset.ready = "1";
  }
})();
