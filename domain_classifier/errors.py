"""The one error type that stages turn into a one-line message and a non-zero exit."""

import unicodedata


class InputError(ValueError):
    """Bad input data or params; the message names the file, row, column or param."""


def one_line(message: str) -> str:
    """`message` as one printable line: its lines joined by spaces, and every other control,
    format or escape character shown escaped (\\x1b, \\x00, \\u200b), so a hostile value
    quoted in an error can neither drive the terminal nor hide what it is."""
    text = " ".join(str(message).splitlines())
    return "".join(
        ch if not unicodedata.category(ch).startswith("C") else ch.encode("unicode_escape").decode()
        for ch in text
    )
