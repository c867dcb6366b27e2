"""A JSON list read element by element answers exactly as the whole-body reader does,
wherever the blocks are cut."""

from __future__ import annotations

import pytest

from labelhub.core.parsers import JSONInputError, NotAJSONArray, iter_json_array, loads


def blocks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def outcome(read):
    try:
        return "ok", read()
    except JSONInputError as exc:
        return "refused", str(exc)


CASES = [
    b"[]",
    b" [ ] \n",
    b'[1, 2.5, -3e2, "x", true, false, null, {"a": [1, {"b": [[[[[1]]]]]}]}, []]',
    b'[{"a": "x]}\\"\\\\"}, {"b": "{[,"}, "\xc3\xa9"]',
    b'[{"a": "\\ud83d\\ude00"}]',
    b'[{"a": "\\ud800"}]',  # a lone surrogate
    b'[\n  {"a": 1},\n  {"b": "\xc3\xa9\\udc00"}\n]',
    b"[NaN]",
    b"[1,]",
    b"[1 2]",
    b"[1] x",
    b"[1, 2",
    b'[{"a": 1}',
    b'["abc',
    b"[\n{oops}\n]",
    b'[{"a": 1]}]',
    b"[" * 64 + b"]" * 64,  # 64 levels: accepted
    b"[" * 65 + b"]" * 65,
    b"[" * 100_000,
    b"[" + b'{"a":' * 64 + b"1" + b"}" * 64 + b"]",  # 65 levels through objects
    b"[" + b'{"a":' * 63 + b"1" + b"}" * 63 + b"]",
    b"   ",
]


@pytest.mark.parametrize("data", CASES, ids=range(len(CASES)))
@pytest.mark.parametrize("size", [1, 2, 7, 64, 1 << 20])
def test_elements_and_refusals_match_the_whole_body_reader(data, size):
    whole = outcome(lambda: loads(data))
    streamed = outcome(lambda: list(iter_json_array(iter(blocks(data, size)))))
    assert streamed == whole


@pytest.mark.parametrize("data", [b'{"a": 1}', b"1", b'"x"', b"  {oops"])
def test_anything_but_a_list_is_not_a_json_array(data):
    with pytest.raises(NotAJSONArray):
        list(iter_json_array([data]))


def test_the_reader_holds_one_element_not_the_list():
    # a generator of blocks the reader cannot have read ahead of: it yields element by
    # element while the blocks keep coming
    seen = []

    def body():
        yield b"["
        for n in range(1000):
            seen.append(n)
            yield b'{"n": %d},' % n
        yield b'{"n": -1}]'

    elements = iter_json_array(body())
    assert next(elements) == {"n": 0}
    assert len(seen) <= 2
    assert sum(1 for _ in elements) == 1000
