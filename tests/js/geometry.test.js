// Unit tests of the editor's geometry (static/js/editor/geometry.js): run with
// `node --test tests/js/` (Node's own runner; no npm package needed).
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const g = require("../../static/js/editor/geometry.js");

test("canvas and image coordinates convert both ways", () => {
  const view = { scale: 2, x: 10, y: -20 };
  assert.deepEqual(g.toImage(view, { x: 110, y: 180 }), { x: 50, y: 100 });
  assert.deepEqual(g.toCanvas(view, { x: 50, y: 100 }), { x: 110, y: 180 });
});

test("fit centres the whole image", () => {
  assert.deepEqual(g.fitView(2000, 1500, 800, 800), { scale: 0.4, x: 0, y: 100 });
  assert.deepEqual(g.fitView(0, 0, 800, 600), { scale: 1, x: 0, y: 0 });
});

test("zooming keeps the point under the pointer", () => {
  const view = { scale: 1, x: 0, y: 0 };
  const zoomed = g.zoomAt(view, 2, { x: 100, y: 50 });
  assert.deepEqual(zoomed, { scale: 2, x: -100, y: -50 });
  assert.deepEqual(g.toImage(zoomed, { x: 100, y: 50 }), { x: 100, y: 50 });
  assert.equal(g.zoomAt(view, 1000, { x: 0, y: 0 }).scale, g.MAX_SCALE);
  assert.equal(g.zoomAt(view, 0.0001, { x: 0, y: 0 }).scale, g.MIN_SCALE);
  assert.deepEqual(g.zoomTo({ scale: 0.5, x: 10, y: 10 }, 1, { x: 10, y: 10 }), { scale: 1, x: 10, y: 10 });
});

test("a box from two corners in any order, clamped to the image", () => {
  assert.deepEqual(g.boxFromCorners({ x: 300, y: 200 }, { x: 100, y: 50 }, 640, 480), {
    top: 50, left: 100, height: 150, width: 200,
  });
  assert.deepEqual(g.boxFromCorners({ x: -20, y: 470 }, { x: 700, y: 500 }, 640, 480), {
    top: 470, left: 0, height: 10, width: 640,
  });
  assert.deepEqual(g.boxFromCorners({ x: 0.123, y: 0.456 }, { x: 10.005, y: 3 }, 640, 480), {
    top: 0.46, left: 0.12, height: 2.54, width: 9.89,
  });
});

test("moving keeps the whole shape inside the image", () => {
  const box = { top: 10, left: 20, height: 30, width: 40 };
  assert.deepEqual(g.moveBox(box, 5, 5, 100, 100), { top: 15, left: 25, height: 30, width: 40 });
  assert.deepEqual(g.moveBox(box, -50, 500, 100, 100), { top: 70, left: 0, height: 30, width: 40 });
  const points = [{ x: 10, y: 10 }, { x: 30, y: 20 }, { x: 20, y: 40 }];
  assert.deepEqual(g.movePoints(points, 100, -100, 50, 50), [{ x: 30, y: 0 }, { x: 50, y: 10 }, { x: 40, y: 30 }]);
});

test("centres of each geometry", () => {
  assert.deepEqual(g.centre({ bbox: { top: 0, left: 0, height: 10, width: 20 } }), { x: 10, y: 5 });
  assert.deepEqual(g.centre({ point: { x: 3, y: 4 } }), { x: 3, y: 4 });
  assert.deepEqual(g.centre({ polygon: [{ x: 0, y: 0 }, { x: 10, y: 0 }, { x: 10, y: 30 }] }), { x: 5, y: 15 });
  assert.equal(g.centre({ mask: {} }), null);
});

test("segment distance and flat points", () => {
  assert.equal(g.segmentDistance2({ x: 5, y: 3 }, { x: 0, y: 0 }, { x: 10, y: 0 }), 9);
  assert.equal(g.segmentDistance2({ x: -3, y: 4 }, { x: 0, y: 0 }, { x: 10, y: 0 }), 25);
  assert.deepEqual(g.flatten([{ x: 1, y: 2 }, { x: 3, y: 4 }]), [1, 2, 3, 4]);
  assert.deepEqual(g.unflatten([1, 2, 3, 4]), [{ x: 1, y: 2 }, { x: 3, y: 4 }]);
});

test("text offsets count code points, as the import stores them", () => {
  const text = "Total 😀 12.50 €";
  // "😀" is two UTF-16 units and one code point
  assert.equal(text.length, 16);
  assert.equal(g.codePointsBefore(text, 8), 7);
  assert.equal(g.utf16Index(text, 7), 8);
  // selecting "12.50" (UTF-16 9..14) is code points 8..13
  assert.deepEqual(g.locationOf(text, 9, 14), { start: 8, end: 13 });
  assert.equal(Array.from(text).slice(8, 13).join(""), "12.50");
  // backwards selections and empty ones
  assert.deepEqual(g.locationOf(text, 14, 9), { start: 8, end: 13 });
  assert.equal(g.locationOf(text, 5, 5), null);
  // an index inside the pair counts the pair whole (never half a character)
  assert.equal(g.codePointsBefore(text, 7), 6);
});
