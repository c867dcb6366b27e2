"""Cursor pagination: stable under inserts, O(1) per page on large tables."""

from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    """Newest first; ``page_size`` may be chosen up to 200."""

    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
