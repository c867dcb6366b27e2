"""What the accounts app asks of the apps above it, without importing them.

Sign-in sends a new installation to its first-run page, and two-factor changes are
audited in the workspace the user is working in; both are known only by the workspaces
app, which registers the answers at start-up (``WorkspacesConfig.ready``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_installed: list[Callable[[], bool]] = []
_request_workspace: list[Callable[[Any], Any]] = []


def register_installed_check(check: Callable[[], bool]) -> None:
    """Set the function telling whether the first run happened."""
    _installed[:] = [check]


def register_request_workspace(resolver: Callable[[Any], Any]) -> None:
    """Set the function giving the workspace a request works in (or None)."""
    _request_workspace[:] = [resolver]


def is_installed() -> bool:
    """Whether the first run happened (without the workspaces app: yes)."""
    return all(check() for check in _installed)


def request_workspace(request: Any) -> Any:
    """The workspace the request works in, or None."""
    return _request_workspace[0](request) if _request_workspace else None
