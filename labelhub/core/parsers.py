"""One strict JSON reader for every request body, upload and pasted text.

orjson parses (fast; refuses NaN/Infinity, lone surrogates and nesting past 1,024
levels). LabelHub allows at most ``MAX_JSON_DEPTH`` levels: anything deeper would reach
recursive Python code (serializers, the JSON renderer, ``json.loads`` of a JSONField)
near the interpreter's recursion limit. A lone surrogate (``"\\ud800"``) is refused
because no database column, renderer or UTF-8 text can hold it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

import orjson
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

#: deepest nesting of arrays and objects accepted anywhere (``[[1]]`` is 2 levels); the
#: deepest Labelbox ontology LabelHub accepts (8 classification levels) needs about 35
MAX_JSON_DEPTH = 64
#: bodies up to this size get Python's wording of a syntax error (clearer than orjson's)
_REWORD_LIMIT = 10 * 1024 * 1024

SURROGATE_MESSAGE = (
    "a string holds a lone surrogate (\\ud800 to \\udfff without its pair), "
    "which is not valid Unicode"
)
DEPTH_MESSAGE = f"nested deeper than {MAX_JSON_DEPTH} levels"


class JSONInputError(ValueError):
    """The text is not JSON LabelHub accepts; ``msg`` says why, with the place if known."""

    def __init__(self, msg: str, lineno: int | None = None, colno: int | None = None):
        self.msg, self.lineno, self.colno = msg, lineno, colno
        where = f": line {lineno} column {colno}" if lineno is not None else ""
        super().__init__(f"{msg}{where}")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _explain(
    data: bytes | bytearray | memoryview | str, exc: orjson.JSONDecodeError
) -> JSONInputError:
    """The JSONInputError for text orjson refused, worded for people."""
    if exc.msg.startswith("str is not valid UTF-8"):
        # orjson says so of any bad byte; in a str only a lone surrogate can be bad
        if isinstance(data, str):
            return JSONInputError(SURROGATE_MESSAGE)
        return JSONInputError("the text is not valid UTF-8")
    if "surrogate" in exc.msg:  # an escape: "\ud800" alone, or two high halves
        return JSONInputError(SURROGATE_MESSAGE, exc.lineno, exc.colno)
    if "depth limit" in exc.msg:
        return JSONInputError(DEPTH_MESSAGE)
    if len(data) <= _REWORD_LIMIT:
        raw = bytes(data) if isinstance(data, memoryview) else data
        try:
            json.loads(raw, parse_constant=_refuse_constant)
        except json.JSONDecodeError as py_exc:
            return JSONInputError(py_exc.msg, py_exc.lineno, py_exc.colno)
        except RecursionError:
            return JSONInputError(DEPTH_MESSAGE)
        except ValueError as py_exc:  # a refused constant, or bytes that are not UTF-8
            if "is not valid JSON" in str(py_exc):
                return JSONInputError(str(py_exc))
    return JSONInputError(exc.msg, exc.lineno, exc.colno)


def too_deep(value: Any, text: bytes | bytearray | str | None = None) -> bool:
    """Whether a parsed value nests arrays/objects deeper than ``MAX_JSON_DEPTH``.

    ``text``, the value's source, makes the common case free: fewer opening brackets
    than the limit cannot nest past it.
    """
    if type(value) is not dict and type(value) is not list:
        return False
    if text is not None:
        opening = (b"[", b"{") if isinstance(text, bytes | bytearray) else ("[", "{")
        if text.count(opening[0]) + text.count(opening[1]) <= MAX_JSON_DEPTH:
            return False
    stack = [(value, 1)]  # iterative: deep input must not recurse here either
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return True
        for child in node.values() if type(node) is dict else node:
            if type(child) is dict or type(child) is list:
                stack.append((child, depth + 1))
    return False


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    """Parse strict JSON (see the module docstring); raise JSONInputError if refused."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise _explain(data, exc) from None
    if too_deep(value, bytes(data) if isinstance(data, memoryview) else data):
        raise JSONInputError(DEPTH_MESSAGE)
    return value


class JSONParser(BaseParser):
    """``application/json`` through ``loads``: refusals answer 400 ``malformed``."""

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context=None) -> Any:
        """Read the whole body and parse it."""
        encoding = (parser_context or {}).get("encoding") or "utf-8"
        data = stream.read()
        if encoding.lower().replace("_", "-") not in {"utf-8", "utf8"}:
            try:  # orjson reads UTF-8 only; another declared charset is decoded first
                data = data.decode(encoding)
            except (UnicodeDecodeError, LookupError) as exc:
                raise ParseError(f"JSON parse error - the body is not {encoding} text: {exc}")
        return parse_body(data)


def parse_body(data: bytes | str) -> Any:
    """Parse a JSON request body; raise DRF's ParseError (400 ``malformed``) if refused."""
    try:
        return loads(data)
    except JSONInputError as exc:
        raise ParseError(f"JSON parse error - {exc}.")


# --- a JSON array read element by element ------------------------------------------------
#
# A large JSON list (a data row upload of 200 MB) is read in blocks: each element is cut
# out of the text and parsed on its own by ``loads``, so the reader holds one block and
# one element, and every element meets the same rules as a whole body (depth counted
# from the outer list, NaN, lone surrogates), with the place of a refusal given in the
# whole text. ijson was tried first: its C backend turns a lone surrogate into "?" and
# builds a prefix string per nesting level (100,000 "[" took gigabytes); see ADR 0009.

_STRING = rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"'
_PLAIN = rb'[^"\[\]{}]++'


def _nested(inner: bytes | None) -> bytes:
    content = rb"(?:" + _PLAIN + rb"|" + _STRING + (rb"|" + inner if inner else b"") + rb")*+"
    return rb"(?:\{" + content + rb"\}|\[" + content + rb"\])"


def _containers(levels: int) -> bytes:
    pattern = None
    for _ in range(levels):
        pattern = _nested(pattern)
    assert pattern is not None
    return pattern


#: an array or object nested at most 4 levels, matched whole in C (possessive, so a
#: failed match never backtracks); deeper or cut elements take the token walk below
_CONTAINER = re.compile(_containers(4), re.S)
_STRING_RE = re.compile(_STRING, re.S)
_TOKEN = re.compile(_STRING + rb'|["\[\]{}]', re.S)
_SCALAR = re.compile(rb"[^\s,\]\[{}\"]++")
_SPACE = re.compile(rb"[ \t\r\n]*+")


class NotAJSONArray(ValueError):
    """The text does not start with ``[``."""


_CONTINUATION = bytes(range(0x80, 0xC0))


def _chars(data: bytes) -> int:
    """Characters in UTF-8 bytes (continuation bytes do not count)."""
    return len(data.translate(None, _CONTINUATION))


class _Text:
    """A growing window on the text: the unread bytes and the place of their first byte."""

    def __init__(self, blocks: Iterator[bytes]) -> None:
        self.blocks = blocks
        self.buf = b""
        self.line = 1  # line of buf[0]
        self.column = 0  # characters before buf[0] on that line
        self.eof = False

    def more(self, keep_from: int) -> bool:
        """Read one more block, dropping the bytes before ``keep_from``; False at the end
        (then nothing is dropped)."""
        if self.eof:
            return False
        block = next(self.blocks, None)
        if block is None:
            self.eof = True
            return False
        dropped = self.buf[:keep_from]
        newline = dropped.rfind(b"\n")
        if newline >= 0:
            self.line += dropped.count(b"\n")
            self.column = _chars(dropped[newline + 1 :])
        else:
            self.column += _chars(dropped)
        self.buf = self.buf[keep_from:] + block
        return True

    def where(self, pos: int) -> tuple[int, int]:
        """(line, column) of an offset in the buffer, as ``json`` counts them (1-based)."""
        before = self.buf[:pos]
        newline = before.rfind(b"\n")
        if newline >= 0:
            return self.line + before.count(b"\n"), _chars(before[newline + 1 :]) + 1
        return self.line, self.column + _chars(before) + 1

    def error(self, msg: str, pos: int) -> JSONInputError:
        """A refusal at an offset in the buffer."""
        return JSONInputError(msg, *self.where(pos))


def _walk_end(buf: bytes, pos: int) -> tuple[int | None, bool]:
    """Where the container starting at ``pos`` ends (None: not in ``buf``), and whether it
    nests deeper than the array allows."""
    depth = 0
    for match in _TOKEN.finditer(buf, pos):
        token = buf[match.start()]
        if token == 0x22:  # a string; a lone quote means it goes on past the buffer
            if match.end() - match.start() == 1:
                return None, False
            continue
        if token in (0x5B, 0x7B):
            depth += 1
            if depth >= MAX_JSON_DEPTH:  # the outer list is one level
                return None, True
        else:
            depth -= 1
            if depth <= 0:
                return match.end(), False
    return None, False


def iter_json_array(blocks: Iterable[bytes]) -> Iterator[Any]:
    """Parse a JSON array read in blocks, yielding its elements one by one.

    Raises ``NotAJSONArray`` when the text is not a list, and ``JSONInputError`` (with the
    line and column in the whole text) when it is not JSON LabelHub accepts.
    """
    text = _Text(iter(blocks))
    pos = 0
    while True:  # the opening bracket
        pos = _SPACE.match(text.buf, pos).end()
        if pos < len(text.buf):
            break
        if not text.more(pos):
            raise text.error("Expecting value", pos)
        pos = 0
    if text.buf[pos] != 0x5B:
        raise NotAJSONArray()
    pos += 1
    first = True
    while True:
        # a value (or the end of an empty list)
        pos = _SPACE.match(text.buf, pos).end()
        if pos >= len(text.buf):
            if text.more(pos):
                pos = 0
                continue
            raise text.error("Expecting value", pos)
        buf = text.buf
        head = buf[pos]
        if head == 0x5D and first:
            pos += 1
            break
        if head in (0x5B, 0x7B):
            match = _CONTAINER.match(buf, pos)
            end = match.end() if match else None
            if end is None:
                end, deep = _walk_end(buf, pos)
                if deep:
                    raise JSONInputError(DEPTH_MESSAGE)
                if end is None:
                    if text.more(pos):
                        pos = 0
                        continue
                    end = len(text.buf)  # cut short: ``loads`` says where
        elif head == 0x22:
            match = _STRING_RE.match(buf, pos)
            end = match.end() if match else None
            if end is None:
                if text.more(pos):
                    pos = 0
                    continue
                end = len(text.buf)
        else:
            match = _SCALAR.match(buf, pos)
            if match is None:
                raise text.error("Expecting value", pos)
            end = match.end()
            if end == len(buf) and text.more(pos):  # a number may go on in the next block
                pos = 0
                continue
        buf = text.buf
        try:
            yield loads(buf[pos:end])
        except JSONInputError as exc:
            raise _moved(exc, text, pos) from None
        first = False
        pos = end
        # a comma, or the end of the list
        while True:
            pos = _SPACE.match(text.buf, pos).end()
            if pos < len(text.buf) or not text.more(pos):
                break
            pos = 0
        buf = text.buf
        if pos >= len(buf):
            raise text.error("Expecting ',' delimiter", pos)
        if buf[pos] == 0x2C:
            pos += 1
            continue
        if buf[pos] == 0x5D:
            pos += 1
            break
        raise text.error("Expecting ',' delimiter", pos)
    while True:  # nothing but white space after the list
        pos = _SPACE.match(text.buf, pos).end()
        if pos < len(text.buf):
            raise text.error("Extra data", pos)
        if not text.more(pos):
            return
        pos = 0


def _moved(exc: JSONInputError, text: _Text, start: int) -> JSONInputError:
    """An element's refusal with its place in the whole text."""
    if exc.lineno is None or exc.colno is None:
        return exc
    line, col = text.where(start)
    if exc.lineno == 1:
        return JSONInputError(exc.msg, line, col + exc.colno - 1)
    return JSONInputError(exc.msg, line + exc.lineno - 1, exc.colno)


#: bytes read from a request body or an upload at a time
BLOCK_SIZE = 1 << 20


def read_blocks(source: Any, size: int = BLOCK_SIZE) -> Iterator[bytes]:
    """A body or file as blocks of bytes: an upload (``chunks``), a stream (``read``), or
    bytes."""
    if isinstance(source, bytes | bytearray | memoryview):
        yield bytes(source)
        return
    if hasattr(source, "chunks"):  # Django's UploadedFile (memory or temporary file)
        yield from source.chunks(size)
        return
    while block := source.read(size):
        yield block
