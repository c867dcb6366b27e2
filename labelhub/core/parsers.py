"""One strict JSON reader for every request body, upload and pasted text.

orjson parses (fast; refuses NaN/Infinity, lone surrogates and nesting past 1,024
levels). LabelHub allows at most ``MAX_JSON_DEPTH`` levels: anything deeper would reach
recursive Python code (serializers, the JSON renderer, ``json.loads`` of a JSONField)
near the interpreter's recursion limit. A lone surrogate (``"\\ud800"``) is refused
because no database column, renderer or UTF-8 text can hold it.
"""

from __future__ import annotations

import json
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
