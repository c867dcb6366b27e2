// Geometry of the labeling editor: conversions between the screen, the canvas view and
// image pixels, boxes from a drag, shapes kept inside the image, and text offsets between
// the browser's UTF-16 indexes and the code points the import format stores. Pure
// functions (no DOM), shared by the page and by the Node unit tests (tests/js/).
(function (root, factory) {
  "use strict";
  if (typeof module === "object" && module.exports) module.exports = factory();
  else (root.LabelHubEditor = root.LabelHubEditor || {}).geometry = factory();
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  var MIN_SCALE = 0.02;
  var MAX_SCALE = 32;

  function clamp(value, low, high) {
    return Math.min(Math.max(value, low), high);
  }

  // Image coordinates are kept to two decimals: exact at whole zoom factors, finer than
  // a pixel at any zoom a person can aim at, and free of float noise (0.1 + 0.2) in the
  // stored JSON.
  function round(value) {
    return Math.round(value * 100) / 100;
  }

  // A view is where the image sits on the canvas: canvas = image * scale + offset.
  function toImage(view, point) {
    return { x: (point.x - view.x) / view.scale, y: (point.y - view.y) / view.scale };
  }

  function toCanvas(view, point) {
    return { x: point.x * view.scale + view.x, y: point.y * view.scale + view.y };
  }

  // The view that shows the whole image centred in a canvas of the given size.
  function fitView(imageWidth, imageHeight, canvasWidth, canvasHeight) {
    if (!imageWidth || !imageHeight) return { scale: 1, x: 0, y: 0 };
    var scale = clamp(Math.min(canvasWidth / imageWidth, canvasHeight / imageHeight), MIN_SCALE, MAX_SCALE);
    return {
      scale: scale,
      x: round((canvasWidth - imageWidth * scale) / 2),
      y: round((canvasHeight - imageHeight * scale) / 2),
    };
  }

  // Zoom by a factor around a canvas point, which stays under the pointer.
  function zoomAt(view, factor, point) {
    var scale = clamp(view.scale * factor, MIN_SCALE, MAX_SCALE);
    var anchor = toImage(view, point);
    return { scale: scale, x: point.x - anchor.x * scale, y: point.y - anchor.y * scale };
  }

  // The view at a given scale, keeping the canvas point where it is (100 % = scale 1).
  function zoomTo(view, scale, point) {
    return zoomAt(view, scale / view.scale, point);
  }

  function clampPoint(point, width, height) {
    return { x: round(clamp(point.x, 0, width)), y: round(clamp(point.y, 0, height)) };
  }

  // The box spanned by two corners (in any order), inside the image, as the import stores it.
  function boxFromCorners(a, b, width, height) {
    var p = clampPoint(a, width, height);
    var q = clampPoint(b, width, height);
    return {
      top: Math.min(p.y, q.y),
      left: Math.min(p.x, q.x),
      height: round(Math.abs(q.y - p.y)),
      width: round(Math.abs(q.x - p.x)),
    };
  }

  // The smallest box holding the points (used to keep a whole shape inside the image).
  function bounds(points) {
    var xs = points.map(function (p) { return p.x; });
    var ys = points.map(function (p) { return p.y; });
    var left = Math.min.apply(null, xs);
    var top = Math.min.apply(null, ys);
    return { left: left, top: top, width: Math.max.apply(null, xs) - left, height: Math.max.apply(null, ys) - top };
  }

  // How far a shape with these bounds may move by (dx, dy) without leaving the image.
  function allowedShift(box, dx, dy, width, height) {
    return {
      dx: clamp(dx, -box.left, width - box.left - box.width),
      dy: clamp(dy, -box.top, height - box.top - box.height),
    };
  }

  function moveBox(box, dx, dy, width, height) {
    var s = allowedShift(box, dx, dy, width, height);
    return { top: round(box.top + s.dy), left: round(box.left + s.dx), height: box.height, width: box.width };
  }

  function movePoints(points, dx, dy, width, height) {
    var s = allowedShift(bounds(points), dx, dy, width, height);
    return points.map(function (p) { return { x: round(p.x + s.dx), y: round(p.y + s.dy) }; });
  }

  // The centre a relationship's arrow starts or ends at, for any drawable geometry.
  function centre(line) {
    if (line.bbox) return { x: line.bbox.left + line.bbox.width / 2, y: line.bbox.top + line.bbox.height / 2 };
    if (line.point) return { x: line.point.x, y: line.point.y };
    var points = line.polygon || line.line;
    if (points && points.length) {
      var b = bounds(points);
      return { x: b.left + b.width / 2, y: b.top + b.height / 2 };
    }
    return null;
  }

  // Squared distance from a point to a segment (hit testing a polyline's edge).
  function segmentDistance2(p, a, b) {
    var dx = b.x - a.x, dy = b.y - a.y;
    var length2 = dx * dx + dy * dy;
    var t = length2 ? clamp(((p.x - a.x) * dx + (p.y - a.y) * dy) / length2, 0, 1) : 0;
    var x = a.x + t * dx - p.x, y = a.y + t * dy - p.y;
    return x * x + y * y;
  }

  // Flat [x0, y0, x1, y1, …] (Konva's form) from [{x, y}, …] and back.
  function flatten(points) {
    var out = [];
    points.forEach(function (p) { out.push(p.x, p.y); });
    return out;
  }

  function unflatten(flat) {
    var out = [];
    for (var i = 0; i + 1 < flat.length; i += 2) out.push({ x: flat[i], y: flat[i + 1] });
    return out;
  }

  // --- text offsets ------------------------------------------------------------------------
  // The import stores an entity as code-point offsets into the row's text (Python's
  // str indexes), end exclusive; the DOM counts UTF-16 units, so a character outside the
  // Basic Multilingual Plane (most emoji) is 1 there and 2 here.

  function codePointsBefore(text, utf16Index) {
    var count = 0;
    for (var i = 0; i < utf16Index && i < text.length; i++) {
      var c = text.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
        var d = text.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          if (i + 1 >= utf16Index) break;  // an index inside a pair counts the pair whole
          i++;
        }
      }
      count++;
    }
    return count;
  }

  function utf16Index(text, codePoints) {
    var i = 0;
    for (var n = 0; n < codePoints && i < text.length; n++) {
      var c = text.charCodeAt(i);
      i += c >= 0xd800 && c <= 0xdbff && i + 1 < text.length ? 2 : 1;
    }
    return i;
  }

  // A selection's UTF-16 range as the import's location, or null when it is empty.
  function locationOf(text, startUtf16, endUtf16) {
    var a = Math.min(startUtf16, endUtf16), b = Math.max(startUtf16, endUtf16);
    var start = codePointsBefore(text, a);
    var end = codePointsBefore(text, b);
    if (end <= start) return null;
    return { start: start, end: end };
  }

  return {
    MIN_SCALE: MIN_SCALE,
    MAX_SCALE: MAX_SCALE,
    clamp: clamp,
    round: round,
    toImage: toImage,
    toCanvas: toCanvas,
    fitView: fitView,
    zoomAt: zoomAt,
    zoomTo: zoomTo,
    clampPoint: clampPoint,
    boxFromCorners: boxFromCorners,
    bounds: bounds,
    moveBox: moveBox,
    movePoints: movePoints,
    centre: centre,
    segmentDistance2: segmentDistance2,
    flatten: flatten,
    unflatten: unflatten,
    codePointsBefore: codePointsBefore,
    utf16Index: utf16Index,
    locationOf: locationOf,
  };
});
