// The labeling editor's state: the label being made, as data. Everything the views show
// is drawn from it, every change is a named command that returns a new state, and undo /
// redo walk the states. Annotations keep the import's NDJSON shape (what submit, drafts
// and the server's validator take), so nothing is translated on the way out.
//
//   state = { objects: [line…], globals: [line…], origin: {uuid: "prelabel" | "label"} }
//   object line:  {uuid, schemaId, name, bbox | polygon | line | point | mask | location |
//                  relationship | …, classifications: [answer…], confidence?}
//   answer:       {schemaId, name, answer: "text" | {schemaId, name, classifications}}
//                 or {schemaId, name, answers: [{schemaId, name, classifications}…]}
//
// Pure functions (no DOM), shared by the page and the Node unit tests (tests/js/).
(function (root, factory) {
  "use strict";
  if (typeof module === "object" && module.exports) module.exports = factory();
  else (root.LabelHubEditor = root.LabelHubEditor || {}).model = factory();
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  var GEOMETRY_KEYS = ["bbox", "polygon", "line", "point", "mask", "location", "relationship"];
  // Ontology tool → the import key of its geometry (the validator's GEOMETRIES, reversed).
  var TOOL_KEYS = {
    rectangle: "bbox",
    polygon: "polygon",
    line: "line",
    point: "point",
    "raster-segmentation": "mask",
    "named-entity": "location",
    edge: "relationship",
  };
  var HISTORY_LIMIT = 200;

  function geometryKey(line) {
    for (var i = 0; i < GEOMETRY_KEYS.length; i++) if (line[GEOMETRY_KEYS[i]] !== undefined) return GEOMETRY_KEYS[i];
    return null;
  }

  function isObjectLine(line) {
    if (geometryKey(line)) return true;
    // video and document shapes the editor does not draw yet are objects all the same
    return ["segments", "textSelections", "frames"].some(function (k) { return line[k] !== undefined; })
      && line.answer === undefined && line.answers === undefined;
  }

  function newUuid() {
    var c = typeof crypto !== "undefined" ? crypto : null;
    if (c && c.randomUUID) return c.randomUUID();
    var bytes = new Uint8Array(16);
    if (c && c.getRandomValues) c.getRandomValues(bytes);
    else for (var i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function copy(value) {
    return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
  }

  // --- loading and saving ------------------------------------------------------------------

  // The state of a list of annotation lines (pre-labels, a rejected label, a draft).
  function load(lines, origin) {
    var state = { objects: [], globals: [], origin: {} };
    (lines || []).forEach(function (raw) {
      if (!raw || typeof raw !== "object") return;
      var line = copy(raw);
      delete line.dataRow;
      if (!line.uuid) line.uuid = newUuid();
      if (isObjectLine(line)) {
        state.objects.push(line);
        state.origin[line.uuid] = (origin && origin[line.uuid]) || (typeof origin === "string" ? origin : "label");
      } else {
        state.globals.push(line);
      }
    });
    return state;
  }

  // What goes to the server: globals then objects, in the import's shape. A model's
  // confidence does not travel: once a person submits it, it is their annotation.
  function toAnnotations(state) {
    var strip = function (line) {
      var out = copy(line);
      delete out.confidence;
      return out;
    };
    return state.globals.map(strip).concat(state.objects.map(strip));
  }

  // The draft keeps where each object came from, so a reloaded page still marks pre-labels.
  function toDraft(state) {
    return { annotations: state.globals.concat(state.objects), origin: state.origin, editor: 1 };
  }

  function fromDraft(draft) {
    return load(draft && draft.annotations, (draft && draft.origin) || "label");
  }

  // --- commands: state → new state ---------------------------------------------------------

  function find(state, uuid) {
    for (var i = 0; i < state.objects.length; i++) if (state.objects[i].uuid === uuid) return state.objects[i];
    return null;
  }

  function withObjects(state, objects, origin) {
    return { objects: objects, globals: state.globals, origin: origin || state.origin };
  }

  function addObject(state, line, origin) {
    var added = copy(line);
    if (!added.uuid) added.uuid = newUuid();
    var o = Object.assign({}, state.origin);
    o[added.uuid] = origin || "label";
    return withObjects(state, state.objects.concat([added]), o);
  }

  // Removing an object removes the relationships that point at it.
  function removeObjects(state, uuids) {
    var gone = {};
    uuids.forEach(function (u) { gone[u] = true; });
    var kept = state.objects.filter(function (line) {
      if (gone[line.uuid]) return false;
      var ends = line.relationship;
      return !(ends && (gone[ends.source] || gone[ends.target]));
    });
    var o = {};
    kept.forEach(function (line) { o[line.uuid] = state.origin[line.uuid]; });
    return withObjects(state, kept, o);
  }

  // Replace some keys of one object (its geometry, its classifications).
  function updateObject(state, uuid, patch) {
    return withObjects(state, state.objects.map(function (line) {
      return line.uuid === uuid ? Object.assign({}, line, copy(patch)) : line;
    }));
  }

  function setGlobals(state, globals) {
    return { objects: state.objects, globals: copy(globals), origin: state.origin };
  }

  // --- classification answers (any depth) --------------------------------------------------

  function idOf(item) {
    return item && (item.schemaId || item.featureSchemaId);
  }

  function answerOf(list, classification) {
    var id = classification.featureSchemaId;
    for (var i = 0; i < (list || []).length; i++) {
      if (idOf(list[i]) === id || (!idOf(list[i]) && list[i].name === classification.name)) return list[i];
    }
    return null;
  }

  // The options chosen in an answer (radio: one, checklist: several), by schema id.
  function chosen(answer) {
    if (!answer) return [];
    if (Array.isArray(answer.answers)) return answer.answers;
    if (answer.answer && typeof answer.answer === "object") return [answer.answer];
    return [];
  }

  function without(list, classification) {
    var found = answerOf(list, classification);
    return (list || []).filter(function (a) { return a !== found; });
  }

  function ref(feature, name) {
    return { schemaId: feature.featureSchemaId, name: name || feature.name || feature.label || feature.value };
  }

  // A list of answers with a free-text answer set (an empty text removes the answer).
  function withText(list, classification, text) {
    var rest = without(list, classification);
    if (!text) return rest;
    return rest.concat([Object.assign(ref(classification), { answer: String(text) })]);
  }

  // Choose a radio option (choosing the chosen one again keeps it; nested answers of a
  // deselected option go with it).
  function withRadio(list, classification, option) {
    var rest = without(list, classification);
    if (!option) return rest;
    var before = answerOf(list, classification);
    var kept = chosen(before).filter(function (o) { return idOf(o) === option.featureSchemaId; })[0];
    return rest.concat([Object.assign(ref(classification), { answer: kept || ref(option, option.label || option.value) })]);
  }

  function withCheck(list, classification, option, on) {
    var before = chosen(answerOf(list, classification));
    var others = before.filter(function (o) { return idOf(o) !== option.featureSchemaId; });
    var mine = before.filter(function (o) { return idOf(o) === option.featureSchemaId; })[0];
    var next = on ? others.concat([mine || ref(option, option.label || option.value)]) : others;
    var rest = without(list, classification);
    if (!next.length) return rest;
    return rest.concat([Object.assign(ref(classification), { answers: next })]);
  }

  // Map the nested answers under a chosen option (depth: compose these).
  function withNested(list, classification, option, update) {
    var answer = answerOf(list, classification);
    if (!answer) return list;
    var map = function (o) {
      if (idOf(o) !== option.featureSchemaId) return o;
      var nested = update(o.classifications || []);
      var out = Object.assign({}, o);
      if (nested.length) out.classifications = nested;
      else delete out.classifications;
      return out;
    };
    var changed = Object.assign({}, answer);
    if (Array.isArray(answer.answers)) changed.answers = answer.answers.map(map);
    else changed.answer = map(answer.answer);
    return list.map(function (a) { return a === answer ? changed : a; });
  }

  // --- required features (the server's rule, checked before it is asked) -------------------

  function missingRequired(ontology, state) {
    var missing = [];
    var given = {};
    state.globals.forEach(function (line) { given[idOf(line)] = true; });
    state.objects.forEach(function (line) { given[idOf(line)] = true; });
    (ontology.classifications || []).forEach(function (c) {
      if (c.required && !given[c.featureSchemaId]) missing.push(c.name || c.instructions || "");
    });
    (ontology.tools || []).forEach(function (tool) {
      if (tool.required && !given[tool.featureSchemaId]) missing.push(tool.name);
      if (!given[tool.featureSchemaId]) return;
      var answered = {};
      state.objects.forEach(function (line) {
        if (idOf(line) !== tool.featureSchemaId) return;
        (line.classifications || []).forEach(function (a) { answered[idOf(a) || a.name] = true; });
      });
      (tool.classifications || []).forEach(function (child) {
        if (child.required && !answered[child.featureSchemaId] && !answered[child.name]) {
          missing.push(tool.name + " › " + (child.name || child.instructions));
        }
      });
    });
    return missing;
  }

  // --- history -----------------------------------------------------------------------------

  // A store: the current state, undo and redo stacks, and listeners told of each change.
  // `coalesce` merges a run of changes with the same key into one undo step (typing).
  function createStore(initial) {
    var store = { state: initial, past: [], future: [], listeners: [], lastKey: null };
    store.apply = function (name, next, coalesce) {
      if (next === store.state) return;
      if (!(coalesce && coalesce === store.lastKey)) {
        store.past.push(store.state);
        if (store.past.length > HISTORY_LIMIT) store.past.shift();
      }
      store.lastKey = coalesce || null;
      store.future = [];
      store.state = next;
      notify(name);
    };
    store.undo = function () {
      if (!store.past.length) return false;
      store.future.push(store.state);
      store.state = store.past.pop();
      store.lastKey = null;
      notify("undo");
      return true;
    };
    store.redo = function () {
      if (!store.future.length) return false;
      store.past.push(store.state);
      store.state = store.future.pop();
      store.lastKey = null;
      notify("redo");
      return true;
    };
    // A state from outside (a restored draft) that is not a change to undo.
    store.reset = function (state) {
      store.state = state;
      store.past = [];
      store.future = [];
      store.lastKey = null;
      notify("reset");
    };
    store.subscribe = function (fn) { store.listeners.push(fn); };
    function notify(name) {
      store.listeners.forEach(function (fn) { fn(store.state, name); });
    }
    return store;
  }

  return {
    TOOL_KEYS: TOOL_KEYS,
    geometryKey: geometryKey,
    isObjectLine: isObjectLine,
    newUuid: newUuid,
    load: load,
    toAnnotations: toAnnotations,
    toDraft: toDraft,
    fromDraft: fromDraft,
    find: find,
    addObject: addObject,
    removeObjects: removeObjects,
    updateObject: updateObject,
    setGlobals: setGlobals,
    idOf: idOf,
    answerOf: answerOf,
    chosen: chosen,
    withText: withText,
    withRadio: withRadio,
    withCheck: withCheck,
    withNested: withNested,
    missingRequired: missingRequired,
    createStore: createStore,
  };
});
