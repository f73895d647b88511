window.__scriptErrors = [];
window.onerror = function (message, source, line, column) {
  var text = String(message) + (line ? " (line " + line + (column ? ":" + column : "") + ")" : "");
  window.__scriptErrors.push(text);
  var box = document.getElementById("script-errors");
  if (box) {
    box.hidden = false;
    box.textContent = window.__scriptErrors.join("\n");
  }
  if (document.body) {
    document.body.dataset.ready = "error";
  }
  return false;
};
