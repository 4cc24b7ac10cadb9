"""pytest settings for the Python suite."""

# A file of typed calls for mypy, not a test module.
collect_ignore = ["usage_typed.py"]
