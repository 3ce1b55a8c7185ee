"""Click entry points of the DVC stages; run as `python -m stages.<name>` (names shadow stdlib modules)."""
