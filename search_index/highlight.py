"""Where the query's words occur in a displayed name, as character spans of that name."""

from __future__ import annotations

from collections.abc import Sequence

from search_index.analysis import normalise


def highlight_spans(name: str, words: Sequence[str]) -> list[tuple[int, int]]:
    """Merged [start, end) spans of ``name`` whose normalised text is one of the normalised ``words``.

    Each displayed character is normalised on its own and mapped back, so traditional, full-width
    and bracket variants in the stored name are highlighted where a simplified query matched them.
    """
    folded, owner = _fold_with_owners(name)
    marked = [False] * len(name)
    for word in words:
        start = folded.find(word) if word else -1
        while start >= 0:
            for k in range(start, start + len(word)):
                marked[owner[k]] = True
            start = folded.find(word, start + 1)
    return _spans(marked)


def _fold_with_owners(name: str) -> tuple[str, list[int]]:
    """The name normalised character by character, and for each output character its source index."""
    parts: list[str] = []
    owner: list[int] = []
    for i, char in enumerate(name):
        folded = normalise(char)
        parts.append(folded)
        owner.extend([i] * len(folded))
    return "".join(parts), owner


def _spans(marked: list[bool]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for i, on in enumerate(marked):
        if not on:
            continue
        if spans and spans[-1][1] == i:
            spans[-1] = (spans[-1][0], i + 1)
        else:
            spans.append((i, i + 1))
    return spans
