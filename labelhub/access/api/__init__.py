"""API views of the access app."""
