"""Serializers of the projects app, one module per entity (see docs/adr/0003)."""
