"""Which notification URLs the console may render as links."""

from __future__ import annotations


def safe_link(url: str | None) -> str:
    """Return ``url`` when it is a path on this site, else "" (never a scheme or a host)."""
    url = (url or "").strip()
    # "//host" and "/\host" are read by browsers as another host; only "/path" stays here.
    if not url.startswith("/") or url.startswith(("//", "/\\")):
        return ""
    if any(ch in url for ch in "\r\n\t") or any(ord(ch) < 32 for ch in url):
        return ""
    return url
