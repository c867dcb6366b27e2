"""Data row validation rules, field by field, and the upload readers (JSON, NDJSON, CSV).

Pure functions: no database except where a schema is loaded.
"""

from __future__ import annotations

import pytest

from labelhub.core.errors import ValidationFailed
from labelhub.projects.metadata import RESERVED_FIELDS, FieldSpec
from labelhub.projects.serializers.datasets import (
    rows_from_csv,
    rows_from_file,
    rows_from_json,
    rows_from_ndjson,
)
from labelhub.projects.services.datasets import (
    CleanRow,
    InputRow,
    clean_default_media_type,
    clean_row,
    duplicate_key_lines,
    format_problems,
)

SCHEMA = {
    **RESERVED_FIELDS,
    "camera": FieldSpec("camera", "enum", ("north", "south")),
    "speed": FieldSpec("speed", "number"),
    "note": FieldSpec("note", "string"),
}
IMG = "https://cdn.example.com/images/1.jpg"


def problems(data, default=None):
    clean, found = clean_row(data, schema=SCHEMA, default_media_type=default)
    assert clean is None
    return format_problems(found)


def ok(data, default=None) -> CleanRow:
    clean, found = clean_row(data, schema=SCHEMA, default_media_type=default, line=7)
    assert found == []
    return clean


# --- the whole row --------------------------------------------------------------------------


def test_a_full_row_is_normalised():
    row = ok(
        {
            "row_data": f"  {IMG}  ",
            "media_type": "IMAGE",
            "global_key": "  cam-1 ",
            "external_id": "ext-1",
            "metadata": [
                {"name": "split", "value": "train"},
                {"name": "speed", "value": 12.0},
                {"name": "captureDateTime", "value": "2024-05-01T12:30:00+02:00"},
                {"name": "tag", "value": None},
            ],
            "attachments": [{"type": "text", "value": "a note", "name": "n"}],
        }
    )
    assert row == CleanRow(
        line=7,
        row_data=IMG,
        media_type="image",
        global_key="cam-1",
        external_id="ext-1",
        metadata={"split": "train", "speed": 12, "captureDateTime": "2024-05-01T10:30:00Z"},
        attachments=[{"type": "TEXT", "value": "a note", "name": "n"}],
    )


def test_not_an_object():
    assert problems(["row_data"]) == "Each row must be a JSON object."
    assert problems("https://x.test/a.jpg") == "Each row must be a JSON object."


def test_unknown_fields_are_named():
    assert problems({"row_data": IMG, "media_type": "image", "rowData": 1}) == (
        "Unknown field: rowData."
    )
    assert problems({"row_data": IMG, "media_type": "image", "b": 1, "a": 2}) == (
        "Unknown fields: a, b."
    )


def test_every_problem_of_a_row_is_reported_in_field_order():
    assert problems({"row_data": "", "media_type": "pic", "global_key": 5}) == (
        "media_type: Unknown media type 'pic'; choose one of image, video, text, audio, "
        "document, html, conversational, geospatial, llm_chat.; "
        "row_data: This field is required.; global_key: Enter text."
    )


# --- row_data / media_type ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row_data", "message"),
    [
        (None, "row_data: This field is required."),
        ("   ", "row_data: This field is required."),
        (12, "row_data: Enter text or an http(s) URL."),
        ("ftp://files.example.com/a.jpg", "row_data: Only http and https URLs are supported."),
        ("http://", "row_data: Enter a valid http(s) URL."),
        ("https://exa mple.com/a.jpg", "row_data: Enter a valid http(s) URL."),
        ("picture.jpg", "row_data: Image rows need an http(s) URL."),
        (
            "https://x.example.com/clip.mp4",
            "row_data: The URL points to a file of media type video (.mp4), but media_type is image.",
        ),
        ("https://x.example.com/a\x00.jpg", "row_data: Contains a NUL character."),
        (
            "https://x.example.com/\ud800.jpg",
            "row_data: Contains characters that are not valid Unicode.",
        ),
    ],
)
def test_row_data_rules_for_an_image_row(row_data, message):
    assert problems({"row_data": row_data, "media_type": "image"}) == message


def test_inline_text_and_urls_without_extension():
    assert ok({"row_data": "Total: 12.50 EUR", "media_type": "text"}).row_data == "Total: 12.50 EUR"
    assert ok({"row_data": "https://picsum.photos/seed/3/640/480", "media_type": "image"})
    assert ok({"row_data": "https://x.example.com/t.txt", "media_type": "text"})
    assert ok({"row_data": "https://x.example.com/tile.png", "media_type": "geospatial"})
    assert problems({"row_data": "https://x.example.com/scan.pdf", "media_type": "text"}) == (
        "row_data: The URL points to a file of media type document (.pdf), but media_type is text."
    )
    assert problems({"row_data": "Lorem", "media_type": "video"}) == (
        "row_data: Video rows need an http(s) URL."
    )


def test_media_type_default_applies_only_when_the_row_gives_none():
    assert ok({"row_data": IMG}, default="image").media_type == "image"
    assert ok({"row_data": "hello", "media_type": "text"}, default="image").media_type == "text"
    assert ok({"row_data": IMG, "media_type": ""}, default="image").media_type == "image"
    assert problems({"row_data": IMG}) == (
        "media_type: This field is required (or give a default media type)."
    )


def test_default_media_type_is_checked():
    assert clean_default_media_type(None) is None
    assert clean_default_media_type(" Text ") == "text"
    with pytest.raises(ValidationFailed) as exc:
        clean_default_media_type("pictures")
    assert exc.value.details == {
        "media_type": [
            "Unknown media type 'pictures'; choose one of image, video, text, audio, document, "
            "html, conversational, geospatial, llm_chat."
        ]
    }


# --- keys -------------------------------------------------------------------------------------


def test_global_key_and_external_id():
    base = {"row_data": IMG, "media_type": "image"}
    assert ok({**base, "global_key": "   "}).global_key is None
    assert ok({**base, "global_key": "k" * 200}).global_key == "k" * 200
    assert problems({**base, "global_key": "k" * 201}) == "global_key: At most 200 characters."
    assert problems({**base, "global_key": ["a"]}) == "global_key: Enter text."
    assert ok({**base, "external_id": None}).external_id == ""
    assert problems({**base, "external_id": 42}) == "external_id: Enter text."
    assert problems({**base, "external_id": "e" * 201}) == "external_id: At most 200 characters."


# --- metadata ---------------------------------------------------------------------------------


def meta(metadata):
    return {"row_data": IMG, "media_type": "image", "metadata": metadata}


def test_metadata_as_list_or_object():
    assert ok(meta({"camera": "north", "tag": "night"})).metadata == {
        "camera": "north",
        "tag": "night",
    }
    assert ok(meta([{"name": "camera", "value": "south"}])).metadata == {"camera": "south"}
    assert ok(meta(None)).metadata == {}
    assert ok(meta([])).metadata == {}


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({"lens": "wide"}, "metadata.lens: Unknown metadata field."),
        ({"camera": "east"}, "metadata.camera: Choose one of north, south."),
        ({"camera": 1}, "metadata.camera: Choose one of north, south."),
        ({"split": "training"}, "metadata.split: Choose one of train, valid, test."),
        ({"speed": "12"}, "metadata.speed: Enter a number."),
        ({"speed": True}, "metadata.speed: Enter a number."),
        ({"speed": float("inf")}, "metadata.speed: Enter a number."),
        (
            {"captureDateTime": "yesterday"},
            "metadata.captureDateTime: Enter an ISO 8601 date-time.",
        ),
        ({"captureDateTime": 1714560000}, "metadata.captureDateTime: Enter an ISO 8601 date-time."),
        ({"tag": 3}, "metadata.tag: Enter text."),
        ({"tag": "x" * 4097}, "metadata.tag: At most 4096 characters."),
        ({"note": "a\x00b"}, "metadata.note: Contains a NUL character."),
        (
            [{"name": "tag", "value": "a"}, {"name": "tag", "value": "b"}],
            "metadata.tag: Given twice.",
        ),
        (
            [{"name": "tag"}, {"value": "x"}],
            "metadata: Each entry needs a name and a value (and nothing else).",
        ),
        (
            [{"name": "tag", "value": "a", "schemaId": "x"}],
            "metadata: Each entry needs a name and a value (and nothing else).",
        ),
        ("split=train", "metadata: Give a list of {name, value} or an object of name: value."),
    ],
)
def test_metadata_rules(metadata, message):
    assert problems(meta(metadata)) == message


def test_metadata_values_are_normalised():
    row = ok(meta({"speed": 2.5, "captureDateTime": "2024-05-01", "note": "ok"}))
    assert row.metadata == {"speed": 2.5, "captureDateTime": "2024-05-01T00:00:00Z", "note": "ok"}
    assert ok(meta({"captureDateTime": "2024-05-01T10:00:00.250Z"})).metadata == {
        "captureDateTime": "2024-05-01T10:00:00.250000Z"
    }


# --- attachments ------------------------------------------------------------------------------


def att(attachments):
    return {"row_data": IMG, "media_type": "image", "attachments": attachments}


def test_attachments_accepted():
    row = ok(
        att(
            [
                {"type": "IMAGE_OVERLAY", "value": "https://x.example.com/mask.png"},
                {"type": "RAW_TEXT", "value": "ftp is fine as raw text: ftp://x"},
                {"type": "HTML", "value": "<b>hi</b>"},
                {"type": "pdf_url", "value": "https://x.example.com/a.pdf", "name": "Spec"},
            ]
        )
    )
    assert row.attachments == [
        {"type": "IMAGE_OVERLAY", "value": "https://x.example.com/mask.png"},
        {"type": "RAW_TEXT", "value": "ftp is fine as raw text: ftp://x"},
        {"type": "HTML", "value": "<b>hi</b>"},
        {"type": "PDF_URL", "value": "https://x.example.com/a.pdf", "name": "Spec"},
    ]


@pytest.mark.parametrize(
    ("attachments", "message"),
    [
        ({"type": "TEXT"}, "attachments: Give a list of {type, value}."),
        (["x"], "attachments[0]: Give a type and a value."),
        ([{"type": "TEXT", "value": "a", "colour": 1}], "attachments[0]: Unknown field: colour."),
        (
            [{"type": "TEXT", "value": "a"}, {"type": "AUDIO", "value": "https://x.example.com"}],
            "attachments[1].type: Unknown type 'AUDIO'; choose one of IMAGE, VIDEO, TEXT, HTML, "
            "RAW_TEXT, IMAGE_OVERLAY, PDF_URL, CSV_URL.",
        ),
        ([{"type": "IMAGE", "value": "mask.png"}], "attachments[0].value: Enter an http(s) URL."),
        (
            [{"type": "CSV_URL", "value": "ftp://x.example.com/a.csv"}],
            "attachments[0].value: Only http and https URLs are supported.",
        ),
        ([{"type": "TEXT", "value": "  "}], "attachments[0].value: Enter text or an http(s) URL."),
        (
            [{"type": "TEXT", "value": "a", "name": 5}],
            "attachments[0].name: Enter text of at most 200 characters.",
        ),
        ([{"type": "TEXT", "value": "x"}] * 101, "attachments: At most 100 attachments."),
    ],
)
def test_attachment_rules(attachments, message):
    assert problems(att(attachments)) == message


# --- duplicates in one upload ---------------------------------------------------------------


def test_duplicate_keys_point_at_the_first_line():
    rows = [
        InputRow(1, {"global_key": "a"}),
        InputRow(2, {"global_key": " a "}),
        InputRow(3, {"global_key": "b"}),
        InputRow(4, None, "Not valid JSON"),
        InputRow(5, {"global_key": "a"}),
        InputRow(6, {}),
    ]
    assert duplicate_key_lines(rows) == {2: ("a", 1), 5: ("a", 1)}


# --- readers ----------------------------------------------------------------------------------


def test_json_reader_numbers_rows_from_one():
    assert rows_from_json([{"a": 1}, 2]) == [InputRow(1, {"a": 1}), InputRow(2, 2)]
    with pytest.raises(ValidationFailed) as exc:
        rows_from_json({"row_data": "x"})
    assert exc.value.details == {
        "rows": ["Send a JSON list of rows, or NDJSON (one row per line)."]
    }


def test_ndjson_reader_keeps_physical_lines_and_reports_bad_ones():
    text = '{"row_data": "a"}\n\n{"row_data": \n  \n[1]\n'
    assert rows_from_ndjson(text) == [
        InputRow(1, {"row_data": "a"}),
        InputRow(3, None, "Not valid JSON: Expecting value (column 14)."),
        InputRow(5, [1]),
    ]


def test_csv_reader():
    text = (
        "row_data,global_key,external_id,media_type,metadata.speed,metadata.split\r\n"
        "https://x.example.com/1.jpg,k1,,image,12,train\r\n"
        "\r\n"
        '"Multi\nline",k2,e2,text,fast,\r\n'
        "https://x.example.com/3.jpg,k3\r\n"
    )
    assert rows_from_csv(text, schema=SCHEMA) == [
        InputRow(
            2,
            {
                "row_data": "https://x.example.com/1.jpg",
                "global_key": "k1",
                "media_type": "image",
                "metadata": {"speed": 12, "split": "train"},
            },
        ),
        InputRow(
            5,
            {
                "row_data": "Multi\nline",
                "global_key": "k2",
                "external_id": "e2",
                "media_type": "text",
                "metadata": {"speed": "fast"},
            },
        ),
        InputRow(6, None, "Expected 6 cells as in the header, found 2."),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The file is empty."),
        (
            "row_data,colour\r\nx,y\r\n",
            "Unknown column: colour. Columns: row_data, global_key, external_id, media_type and metadata.<field name>.",
        ),
        (
            "row_data,metadata.lens\r\n",
            "Unknown column: metadata.lens. Columns: row_data, global_key, external_id, media_type and metadata.<field name>.",
        ),
        ("global_key\r\nk\r\n", "The header needs a row_data column."),
        ("row_data,row_data\r\n", "A column is given twice in the header."),
    ],
)
def test_csv_header_problems_refuse_the_file(text, message):
    with pytest.raises(ValidationFailed) as exc:
        rows_from_csv(text, schema=SCHEMA)
    assert exc.value.details == {"file": [message]}


def test_file_reader_picks_the_format():
    ndjson = b'{"row_data": "a"}\n{"row_data": "b"}\n'
    assert [r.line for r in rows_from_file("rows.ndjson", ndjson, schema=SCHEMA)] == [1, 2]
    assert [r.line for r in rows_from_file("rows.txt", ndjson, schema=SCHEMA)] == [1, 2]
    listing = b'\xef\xbb\xbf[{"row_data": "a"}]'
    assert rows_from_file("rows.json", listing, schema=SCHEMA) == [InputRow(1, {"row_data": "a"})]
    assert rows_from_file("rows.csv", b"row_data\r\nhello\r\n", schema=SCHEMA) == [
        InputRow(2, {"row_data": "hello"})
    ]
    with pytest.raises(ValidationFailed) as exc:
        rows_from_file("rows.csv", b"\xff\xfe", schema=SCHEMA)
    assert exc.value.details == {"file": ["The file must be UTF-8 text."]}
    with pytest.raises(ValidationFailed) as exc:
        rows_from_file("rows.json", b"[{", schema=SCHEMA)
    assert exc.value.details["file"][0].startswith("Not valid JSON: ")
