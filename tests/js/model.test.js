// Unit tests of the editor's state model (static/js/editor/model.js): `node --test tests/js/`.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const m = require("../../static/js/editor/model.js");

const radio = {
  type: "radio", name: "Occluded", featureSchemaId: "occ", required: true,
  options: [
    { label: "Yes", value: "yes", featureSchemaId: "occ-yes", options: [
      { type: "radio", name: "How much", featureSchemaId: "much", options: [
        { label: "Half", featureSchemaId: "much-half", options: [] },
        { label: "Most", featureSchemaId: "much-most", options: [] },
      ] },
    ] },
    { label: "No", value: "no", featureSchemaId: "occ-no", options: [] },
  ],
};
const weather = {
  type: "checklist", name: "Weather", featureSchemaId: "wea", required: true,
  options: [
    { label: "rain", featureSchemaId: "wea-rain", options: [] },
    { label: "fog", featureSchemaId: "wea-fog", options: [] },
  ],
};
const ontology = {
  tools: [{ tool: "rectangle", name: "Car", featureSchemaId: "car", classifications: [radio] }],
  classifications: [weather, { type: "text", name: "Notes", featureSchemaId: "notes" }],
};

test("load splits objects from global answers and keeps their origin", () => {
  const state = m.load([
    { uuid: "a", schemaId: "car", name: "Car", bbox: { top: 1, left: 2, height: 3, width: 4 }, confidence: 0.8 },
    { uuid: "n", schemaId: "notes", answer: "hi" },
    { uuid: "s", schemaId: "clip", segments: [] },
  ], "prelabel");
  assert.deepEqual(state.objects.map((o) => o.uuid), ["a", "s"]);
  assert.deepEqual(state.globals.map((o) => o.uuid), ["n"]);
  assert.deepEqual(state.origin, { a: "prelabel", s: "prelabel" });
  // confidence is shown, never sent
  assert.deepEqual(m.toAnnotations(state)[1], {
    uuid: "a", schemaId: "car", name: "Car", bbox: { top: 1, left: 2, height: 3, width: 4 },
  });
});

test("a draft round-trips with origins", () => {
  let state = m.load([{ uuid: "a", schemaId: "car", point: { x: 1, y: 2 } }], "prelabel");
  state = m.addObject(state, { uuid: "b", schemaId: "car", point: { x: 5, y: 6 } });
  const again = m.fromDraft(JSON.parse(JSON.stringify(m.toDraft(state))));
  assert.deepEqual(again.origin, { a: "prelabel", b: "label" });
  assert.deepEqual(again.objects, state.objects);
});

test("removing an object removes relationships pointing at it", () => {
  let state = m.load([
    { uuid: "a", schemaId: "car", point: { x: 1, y: 2 } },
    { uuid: "b", schemaId: "car", point: { x: 3, y: 4 } },
    { uuid: "r", schemaId: "rel", relationship: { source: "a", target: "b", type: "unidirectional" } },
  ]);
  state = m.removeObjects(state, ["b"]);
  assert.deepEqual(state.objects.map((o) => o.uuid), ["a"]);
  assert.deepEqual(Object.keys(state.origin), ["a"]);
});

test("nested answers to any depth", () => {
  let list = m.withRadio([], radio, radio.options[0]);
  list = m.withNested(list, radio, radio.options[0], (inner) => m.withRadio(inner, radio.options[0].options[0], radio.options[0].options[0].options[1]));
  assert.deepEqual(list, [{
    schemaId: "occ", name: "Occluded",
    answer: { schemaId: "occ-yes", name: "Yes", classifications: [
      { schemaId: "much", name: "How much", answer: { schemaId: "much-most", name: "Most" } },
    ] },
  }]);
  // choosing the same option keeps its nested answers; another option drops them
  assert.deepEqual(m.withRadio(list, radio, radio.options[0]), list);
  assert.deepEqual(m.withRadio(list, radio, radio.options[1]), [
    { schemaId: "occ", name: "Occluded", answer: { schemaId: "occ-no", name: "No" } },
  ]);
  assert.deepEqual(m.withRadio(list, radio, null), []);
});

test("checklists and free text", () => {
  let list = m.withCheck([], weather, weather.options[1], true);
  list = m.withCheck(list, weather, weather.options[0], true);
  assert.deepEqual(list, [{ schemaId: "wea", name: "Weather", answers: [
    { schemaId: "wea-fog", name: "fog" }, { schemaId: "wea-rain", name: "rain" },
  ] }]);
  list = m.withCheck(list, weather, weather.options[1], false);
  list = m.withCheck(list, weather, weather.options[0], false);
  assert.deepEqual(list, []);
  const notes = ontology.classifications[1];
  assert.deepEqual(m.withText([], notes, "dry"), [{ schemaId: "notes", name: "Notes", answer: "dry" }]);
  assert.deepEqual(m.withText(m.withText([], notes, "dry"), notes, ""), []);
});

test("required features are listed as the server names them", () => {
  let state = m.load([]);
  assert.deepEqual(m.missingRequired(ontology, state), ["Weather"]);
  state = m.setGlobals(state, m.withCheck([], weather, weather.options[0], true));
  state = m.addObject(state, { schemaId: "car", name: "Car", point: { x: 1, y: 1 } });
  assert.deepEqual(m.missingRequired(ontology, state), ["Car › Occluded"]);
  const uuid = state.objects[0].uuid;
  state = m.updateObject(state, uuid, { classifications: m.withRadio([], radio, radio.options[1]) });
  assert.deepEqual(m.missingRequired(ontology, state), []);
});

test("undo and redo walk every change; typing coalesces", () => {
  const store = m.createStore(m.load([]));
  const seen = [];
  store.subscribe((state, name) => seen.push(name + ":" + state.objects.length));
  store.apply("add", m.addObject(store.state, { uuid: "a", schemaId: "car", point: { x: 1, y: 1 } }));
  store.apply("add", m.addObject(store.state, { uuid: "b", schemaId: "car", point: { x: 2, y: 2 } }));
  const notes = ontology.classifications[1];
  store.apply("text", m.setGlobals(store.state, m.withText([], notes, "a")), "notes");
  store.apply("text", m.setGlobals(store.state, m.withText([], notes, "ab")), "notes");
  assert.equal(store.past.length, 3);
  assert.equal(store.undo(), true);
  assert.deepEqual(store.state.globals, []);
  assert.equal(store.undo(), true);
  assert.deepEqual(store.state.objects.map((o) => o.uuid), ["a"]);
  assert.equal(store.redo(), true);
  assert.deepEqual(store.state.objects.map((o) => o.uuid), ["a", "b"]);
  store.apply("remove", m.removeObjects(store.state, ["a"]));
  assert.equal(store.redo(), false);  // a new change drops the redo stack
  assert.deepEqual(seen, ["add:1", "add:2", "text:2", "text:2", "undo:2", "undo:1", "redo:2", "remove:1"]);
});
