"""The fast path for plain box lines gives exactly what the general path gives."""

from __future__ import annotations

import copy

import pytest

from labelhub.labeling import validation
from labelhub.labeling.validation import LineInvalid, fast_box, validate_line
from tests.imports.helpers import context_for, make_import_project
from tests.imports.test_validation import TREE, line

NESTED = [{"name": "Occluded", "answer": {"name": "yes"}}]


def variants():
    """Box lines the fast path takes, and near misses it must hand over."""
    yield line(uuid="a")
    yield line(uuid="b", confidence=0.25, classifications=NESTED)
    yield line(uuid="c", confidence=1, classifications=NESTED)  # memo hit, int confidence
    yield line(uuid="d", classifications=[])
    yield line(uuid="e", name=None, schemaId="ckcar", classifications=NESTED)
    yield line(uuid="f", bbox={"top": 1.5, "left": -2, "height": 0, "width": 0})
    yield line(uuid="a")  # duplicate
    yield line(uuid="g", bbox={"top": 1, "left": 2, "height": -3, "width": 4})
    yield line(uuid="h", bbox={"top": "1", "left": 2, "height": 3, "width": 4})
    yield line(uuid="i", bbox={"top": 1, "left": 2, "height": 3})
    yield line(uuid="j", bbox={"top": 1, "left": 2, "height": 3, "width": 4, "extra": 1})
    yield line(uuid="k", bbox=[1, 2, 3, 4])
    yield line(uuid="l", confidence=1.5)
    yield line(uuid="m", confidence="0.5")
    yield line(uuid="n", confidence=True)
    yield line(uuid="")
    yield line(uuid="x" * 101)
    yield line(uuid=7)
    yield line(uuid="o", dataRow={"globalKey": "row-1", "id": "zzz"})
    yield line(uuid="p", dataRow={"globalKey": "nope"})
    yield line(uuid="q", dataRow={"globalKey": "row-x"})
    yield line(uuid="r", dataRow={"globalKey": ["row-1"]})
    yield line(uuid="s", name="Cra")
    yield line(uuid="t", name="Road")  # a polygon tool given a box
    yield line(uuid="u", classifications=[{"name": "Occluded", "answer": {"name": "maybe"}}])
    yield line(uuid="v", classifications={"name": "Occluded"})
    yield line(uuid="w", page=1)
    yield line(uuid="y", isBenchmarkReferenceLabel=True)
    yield line(uuid="z", dataRow={"globalKey": "row-2"}, classifications=NESTED)


def general(raw, ctx):
    """The general path alone."""
    try:
        return validation._validate(copy.deepcopy(raw), ctx), []
    except LineInvalid as exc:
        return None, exc.errors


def comparable(result):
    normalized, errors = result
    if normalized is None:
        return None, errors
    out = dict(normalized)
    out["data_row"] = normalized["data_row"].pk
    out["feature"] = normalized["feature"].pk
    return out, errors


@pytest.fixture
def project(workspace, admin):
    return make_import_project(workspace, admin, TREE, keys=["row-1", "row-2"], outside=["row-x"])[
        0
    ]


@pytest.mark.parametrize("dry_run", [False, True])
def test_fast_path_agrees_with_the_general_path(project, dry_run):
    lines = list(variants())
    fast_ctx = context_for(project, dry_run=dry_run)
    slow_ctx = context_for(project, dry_run=dry_run)
    fast_ctx.prepare(copy.deepcopy(lines))
    slow_ctx.prepare(copy.deepcopy(lines))
    taken = []
    for raw in lines:
        if fast_box(copy.deepcopy(raw), copy.deepcopy(fast_ctx)) is not None:
            taken.append(raw["uuid"])
        assert comparable(validate_line(copy.deepcopy(raw), context=fast_ctx)) == comparable(
            general(raw, slow_ctx)
        ), raw
    # the first line resolves "Car" (and b its nested answer, e the schemaId) on the
    # general path, which remembers them; later plain lines take the fast path
    assert taken == ["c", "d", "f", "z"]
    assert fast_ctx.seen == slow_ctx.seen
    assert fast_ctx.added == slow_ctx.added
