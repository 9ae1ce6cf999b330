"""Text normalisation shared by the matcher and the spoken-duration parser."""

from __future__ import annotations

import re

_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})
_DECIMAL_POINT = re.compile(r"(?<=\d)\.(?=\d)")
_NOT_WORD = re.compile(r"[^a-z0-9'\u00b7 ]+")
_STRAY_APOSTROPHE = re.compile(r"(?<![a-z0-9])'|'(?![a-z0-9])")
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Lowercase, drop punctuation (keeping apostrophes and decimal points), collapse spaces."""
    text = text.translate(_QUOTES).lower()
    text = _DECIMAL_POINT.sub("\u00b7", text)  # protect "1.5" from the punctuation sweep
    text = text.replace("-", " ").replace("_", " ")
    text = _NOT_WORD.sub(" ", text)
    text = _STRAY_APOSTROPHE.sub(" ", text)
    return _SPACES.sub(" ", text).strip().replace("\u00b7", ".")


def _key(text: str) -> str:
    """A comparison key: normalised, apostrophes removed."""
    return normalize(text).replace("'", "")
