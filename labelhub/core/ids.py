"""Opaque, non-guessable object ids."""

import os
import time
import uuid


def new_id() -> uuid.UUID:
    """Return a UUIDv7-layout id: 48 bits of milliseconds then 74 random bits.

    The time prefix keeps B-tree inserts local (fast on tables with millions of rows);
    the 74 random bits make ids impossible to guess or enumerate.
    """
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version 7
    value |= ((rand >> 62) & 0xFFF) << 64  # 12 random bits
    value |= 0b10 << 62  # RFC 4122 variant
    value |= rand & ((1 << 62) - 1)  # 62 random bits
    return uuid.UUID(int=value)


def new_id_strings(n: int) -> list[str]:
    """``n`` ids as ``new_id`` makes them, as strings, with one call for randomness (bulk
    writes make millions; one ``os.urandom`` call per id would dominate)."""
    millis = (time.time_ns() // 1_000_000) & ((1 << 48) - 1)
    prefix = (millis << 80) | (0x7 << 76) | (0b10 << 62)
    entropy = os.urandom(10 * n)
    out = []
    for i in range(n):
        rand = int.from_bytes(entropy[10 * i : 10 * i + 10], "big")
        value = prefix | (((rand >> 62) & 0xFFF) << 64) | (rand & ((1 << 62) - 1))
        h = f"{value:032x}"
        out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return out


def parse_id(value: object) -> uuid.UUID | None:
    """Parse an id from user input; malformed ids become None (so lookups find nothing)."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None
