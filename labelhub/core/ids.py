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


def parse_id(value: object) -> uuid.UUID | None:
    """Parse an id from user input; malformed ids become None (so lookups find nothing)."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None
