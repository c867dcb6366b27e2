// Ontology pages, progressive enhancement only: the forms work without it.
(function () {
  "use strict";

  // JSON view: live syntax check, a Format button, Tab inserts two spaces.
  function enhanceJsonEditor() {
    var area = document.querySelector("textarea[data-json-editor]");
    if (!area) return;
    var status = document.querySelector("[data-json-status]");
    var format = document.querySelector("[data-json-format]");
    var timer = null;

    function check() {
      if (!status) return null;
      try {
        var value = JSON.parse(area.value);
        status.textContent = "Valid JSON.";
        status.className = "help json-ok";
        return value;
      } catch (e) {
        status.textContent = "Not valid JSON yet: " + e.message;
        status.className = "help json-bad";
        return null;
      }
    }

    area.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(check, 300);
    });
    area.addEventListener("keydown", function (event) {
      if (event.key !== "Tab" || event.shiftKey || event.ctrlKey || event.metaKey) return;
      event.preventDefault();
      var start = area.selectionStart;
      area.setRangeText("  ", start, area.selectionEnd, "end");
    });
    if (format) {
      format.hidden = false;
      format.addEventListener("click", function () {
        var value = check();
        if (value !== null) {
          area.value = JSON.stringify(value, null, 2);
          check();
        }
      });
    }
  }

  // Editor: answers only for radio/checklist; scope only at the top level.
  function enhanceClassificationForm() {
    var form = document.querySelector("form[data-classification-form]");
    if (!form) return;
    var type = form.querySelector('select[name="type"]');
    var parent = form.querySelector('select[name="parent"]');
    var options = form.querySelector('textarea[name="options"]');
    var scope = form.querySelector('select[name="scope"]');

    function field(el) { return el ? el.closest(".field") : null; }
    function sync() {
      var optionsField = field(options);
      var scopeField = field(scope);
      if (optionsField && type) optionsField.hidden = type.value === "text";
      if (scopeField && parent) scopeField.hidden = parent.value !== "";
    }
    [type, parent].forEach(function (el) { if (el) el.addEventListener("change", sync); });
    sync();
  }

  document.addEventListener("DOMContentLoaded", function () {
    enhanceJsonEditor();
    enhanceClassificationForm();
  });
})();
