"""Opaque ids."""

import uuid

from labelhub.core.ids import new_id, parse_id


def test_ids_are_unique_time_ordered_uuid7():
    ids = [new_id() for _ in range(2000)]
    assert len(set(ids)) == 2000
    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in ids)
    assert [i.int >> 80 for i in ids] == sorted(i.int >> 80 for i in ids)


def test_random_part_differs_within_one_millisecond():
    a, b = new_id(), new_id()
    assert (a.int & ((1 << 74) - 1)) != (b.int & ((1 << 74) - 1))


def test_parse_id():
    i = new_id()
    assert parse_id(str(i)) == i and parse_id(i) == i
    assert [parse_id(x) for x in ("", "zz", None, 5, "1' OR 1=1")] == [None] * 5
