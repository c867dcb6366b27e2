// Classification forms of the labeling editor: the ontology's radio, checklist and free-text
// questions, nested to any depth under the options chosen, drawn from a list of answers
// (model.js's shape) and reporting each change as a new list. Used for the global
// questions and for the selected object's nested ones.
(function (root) {
  "use strict";
  var E = root.LabelHubEditor;
  var m = E.model;

  function slug(text) {
    return String(text || "").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (attrs[k] === null || attrs[k] === undefined || attrs[k] === false) return;
      if (k === "text") node.textContent = attrs[k];
      else if (k === "className") node.className = attrs[k];
      else node.setAttribute(k, attrs[k] === true ? "" : attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }

  // Draw the questions into `container`. `answers()` gives the current answers (read again
  // at each change: a form not redrawn must not answer from an old list);
  // `change(list, coalesceKey)` gets the new answers;
  // `opts.prefix` keeps input names unique per form; `opts.readOnly` disables inputs;
  // `opts.onText(input, classification)` lets the page watch free-text entry.
  function render(container, classifications, answers, change, opts) {
    opts = opts || {};
    var active = document.activeElement;
    var activeKey = active && container.contains(active) ? active.getAttribute("data-key") : null;
    var selection = activeKey && typeof active.selectionStart === "number" ? [active.selectionStart, active.selectionEnd] : null;
    container.textContent = "";
    (classifications || []).forEach(function (c) {
      container.appendChild(question(c, answers, change, opts.prefix || "q", opts, 0));
    });
    if (activeKey) {
      var again = container.querySelector('[data-key="' + activeKey + '"]');
      if (again) {
        again.focus();
        if (selection && typeof again.setSelectionRange === "function") again.setSelectionRange(selection[0], selection[1]);
      }
    }
  }

  function question(c, current, change, prefix, opts, depth) {
    var list = current() || [];
    var answer = m.answerOf(list, c);
    var name = c.name || c.instructions || "";
    var key = prefix + "-" + c.featureSchemaId;
    var box = el("fieldset", {
      className: "question" + (c.required ? " required" : "") + (depth ? " nested" : ""),
      "data-question": c.featureSchemaId,
      "data-type": c.type,
      "data-name": name,
      "data-testid": (depth ? "nested-" : "question-") + slug(name),
    });
    var legend = el("legend", { text: name });
    if (c.required) {
      legend.appendChild(el("span", { className: "required-mark", title: "Required", text: " *" }));
      legend.appendChild(el("span", { className: "sr-only", text: " (required)" }));
    }
    box.appendChild(legend);
    if (c.type === "text") {
      var area = el("textarea", { name: key, rows: "2", "aria-label": name, "data-key": key, disabled: opts.readOnly });
      area.value = answer && typeof answer.answer === "string" ? answer.answer : "";
      area.addEventListener("input", function () { change(m.withText(current() || [], c, area.value), key); });
      if (opts.onText) opts.onText(area, c);
      box.appendChild(area);
    } else {
      var picked = {};
      m.chosen(answer).forEach(function (o) { picked[m.idOf(o)] = true; });
      (c.options || []).forEach(function (o) {
        var input = el("input", {
          type: c.type === "radio" ? "radio" : "checkbox",
          name: key,
          value: o.featureSchemaId,
          "data-key": key + "-" + o.featureSchemaId,
          disabled: opts.readOnly,
        });
        input.checked = !!picked[o.featureSchemaId];
        input.addEventListener("change", function () {
          if (c.type === "radio") change(m.withRadio(current() || [], c, o));
          else change(m.withCheck(current() || [], c, o, input.checked));
        });
        box.appendChild(el("label", { className: "option" }, [input, document.createTextNode(" " + (o.label || o.value || ""))]));
        // an option's own questions appear once it is chosen
        if (picked[o.featureSchemaId] && (o.options || []).length) {
          var inner = el("div", { className: "nested-questions", "data-testid": "nested-of-" + slug(o.label || o.value) });
          var nestedAnswers = function () {
            var mine = m.chosen(m.answerOf(current() || [], c)).filter(function (a) { return m.idOf(a) === o.featureSchemaId; })[0];
            return (mine && mine.classifications) || [];
          };
          o.options.forEach(function (child) {
            inner.appendChild(question(child, nestedAnswers, function (next, k) {
              change(m.withNested(current() || [], c, o, function () { return next; }), k);
            }, key + "-" + o.featureSchemaId, opts, depth + 1));
          });
          box.appendChild(inner);
        }
      });
    }
    box.appendChild(el("p", { className: "field-error", "data-error-for": c.featureSchemaId, hidden: true }));
    return box;
  }

  E.forms = { render: render, el: el, slug: slug };
})(typeof self !== "undefined" ? self : this);
