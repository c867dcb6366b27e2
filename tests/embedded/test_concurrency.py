"""On SQLite (WAL, IMMEDIATE transactions, a busy timeout) concurrent writers wait instead
of failing: 20 data row uploads at once all succeed, beside an import whose upload and
whose run on the worker overlap them, and the import finishes."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

from tests.embedded.conftest import stop

LINES = 48_000  # 2,000 pre-labels on each of the 24 demo rows
FINAL = {"finished", "finished_with_errors", "failed"}


def import_body() -> bytes:
    lines = []
    for n in range(LINES):
        lines.append(
            json.dumps(
                {
                    "uuid": f"7c1e0b4e-0000-4b5a-9d1e-{n:012d}",
                    "dataRow": {"globalKey": f"street-cam-{n % 24 + 1:03d}"},
                    "name": "Car",
                    "bbox": {"top": 10 + n % 50, "left": 20, "height": 100, "width": 150},
                    "confidence": 0.9,
                    "classifications": [{"name": "Occluded", "answer": {"name": "yes"}}],
                }
            )
        )
    return "\n".join(lines).encode()


def test_parallel_uploads_beside_an_import_all_succeed(site):
    project, dataset = site.ids["Street scenes"], site.ids["Street cams"]
    worker = site.start_worker()
    try:

        def upload(n: int):
            rows = [
                {"row_data": f"row {n}-{i}", "media_type": "text", "global_key": f"par-{n}-{i}"}
                for i in range(50)
            ]
            return site.call(
                "POST",
                f"/api/v1/datasets/{dataset}/data-rows/",
                json.dumps(rows).encode(),
                **{"Content-Type": "application/json"},
            )

        def start_import():
            return site.call(
                "POST",
                f"/api/v1/projects/{project}/imports/?name=beside&kind=prelabels",
                import_body(),
                **{"Content-Type": "application/x-ndjson"},
            )

        # the import's upload and 20 uploads at once
        with ThreadPoolExecutor(21) as pool:
            started = pool.submit(start_import)
            first = list(pool.map(upload, range(20)))
            status, job = started.result()
        assert status == 202, job
        # 20 more while the worker writes the import, chunk by chunk
        with ThreadPoolExecutor(20) as pool:
            second = list(pool.map(upload, range(20, 40)))
        _, during = site.call("GET", f"/api/v1/projects/{project}/imports/{job['id']}/")

        answers = first + second
        assert [status for status, _ in answers] == [201] * 40, answers
        assert {json.dumps(body) for _, body in answers} == {
            json.dumps({"created": 50, "updated": 0, "errors": []})
        }
        assert during["state"] in {"queued", "running"}  # the uploads overlapped the run

        deadline = time.monotonic() + 300
        while (job := site.call("GET", f"/api/v1/projects/{project}/imports/{job['id']}/")[1])[
            "state"
        ] not in FINAL:
            assert time.monotonic() < deadline, site.worker_log()
            time.sleep(0.5)
        assert (job["state"], job["lines_written"], job["message"]) == ("finished", LINES, "")
        assert "database is locked" not in site.worker_log()
    finally:
        stop(worker)
