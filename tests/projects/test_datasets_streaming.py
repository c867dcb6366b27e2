"""Data row uploads are read as they are consumed: the service decides between writing
now and a job after DATA_ROWS_SYNC_LIMIT + 1 rows, a job takes the rest one by one, and
the readers give the same rows (and refusals) wherever the body's blocks are cut."""

from __future__ import annotations

import pytest

from labelhub.core.errors import ValidationFailed
from labelhub.projects.models import DataRow, DataRowJob, DataRowPayloadChunk
from labelhub.projects.serializers.datasets import (
    rows_from_csv,
    rows_from_ndjson,
    rows_from_upload,
    text_lines,
)
from labelhub.projects.services import datasets as services
from labelhub.projects.services.datasets import InputRow

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset(workspace, admin):
    return services.dataset_create(workspace=workspace, actor=admin, name="Streamed")


def counted_rows(n: int, pulled: list[int]):
    """``n`` valid rows, noting in ``pulled`` how many were taken so far."""
    for i in range(1, n + 1):
        pulled[0] = i
        yield InputRow(i, {"row_data": f"row {i}", "media_type": "text", "global_key": f"k{i}"})


def test_a_small_upload_is_written_now(workspace, admin, dataset, settings):
    settings.DATA_ROWS_SYNC_LIMIT = 5
    pulled = [0]
    outcome = services.data_rows_upload(
        workspace=workspace, actor=admin, dataset=dataset, rows=counted_rows(5, pulled)
    )
    assert (outcome.created, outcome.errors, pulled[0]) == (5, [], 5)


def test_the_choice_reads_sync_limit_plus_one_rows_and_the_job_the_rest(
    workspace, admin, dataset, settings, monkeypatch
):
    settings.DATA_ROWS_SYNC_LIMIT = 5
    settings.DATA_ROWS_CHUNK_SIZE = 4
    pulled = [0]
    seen_when_job_starts = []
    create = services.data_row_job_create

    def job_create(**kwargs):
        seen_when_job_starts.append(pulled[0])
        return create(**kwargs)

    monkeypatch.setattr(services, "data_row_job_create", job_create)
    job = services.data_rows_upload(
        workspace=workspace, actor=admin, dataset=dataset, rows=counted_rows(11, pulled)
    )

    assert seen_when_job_starts == [6]  # DATA_ROWS_SYNC_LIMIT + 1 before choosing
    assert isinstance(job, DataRowJob)
    chunks = DataRowPayloadChunk.objects.filter(job=job).order_by("seq")
    assert [(c.seq, c.first_line, c.count) for c in chunks] == [(0, 1, 4), (1, 5, 4), (2, 9, 3)]
    assert job.total == 11
    assert DataRow.objects.count() == 0  # the worker writes them (tasks are eager here)


def test_too_many_rows_says_how_many_while_streaming(workspace, admin, dataset, settings):
    settings.DATA_ROWS_SYNC_LIMIT = 2
    settings.DATA_ROWS_MAX_PER_REQUEST = 4
    with pytest.raises(services.PayloadTooLarge) as exc:
        services.data_rows_upload(
            workspace=workspace, actor=admin, dataset=dataset, rows=counted_rows(9, [0])
        )
    assert exc.value.message == "At most 4 rows per upload; this one has 9."
    assert DataRowJob.objects.count() == 0


def cut(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("size", [1, 3, 1 << 20])
def test_text_lines_cut_like_splitlines_wherever_the_blocks_end(size):
    text = 'a\r\nb\rc\n\nd\u2028e\x0cf\r\n\r\n"\xe9"\n'
    assert list(text_lines(cut(text.encode(), size))) == text.splitlines()


@pytest.mark.parametrize("size", [1, 5, 1 << 20])
def test_uploaded_files_stream_to_the_same_rows(size):
    ndjson = '{"row_data": "a"}\r\n\n{"row_data": \n[1]\n'
    csv_text = 'row_data,global_key\r\n"multi\nline",k1\r\n\r\nplain,k2\r\n'
    cases = [
        ("rows.ndjson", ndjson, rows_from_ndjson(ndjson)),
        ("rows.csv", csv_text, rows_from_csv(csv_text, schema={})),
        ("rows.json", '[{"row_data": "a"}, 2]', [InputRow(1, {"row_data": "a"}), InputRow(2, 2)]),
        ("rows.txt", "\ufeff" + ndjson, rows_from_ndjson(ndjson)),
    ]
    for name, text, expected in cases:
        upload = iter(cut(text.encode("utf-8"), size))
        stream = _Chunks(upload)
        assert list(rows_from_upload(name, stream, schema={})) == expected, name


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("rows.csv", b"row_data\r\nok\r\n\xff\r\n", "The file must be UTF-8 text."),
        ("rows.ndjson", b'{"row_data": "a"}\n\xfe\n', "The file must be UTF-8 text."),
        ("rows.json", b'[{"row_data": "\xff"}]', "The file must be UTF-8 text."),
        (
            "rows.json",
            b'[{"row_data": "a"},]',
            "Not valid JSON: Expecting value: line 1 column 20.",
        ),
    ],
)
def test_a_refused_file_says_why_when_the_reader_gets_there(name, content, message):
    with pytest.raises(ValidationFailed) as exc:
        list(rows_from_upload(name, _Chunks(iter(cut(content, 4))), schema={}))
    assert exc.value.details["file"][0].startswith(message)


class _Chunks:
    """An uploaded file that hands out its content in the given blocks."""

    def __init__(self, blocks):
        self._blocks = blocks

    def chunks(self, size):
        return self._blocks
