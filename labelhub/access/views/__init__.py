"""Console pages of the access app."""
