"""The read side: one object per process that answers searches from the live index version."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from search_index.engine import Engine, EngineReader
from search_index.engines import get_engine
from search_index.highlight import highlight_spans
from search_index.layout import Layout, Meta
from search_index.query import SearchRequest, plan_search


@dataclass(frozen=True)
class SearchHit:
    """One entity in a result list, with the spans of its name that matched."""

    entity_id: int
    uscc: str | None
    name: str
    status: str | None
    region: str | None
    industry: str | None
    flags: tuple[str, ...]
    score: float
    highlights: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class SearchPage:
    """One page of results: the hits, the total, and whether they only sound like the query."""

    total: int
    hits: list[SearchHit]
    page: int
    per_page: int
    route: str
    approximate: bool = False
    ignored: tuple[str, ...] = ()
    total_exact: bool = True  # False: more matched than were counted, ``total`` is a lower bound


class SearchIndex:
    """Searches of the index under ``root``; follows rebuilds (a new live version) on the next search."""

    def __init__(self, root: Path, engine: str) -> None:
        self.layout = Layout(root)
        self.engine: Engine = get_engine(engine)
        self._lock = threading.Lock()
        self._open: tuple[tuple[Path, int], EngineReader] | None = None

    def reader(self) -> EngineReader:
        """A reader of the live version as last committed: reopened after a sync or a rebuild.

        Every commit is followed by a new meta.json with a higher last_seq, so (version,
        last_seq) names a committed state.
        """
        version = self.layout.current()
        state = (version, Layout.read_meta(version, self.engine.name).last_seq)
        with self._lock:
            if self._open is None or self._open[0] != state:
                # The previous reader is left to the garbage collector: a search in another
                # thread may still be using it.
                self._open = (state, self.engine.reader(version / "data"))
            return self._open[1]

    def meta(self) -> Meta:
        """The live version's meta (last change-log seq applied, documents, built at)."""
        return Layout.read_meta(self.layout.current(), self.engine.name)

    def search(self, request: SearchRequest) -> SearchPage:
        """One page of results for ``request``; QueryError when it cannot be searched."""
        plan = plan_search(request)
        reader = self.reader()
        raw, approximate = reader.search(plan.main, plan.offset, plan.limit, plan.count_to), False
        if raw.total == 0 and plan.fallback is not None:
            raw = reader.search(plan.fallback, plan.offset, plan.limit, plan.count_to)
            approximate = plan.route == "text"
        words = plan.words if plan.route == "text" else ()
        hits = [_hit(h.entity_id, h.score, h.stored, words) for h in raw.hits]
        return SearchPage(raw.total, hits, request.page, request.per_page, plan.route, approximate, plan.ignored,
                          raw.total_exact)

    def close(self) -> None:
        """Close the open reader."""
        with self._lock:
            if self._open is not None:
                self._open[1].close()
                self._open = None


def _hit(entity_id: int, score: float, stored: dict[str, Any], words: tuple[str, ...]) -> SearchHit:
    name = stored.get("name") or ""
    return SearchHit(entity_id, stored.get("uscc"), name, stored.get("status"), stored.get("region"),
                     stored.get("industry"), tuple(stored.get("flags") or ()), score,
                     tuple(highlight_spans(name, words)))


