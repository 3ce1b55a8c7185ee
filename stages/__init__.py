"""Click entry points of the DVC stages.

Run as `python -m stages.<name>`: names such as tokenize and select shadow stdlib modules.
"""
