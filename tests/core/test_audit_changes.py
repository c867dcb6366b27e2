"""The audit log reads its before/after as "field: before → after" lines."""

from __future__ import annotations

from labelhub.core.audit import audit_changes


def lines(before, after):
    return [(c.field, c.before, c.after, c.kind) for c in audit_changes(before, after)]


def test_changed_fields_read_before_then_after():
    assert lines(
        {"role": "labeler", "role_label": "Labeler"},
        {"role": "reviewer", "role_label": "Reviewer"},
    ) == [
        ("role", "labeler", "reviewer", "changed"),
        ("role label", "Labeler", "Reviewer", "changed"),
    ]


def test_a_creation_lists_its_values():
    assert lines(None, {"name": "Ops", "permissions": ["view_audit_log", "view_usage"]}) == [
        ("name", "", "Ops", "set"),
        ("permissions", "", "view_audit_log, view_usage", "set"),
    ]


def test_unchanged_fields_stay_as_context_and_removed_ones_say_so():
    assert lines(
        {"step": "Rework", "assignment": "any", "max_rework_attempts": None, "old": True},
        {"step": "Rework", "assignment": "creator", "max_rework_attempts": 2},
    ) == [
        ("step", "Rework", "Rework", "same"),
        ("assignment", "any", "creator", "changed"),
        ("max rework attempts", "—", "2", "changed"),
        ("old", "yes", "", "removed"),
    ]


def test_nested_values_are_readable_not_python_or_json():
    (change,) = audit_changes(
        None, {"filters": [{"field": "metadata", "name": "tag", "values": ["night"]}]}
    )
    assert change.after == "field: metadata, name: tag, values: night"
    (change,) = audit_changes({"size": {"width": 640, "height": 480}}, None)
    assert change.before == "width: 640, height: 480"
    assert audit_changes(None, {"tags": []})[0].after == "none"


def test_long_values_are_cut():
    (change,) = audit_changes(None, {"message": "x" * 500})
    assert len(change.after) == 200 and change.after.endswith("…")
