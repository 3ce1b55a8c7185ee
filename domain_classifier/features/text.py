"""Title normalisation shared by every model, so training and serving see the same text."""

from __future__ import annotations

import dataclasses
import functools
import re
import sys
import unicodedata

UNICODE_FORMS = ("NFC", "NFKC", "NFD", "NFKD", "none")
TOKEN_PATTERN = r"(?u)\b\w+\b"
_TOKEN_RE = re.compile(TOKEN_PATTERN)
_SPACE_RE = re.compile(r"\s+")


@functools.cache
def _combining_marks() -> dict[int, None]:
    """Every combining mark, for str.translate: one pass in C instead of a Python loop per char."""
    return {cp: None for cp in range(sys.maxunicode + 1) if unicodedata.combining(chr(cp))}


def fold_accents(text: str) -> str:
    """Remove combining marks: 'Hidratação' -> 'Hidratacao'."""
    if text.isascii():  # nothing to decompose or remove
        return text
    return unicodedata.normalize("NFKD", text).translate(_combining_marks())


def normalize_title(
    text: str, unicode_form: str = "NFKC", lowercase: bool = True, strip_accents: bool = True
) -> str:
    """Normalise one title as configured in the tokenize params."""
    if unicode_form != "none":
        text = unicodedata.normalize(unicode_form, text)
    if lowercase:
        text = text.lower()
    if strip_accents:
        text = fold_accents(text)
    return _SPACE_RE.sub(" ", text).strip()


@dataclasses.dataclass(frozen=True)
class TextSettings:
    """The normalisation a model was trained with; saved inside it and applied to raw titles."""

    unicode_form: str = "NFKC"
    lowercase: bool = True
    strip_accents: bool = True

    def normalize(self, title: str) -> str:
        return normalize_title(title, self.unicode_form, self.lowercase, self.strip_accents)


def dedup_key(text: str) -> str:
    """Key under which two titles count as the same listing (case and spacing ignored)."""
    return _SPACE_RE.sub(" ", unicodedata.normalize("NFKC", text)).strip().casefold()


def tokens(text: str) -> list[str]:
    """Word tokens of an already normalised title."""
    return _TOKEN_RE.findall(text)
