"""Skip lists for Whoosh posting lists: `skip_to` by binary search instead of a walk.

Whoosh 2.7 stores a posting list as a chain of blocks (128 postings each), every block headed by
its length and a pickled tuple holding its largest document number. ``skip_to`` walks that chain
block by block, unpickling each header on the way. Intersecting a rare gram with a common one
(公司 is in most company names: 1,500 blocks at 300,000 names) therefore costs a walk over the
whole common list, on every query: 70% of an exact-name search's time, measured.

`SkippingLeafMatcher` reads a list's block headers once, keeps their largest ids and offsets in a
cache that lives as long as the open postings file (so as long as the reader), and jumps to the
right block with `bisect`. It changes how a matcher moves, never where it lands: results are
identical. `install()` makes Whoosh's codec create these matchers; the search index calls it
once at import.
"""

from __future__ import annotations

import weakref
from bisect import bisect_left
from typing import Any

from whoosh.codec import whoosh3
from whoosh.matching import ReadTooFar

_INT_SIZE = whoosh3._INT_SIZE

# postings file → {start offset of a term's postings → (largest id per block, offset per block)}.
# Weak keys: a reader's files and their skip lists go together.
_SKIP_LISTS: weakref.WeakKeyDictionary[Any, dict[int, tuple[list[int], list[int]]]] = weakref.WeakKeyDictionary()


class SkippingLeafMatcher(whoosh3.W3LeafMatcher):  # type: ignore[misc]
    """Whoosh's leaf matcher with a cached skip list behind `skip_to`."""

    def _skip_list(self) -> tuple[list[int], list[int]]:
        lists = _SKIP_LISTS.setdefault(self._postfile, {})
        found = lists.get(self._startoffset)
        if found is None:
            found = lists[self._startoffset] = self._read_skip_list()
        return found

    def _read_skip_list(self) -> tuple[list[int], list[int]]:
        postfile = self._postfile
        max_ids: list[int] = []
        offsets: list[int] = []
        position = self._baseoffset
        while True:
            postfile.seek(position)
            length = postfile.read_int()
            info = postfile.read_pickle()
            max_ids.append(info[1])
            offsets.append(position)
            if length < 0:  # a negative length marks the last block
                return max_ids, offsets
            position += _INT_SIZE + length

    def skip_to(self, targetid: int) -> None:
        if not self.is_active():
            raise ReadTooFar
        if targetid <= self.id():
            return
        if targetid > self._maxid:
            max_ids, offsets = self._skip_list()
            block = bisect_left(max_ids, targetid)
            if block == len(max_ids):
                self._atend = True  # past the last posting
                return
            self._goto(offsets[block])  # reads the block's header, last-block mark included
        if self._ids is None:
            self._read_ids()
        # The block holds an id ≥ targetid (its largest is), so this lands inside it.
        self._i = bisect_left(self._ids, targetid, self._i)


def install() -> None:
    """Make Whoosh's codec create `SkippingLeafMatcher`s (idempotent)."""
    whoosh3.W3LeafMatcher = SkippingLeafMatcher
