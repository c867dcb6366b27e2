"""A closing socket tells every close handler (the task page's timer pause among them):
a locked SQLite table is waited out, other failures are logged and do not stop the rest."""

from __future__ import annotations

import pytest
from django.db import OperationalError

from labelhub.core import live


@pytest.fixture
def closers(monkeypatch):
    monkeypatch.setattr(live, "_CLOSERS", [])
    monkeypatch.setattr(live.time, "sleep", lambda s: None)
    return live._CLOSERS


def test_a_locked_table_is_tried_again(closers):
    calls = []

    def pause(user, state):
        calls.append(state["n"])
        if len(calls) < 3:
            raise OperationalError("database table is locked")

    live.register_close_handler(pause)
    live.socket_closed(None, {"n": 1})
    assert calls == [1, 1, 1]


def test_other_failures_are_logged_once_and_the_next_handler_still_runs(closers, caplog):
    calls = []

    def broken(user, state):
        calls.append("broken")
        raise OperationalError("no such table: x")

    def fine(user, state):
        calls.append("fine")

    live.register_close_handler(broken)
    live.register_close_handler(fine)
    live.socket_closed(None, {})
    assert calls == ["broken", "fine"]
    assert [r.getMessage().split(" <")[0] for r in caplog.records] == ["live close handler"]


def test_a_table_locked_for_good_gives_up_after_five_tries(closers):
    calls = []

    def stuck(user, state):
        calls.append(1)
        raise OperationalError("database table is locked")

    live.register_close_handler(stuck)
    live.socket_closed(None, {})
    assert len(calls) == live.CLOSE_ATTEMPTS == 5
