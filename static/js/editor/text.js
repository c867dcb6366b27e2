// The text view of the labeling editor: the row's text with its entities marked; selecting
// characters with a named-entity tool active makes an entity (code-point offsets, end
// exclusive, as the import stores them), clicking an entity selects it, and with a
// relationship tool two clicks link two entities. Like the canvas, it only draws the
// state and reports commands.
(function (root) {
  "use strict";
  var E = root.LabelHubEditor;
  var g = E.geometry;
  var m = E.model;

  // opts: container, text, store, features, ui, select(uuid), commit(name, state, uuid),
  // message(text).
  function TextView(opts) {
    var self = this;
    this.opts = opts;
    this.text = opts.text;
    this.pending = null;  // a relationship's source while the target is awaited
    opts.container.addEventListener("mouseup", function () { self.onSelect(); });
    opts.container.addEventListener("click", function (e) { self.onClick(e); });
    this.render();
  }

  var P = TextView.prototype;

  P.drawingTool = function () {
    var tool = this.opts.ui.tool;
    return tool && tool !== "select" ? this.opts.features[tool] : null;
  };

  P.entities = function () {
    var ui = this.opts.ui;
    var groups = ui.layers || [{ objects: this.opts.store.state.objects }];
    var out = [];
    groups.forEach(function (group) {
      group.objects.forEach(function (line) {
        if (line.location && !ui.hidden[line.uuid]) out.push(line);
      });
    });
    return out;
  };

  P.render = function () {
    var text = this.text;
    var ui = this.opts.ui;
    var self = this;
    var spans = this.entities().map(function (line) {
      return {
        start: g.utf16Index(text, line.location.start),
        end: g.utf16Index(text, line.location.end),
        line: line,
      };
    }).filter(function (s) { return s.end > s.start; });
    var cuts = [0, text.length];
    spans.forEach(function (s) { cuts.push(s.start, s.end); });
    cuts = cuts.filter(function (v, i, a) { return a.indexOf(v) === i; }).sort(function (a, b) { return a - b; });
    var box = this.opts.container;
    box.textContent = "";
    for (var i = 0; i + 1 < cuts.length; i++) {
      var left = cuts[i], right = cuts[i + 1];
      var chunk = text.slice(left, right);
      var covering = spans.filter(function (s) { return s.start <= left && right <= s.end; });
      if (!covering.length) {
        box.appendChild(document.createTextNode(chunk));
        continue;
      }
      // the innermost (shortest) entity is the one a click selects
      covering.sort(function (a, b) { return (a.end - a.start) - (b.end - b.start); });
      var top = covering[0].line;
      var mark = document.createElement("mark");
      mark.className = "entity" + (covering.length > 1 ? " entity-overlap" : "") +
        (covering.some(function (s) { return s.line.uuid === ui.selected; }) ? " entity-selected" : "") +
        (this.opts.store.state.origin[top.uuid] === "prelabel" ? " entity-prelabel" : "");
      mark.setAttribute("data-uuid", top.uuid);
      mark.setAttribute("data-colour", self.feature(top).color || "");
      mark.title = covering.map(function (s) { return self.feature(s.line).name; }).join(", ");
      mark.textContent = chunk;
      mark.style.setProperty("--entity-colour", self.feature(top).color || "#fab005");
      box.appendChild(mark);
    }
  };

  P.feature = function (line) { return this.opts.features[m.idOf(line)] || { name: line.name || "?" }; };

  // The UTF-16 index of a DOM position inside the text.
  P.offsetOf = function (node, offset) {
    var range = document.createRange();
    range.setStart(this.opts.container, 0);
    range.setEnd(node, offset);
    return range.toString().length;
  };

  P.onSelect = function () {
    var tool = this.drawingTool();
    if (!tool || tool.tool !== "named-entity" || this.opts.ui.readOnly) return;
    var sel = window.getSelection();
    if (!sel || sel.isCollapsed || !sel.rangeCount) return;
    var range = sel.getRangeAt(0);
    var box = this.opts.container;
    if (!box.contains(range.startContainer) || !box.contains(range.endContainer)) return;
    var location = g.locationOf(this.text, this.offsetOf(range.startContainer, range.startOffset), this.offsetOf(range.endContainer, range.endOffset));
    sel.removeAllRanges();
    if (!location) return;
    var line = { uuid: m.newUuid(), schemaId: tool.featureSchemaId, name: tool.name, location: location };
    this.opts.commit("mark " + tool.name, m.addObject(this.opts.store.state, line, "label"), line.uuid);
  };

  P.onClick = function (e) {
    var mark = e.target.closest && e.target.closest("mark[data-uuid]");
    var sel = window.getSelection();
    if (sel && !sel.isCollapsed) return;
    var tool = this.drawingTool();
    if (tool && tool.tool === "edge") {
      if (!mark || this.opts.ui.readOnly) return;
      var uuid = mark.getAttribute("data-uuid");
      if (!this.pending) {
        this.pending = uuid;
        this.opts.message("Now click the entity the relationship points to (Esc cancels).");
        return;
      }
      if (this.pending === uuid) return;
      var line = {
        uuid: m.newUuid(), schemaId: tool.featureSchemaId, name: tool.name,
        relationship: { source: this.pending, target: uuid, type: "unidirectional" },
      };
      this.pending = null;
      this.opts.commit("link " + tool.name, m.addObject(this.opts.store.state, line, "label"), line.uuid);
      return;
    }
    this.opts.select(mark ? mark.getAttribute("data-uuid") : null, true);
  };

  P.cancelDrawing = function () {
    if (!this.pending) return false;
    this.pending = null;
    return true;
  };

  E.TextView = TextView;
})(typeof self !== "undefined" ? self : this);
