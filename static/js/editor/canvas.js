// The image canvas of the labeling editor, on Konva (static/vendor/konva): draws the
// state's objects over the image and turns the mouse into commands — draw a box, a
// polygon, a polyline, a point or a relationship; select, move, resize, move a vertex;
// zoom (wheel, fit, 100 %) and pan (drag the background, or hold Space). It never keeps
// annotations of its own: each gesture ends in `opts.commit(name, newState)` and the
// store's change draws the canvas again.
(function (root) {
  "use strict";
  var E = root.LabelHubEditor;
  var g = E.geometry;
  var m = E.model;
  var Konva = root.Konva;

  var HANDLE_PX = 5;
  var POINT_PX = 6;
  var CLOSE_PX = 9;
  var MIN_BOX_PX = 3;

  function rgba(hex, alpha) {
    var h = /^#?([0-9a-f]{6})$/i.exec(hex || "");
    if (!h) return "rgba(255, 107, 107, " + alpha + ")";
    var n = parseInt(h[1], 16);
    return "rgba(" + (n >> 16) + ", " + ((n >> 8) & 255) + ", " + (n & 255) + ", " + alpha + ")";
  }

  // opts: container, image (a loaded HTMLImageElement), store, features (schemaId →
  // {tool, name, color}), ui ({tool, selected, hidden, readOnly, layers}), select(uuid),
  // commit(name, state), message(text).
  function ImageCanvas(opts) {
    var self = this;
    this.opts = opts;
    this.width = opts.image.naturalWidth;
    this.height = opts.image.naturalHeight;
    this.drawing = null;  // the gesture in progress: {kind, points | start, source}
    this.spaceDown = false;
    var box = opts.container;
    this.stage = new Konva.Stage({ container: box, width: box.clientWidth || 800, height: box.clientHeight || 600 });
    this.imageLayer = new Konva.Layer({ listening: false });
    this.imageLayer.add(new Konva.Image({ image: opts.image, x: 0, y: 0, width: this.width, height: this.height }));
    this.layer = new Konva.Layer();
    this.dragLayer = new Konva.Layer();  // what is being dragged, so the rest is not redrawn
    this.uiLayer = new Konva.Layer();
    this.stage.add(this.imageLayer, this.layer, this.dragLayer, this.uiLayer);
    var fit = g.fitView(this.width, this.height, this.stage.width(), this.stage.height());
    this.view = { scale: fit.scale, x: Math.round(fit.x), y: Math.round(fit.y) };
    this.maskImages = {};
    this.applyView();

    this.stage.on("wheel", function (e) {
      e.evt.preventDefault();
      var pointer = self.stage.getPointerPosition();
      if (!pointer) return;
      self.setView(g.zoomAt(self.view, e.evt.deltaY < 0 ? 1.1 : 1 / 1.1, pointer));
    });
    this.stage.on("dragmove", function (e) {
      if (e.target !== self.stage) return;
      self.view = { scale: self.view.scale, x: self.stage.x(), y: self.stage.y() };
      self.publishView();
    });
    this.stage.on("dragend", function (e) {
      if (e.target === self.stage) self.setView({ scale: self.view.scale, x: self.stage.x(), y: self.stage.y() });
    });
    this.stage.on("mousedown", function (e) { self.lastEvent = e.evt; self.onDown(e); });
    this.stage.on("mousemove", function (e) { self.lastEvent = e.evt; self.onMove(); });
    this.stage.on("mouseup", function (e) { self.lastEvent = e.evt; self.onUp(); });
    this.stage.on("dblclick", function () { self.onDoubleClick(); });
    this.resizeObserver = new ResizeObserver(function () { self.resize(); });
    this.resizeObserver.observe(box);
    this.render();
  }

  var P = ImageCanvas.prototype;

  P.ui = function () { return this.opts.ui; };

  P.feature = function (line) { return this.opts.features[m.idOf(line)] || { color: "#ff6b6b", name: line.name || "?" }; };

  P.drawingTool = function () {
    var tool = this.ui().tool;
    return tool && tool !== "select" ? this.opts.features[tool] : null;
  };

  P.resize = function () {
    var box = this.opts.container;
    if (!box.clientWidth || !box.clientHeight) return;
    if (box.clientWidth === this.stage.width() && box.clientHeight === this.stage.height()) return;
    // the view stays: a person's zoom and aim survive a panel growing or a scrollbar
    this.stage.size({ width: box.clientWidth, height: box.clientHeight });
    this.stage.batchDraw();
  };

  // --- the view ----------------------------------------------------------------------------

  P.applyView = function () {
    this.stage.scale({ x: this.view.scale, y: this.view.scale });
    this.stage.position({ x: this.view.x, y: this.view.y });
    this.publishView();
  };

  // The view is on the container's data attributes: the zoom display reads it, and so do
  // the browser tests that aim at image pixels.
  P.publishView = function () {
    var box = this.opts.container;
    box.setAttribute("data-scale", String(this.view.scale));
    box.setAttribute("data-x", String(this.view.x));
    box.setAttribute("data-y", String(this.view.y));
    box.setAttribute("data-image-width", String(this.width));
    box.setAttribute("data-image-height", String(this.height));
    if (this.opts.onView) this.opts.onView(this.view);
  };

  // Offsets stay on whole canvas pixels: the image is drawn crisp, and a pixel of the
  // screen maps to image coordinates without a stray fraction.
  P.setView = function (view) {
    this.view = { scale: view.scale, x: Math.round(view.x), y: Math.round(view.y) };
    this.applyView();
    this.render();
  };

  P.fit = function () { this.setView(g.fitView(this.width, this.height, this.stage.width(), this.stage.height())); };
  P.actualSize = function () { this.setView(g.zoomTo(this.view, 1, { x: this.stage.width() / 2, y: this.stage.height() / 2 })); };
  P.zoomBy = function (factor) { this.setView(g.zoomAt(this.view, factor, { x: this.stage.width() / 2, y: this.stage.height() / 2 })); };

  P.setPanning = function (on) {
    this.spaceDown = on;
    this.updateDraggable();
  };

  P.updateDraggable = function () {
    var tool = this.drawingTool();
    this.stage.draggable(!this.drawing && (!tool || this.spaceDown));
    this.opts.container.classList.toggle("canvas-drawing", !!tool && !this.spaceDown);
  };

  // --- drawing the state -------------------------------------------------------------------

  P.render = function () {
    var self = this;
    var ui = this.ui();
    var state = this.opts.store.state;
    var px = 1 / this.view.scale;  // one screen pixel in image units
    this.layer.destroyChildren();
    this.dragLayer.destroyChildren();
    this.uiLayer.destroyChildren();
    var shapes = {};
    var lines = (ui.layers || [{ objects: state.objects, editable: !ui.readOnly }]);
    lines.forEach(function (group) {
      // masks cover the whole image: under the other objects, so those stay clickable
      var ordered = group.objects.filter(function (l) { return l.mask; })
        .concat(group.objects.filter(function (l) { return !l.mask; }));
      ordered.forEach(function (line) {
        if (ui.hidden[line.uuid] || line.relationship) return;
        var node = self.shapeOf(line, px, group.editable && line.uuid === ui.selected, group);
        if (!node) return;
        shapes[line.uuid] = node;
        self.layer.add(node);
      });
    });
    lines.forEach(function (group) {
      group.objects.forEach(function (line) {
        if (!line.relationship || ui.hidden[line.uuid]) return;
        var a = m.find({ objects: group.objects }, line.relationship.source);
        var b = m.find({ objects: group.objects }, line.relationship.target);
        var from = a && g.centre(a), to = b && g.centre(b);
        if (!from || !to || ui.hidden[a.uuid] || ui.hidden[b.uuid]) return;
        var colour = self.feature(line).color;
        var arrow = new Konva.Arrow({
          points: [from.x, from.y, to.x, to.y],
          stroke: colour, fill: colour,
          strokeWidth: line.uuid === ui.selected ? 4 : 2, strokeScaleEnabled: false,
          pointerLength: 12 * px, pointerWidth: 10 * px, hitStrokeWidth: 12,
          id: line.uuid, name: "object",
        });
        arrow.on("mousedown", function (e) { self.onShapeDown(e, line); });
        self.layer.add(arrow);
      });
    });
    var selected = ui.selected && shapes[ui.selected];
    if (selected && !ui.readOnly) this.decorate(m.find(state, ui.selected), selected, px);
    if (this.drawing) this.drawPreview(px);
    this.updateDraggable();
    this.stage.batchDraw();
  };

  P.shapeOf = function (line, px, selected, group) {
    var self = this;
    var f = this.feature(line);
    var prelabel = this.opts.store.state.origin[line.uuid] === "prelabel" && !group.layer;
    var common = {
      id: line.uuid,
      name: "object",
      stroke: f.color,
      strokeWidth: selected ? 3 : 2,
      strokeScaleEnabled: false,
      draggable: !!group.editable && !this.drawingTool(),
    };
    if (prelabel) common.dash = [6 * px, 4 * px];  // pre-labels are dashed until submitted
    var node = null;
    if (line.bbox) {
      node = new Konva.Rect(Object.assign(common, {
        x: line.bbox.left, y: line.bbox.top, width: line.bbox.width, height: line.bbox.height,
        fill: rgba(f.color, selected ? 0.22 : 0.1),
      }));
    } else if (line.polygon || line.line) {
      node = new Konva.Line(Object.assign(common, {
        points: g.flatten(line.polygon || line.line),
        closed: !!line.polygon,
        fill: line.polygon ? rgba(f.color, selected ? 0.22 : 0.1) : null,
        hitStrokeWidth: 12,
        lineJoin: "round",
      }));
    } else if (line.point) {
      node = new Konva.Circle(Object.assign(common, {
        x: line.point.x, y: line.point.y, radius: POINT_PX * px,
        fill: f.color, stroke: "#ffffff", strokeWidth: selected ? 3 : 1.5,
      }));
    } else if (line.mask) {
      node = this.maskOf(line, common);
    }
    if (!node) return null;
    node.on("mousedown", function (e) { self.onShapeDown(e, line); });
    if (common.draggable && !line.mask) {
      node.on("dragstart", function () {
        if (self.ui().selected !== line.uuid) self.opts.select(line.uuid, false);
        self.dragging = true;
        node.moveTo(self.dragLayer);
      });
      node.on("dragend", function () {
        self.dragging = false;
        self.moved(line, node);
      });
    }
    return node;
  };

  // A segmentation mask from a pre-label, shown (drawing masks comes later).
  P.maskOf = function (line, common) {
    var self = this;
    var src = line.mask.png ? "data:image/png;base64," + line.mask.png : line.mask.instanceURI;
    if (!src) return null;
    var img = this.maskImages[src];
    if (!img) {
      img = this.maskImages[src] = new Image();
      img.onload = function () { self.render(); };
      img.src = src;
    }
    if (!img.complete || !img.naturalWidth) return null;
    return new Konva.Image(Object.assign(common, {
      image: img, x: 0, y: 0, width: this.width, height: this.height, opacity: 0.45, draggable: false,
    }));
  };

  // The selected object's handles: a box's transformer, a path's vertices.
  P.decorate = function (line, node, px) {
    var self = this;
    if (!line || this.drawingTool()) return;
    if (line.bbox) {
      var tr = new Konva.Transformer({
        nodes: [node], rotateEnabled: false, keepRatio: false, flipEnabled: false, ignoreStroke: true,
        anchorSize: 9, borderStroke: "#1c7ed6", anchorStroke: "#1c7ed6",
      });
      node.on("transformend", function () {
        var w = node.width() * node.scaleX(), h = node.height() * node.scaleY();
        var box = g.boxFromCorners({ x: node.x(), y: node.y() }, { x: node.x() + w, y: node.y() + h }, self.width, self.height);
        self.opts.commit("resize", m.updateObject(self.opts.store.state, line.uuid, { bbox: box }));
      });
      this.uiLayer.add(tr);
    } else if (line.polygon || line.line) {
      var key = line.polygon ? "polygon" : "line";
      line[key].forEach(function (p, i) {
        var handle = new Konva.Circle({
          x: p.x, y: p.y, radius: HANDLE_PX * px, fill: "#ffffff", stroke: "#1c7ed6",
          strokeWidth: 2, strokeScaleEnabled: false, draggable: true, name: "vertex",
          id: line.uuid + ":" + i,
        });
        handle.on("mousedown", function (e) { e.cancelBubble = true; });
        handle.on("dragmove", function () {
          var points = node.points().slice();
          points[2 * i] = handle.x();
          points[2 * i + 1] = handle.y();
          node.points(points);
          self.layer.batchDraw();
        });
        handle.on("dragend", function () {
          var moved = line[key].slice();
          moved[i] = g.clampPoint({ x: handle.x(), y: handle.y() }, self.width, self.height);
          var patch = {};
          patch[key] = moved;
          self.opts.commit("move vertex", m.updateObject(self.opts.store.state, line.uuid, patch));
        });
        self.uiLayer.add(handle);
      });
    }
  };

  // A dragged object lands where it was dropped, kept inside the image.
  P.moved = function (line, node) {
    var patch = {};
    if (line.bbox) patch.bbox = g.moveBox(line.bbox, node.x() - line.bbox.left, node.y() - line.bbox.top, this.width, this.height);
    else if (line.point) patch.point = g.clampPoint({ x: node.x(), y: node.y() }, this.width, this.height);
    else if (line.polygon) patch.polygon = g.movePoints(line.polygon, node.x(), node.y(), this.width, this.height);
    else if (line.line) patch.line = g.movePoints(line.line, node.x(), node.y(), this.width, this.height);
    else return;
    this.opts.commit("move", m.updateObject(this.opts.store.state, line.uuid, patch));
  };

  // --- gestures ----------------------------------------------------------------------------

  // Where the mouse is, in image pixels. Chrome draws a canvas snapped to whole pixels,
  // so the canvas's pixel grid starts at its rounded position: measured from there, the
  // screen pixel a person points at maps to the image without a half-pixel drift.
  P.pointer = function (evt) {
    evt = evt || this.lastEvent;
    if (!evt) return null;
    var rect = this.stage.container().getBoundingClientRect();
    return g.toImage(this.view, { x: evt.clientX - Math.round(rect.left), y: evt.clientY - Math.round(rect.top) });
  };

  P.inside = function (p) {
    return p && p.x >= 0 && p.y >= 0 && p.x <= this.width && p.y <= this.height;
  };

  P.onShapeDown = function (e, line) {
    var tool = this.drawingTool();
    if (tool && tool.tool === "edge") {
      e.cancelBubble = true;
      this.relationshipClick(line);
      return;
    }
    if (tool || this.spaceDown) return;  // drawing over an object draws
    e.cancelBubble = true;
    // the canvas is drawn again on release: redrawing now would drop the node the
    // mouse holds, and with it the drag that may be starting
    if (this.ui().selected !== line.uuid) {
      this.opts.select(line.uuid, false);
      this.redrawOnUp = true;
    }
  };

  P.onDown = function (e) {
    if (e.evt.button !== 0 || this.spaceDown) return;
    var tool = this.drawingTool();
    var p = this.pointer();
    if (!tool) {
      if (e.target === this.stage && this.ui().selected) this.opts.select(null, true);
      return;
    }
    if (this.ui().readOnly || !this.inside(p)) return;
    if (tool.tool === "rectangle") {
      this.drawing = { kind: "bbox", start: p, end: p };
    } else if (tool.tool === "point") {
      this.add({ point: g.clampPoint(p, this.width, this.height) });
    } else if (tool.tool === "polygon" || tool.tool === "line") {
      var d = this.drawing;
      if (!d) d = this.drawing = { kind: tool.tool, points: [] };
      var first = d.points[0];
      if (d.kind === "polygon" && first && d.points.length >= 3 &&
          Math.hypot(first.x - p.x, first.y - p.y) * this.view.scale <= CLOSE_PX) {
        this.finishPath();
        return;
      }
      d.points.push(g.clampPoint(p, this.width, this.height));
      d.cursor = p;
    }
    this.render();
  };

  P.onMove = function () {
    if (!this.drawing) return;
    var p = this.pointer();
    if (!p) return;
    if (this.drawing.kind === "bbox") this.drawing.end = p;
    else this.drawing.cursor = p;
    this.uiLayer.destroyChildren();
    this.drawPreview(1 / this.view.scale);
    this.uiLayer.batchDraw();
  };

  P.onUp = function () {
    if (this.redrawOnUp) {
      this.redrawOnUp = false;
      // a drag ends after this (its dragend redraws): drawing now would drop the node
      if (!this.dragging) this.render();
    }
    var d = this.drawing;
    if (!d || d.kind !== "bbox") return;
    this.drawing = null;
    var box = g.boxFromCorners(d.start, d.end, this.width, this.height);
    if (box.width * this.view.scale >= MIN_BOX_PX && box.height * this.view.scale >= MIN_BOX_PX) this.add({ bbox: box });
    else this.render();
  };

  // Konva calls two quick clicks a double click wherever they land; only two on one spot
  // (the last two points of the path) end the path, so quick clicking draws quickly.
  P.onDoubleClick = function () {
    var d = this.drawing;
    if (!d || !d.points || d.points.length < 2) return;
    var a = d.points[d.points.length - 1], b = d.points[d.points.length - 2];
    if (Math.hypot(a.x - b.x, a.y - b.y) * this.view.scale <= CLOSE_PX / 2) this.finishPath();
  };

  // Enter, a double click or a click on the first vertex ends a polygon or a polyline.
  P.finishPath = function () {
    var d = this.drawing;
    if (!d || !d.points) return false;
    // a double click also sent two clicks on the same spot: drop the repeats
    var points = d.points.filter(function (p, i) {
      var q = d.points[i - 1];
      return !q || q.x !== p.x || q.y !== p.y;
    });
    var enough = points.length >= (d.kind === "polygon" ? 3 : 2);
    this.drawing = null;
    if (!enough) {
      this.opts.message(d.kind === "polygon" ? "A polygon needs at least 3 points." : "A polyline needs at least 2 points.");
      this.render();
      return true;
    }
    var geometry = {};
    geometry[d.kind === "polygon" ? "polygon" : "line"] = points;
    this.add(geometry);
    return true;
  };

  P.undoPoint = function () {
    var d = this.drawing;
    if (!d || !d.points || !d.points.length) return false;
    d.points.pop();
    if (!d.points.length) this.drawing = null;
    this.render();
    return true;
  };

  P.cancelDrawing = function () {
    if (!this.drawing) return false;
    this.drawing = null;
    this.render();
    return true;
  };

  P.relationshipClick = function (line) {
    if (line.relationship) return;
    var d = this.drawing;
    if (!d) {
      this.drawing = { kind: "relationship", source: line.uuid };
      this.opts.message("Now click the object the relationship points to (Esc cancels).");
      this.render();
      return;
    }
    if (d.source === line.uuid) return;
    this.drawing = null;
    this.add({ relationship: { source: d.source, target: line.uuid, type: "unidirectional" } });
  };

  P.add = function (geometry) {
    var f = this.drawingTool();
    var line = Object.assign({ uuid: m.newUuid(), schemaId: f.featureSchemaId, name: f.name }, geometry);
    this.opts.commit("draw " + f.name, m.addObject(this.opts.store.state, line, "label"), line.uuid);
  };

  P.drawPreview = function (px) {
    var d = this.drawing;
    var f = this.drawingTool();
    var colour = (f && f.color) || "#1c7ed6";
    if (d.kind === "bbox") {
      var box = g.boxFromCorners(d.start, d.end, this.width, this.height);
      this.uiLayer.add(new Konva.Rect({
        x: box.left, y: box.top, width: box.width, height: box.height,
        stroke: colour, strokeWidth: 2, strokeScaleEnabled: false, dash: [4 * px, 3 * px], listening: false,
      }));
    } else if (d.points) {
      var pts = d.points.concat(d.cursor ? [d.cursor] : []);
      this.uiLayer.add(new Konva.Line({
        points: g.flatten(pts), stroke: colour, strokeWidth: 2, strokeScaleEnabled: false,
        closed: false, listening: false, dash: [4 * px, 3 * px],
      }));
      var ui = this.uiLayer;
      d.points.forEach(function (p, i) {
        ui.add(new Konva.Circle({
          x: p.x, y: p.y, radius: (i === 0 ? HANDLE_PX + 2 : HANDLE_PX) * px, fill: "#ffffff",
          stroke: colour, strokeWidth: 2, strokeScaleEnabled: false, listening: false,
        }));
      });
    } else if (d.kind === "relationship") {
      var source = m.find(this.opts.store.state, d.source);
      var c = source && g.centre(source);
      if (c) {
        this.uiLayer.add(new Konva.Circle({
          x: c.x, y: c.y, radius: 10 * px, stroke: colour, strokeWidth: 3, strokeScaleEnabled: false, listening: false,
        }));
      }
    }
  };

  P.destroy = function () {
    this.resizeObserver.disconnect();
    this.stage.destroy();
  };

  E.ImageCanvas = ImageCanvas;
})(typeof self !== "undefined" ? self : this);
