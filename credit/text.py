"""The one text normalisation for names and addresses, shared by ingest and search.

`normalise_text` is idempotent: normalise_text(normalise_text(x)) == normalise_text(x), so a
stored normalised name can be normalised again (e.g. as a query) and still match itself.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable

import opencc

# OpenCC's t2s maps a few characters along a chain (e.g. 薴 → 苧 → 苎), so one pass is not
# always a fixed point; a handful of passes always is in practice.
_MAX_CONVERSIONS = 4
# Brackets after NFKC (which already folds （） and ［］ to ASCII).
_BRACKETS = {"【": "(", "】": ")", "〔": "(", "〕": ")", "[": "(", "]": ")"}
# Invisible characters that are not str.isspace() but show up in pasted names.
_INVISIBLES = "\u200b\u200c\u200d\u2060\ufeff"


def _translation_table() -> dict[int, str | None]:
    """Build the one-pass table: drop whitespace, fold brackets, lower-case ASCII letters."""
    # Every Unicode whitespace character lies below U+3001.
    table: dict[int, str | None] = {cp: None for cp in range(0x3001) if chr(cp).isspace()}
    table.update({ord(c): None for c in _INVISIBLES})
    # Lone surrogates (from surrogateescape decoding) cannot be encoded for OpenCC.
    table.update({cp: None for cp in range(0xD800, 0xE000)})
    table.update({ord(c): target for c, target in _BRACKETS.items()})
    table.update({ord(c): c.lower() for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"})
    return table


_TABLE = _translation_table()


@functools.cache
def _converter() -> opencc.OpenCC:
    """Return the process-wide traditional → simplified converter, built on first use."""
    return opencc.OpenCC("t2s")


def normalise_text(value: str | None) -> str:
    """Normalise a name or address for storage and matching; None gives ""."""
    folded = _fold(value)
    if folded.isascii():
        return folded
    return _simplify(folded)


def normalise_texts(values: Iterable[str | None]) -> list[str]:
    """Normalise many names at once; equal to mapping `normalise_text`, but faster."""
    result = [_fold(value) for value in values]
    pending = [i for i, text in enumerate(result) if not text.isascii()]
    for _ in range(_MAX_CONVERSIONS):
        if not pending:
            break
        # No OpenCC phrase contains a newline, and folded text holds none, so converting the
        # joined batch converts each item exactly as a separate call would.
        converted = _converter().convert("\n".join(result[i] for i in pending)).split("\n")
        changed = [i for i, new in zip(pending, converted, strict=True) if new != result[i]]
        for i, new in zip(pending, converted, strict=True):
            result[i] = new
        pending = changed
    return result


def _fold(value: str | None) -> str:
    """Apply the width, whitespace, bracket and ASCII-case folding (everything but OpenCC)."""
    if not value:
        return ""
    text = unicodedata.normalize("NFKC", value).translate(_TABLE)
    # Dropping whitespace can bring a base letter next to a combining mark: compose again.
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


def _simplify(text: str) -> str:
    """Convert traditional to simplified Chinese until the text stops changing."""
    convert = _converter().convert
    for _ in range(_MAX_CONVERSIONS):
        converted: str = convert(text)
        if converted == text:
            break
        text = converted
    return text
