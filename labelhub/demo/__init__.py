"""Demo data: the top layer, which may use every app (``manage.py seed_demo``)."""
