"""Benchmark: the labeling editor in headless Chromium (time to interactive, drag frames).

Run on demand (never part of the test run; see tests/benchmarks/README.md)::

    .venv/bin/python tests/benchmarks/bench_editor.py [--objects 300] [--navigations 10]
        [--drags 3] [--steps 60] [--json FILE] [--profile PREFIX] [--keep-log]

Always on SQLite and the embedded setup (it ignores DATABASE_URL / REDIS_URL, so
``scripts/benchmark`` can run it beside the PostgreSQL benchmarks). What it does:

1. In a temporary folder: a fresh SQLite database, ``manage.py migrate``, and
   ``collectstatic`` into a ``STATIC_ROOT`` of its own. It writes a 2,000 × 1,500 PNG (zlib,
   no Pillow needed) and the two baseline pages into ``<STATIC_ROOT>/bench/``, so WhiteNoise
   serves them from the app's own origin (the Content-Security-Policy allows images and
   scripts from 'self' only) with the same headers as the editor's own files.
2. In a child process, through the services: a tenant and workspace, an admin and a
   labeler, an ontology with one rectangle tool, a project (pre-label threshold 0) with
   one image row (``row_data`` = the PNG's site-relative URL, as the demo's street images),
   ``--objects`` pre-label boxes imported on the row by an import job (confidence 0.9, a
   20 × 15 grid over the image), the task reserved for the labeler, a database session.
3. ``uvicorn labelhub.asgi:application`` on 127.0.0.1 (production settings:
   ``DJANGO_ENV=production``, hashed static files with WhiteNoise, DEBUG off).
4. Headless Chromium (Debian's, the browser tests' arguments), viewport 1280 × 800:
   * time to interactive: ``--navigations`` loads of the task page (after one cold load,
     reported apart), each with a new image URL (``image.png?load=N``: fetched and decoded
     afresh, as for a new task; scripts and styles from the cache); an init script records
     ``performance.now()`` (0 = navigation start) when ``[data-editor]`` gets
     ``data-ready="true"`` with the objects in the store, and at the end of the next
     animation frame (Konva has drawn the image and the boxes);
   * drag: the middle box is clicked (selected), then dragged ``--drags`` times, back and
     forth by (250, 150) image pixels, with ``page.mouse`` in ``--steps`` moves; a
     requestAnimationFrame loop in the page records the frame intervals from the press
     until two frames after the release (the drop re-renders the canvas). The box's bbox
     in the store must move by the mouse's distance ÷ the view's scale.
5. Baselines, same run, same server: a bare page with the same PNG in an ``<img>`` (time
   to ``img.decode()``, a new URL each load too), and a bare Konva page (the vendored
   konva.min.js; the image and the same boxes in one layer, one draggable, the editor's
   canvas size and view) dragged the same way.

``--profile PREFIX`` then records V8 CPU profiles of one more load and one more drag
(``PREFIX-load.cpuprofile``, ``PREFIX-drag.cpuprofile``) and prints the functions with the
most self time; ``--json FILE`` writes the summary figures.

Goals (PASS/MISS, a miss does not fail the run): time to interactive p50 ≤ 1.5 s, drag
frame p95 ≤ 32 ms. Exit status 1 when a check failed (objects missing from the store or the
canvas, the click not selecting the box, the box not moving as far as the mouse, errors on
the task page), 2 when the setup failed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import zlib
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from _support import (  # noqa: E402
    free_port,
    out,
    production_env,
    run_checked,
    stop_group,
    wait_until_listening,
)

from tests.browser.conftest import CHROMIUM_ARGS  # noqa: E402 - the browser tests' flags

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
HOST = "127.0.0.1"
IMAGE_W, IMAGE_H = 2000, 1500
GRID_COLS, GRID_ROWS = 20, 15  # 300 cells of 100 × 100 image pixels
BOX = 60  # a box's side in image pixels, 20 px inside its cell
DRAG_IMAGE = (250.0, 150.0)  # how far a drag moves the box, in image pixels
VIEWPORT = {"width": 1280, "height": 800}
GOAL_TTI_MS = 1500.0
GOAL_FRAME_P95_MS = 32.0

# In every document, before its scripts: when the editor is ready with its objects, the
# time (ms since navigation start), and the end of the next animation frame (Konva draws
# the stage in a frame it asked for before, so by then the image and boxes are painted).
TTI_INIT_SCRIPT = """
(() => {
  const mark = (window.__bench = {});
  const check = () => {
    if (mark.ready) return;
    const box = document.querySelector("[data-editor][data-ready=true]");
    const current = window.LabelHubEditor && window.LabelHubEditor.current;
    if (!box || !current) return;
    mark.ready = performance.now();
    mark.objects = current.store.state.objects.length;
    const view = current.view();
    mark.shapes = view && view.layer ? view.layer.children.length : -1;
    requestAnimationFrame(() => { mark.frame = performance.now(); });
    observer.disconnect();
  };
  const observer = new MutationObserver(check);
  observer.observe(document, { subtree: true, attributes: true, attributeFilter: ["data-ready"] });
})();
"""

# Frame intervals: rAF timestamps from before the press until well after the release,
# and the press / release times. The release: from pointerup (it comes before mouseup,
# before all of Konva's handlers) to the end of the mouseup handlers on window (Konva
# ends a drag there, in listeners registered when the stage was made, before this one):
# up..upEnd is what the drop costs in handlers (the commit and what it re-renders).
FRAMES_START = """
() => {
  const f = (window.__frames = { t: [], running: true, down: 0, up: 0, upEnd: 0 });
  const loop = (t) => { if (!f.running) return; f.t.push(t); requestAnimationFrame(loop); };
  requestAnimationFrame(loop);
  window.addEventListener("pointerdown", () => { f.down = performance.now(); }, { capture: true, once: true });
  window.addEventListener("pointerup", () => { f.up = performance.now(); }, { capture: true, once: true });
  window.addEventListener("mouseup", () => { f.upEnd = performance.now(); }, { once: true });
}
"""
FRAMES_STOP = "() => { window.__frames.running = false; return window.__frames; }"

# The image's URL carries the page's query (a new one per load, as the editor's).
BARE_IMAGE_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>bare image</title></head>
<body><script src="bare-image.js"></script></body></html>
"""
BARE_IMAGE_JS = """
var img = document.createElement("img");
img.width = 700;
img.src = "image.png" + location.search;
document.body.appendChild(img);
img.decode().then(function () {
  window.__benchDecoded = performance.now();
});
"""
BARE_KONVA_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>bare Konva</title></head>
<body><div id="stage"></div>
<script src="../vendor/konva/konva.min.js"></script>
<script src="bare-konva.js"></script></body></html>
"""
# The image and the boxes in one layer (the naive Konva page): the dragged box's layer,
# all 300 boxes, is redrawn on every move. Styled as the editor's pre-labels.
BARE_KONVA_JS = """
(function () {
  var q = new URLSearchParams(location.search);
  var w = Number(q.get("w")), h = Number(q.get("h"));
  var scale = Number(q.get("scale")), drag = q.get("drag");
  var box = document.getElementById("stage");
  box.style.setProperty("width", w + "px");
  box.style.setProperty("height", h + "px");
  fetch("boxes.json").then(function (r) { return r.json(); }).then(function (boxes) {
    var img = new Image();
    img.onload = function () {
      var stage = new Konva.Stage({ container: box, width: w, height: h });
      stage.scale({ x: scale, y: scale });
      stage.position({ x: Number(q.get("x")), y: Number(q.get("y")) });
      var imageLayer = new Konva.Layer({ listening: false });
      imageLayer.add(new Konva.Image({ image: img, width: img.naturalWidth, height: img.naturalHeight }));
      var layer = new Konva.Layer();
      boxes.forEach(function (b) {
        var rect = new Konva.Rect({
          x: b.left, y: b.top, width: b.width, height: b.height, id: b.uuid,
          stroke: "#ff6b6b", strokeWidth: 2, strokeScaleEnabled: false,
          fill: "rgba(255, 107, 107, 0.1)", dash: [6 / scale, 4 / scale],
          draggable: b.uuid === drag,
        });
        layer.add(rect);
      });
      stage.add(imageLayer, layer);
      stage.draw();
      window.__bare = { stage: stage, rect: stage.findOne("#" + drag) };
      window.__bareReady = performance.now();
    };
    img.src = "image.png";
  });
})();
"""


# --- the image and the boxes -------------------------------------------------------------


def png_bytes(width: int, height: int) -> bytes:
    """An RGB PNG (filter 0 rows, zlib): a gradient, a 50 px checker and stripes."""
    base = bytearray(width * 3)
    for x in range(width):
        base[3 * x] = x * 255 // width
        base[3 * x + 2] = 60 + ((x // 50) % 2) * 80
    other = bytearray(base)
    for x in range(width):
        other[3 * x + 2] = 60 + (1 - (x // 50) % 2) * 80
    raw = bytearray()
    for y in range(height):
        row = bytearray(base if (y // 50) % 2 == 0 else other)
        row[1::3] = bytes([y * 255 // height]) * width
        if y % 97 < 3:
            row[0::3] = bytes([230]) * width  # a thin light stripe now and then
        raw += b"\x00" + row

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(raw), 6))
        + chunk(b"IEND", b"")
    )


def boxes(n: int) -> list[dict[str, Any]]:
    """``n`` boxes, one per 100 × 100 cell of the grid, row by row (they never overlap)."""
    cells = [(c, r) for r in range(GRID_ROWS) for c in range(GRID_COLS)]
    if n > len(cells):
        raise SystemExit(f"--objects at most {len(cells)}")
    return [
        {
            "uuid": f"00000000-0000-4000-8000-{i:012d}",
            "left": c * 100 + 20,
            "top": r * 100 + 20,
            "width": BOX,
            "height": BOX,
        }
        for i, (c, r) in enumerate(cells[:n])
    ]


def middle_box(items: list[dict[str, Any]]) -> dict[str, Any]:
    """The box nearest the image's centre: far from the edges, so a drag is never clamped."""
    return min(
        items,
        key=lambda b: (
            abs(b["left"] + BOX / 2 - IMAGE_W / 2) + abs(b["top"] + BOX / 2 - IMAGE_H / 2)
        ),
    )


def write_bench_files(folder: Path, items: list[dict[str, Any]]) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    image = png_bytes(IMAGE_W, IMAGE_H)
    (folder / "image.png").write_bytes(image)
    (folder / "boxes.json").write_text(json.dumps(items))
    (folder / "bare-image.html").write_text(BARE_IMAGE_HTML)
    (folder / "bare-image.js").write_text(BARE_IMAGE_JS)
    (folder / "bare-konva.html").write_text(BARE_KONVA_HTML)
    (folder / "bare-konva.js").write_text(BARE_KONVA_JS)
    return len(image)


# --- setup through Django (child process) ------------------------------------------------


def setup_child(objects: int) -> int:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labelhub.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection, transaction
    from django.urls import reverse

    from labelhub.accounts.models import User
    from labelhub.imports.services import import_job_create, import_job_run
    from labelhub.labeling.models import Annotation
    from labelhub.labeling.services import batches, queue
    from labelhub.projects.models import DataRow, Dataset
    from labelhub.projects.services.ontologies import ontology_create
    from labelhub.projects.services.projects import project_create, project_settings_update
    from labelhub.workspaces.models import Membership, Role
    from labelhub.workspaces.services import tenant_create

    admin = User.objects.create_user(email="bench-editor-admin@example.com", password=None)
    labeler = User.objects.create_user(email="bench-editor-labeler@example.com", password=None)
    _, workspace = tenant_create(name="Bench editor", workspace_name="Editor", admin=admin)
    Membership.objects.create(workspace=workspace, user=labeler, role=Role.LABELER)
    ontology = ontology_create(
        workspace=workspace,
        actor=admin,
        name="Boxes",
        ontology={"tools": [{"tool": "rectangle", "name": "Car"}], "classifications": []},
    )
    project = project_create(
        workspace=workspace,
        actor=admin,
        name="Editor bench",
        media_type="image",
        ontology=str(ontology.pk),
    )
    project_settings_update(project=project, actor=admin, prelabel_confidence_threshold=0.0)
    dataset = Dataset.objects.create(workspace=workspace, name="Editor rows")
    # site-relative, as the demo's street images (the services take absolute URLs only)
    row = DataRow.objects.create(
        workspace=workspace,
        dataset=dataset,
        row_data=f"/{settings.STATIC_URL.strip('/')}/bench/image.png",
        media_type="image",
        global_key="editor-bench-0",
        metadata={"mediaAttributes": {"width": IMAGE_W, "height": IMAGE_H}},
    )
    batches.batch_create(project=project, actor=admin, name="Batch", data_row_ids=[str(row.pk)])
    items = boxes(objects)
    lines = [
        {
            "uuid": b["uuid"],
            "dataRow": {"globalKey": row.global_key},
            "name": "Car",
            "bbox": {k: b[k] for k in ("top", "left", "height", "width")},
            "confidence": 0.9,
        }
        for b in items
    ]
    with transaction.atomic():
        job = import_job_create(
            project=project, actor=admin, name="Model pre-labels", kind="prelabels", payload=lines
        )
        job = import_job_run(workspace_id=project.workspace_id, job_id=job.pk)
    imported = Annotation.objects.filter(
        data_row=row, source=Annotation.Source.PRELABEL, project=project
    ).count()
    if imported != objects:
        raise RuntimeError(f"import wrote {imported} pre-labels, not {objects}: {job.state}")
    held = queue.queue_next(project=project, actor=labeler, mode="label")
    if not held or held[0].task.data_row_id != row.pk:
        raise RuntimeError("the task was not reserved for the labeler")
    session = SessionStore()
    session[SESSION_KEY] = labeler._meta.pk.value_to_string(labeler)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = labeler.get_session_auth_hash()
    session.create()
    url = reverse("console:project-task", kwargs={"project_id": project.pk, "row_id": row.pk})
    fixture = {
        "task_url": f"{url}?mode=label",
        "image_url": row.row_data,
        # for moving the image to a new URL before each load (bench process, sqlite3)
        "row_table": DataRow._meta.db_table,
        "row_db_id": DataRow._meta.pk.get_db_prep_value(row.pk, connection),
        "session": session.session_key,
        "cookie_name": settings.SESSION_COOKIE_NAME,
        "imported": imported,
    }
    connection.close()
    out("FIXTURE " + json.dumps(fixture))
    return 0


# --- measuring ---------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))]


def median(values: list[float]) -> float:
    return percentile(values, 50)


class ImageUrls:
    """A new URL of the image for each load: ``image.png?load=N`` (WhiteNoise ignores the
    query), so the browser fetches and decodes it afresh as for a new task, while the
    page's scripts and styles come from its cache as for a labeler moving on. The row's
    ``row_data`` is changed in the SQLite file between loads."""

    def __init__(self, database: Path, fixture: dict) -> None:
        self.database, self.fixture, self.n = database, fixture, 0

    def next(self) -> str:
        self.n += 1
        url = f"{self.fixture['image_url']}?load={self.n}"
        with sqlite3.connect(self.database, timeout=20) as conn:
            conn.execute(
                f'UPDATE "{self.fixture["row_table"]}" SET row_data = ? WHERE id = ?',  # noqa: S608
                [url, self.fixture["row_db_id"]],
            )
        conn.close()
        return url


def editor_load(page, url: str, images: ImageUrls | None = None) -> dict[str, float]:
    """Load the task page; the in-page marks (ms since navigation start)."""
    if images is not None:
        images.next()
    page.goto(url, wait_until="commit")
    page.wait_for_function("() => window.__bench && window.__bench.frame", timeout=60_000)
    return page.evaluate(
        """() => {
          const nav = performance.getEntriesByType("navigation")[0];
          const img = performance.getEntriesByType("resource").find((e) => e.name.includes("/bench/image.png"));
          return Object.assign({
            ttfb: nav.responseStart, html: nav.responseEnd, dcl: nav.domContentLoadedEventEnd,
            imageStart: img ? img.startTime : NaN, imageEnd: img ? img.responseEnd : NaN,
          }, window.__bench);
        }"""
    )


def bare_image_load(page, url: str, images: ImageUrls) -> float:
    images.n += 1
    page.goto(f"{url}?load={images.n}", wait_until="commit")
    page.wait_for_function("() => window.__benchDecoded", timeout=60_000)
    return page.evaluate("() => window.__benchDecoded")


def view_of(page) -> dict[str, float]:
    """The canvas container's box on the page and the view (canvas = image*scale + offset)."""
    return page.evaluate(
        """() => {
          const c = document.querySelector("[data-testid=canvas]");
          const r = c.getBoundingClientRect();
          return { left: r.left, top: r.top, width: c.clientWidth, height: c.clientHeight,
                   scale: Number(c.dataset.scale), x: Number(c.dataset.x), y: Number(c.dataset.y) };
        }"""
    )


def drag(page, start: tuple[float, float], delta: tuple[float, float], steps: int) -> dict:
    """Press at ``start``, move by ``delta`` in ``steps`` moves, release; the frames."""
    page.evaluate(FRAMES_START)
    page.wait_for_timeout(100)  # a few idle frames before the press
    page.mouse.move(*start)
    page.mouse.down()
    for i in range(1, steps + 1):
        page.mouse.move(start[0] + delta[0] * i / steps, start[1] + delta[1] * i / steps)
    page.mouse.up()
    page.wait_for_timeout(300)  # the drop: commit, re-render, and a few frames after
    frames = page.evaluate(FRAMES_STOP)
    return frames


def gesture_frames(frames: dict) -> dict[str, Any]:
    """Frame intervals of a gesture: from the last frame before the press to the second
    frame after the release handlers ended (the first after them draws what the drop
    changed). ``moving``: those before the release; ``drop``: the longest after it;
    ``handlers``: ms in the release's handlers (the commit and what it re-renders)."""
    t = frames["t"]
    first = max([i for i, v in enumerate(t) if v <= frames["down"]] or [0])
    after = [i for i, v in enumerate(t) if v > frames["upEnd"]]
    last = after[1] if len(after) > 1 else len(t) - 1
    released = max([i for i, v in enumerate(t) if v <= frames["up"]] or [first])
    return {
        "all": [t[i + 1] - t[i] for i in range(first, last)],
        "moving": [t[i + 1] - t[i] for i in range(first, min(released, last))],
        "drop": max((t[i + 1] - t[i] for i in range(released, last)), default=float("nan")),
        "handlers": frames["upEnd"] - frames["up"],
    }


def bbox_of(page, uuid: str) -> dict[str, float]:
    return page.evaluate(
        "(u) => LabelHubEditor.current.store.state.objects.find((o) => o.uuid === u).bbox", uuid
    )


def drag_series(page, position, to_screen, scale: float, args, name: str, res: dict) -> list:
    """``--drags`` drags of the box, back and forth by DRAG_IMAGE; each checked against
    where the box is afterwards (``position()``: its top-left in image pixels)."""
    # 2.5 and 1.5 cells: the box's centre lands between the other boxes (every cell holds
    # one), so the next drag picks up the same box, not one drawn over it
    delta = (DRAG_IMAGE[0] * scale, DRAG_IMAGE[1] * scale)
    drags = []
    for n in range(args.drags):
        sign = 1 if n % 2 == 0 else -1
        before = position()
        frames = drag(page, to_screen(before), (sign * delta[0], sign * delta[1]), args.steps)
        after = position()
        moved = (after[0] - before[0], after[1] - before[1])
        expected = (sign * DRAG_IMAGE[0], sign * DRAG_IMAGE[1])
        # the pointer lands on whole screen pixels: allow 2 of them
        if not all(abs(m - e) <= 2.0 / scale for m, e in zip(moved, expected)):
            res["checks"].append(f"{name} drag {n + 1}: the box moved {moved}, not {expected}")
        drags.append({**gesture_frames(frames), "moved": moved, "expected": expected})
        page.wait_for_timeout(1200)  # the editor saves its draft 800 ms after a change
    return drags


def top_functions(profile: dict, n: int = 15) -> list[tuple[float, str]]:
    """Self time (ms) per function of a CDP ``.cpuprofile``, largest first."""
    nodes = {node["id"]: node for node in profile["nodes"]}
    self_ms: dict[str, float] = {}
    for sample, dt in zip(profile["samples"], profile["timeDeltas"]):
        frame = nodes[sample]["callFrame"]
        where = frame["url"].rsplit("/", 1)[-1].split("?")[0]
        key = f"{frame['functionName'] or '(anonymous)'} {where}:{frame['lineNumber'] + 1}"
        self_ms[key] = self_ms.get(key, 0.0) + dt / 1000
    return sorted(((ms, key) for key, ms in self_ms.items()), reverse=True)[:n]


def profiled(page, path: Path, what: str, action) -> list[str]:
    """Run ``action`` under V8's sampling profiler; write the .cpuprofile (DevTools >
    Performance > Load profile); lines naming the functions with the most self time."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Profiler.enable")
    cdp.send("Profiler.setSamplingInterval", {"interval": 200})
    cdp.send("Profiler.start")
    action()
    profile = cdp.send("Profiler.stop")["profile"]
    cdp.detach()
    path.write_text(json.dumps(profile))
    total = sum(profile["timeDeltas"]) / 1000
    lines = [f"--- profile of {what}: {path} ({total:.0f} ms sampled); self time by function:"]
    lines += [f"  {ms:8.1f} ms  {key}" for ms, key in top_functions(profile)]
    return lines


def run_browser(
    base: str, fixture: dict, args: argparse.Namespace, images: ImageUrls
) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    target = middle_box(boxes(args.objects))
    uuid = target["uuid"]
    res: dict[str, Any] = {"checks": []}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=args.chromium, headless=True, args=CHROMIUM_ARGS
        )
        res["chromium"] = browser.version
        context = browser.new_context(base_url=base, viewport=VIEWPORT, locale="en-US")
        context.set_default_timeout(60_000)
        context.add_cookies(
            [{"name": fixture["cookie_name"], "value": fixture["session"], "url": base}]
        )
        context.add_init_script(TTI_INIT_SCRIPT)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))

        # --- time to interactive
        url = fixture["task_url"]
        res["cold"] = editor_load(page, url, images)
        res["loads"] = loads = [editor_load(page, url, images) for _ in range(args.navigations)]
        wrong = [m["objects"] for m in [res["cold"], *loads] if m["objects"] != args.objects]
        if wrong:
            res["checks"].append(f"objects in the store on load: {wrong[0]}")
        shapes = {m["shapes"] for m in loads}
        if shapes != {args.objects}:
            res["checks"].append(f"shapes on the canvas on load: {sorted(shapes)}")

        # --- drag in the editor
        res["view"] = view = view_of(page)
        scale = view["scale"]

        def editor_screen(p: tuple[float, float]) -> tuple[float, float]:
            return (
                view["left"] + view["x"] + (p[0] + BOX / 2) * scale,
                view["top"] + view["y"] + (p[1] + BOX / 2) * scale,
            )

        def editor_position() -> tuple[float, float]:
            b = bbox_of(page, uuid)
            return b["left"], b["top"]

        page.mouse.click(*editor_screen((target["left"], target["top"])))
        selected = page.evaluate("() => LabelHubEditor.current.ui.selected")
        if selected != uuid:
            res["checks"].append(f"the click selected {selected!r}, not the middle box")
        page.wait_for_timeout(300)
        res["editor_drags"] = drag_series(
            page, editor_position, editor_screen, scale, args, "editor", res
        )
        res["draft_status"] = page.get_by_test_id("draft-status").inner_text()
        if args.profile:
            res["profiles"] = profiled(
                page,
                Path(f"{args.profile}-load.cpuprofile"),
                "a task page load",
                lambda: editor_load(page, url, images),
            )
            page.mouse.click(*editor_screen(editor_position()))
            page.wait_for_timeout(300)
            res["profiles"] += profiled(
                page,
                Path(f"{args.profile}-drag.cpuprofile"),
                "one editor drag",
                lambda: drag_series(
                    page,
                    editor_position,
                    editor_screen,
                    scale,
                    argparse.Namespace(drags=1, steps=args.steps),
                    "profiled editor",
                    res,
                ),
            )
        res["page_errors"] = list(errors)

        # --- baseline: the bare image
        bare = context.new_page()
        bare_url = "/static/bench/bare-image.html"
        bare_image_load(bare, bare_url, images)  # cold
        res["bare_image"] = [
            bare_image_load(bare, bare_url, images) for _ in range(args.navigations)
        ]

        # --- baseline: bare Konva, the editor's canvas size and view
        query = f"w={view['width']}&h={view['height']}&scale={scale}&x={view['x']}&y={view['y']}"
        bare.goto(f"/static/bench/bare-konva.html?{query}&drag={uuid}")
        bare.wait_for_function("() => window.__bareReady")
        res["bare_konva_ready"] = bare.evaluate("() => window.__bareReady")
        origin = bare.evaluate(
            "() => { const r = document.getElementById('stage').getBoundingClientRect();"
            " return { left: r.left, top: r.top }; }"
        )

        def bare_screen(p: tuple[float, float]) -> tuple[float, float]:
            return (
                origin["left"] + view["x"] + (p[0] + BOX / 2) * scale,
                origin["top"] + view["y"] + (p[1] + BOX / 2) * scale,
            )

        def bare_position() -> tuple[float, float]:
            return tuple(bare.evaluate("() => [__bare.rect.x(), __bare.rect.y()]"))

        res["bare_drags"] = drag_series(
            bare, bare_position, bare_screen, scale, args, "bare Konva", res
        )
        context.close()
        browser.close()
    if res["page_errors"]:
        res["checks"].append(f"errors on the task page: {res['page_errors'][:3]}")
    return res


# --- report ------------------------------------------------------------------------------


def report(res: dict[str, Any], args: argparse.Namespace, image_bytes: int) -> dict[str, Any]:
    loads = res["loads"]

    def col(key: str) -> list[float]:
        return [m[key] for m in loads]

    def line(what: str, values: list[float], note: str = "") -> None:
        out(
            f"{what:<26}p50 {percentile(values, 50):7.1f}  p95 {percentile(values, 95):7.1f} ms"
            + (f"  {note}" if note else "")
        )

    ready, frame, bare = col("ready"), col("frame"), res["bare_image"]
    out(f"--- time to interactive: {len(loads)} loads of the task page (after a cold one) ---")
    out(
        f"{'cold load':<26}ready {res['cold']['ready']:7.1f} ms, first frame "
        f"{res['cold']['frame']:7.1f} ms"
    )
    line("response start (server)", col("ttfb"))
    line("HTML received", col("html"))
    line("DOMContentLoaded end", col("dcl"))
    line("image request start", col("imageStart"))
    line("image received", col("imageEnd"))
    line(
        "ready (data-ready)", ready, f"({loads[0]['objects']} objects, {loads[0]['shapes']} shapes)"
    )
    line("first frame drawn", frame)
    line("bare <img> decoded", bare, f"(PNG {IMAGE_W}x{IMAGE_H}, {image_bytes / 1024:.0f} KiB)")

    view = res["view"]
    out(
        f"--- drag: {args.drags} drags of {args.steps} moves, ({DRAG_IMAGE[0]:.0f}, "
        f"{DRAG_IMAGE[1]:.0f}) image px = ({DRAG_IMAGE[0] * view['scale']:.1f}, "
        f"{DRAG_IMAGE[1] * view['scale']:.1f}) screen px; canvas {view['width']}x"
        f"{view['height']}, scale {view['scale']:.4f} ---"
    )
    for name, drags in (("editor", res["editor_drags"]), ("bare Konva", res["bare_drags"])):
        for n, d in enumerate(drags, 1):
            out(
                f"{name} drag {n}: box moved ({d['moved'][0]:+.1f}, {d['moved'][1]:+.1f}) "
                f"image px, expected ({d['expected'][0]:+.0f}, {d['expected'][1]:+.0f})"
            )
    out("frame ms                 p50     p95     max  frames | drop: handlers, frame (max)")
    figures = {}
    for name, drags in (("editor", res["editor_drags"]), ("bare Konva", res["bare_drags"])):
        every = [ms for d in drags for ms in d["all"]]
        moving = [ms for d in drags for ms in d["moving"]]
        figures[name] = every
        for label, values, drop in ((name, every, True), (f"  {name}, moving", moving, False)):
            out(
                f"{label:<22}{percentile(values, 50):7.1f} {percentile(values, 95):7.1f} "
                f"{max(values, default=float('nan')):7.1f}  {len(values):6d}"
                + (
                    f" | {max(d['handlers'] for d in drags):6.1f} "
                    f"{max(d['drop'] for d in drags):6.1f}"
                    if drop
                    else ""
                )
            )
    out(f"draft status after the drags: {res['draft_status']!r}")

    e_all, b_all = figures["editor"], figures["bare Konva"]
    summary = {
        "tti_p50": percentile(ready, 50),
        "tti_p95": percentile(ready, 95),
        "first_frame_p50": percentile(frame, 50),
        "bare_image_p50": percentile(bare, 50),
        "bare_image_p95": percentile(bare, 95),
        "drag_p50": percentile(e_all, 50),
        "drag_p95": percentile(e_all, 95),
        "drag_max": max(e_all),
        "drop_frame_max": max(d["drop"] for d in res["editor_drags"]),
        "bare_drag_p50": percentile(b_all, 50),
        "bare_drag_p95": percentile(b_all, 95),
        "bare_drag_max": max(b_all),
    }
    summary["tti_ratio"] = summary["tti_p50"] / summary["bare_image_p50"]
    summary["drag_ratio"] = summary["drag_p95"] / summary["bare_drag_p95"]
    s = summary
    out("--- summary ----------------------------------------------------------------")
    out("| figure | editor | baseline | ratio |")
    out("| --- | --- | --- | --- |")
    out(
        f"| time to interactive p50 / p95 | {s['tti_p50']:.0f} / {s['tti_p95']:.0f} ms | bare "
        f"<img> decoded {s['bare_image_p50']:.0f} / {s['bare_image_p95']:.0f} ms | "
        f"{s['tti_ratio']:.1f} |"
    )
    out(
        f"| first frame drawn p50 | {s['first_frame_p50']:.0f} ms | | "
        f"{s['first_frame_p50'] / s['bare_image_p50']:.1f} |"
    )
    out(
        f"| drag frame p50 / p95 / max | {s['drag_p50']:.1f} / {s['drag_p95']:.1f} / "
        f"{s['drag_max']:.1f} ms | bare Konva {s['bare_drag_p50']:.1f} / "
        f"{s['bare_drag_p95']:.1f} / {s['bare_drag_max']:.1f} ms | {s['drag_ratio']:.2f} (p95) |"
    )
    out(
        f"goal time to interactive p50 <= {GOAL_TTI_MS:.0f} ms: "
        f"{'PASS' if s['tti_p50'] <= GOAL_TTI_MS else 'MISS'} ({s['tti_p50']:.0f} ms)"
    )
    out(
        f"goal drag frame p95 <= {GOAL_FRAME_P95_MS:.0f} ms: "
        f"{'PASS' if s['drag_p95'] <= GOAL_FRAME_P95_MS else 'MISS'} ({s['drag_p95']:.1f} ms)"
    )
    return summary


# --- main --------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=300, help="pre-label boxes (300)")
    parser.add_argument("--navigations", type=int, default=10, help="task page loads (10)")
    parser.add_argument("--drags", type=int, default=3)
    parser.add_argument("--steps", type=int, default=60, help="mouse moves per drag (60)")
    parser.add_argument(
        "--chromium", default=os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
    )
    parser.add_argument("--json", help="also write the summary figures to this file")
    parser.add_argument(
        "--profile",
        metavar="PREFIX",
        help="after measuring, profile a load and a drag (PREFIX-load/-drag.cpuprofile)",
    )
    parser.add_argument("--keep-log", action="store_true")
    parser.add_argument("--setup-child", action="store_true", help=argparse.SUPPRESS)
    args, unknown = parser.parse_known_args(argv)
    if unknown and not args.setup_child:
        out(f"(ignoring arguments for other benchmarks: {' '.join(unknown)})")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.setup_child:
        return setup_child(args.objects)
    load_start = os.getloadavg()
    out(
        f"bench_editor: {args.objects} pre-labels on a {IMAGE_W}x{IMAGE_H} image, "
        f"{args.navigations} loads, {args.drags} drags of {args.steps} moves"
    )
    out(
        f"load average at start   {' '.join(f'{v:.2f}' for v in load_start)} ({os.cpu_count()} CPUs)"
    )
    if not Path(args.chromium).exists():
        out(f"no Chromium at {args.chromium} (set CHROMIUM_PATH)")
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    folder = Path(tempfile.mkdtemp(prefix="labelhub-bench-editor-"))
    log_path = folder / "server.log"
    server = None
    try:
        static_root = folder / "static"
        env = production_env(f"sqlite:///{folder / 'bench.sqlite3'}", "")
        env.pop("REDIS_URL")  # the embedded setup: no Redis
        env.update(
            {
                "STATIC_ROOT": str(static_root),
                "MEDIA_ROOT": str(folder / "media"),
                "LIVE_RELAY_FOLDER": str(folder / "live"),
                "BROKER_FOLDER": str(folder / "celery"),
                "CELERY_TASK_ALWAYS_EAGER": "1",
                "LOG_LEVEL": "WARNING",
            }
        )
        t0 = time.perf_counter()
        run_checked([PYTHON, "manage.py", "migrate", "--noinput"], env, "migrate")
        run_checked(
            [PYTHON, "manage.py", "collectstatic", "--noinput", "-v", "0"], env, "collectstatic"
        )
        image_bytes = write_bench_files(static_root / "bench", boxes(args.objects))
        stdout = run_checked(
            [PYTHON, __file__, "--setup-child", "--objects", str(args.objects)], env, "setup"
        )
        fixture = json.loads(
            next(line for line in stdout.splitlines() if line.startswith("FIXTURE "))[8:]
        )
        out(
            f"setup: migrate, collectstatic, {fixture['imported']} pre-labels imported "
            f"{time.perf_counter() - t0:.1f} s"
        )
        port = free_port()
        with log_path.open("wb") as log:
            server = subprocess.Popen(
                [PYTHON, "-m", "uvicorn", "labelhub.asgi:application", "--host", HOST]
                + ["--port", str(port), "--log-level", "warning", "--no-access-log"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_until_listening(server, port)
        out(f"server: uvicorn pid {server.pid} on {HOST}:{port} (DJANGO_ENV=production, SQLite)")
        images = ImageUrls(folder / "bench.sqlite3", fixture)
        res = run_browser(f"http://{HOST}:{port}", fixture, args, images)
        out(f"chromium {res['chromium']} (headless, {VIEWPORT['width']}x{VIEWPORT['height']})")
        summary = report(res, args, image_bytes)
        for line in res.get("profiles", []):
            out(line)
        load_end = os.getloadavg()
        out(f"load average at end     {' '.join(f'{v:.2f}' for v in load_end)}")
        if args.json:
            Path(args.json).write_text(
                json.dumps(
                    {
                        **summary,
                        "load_start": load_start,
                        "load_end": load_end,
                        "chromium": res["chromium"],
                    }
                )
            )
    except Exception:  # noqa: BLE001 - the setup failed: report, clean up, exit 2
        out(traceback.format_exc())
        if log_path.exists():
            out("--- end of the server log ---\n" + log_path.read_text(errors="replace")[-3000:])
        return 2
    finally:
        stop_group(server)
        if args.keep_log and log_path.exists():
            out(f"server log kept: {log_path} (the folder {folder} is left in place)")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    for failure in res["checks"]:
        out(f"FAILED: {failure}")
    return 1 if res["checks"] else 0


if __name__ == "__main__":
    sys.exit(main())
