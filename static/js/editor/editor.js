// The labeling editor: wires the state store (model.js) to its views — the image canvas
// (canvas.js) or the text view (text.js), the toolbar, the objects list, the selected
// object's questions and the global questions (forms.js) — and to the server: the draft
// is saved as you go and restored, submit sends the state in the import's shape, review
// shows the labels as layers and their versions. The task page's shell (task.js: timer,
// socket, skip, release, review decisions) is `LabelHubTask`.
(function (root) {
  "use strict";
  var E = root.LabelHubEditor;
  var T = root.LabelHubTask;
  if (!E || !T) return;
  var m = E.model;
  var forms = E.forms;
  var el = forms.el;
  var data = T.data;
  var DRAFT_DELAY_MS = 800;
  // free text typed faster than this many characters a second, over at least RAPID_MIN
  // characters, is not typed by a person (most type under 10; a burst of 40 is a paste
  // or a script)
  var RAPID_CPS = 40;
  var RAPID_MIN = 40;

  var editorBox = document.querySelector("[data-editor]");
  if (!editorBox) return;
  var ontology = data.ontology || { tools: [], classifications: [] };
  var review = data.mode === "review";
  var labels = data.labels || [];
  var editable = !review || (data.can_edit_in_review && labels.length === 1);

  // schemaId → tool (with its hotkey), for the views
  var features = {};
  (ontology.tools || []).forEach(function (tool, i) {
    features[tool.featureSchemaId] = Object.assign({}, tool, { hotkey: i < 9 ? String(i + 1) : "" });
  });

  var ui = { tool: "select", selected: null, hidden: {}, readOnly: !editable, layers: null };
  var store = m.createStore(initialState());
  var view = null;
  var statusBox = document.querySelector("[data-editor-status]");

  function initialState() {
    if (review) {
      var first = labels[0];
      return m.load(first ? first.annotations : [], "label");
    }
    if (data.draft && data.draft.annotations) return m.fromDraft(data.draft);
    return m.load(data.initial || [], data.mode === "label" ? "prelabel" : "label");
  }

  function message(text) {
    if (!statusBox) return;
    statusBox.textContent = text || "";
  }

  // --- commands ----------------------------------------------------------------------------

  function commit(name, next, selectUuid, coalesce) {
    if (ui.readOnly) return;
    store.apply(name, next, coalesce);
    if (selectUuid !== undefined) select(selectUuid, false);
  }

  function select(uuid, redraw) {
    ui.selected = uuid;
    if (redraw !== false) refresh();
    else refreshPanels();
  }

  function deleteSelected() {
    if (!ui.selected || ui.readOnly) return false;
    var gone = ui.selected;
    ui.selected = null;
    commit("delete", m.removeObjects(store.state, [gone]));
    return true;
  }

  function setTool(id) {
    if (id !== "select" && (!features[id] || !drawable(features[id]))) return;
    if (view && view.cancelDrawing) view.cancelDrawing();
    ui.tool = id;
    message(id === "select" ? "" : "Drawing: " + features[id].name + hint(features[id]));
    toolbar.querySelectorAll("[data-tool]").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.getAttribute("data-tool") === id));
    });
    if (view) view.render();
  }

  function hint(tool) {
    return {
      rectangle: " — drag a box.",
      polygon: " — click each corner; click the first point, double-click or press Enter to close.",
      line: " — click each point; double-click or press Enter to finish.",
      point: " — click to place.",
      edge: " — click the source object, then the target.",
      "named-entity": " — select the characters.",
    }[tool.tool] || "";
  }

  // Which tools this editor can draw with on this row.
  function drawable(tool) {
    if (ui.readOnly) return false;
    if (data.media === "image") return ["rectangle", "polygon", "line", "point", "edge"].indexOf(tool.tool) >= 0;
    if (data.media === "text" && view) return ["named-entity", "edge"].indexOf(tool.tool) >= 0;
    return false;
  }

  // --- the toolbar -------------------------------------------------------------------------

  var toolbar = editorBox.querySelector("[data-toolbar]");

  function buildToolbar() {
    toolbar.textContent = "";
    var tools = el("div", { className: "tool-group", role: "group", "aria-label": "Tools" });
    tools.appendChild(toolButton("select", "Select", "V", null, true));
    (ontology.tools || []).forEach(function (tool) {
      var f = features[tool.featureSchemaId];
      var ok = drawable(f);
      var b = toolButton(tool.featureSchemaId, tool.name, f.hotkey, tool.color, ok);
      if (!ok) b.title = tool.tool === "raster-segmentation" ? "Drawing masks is not supported yet: imported masks are shown." : "This tool cannot draw on this data row yet.";
      tools.appendChild(b);
    });
    toolbar.appendChild(tools);
    var actions = el("div", { className: "tool-group", role: "group", "aria-label": "Edit" });
    actions.appendChild(actionButton("undo", "Undo", "Ctrl+Z", function () { store.undo(); }));
    actions.appendChild(actionButton("redo", "Redo", "Ctrl+Shift+Z", function () { store.redo(); }));
    toolbar.appendChild(actions);
    if (data.media === "image") {
      var zoom = el("div", { className: "tool-group", role: "group", "aria-label": "Zoom" });
      zoom.appendChild(actionButton("zoom-out", "−", "-", function () { view && view.zoomBy(1 / 1.25); }));
      zoom.appendChild(el("span", { className: "zoom-value", "data-zoom": "", "data-testid": "zoom-value", text: "" }));
      zoom.appendChild(actionButton("zoom-in", "+", "+", function () { view && view.zoomBy(1.25); }));
      zoom.appendChild(actionButton("zoom-fit", "Fit", "F", function () { view && view.fit(); }));
      zoom.appendChild(actionButton("zoom-100", "100 %", "0", function () { view && view.actualSize(); }));
      toolbar.appendChild(zoom);
    }
    toolbar.appendChild(actionButton("shortcuts", "?", "?", toggleHelp, "Keyboard shortcuts"));
    if (view && view.view) onView(view.view);
  }

  function toolButton(id, name, key, colour, enabled) {
    var b = el("button", {
      type: "button", className: "tool", "data-tool": id, "data-testid": "tool-" + forms.slug(id === "select" ? "select" : name),
      "aria-pressed": String(ui.tool === id), disabled: !enabled, title: name + (key ? " (" + key + ")" : ""),
    });
    if (colour) {
      var swatch = el("span", { className: "swatch", "aria-hidden": "true" });
      swatch.style.setProperty("background", colour);
      b.appendChild(swatch);
    }
    b.appendChild(document.createTextNode(name));
    if (key) b.appendChild(el("kbd", { text: key }));
    b.addEventListener("click", function () { setTool(id); });
    return b;
  }

  function actionButton(id, text, key, fn, title) {
    var b = el("button", { type: "button", className: "tool", "data-testid": id, title: (title || text) + (key ? " (" + key + ")" : "") , text: text });
    b.addEventListener("click", fn);
    return b;
  }

  // --- the side panels ---------------------------------------------------------------------

  var selectedBox = document.querySelector("[data-selected-panel]");
  var objectsBox = document.querySelector("[data-objects-panel]");
  var globalsBox = document.querySelector("[data-globals]");
  var missingBox = document.querySelector("[data-missing]");

  // The objects on show: the label being made, or the review layers chosen.
  function shownObjects() {
    return ui.layers ? [].concat.apply([], ui.layers.map(function (l) { return l.objects; })) : store.state.objects;
  }

  // How an object is named in the lists: "Car 2", "Follows: Car 2 → Car 1", "Total “12.50”".
  function objectLabel(line) {
    var f = features[m.idOf(line)];
    var name = (f && f.name) || line.name || "?";
    if (line.relationship) {
      var shown = { objects: shownObjects() };
      var a = m.find(shown, line.relationship.source), b = m.find(shown, line.relationship.target);
      return name + ": " + (a ? objectName(a) : "?") + " → " + (b ? objectName(b) : "?");
    }
    if (line.location && data.text) {
      var chars = Array.from(data.text).slice(line.location.start, line.location.end).join("");
      return name + " “" + (chars.length > 40 ? chars.slice(0, 40) + "…" : chars) + "”";
    }
    return objectName(line);
  }

  function objectName(line) {
    var f = features[m.idOf(line)];
    var same = shownObjects().filter(function (o) { return m.idOf(o) === m.idOf(line) && !o.relationship; });
    return ((f && f.name) || line.name || "?") + " " + (same.indexOf(line) + 1);
  }

  function renderObjects() {
    if (!objectsBox) return;
    var list = objectsBox.querySelector("[data-objects-list]");
    list.textContent = "";
    var objects = shownObjects();
    objectsBox.querySelector("[data-objects-count]").textContent = String(objects.length);
    objects.forEach(function (line) {
      var f = features[m.idOf(line)] || {};
      var item = el("li", {
        className: "object-item" + (line.uuid === ui.selected ? " selected" : ""),
        "data-uuid": line.uuid, "data-testid": "object-item",
      });
      var swatch = el("span", { className: "swatch", "aria-hidden": "true" });
      swatch.style.setProperty("background", f.color || "#888");
      var pick = el("button", { type: "button", className: "linklike object-name", text: objectLabel(line) });
      pick.prepend(swatch);
      pick.addEventListener("click", function () { select(line.uuid); });
      item.appendChild(pick);
      if (store.state.origin[line.uuid] === "prelabel" && !ui.layers) {
        var c = typeof line.confidence === "number" ? line.confidence : 1;
        item.appendChild(el("span", { className: "badge", "data-testid": "prelabel-confidence", title: "Pre-label: the model's confidence", text: "pre-label " + Math.round(c * 100) + " %" }));
      }
      if (!m.geometryKey(line)) item.appendChild(el("span", { className: "badge", title: "Shown in the list only: the editor does not draw this yet", text: "not drawn" }));
      var eye = el("button", {
        type: "button", className: "linklike eye", "data-testid": "toggle-visible",
        "aria-pressed": String(!ui.hidden[line.uuid]), title: ui.hidden[line.uuid] ? "Show" : "Hide",
        text: ui.hidden[line.uuid] ? "Show" : "Hide",
      });
      eye.addEventListener("click", function () {
        if (ui.hidden[line.uuid]) delete ui.hidden[line.uuid];
        else ui.hidden[line.uuid] = true;
        refresh();
      });
      item.appendChild(eye);
      list.appendChild(item);
    });
    if (!objects.length) list.appendChild(el("li", { className: "muted", text: ui.readOnly ? "No objects." : "No objects yet: pick a tool and draw." }));
  }

  function renderSelected() {
    if (!selectedBox) return;
    var line = ui.selected && m.find({ objects: shownObjects() }, ui.selected);
    selectedBox.hidden = !line;
    if (!line) return;
    var f = features[m.idOf(line)] || { name: line.name, classifications: [] };
    selectedBox.querySelector("[data-selected-name]").textContent = objectLabel(line);
    var conf = selectedBox.querySelector("[data-selected-confidence]");
    var isPre = store.state.origin[line.uuid] === "prelabel" && !ui.layers;
    conf.hidden = !isPre;
    conf.textContent = isPre ? "Pre-label, confidence " + (typeof line.confidence === "number" ? line.confidence : 1) : "";
    var geometry = selectedBox.querySelector("[data-selected-geometry]");
    geometry.textContent = describe(line);
    var questions = selectedBox.querySelector("[data-selected-questions]");
    var nested = f.classifications || [];
    questions.hidden = !nested.length;
    var uuid = line.uuid;
    var current = function () {
      var now = m.find(store.state, uuid);
      return (now && now.classifications) || [];
    };
    forms.render(questions, nested, ui.layers ? function () { return line.classifications || []; } : current, function (next, key) {
      commit("answer", m.updateObject(store.state, line.uuid, { classifications: next }), undefined, key && line.uuid + key);
    }, { prefix: "o-" + line.uuid, readOnly: ui.readOnly || !!ui.layers, onText: watchText });
    selectedBox.querySelector("[data-action=delete-object]").hidden = ui.readOnly || !!ui.layers;
  }

  function describe(line) {
    var r = function (v) { return Math.round(v * 100) / 100; };
    if (line.bbox) return "left " + r(line.bbox.left) + ", top " + r(line.bbox.top) + ", " + r(line.bbox.width) + " × " + r(line.bbox.height) + " px";
    if (line.point) return "x " + r(line.point.x) + ", y " + r(line.point.y);
    if (line.polygon) return line.polygon.length + " points";
    if (line.line) return line.line.length + " points";
    if (line.location) return "characters " + line.location.start + "–" + line.location.end;
    if (line.mask) return "segmentation mask (shown; drawing masks is not supported yet)";
    return "";
  }

  function renderGlobals() {
    if (!globalsBox) return;
    var globals = function () { return ui.layers ? ui.layerGlobals || [] : store.state.globals; };
    forms.render(globalsBox, ontology.classifications || [], globals, function (next, key) {
      commit("answer", m.setGlobals(store.state, next), undefined, key);
    }, { prefix: "q", readOnly: ui.readOnly || !!ui.layers, onText: watchText });
    if (!(ontology.classifications || []).length) globalsBox.appendChild(el("p", { className: "muted", text: "The ontology asks no global classification." }));
  }

  function renderMissing() {
    if (!missingBox) return;
    var missing = review ? [] : m.missingRequired(ontology, store.state);
    missingBox.hidden = !missing.length;
    missingBox.textContent = missing.length ? "Still required: " + missing.join(", ") + "." : "";
  }

  function refreshPanels() {
    renderSelected();
    renderObjects();
    renderMissing();
    updateHistoryButtons();
  }

  function updateHistoryButtons() {
    var undo = toolbar.querySelector("[data-testid=undo]"), redo = toolbar.querySelector("[data-testid=redo]");
    if (undo) undo.disabled = ui.readOnly || !store.past.length;
    if (redo) redo.disabled = ui.readOnly || !store.future.length;
  }

  function refresh() {
    if (view) view.render();
    refreshPanels();
  }

  store.subscribe(function (state, name) {
    if (ui.selected && !m.find(state, ui.selected)) ui.selected = null;
    if (view) view.render();
    // a move or a resize changes no line of the objects list: only its panel is redrawn
    if (/^(move|resize|move vertex)$/.test(name)) {
      renderSelected();
      renderMissing();
      updateHistoryButtons();
    } else {
      refreshPanels();
    }
    // typing in a global free-text answer keeps its field (and the caret) as it is
    var active = document.activeElement;
    if (!(globalsBox && active && active.tagName === "TEXTAREA" && globalsBox.contains(active))) renderGlobals();
    if (name !== "reset") scheduleDraft();
  });

  // --- authentic input ---------------------------------------------------------------------

  var inputReported = {};
  var typedHistory = {};  // per field, across redraws of the form
  function reportInput(kind, feature, detail) {
    var key = kind + ":" + feature;
    var now = Date.now();
    if (inputReported[key] && now - inputReported[key] < 10000) return;
    inputReported[key] = now;
    T.api("POST", "input-events/", { kind: kind, feature: feature, detail: detail });
  }

  function watchText(area, classification) {
    if (!data.authentic_input || ui.readOnly) return;
    var field = area.getAttribute("data-key");
    area.addEventListener("paste", function (e) {
      e.preventDefault();
      var text = (e.clipboardData && e.clipboardData.getData("text")) || "";
      message("Pasting is turned off in this project: type the answer.");
      T.notice("Pasting is turned off in this project: type the answer.");
      reportInput("paste", classification.featureSchemaId, { characters: Array.from(text).length });
    });
    area.addEventListener("drop", function (e) { e.preventDefault(); });
    area.addEventListener("input", function (e) {
      var now = Date.now();
      var added = e.data ? Array.from(e.data).length : 0;
      var typed = (typedHistory[field] || []).concat([[now, added]]).filter(function (t) { return now - t[0] <= 2000; });
      typedHistory[field] = typed;
      var chars = typed.reduce(function (s, t) { return s + t[1]; }, 0);
      var span = now - typed[0][0];
      if (chars >= RAPID_MIN && chars * 1000 > RAPID_CPS * Math.max(span, 1)) {
        reportInput("rapid_entry", classification.featureSchemaId, { characters: chars, milliseconds: span });
        T.notice("That was entered faster than a person types; it has been noted on this data row.");
        typedHistory[field] = [];
      }
    });
  }

  // --- drafts ------------------------------------------------------------------------------

  var draftStatus = document.querySelector("[data-draft-status]");
  var draftTimer = null;
  var draftSeq = 0;
  var dirty = false;

  function saveDraft() {
    if (T.finished() || review) return;
    var seq = ++draftSeq;
    draftTimer = null;
    T.api("PUT", "draft/", { draft: m.toDraft(store.state) }).then(function (result) {
      if (seq !== draftSeq || !draftStatus) return;
      if (result.ok) {
        dirty = false;
        draftStatus.textContent = "Draft saved at " + new Date().toLocaleTimeString() + ".";
        draftStatus.setAttribute("data-saved", String(seq));
      } else {
        draftStatus.textContent = "The draft could not be saved: " + T.errorOf(result).message;
      }
    }).catch(function () {
      if (seq === draftSeq && draftStatus) draftStatus.textContent = "The draft could not be saved (offline); it will be saved when the connection is back.";
    });
  }

  function scheduleDraft() {
    if (review) return;
    dirty = true;
    if (draftTimer) clearTimeout(draftTimer);
    draftTimer = setTimeout(saveDraft, DRAFT_DELAY_MS);
  }

  // back online: what changed while offline goes to the server
  document.addEventListener("labelhub:live", function (e) {
    if (e.detail && e.detail.kind === "open" && dirty && !draftTimer) saveDraft();
  });
  window.addEventListener("online", function () { if (dirty) saveDraft(); });
  window.addEventListener("pagehide", function () {
    if (!dirty || T.finished() || review) return;
    T.api("PUT", "draft/", { draft: m.toDraft(store.state) }, { keepalive: true });
  });

  // --- submit ------------------------------------------------------------------------------

  function submit() {
    if (T.busy() || T.finished()) return;
    T.clearErrors();
    document.querySelectorAll(".object-item.has-error").forEach(function (n) { n.classList.remove("has-error"); });
    var missing = m.missingRequired(ontology, store.state);
    if (missing.length) {
      renderMissing();
      placeRequired(missing);
      T.showError("Answer the required features first.");
      return;
    }
    var sent = m.toAnnotations(store.state);
    if (draftTimer) clearTimeout(draftTimer);
    draftTimer = null;
    draftSeq++;  // a draft answered after the submit must not report
    T.send("POST", "submit/", { annotations: sent }, function (err) { showLineErrors(err, sent); });
  }

  function placeRequired(missing) {
    missing.forEach(function (name) {
      (ontology.classifications || []).forEach(function (c) {
        if ((c.name || c.instructions) === name) T.fieldError(c.featureSchemaId, "Required: answer this question.");
      });
    });
  }

  // A 400's details: "annotations[n]" is the n-th line sent; it is a global question's
  // field or an object in the list.
  function showLineErrors(err, sent) {
    var details = err.details || {};
    var rest = [];
    Object.keys(details).forEach(function (key) {
      var msgs = details[key] || [];
      var found = /^annotations\[(\d+)\]$/.exec(key);
      var line = found && sent[Number(found[1])];
      if (line && !m.isObjectLine(line)) {
        msgs.forEach(function (t) { if (!T.fieldError(m.idOf(line), t)) rest.push(t); });
      } else if (line) {
        var item = document.querySelector('.object-item[data-uuid="' + line.uuid + '"]');
        if (item) item.classList.add("has-error");
        rest.push(objectName(line) + ": " + msgs.join(" "));
      } else if (key === "required") {
        placeRequired(msgs.map(function (t) { return t.replace(/ is required\.$/, ""); }));
        rest = rest.concat(msgs);
      } else if (!T.fieldError(key, msgs.join(" "))) {
        rest = rest.concat(msgs);
      }
    });
    T.showError(err.message + (rest.length ? " " + rest.join(" ") : ""));
  }

  var form = document.querySelector("[data-label-form]");
  if (form) form.addEventListener("submit", function (e) { e.preventDefault(); submit(); });

  // --- review: layers and versions ---------------------------------------------------------

  function buildReview() {
    var box = document.querySelector("[data-layers]");
    if (!box || !review) return;
    var choices = [];
    if (labels.length > 1) choices.push({ id: "all", name: "All labels", objects: null });
    labels.forEach(function (label, i) {
      choices.push({ id: label.id, name: (label.author ? label.author.email : "model") + (labels.length > 1 ? "" : " (current)"), label: label, index: i });
      (label.versions || []).slice(0, -1).forEach(function (v) {
        choices.push({
          id: label.id + ":v" + v.number, name: "version " + v.number + " · " + v.mode + (v.author ? " by " + v.author.email : ""),
          version: v, label: label, nested: true,
        });
      });
    });
    box.textContent = "";
    choices.forEach(function (c, i) {
      var input = el("input", { type: "radio", name: "layer", value: c.id, "data-testid": "layer-" + i });
      input.checked = i === 0;
      input.addEventListener("change", function () { if (input.checked) showLayer(c); });
      box.appendChild(el("label", { className: "option" + (c.nested ? " nested" : "") }, [input, document.createTextNode(" " + c.name)]));
    });
    if (choices.length) showLayer(choices[0]);
  }

  function showLayer(choice) {
    ui.selected = null;
    var shown = null;
    if (choice.id === "all") {
      ui.layers = labels.map(function (label) { return { objects: m.load(label.annotations).objects, editable: false, layer: label.id }; });
    } else if (choice.version) {
      shown = m.load(choice.version.annotations);
      ui.layers = [{ objects: shown.objects, editable: false, layer: choice.id }];
    } else if (editable && labels.length === 1) {
      ui.layers = null;
    } else {
      shown = m.load(choice.label.annotations);
      ui.layers = [{ objects: shown.objects, editable: false, layer: choice.id }];
    }
    ui.layerGlobals = shown ? shown.globals : [];
    ui.readOnly = !!ui.layers || !editable;
    buildToolbar();
    refresh();
    renderGlobals();
  }

  // The review decision sends the reviewer's corrections, when there are any.
  T.reviewEdits = function () {
    if (!review || !editable || !store.past.length || ui.layers) return null;
    return { label: labels[0].id, annotations: m.toAnnotations(store.state) };
  };

  // --- keyboard ----------------------------------------------------------------------------

  var help = document.querySelector("[data-shortcuts]");
  function toggleHelp() {
    if (!help) return;
    if (help.open) help.close();
    else help.showModal();
  }

  var helpLink = document.querySelector("[data-open-shortcuts]");
  if (helpLink) helpLink.addEventListener("click", toggleHelp);

  // Keys go to a field only where they type: a ticked radio or checkbox leaves the
  // shortcuts working.
  function typing(target) {
    if (!target) return false;
    if (target.isContentEditable || target.tagName === "TEXTAREA" || target.tagName === "SELECT") return true;
    return target.tagName === "INPUT" && !/^(radio|checkbox|button|submit|reset)$/.test(target.type);
  }

  document.addEventListener("keydown", function (e) {
    var ctrl = e.ctrlKey || e.metaKey;
    if (ctrl && (e.key === "z" || e.key === "Z")) {
      if (typing(e.target) && !e.shiftKey) return;  // the field's own undo while typing
      e.preventDefault();
      if (e.shiftKey) store.redo();
      else store.undo();
      return;
    }
    if (ctrl && (e.key === "y" || e.key === "Y")) { e.preventDefault(); store.redo(); return; }
    if (e.key === "Escape") {
      if (help && help.open) return;
      if (view && view.cancelDrawing && view.cancelDrawing()) { message(""); return; }
      if (typing(e.target)) { e.target.blur(); return; }
      if (ui.tool !== "select") { setTool("select"); return; }
      if (ui.selected) select(null);
      return;
    }
    if (typing(e.target) || ctrl || e.altKey) return;
    if (e.key === "Enter") {
      if (view && view.finishPath && view.finishPath()) { e.preventDefault(); return; }
      if (e.target && e.target.tagName === "BUTTON") return;
      e.preventDefault();
      if (!review) submit();
      return;
    }
    if (e.key === "Delete" || e.key === "Backspace") {
      if (view && view.undoPoint && e.key === "Backspace" && view.undoPoint()) { e.preventDefault(); return; }
      if (deleteSelected()) e.preventDefault();
      return;
    }
    if (e.key === " " && view && view.setPanning && !/^(INPUT|BUTTON|SUMMARY)$/.test(e.target.tagName)) {
      e.preventDefault();  // Space still ticks a focused radio or presses a focused button
      view.setPanning(true);
      return;
    }
    if (e.key === "?") { toggleHelp(); return; }
    if (e.key === "v" || e.key === "V") { setTool("select"); return; }
    if (e.key === "S" && e.shiftKey && !review) { T.openSkip(); e.preventDefault(); return; }
    if (data.media === "image" && view) {
      if (e.key === "f" || e.key === "F") { view.fit(); return; }
      if (e.key === "0") { view.actualSize(); return; }
      if (e.key === "+" || e.key === "=") { view.zoomBy(1.25); return; }
      if (e.key === "-") { view.zoomBy(1 / 1.25); return; }
    }
    if (/^[1-9]$/.test(e.key)) {
      var tool = (ontology.tools || [])[Number(e.key) - 1];
      if (tool) setTool(tool.featureSchemaId);
    }
  });
  document.addEventListener("keyup", function (e) {
    if (e.key === " " && view && view.setPanning) view.setPanning(false);
  });

  // --- start -------------------------------------------------------------------------------

  function onView(v) {
    var z = toolbar.querySelector("[data-zoom]");
    if (z) z.textContent = Math.round(v.scale * 100) + " %";
  }

  function start() {
    buildToolbar();
    renderGlobals();
    buildReview();
    refreshPanels();
    editorBox.setAttribute("data-ready", "true");
    root.LabelHubEditor.current = { store: store, ui: ui, view: function () { return view; } };
  }

  var canvasBox = editorBox.querySelector("[data-canvas]");
  var textBox = editorBox.querySelector("[data-text-editor]");
  var common = {
    store: store, features: features, ui: ui,
    select: select, commit: function (name, next, uuid) { commit(name, next, uuid); }, message: message, onView: onView,
  };
  if (canvasBox && data.media === "image") {
    var img = new Image();
    img.onload = function () {
      view = new E.ImageCanvas(Object.assign({ container: canvasBox, image: img }, common));
      start();
    };
    img.onerror = function () {
      canvasBox.classList.add("asset-missing");
      var note = document.querySelector("[data-asset-note]");
      if (note) note.hidden = false;
      start();
    };
    img.src = canvasBox.getAttribute("data-src");
  } else if (textBox && typeof data.text === "string") {
    view = new E.TextView(Object.assign({ container: textBox, text: data.text }, common));
    start();
  } else {
    start();
  }
})(typeof self !== "undefined" ? self : this);
