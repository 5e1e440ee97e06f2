"""Text → tokens, the same on the index side and the query side.

Names, former names, legal representatives and addresses are normalised with the shared
`normalise_text`, then cut into overlapping character bigrams: a phrase of consecutive bigrams
matches exactly the names that contain the fragment, for every fragment of two or more
characters (words are the wrong unit: a word segmenter finds only a third of them). Pinyin
(full syllables and initials) of names is indexed the same way, as letter trigrams.
"""

from __future__ import annotations

import functools
import re

from pypinyin import Style, lazy_pinyin, pinyin
from pypinyin.seg.mmseg import seg

from credit.text import normalise_text

# Separates the values of a many-valued gram field (former names), so that no phrase spans two.
VALUE_BREAK = "|"
# Name prefixes are indexed as tokens up to this length, identifier prefixes from ID_PREFIX_MIN to
# ID_PREFIX_MAX characters (a query of 1–5 characters is a name). Longer prefixes are nearly all
# unique: a million documents' worth of unique terms doubled a tantivy rebuild, so a longer prefix
# is searched over the whole values' terms instead (`engine.Prefix`), which few values share.
PREFIX_MAX = 8
ID_PREFIX_MIN = 6
ID_PREFIX_MAX = 12
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


# Pinyin is cut into letter trigrams: 26 letters make only 676 bigrams, each in most names, and
# a phrase of them reads huge posting lists; trigrams are far more selective.
PINYIN_GRAM = 3


def grams(text: str, size: int = 2) -> list[str]:
    """Overlapping ``size``-grams of already-normalised ``text``; a shorter text is its own gram."""
    if len(text) < size:
        return [text] if text else []
    return [text[i:i + size] for i in range(len(text) - size + 1)]


def gram_string(texts: list[str], size: int = 2) -> str:
    """The gram tokens of several normalised values, with a break between values."""
    parts = [" ".join(grams(t, size)) for t in texts if t]
    return f" {VALUE_BREAK} ".join(parts)


def edge_grams(text: str, shortest: int = 1, longest: int = PREFIX_MAX) -> list[str]:
    """The prefixes of ``text`` from ``shortest`` to ``longest`` characters."""
    return [text[:n] for n in range(shortest, min(len(text), longest) + 1)]


def has_han(text: str) -> bool:
    """Whether ``text`` holds a Chinese character."""
    return _HAN.search(text) is not None


_RUNS = re.compile(r"([\u3400-\u9fff\uf900-\ufaff]+)|([0-9a-z]+)")


@functools.lru_cache(maxsize=65536)
def _pieces(text: str) -> tuple[tuple[str, bool], ...]:
    """(piece, is_han) in order: a pinyin syllable per Chinese character, Latin/digit runs whole.

    Other characters (brackets, punctuation) are left out of pinyin.
    """
    out: list[tuple[str, bool]] = []
    for han, other in _RUNS.findall(text):
        if not han:
            out.append((other, False))
            continue
        single = [_single_reading(c) for c in han]
        if all(single):  # no character with two readings: segmenting for context would change nothing
            out.extend((s, True) for s in single)  # type: ignore[misc]
        else:
            out.extend((s, True) for word in seg.cut(han) for s in _word_pinyin(word))
    return tuple(out)


@functools.lru_cache(maxsize=65536)
def _single_reading(char: str) -> str | None:
    """The toneless pinyin of a character that has only one (whatever its tones); None for a
    heteronym such as 长 (chang/zhang) or 行 (xing/hang), whose reading depends on the word."""
    readings = pinyin(char, style=Style.NORMAL, heteronym=True)[0]
    return readings[0] if len(set(readings)) == 1 and readings[0] == lazy_pinyin(char)[0] else None


@functools.lru_cache(maxsize=262144)
def _word_pinyin(word: str) -> tuple[str, ...]:
    """Pinyin of one segmented word: names repeat words (有限, 科技, 深圳), so this is mostly a cache hit.

    Segmenting first and converting word by word is what `lazy_pinyin` does inside; caching
    per word makes indexing a million names take seconds instead of minutes.
    """
    return tuple(lazy_pinyin(word))


def pinyin_full(text: str) -> str:
    """Toneless pinyin of normalised text, syllables run together (华为 → huawei)."""
    return "".join(piece for piece, _han in _pieces(text))


def pinyin_initials(text: str) -> str:
    """First letters of the pinyin syllables; Latin and digit runs stay whole (tcl科技 → tclkj)."""
    return "".join(piece[0] if han else piece for piece, han in _pieces(text))


def normalise(text: str | None) -> str:
    """The shared normalisation (NFKC, traditional → simplified, brackets, no whitespace, lower-case)."""
    return normalise_text(text)
