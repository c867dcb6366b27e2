"""Per-request context that services read without threading it through every call."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any

current_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_ip", default=None)
#: answers worked out once per request (authorization): None outside a request
request_memo: contextvars.ContextVar[dict[Any, Any] | None] = contextvars.ContextVar(
    "request_memo", default=None
)


def memoized(key: Any, compute: Callable[[], Any]) -> Any:
    """The request's remembered answer for ``key``, computed once (always computed outside
    a request: tasks and tests without the middleware never see a stale answer)."""
    memo = request_memo.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def forget() -> None:
    """Drop the request's remembered answers (after a write that changes them)."""
    memo = request_memo.get()
    if memo is not None:
        memo.clear()


class RequestContextMiddleware:
    """Record the client address so audit rows carry it; start the request's memo."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_ip.set(request.META.get("REMOTE_ADDR"))
        memo = request_memo.set({})
        try:
            return self.get_response(request)
        finally:
            request_memo.reset(memo)
            current_ip.reset(token)
