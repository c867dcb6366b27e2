"""A 200 MB upload keeps the web server's memory flat: the NDJSON import and the JSON data
row upload are read as they arrive, never whole (a figure, not a timing: the assertion is
on the peak resident memory of the uvicorn process, measured from /proc)."""

from __future__ import annotations

import http.client
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/status").exists(), reason="reads peak memory from Linux /proc"
)

BODY_BYTES = 200 * 1024 * 1024
#: the most the server's peak memory may grow while it handles one such upload
GROWTH_LIMIT = 150 * 1024 * 1024


def memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in bytes."""
    text = Path(f"/proc/{pid}/status").read_text()
    return {k: int(v) * 1024 for k, v in re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", text, re.M)}


def peak_growth(pid: int, send) -> tuple[int, object]:
    """How far the process's peak memory rose above its memory before ``send()``."""
    try:  # reset the peak to the current size (Linux 4.0+), so earlier peaks do not hide
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        pass
    before = memory(pid)
    result = send()
    after = memory(pid)
    return after["VmHWM"] - min(before["VmRSS"], before["VmHWM"]), result


def write_body(path: Path, head: bytes, item: bytes, sep: bytes, tail: bytes) -> int:
    """Write ``head item sep item … tail`` of about BODY_BYTES; return its size."""
    block = sep.join([item] * 2000)
    with path.open("wb") as out:
        out.write(head + block)
        size = len(head) + len(block)
        while size < BODY_BYTES:
            out.write(sep + block)
            size += len(sep) + len(block)
        out.write(tail)
    return size + len(tail)


def post_file(site, path: str, body: Path, content_type: str) -> tuple[int, dict]:
    """POST a file as the body, streamed from disk with its Content-Length."""
    url = urlsplit(site.base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=600, blocksize=1 << 20)
    try:
        with body.open("rb") as data:
            conn.request(
                "POST",
                path,
                body=data,
                headers={
                    "Authorization": f"Bearer {site.key}",
                    "Content-Type": content_type,
                    "Content-Length": str(body.stat().st_size),
                },
            )
            response = conn.getresponse()
            return response.status, json.loads(response.read())
    finally:
        conn.close()


def test_a_200_mb_ndjson_import_keeps_memory_flat(site, tmp_path, record_property):
    line = json.dumps(
        {
            "uuid": "7c1e0b4e-0101-4b5a-9d1e-3f6a2c9b0101",
            "dataRow": {"globalKey": "street-cam-004"},
            "name": "Car",
            "bbox": {"top": 48, "left": 64, "height": 120, "width": 180},
            "classifications": [{"name": "Occluded", "answer": {"name": "yes"}}],
        }
    ).encode()
    body = tmp_path / "import.ndjson"
    size = write_body(body, b"", line, b"\n", b"\n")
    project = site.ids["Street scenes"]

    growth, (status, job) = peak_growth(
        site.server.pid,
        lambda: post_file(
            site,
            f"/api/v1/projects/{project}/imports/?name=big&kind=prelabels&dry_run=true",
            body,
            "application/x-ndjson",
        ),
    )

    assert status == 202, job
    assert job["total"] == size // (len(line) + 1)
    record_property("server_peak_growth_mb", round(growth / 2**20))
    assert growth < GROWTH_LIMIT, f"{size / 2**20:.0f} MB import: peak +{growth / 2**20:.0f} MB"


def test_a_200_mb_json_data_row_upload_keeps_memory_flat(site, tmp_path, record_property):
    row = json.dumps(
        {
            "row_data": "https://cdn.example.com/cams/big.jpg",
            "media_type": "image",
            "metadata": [{"name": "tag", "value": "x" * 350}],
        }
    ).encode()
    body = tmp_path / "rows.json"
    size = write_body(body, b"[", row, b",\n", b"]")
    dataset = site.ids["Street cams"]

    growth, (status, answer) = peak_growth(
        site.server.pid,
        lambda: post_file(site, f"/api/v1/datasets/{dataset}/data-rows/", body, "application/json"),
    )

    assert status == 202, answer
    _, job = site.call("GET", f"/api/v1/data-row-jobs/{answer['job']}/")
    assert job["total"] == size // (len(row) + 2)  # "[" + rows joined by ",\n" + "]"
    record_property("server_peak_growth_mb", round(growth / 2**20))
    assert growth < GROWTH_LIMIT, f"{size / 2**20:.0f} MB of rows: peak +{growth / 2**20:.0f} MB"


def test_a_200_mb_json_import_body_is_refused_before_it_is_read(site, tmp_path, record_property):
    # The third job path: a JSON body is parsed whole, so past IMPORTS_MAX_JSON_BODY_BYTES
    # (16 MB) it is refused unread and large imports go as NDJSON (the test above).
    line = json.dumps({"uuid": "u", "dataRow": {"globalKey": "street-cam-004"}, "name": "Car"})
    body = tmp_path / "import.json"
    write_body(body, b'{"name": "big", "kind": "prelabels", "lines": [', line.encode(), b",", b"]}")
    project = site.ids["Street scenes"]

    growth, (status, answer) = peak_growth(
        site.server.pid,
        lambda: post_file(site, f"/api/v1/projects/{project}/imports/", body, "application/json"),
    )

    assert status == 413, answer
    assert answer["error"]["message"] == (
        "At most 16 MB as a JSON body; send larger imports as NDJSON "
        "(Content-Type: application/x-ndjson) or as a file."
    )
    record_property("server_peak_growth_mb", round(growth / 2**20))
    assert growth < GROWTH_LIMIT, f"200 MB JSON import: peak +{growth / 2**20:.0f} MB"
