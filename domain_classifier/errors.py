"""The one error type that stages turn into a one-line message and a non-zero exit."""


class InputError(ValueError):
    """Bad input data or params; the message names the file, row, column or param."""
