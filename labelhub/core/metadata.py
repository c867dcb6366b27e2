"""What the API answers to OPTIONS."""

from __future__ import annotations

from typing import Any

from rest_framework.metadata import BaseMetadata


class ApiMetadata(BaseMetadata):
    """OPTIONS: the view's name, description and media types; fields are in /api/schema/.

    DRF's SimpleMetadata describes POST/PUT fields by calling ``get_serializer()`` (our
    views build their serializers explicitly, so it asserts) and, for PUT, ``get_object()``
    (a lookup with side effects: a foreign id is audited, a missing one raises). This
    answer is static, so OPTIONS is 200 wherever the caller may reach the endpoint.
    """

    def determine_metadata(self, request: Any, view: Any) -> dict[str, Any]:
        """Describe the view without touching the database or its serializers."""
        return {
            "name": view.get_view_name(),
            "description": view.get_view_description(),
            "renders": [renderer.media_type for renderer in view.renderer_classes],
            "parses": [parser.media_type for parser in view.parser_classes],
        }
