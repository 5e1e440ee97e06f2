"""The Whoosh engine: the embedded default, for small and medium deployments."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh import scoring
from whoosh.analysis import SpaceSeparatedTokenizer
from whoosh.collectors import FilterCollector, TopCollector
from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema

from search_index import whoosh_skip
from search_index.engine import (
    GRAM_FIELDS, KEYWORD_FIELDS, STORED_FIELD, TOKEN_FIELDS, AllOf, AnyOf, Const, IndexDoc, Node, Phrase,
    Ranked, RawHit, RawPage, Term,
)

# Writer tuning for a rebuild: two processes and one segment each, measured best on two cores.
BULK_OPTIONS = {"procs": 2, "multisegment": True, "limitmb": 256}
INCREMENTAL_OPTIONS = {"limitmb": 64}


whoosh_skip.install()


def _single_threaded() -> bool:
    """Whether this process has one OS thread, so that Whoosh's writer may fork its helpers.

    A fork copies only the forking thread: a lock another thread held (pyarrow's and numpy's
    pools, after an ingest has read a file in this process) stays locked in the child forever,
    and the rebuild hangs. Where other threads exist the writer works alone instead.
    """
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


# Keyword and token fields hold each token at most once per document: scored by frequency, a
# match is worth exactly its boost.
_COUNTED_FIELDS = frozenset(KEYWORD_FIELDS + TOKEN_FIELDS)
WEIGHTING = scoring.MultiWeighting(scoring.BM25F(), **{f: scoring.Frequency() for f in _COUNTED_FIELDS})
# The operating-first tie-break as a score: far below any difference relevance makes (Whoosh
# scores are doubles), so it only orders hits that would otherwise tie.
PREFER_SCORE = 1e-6


def _schema() -> Schema:
    fields: dict[str, Any] = {name: ID() for name in KEYWORD_FIELDS}
    fields["id"] = ID(unique=True)
    fields.update({name: KEYWORD(lowercase=False) for name in TOKEN_FIELDS})
    fields.update({name: TEXT(analyzer=SpaceSeparatedTokenizer(), phrase=True) for name in GRAM_FIELDS})
    fields[STORED_FIELD] = STORED()
    return Schema(**fields)


def compile_node(node: Node) -> wq.Query:
    """The Whoosh query of one node of the engine-neutral tree."""
    if isinstance(node, Term):
        return wq.Term(node.field, node.value, boost=node.boost)
    if isinstance(node, Phrase):
        if len(node.tokens) == 1:
            return wq.Term(node.field, node.tokens[0], boost=node.boost)
        return wq.Phrase(node.field, list(node.tokens), boost=node.boost)
    if isinstance(node, Const):
        if isinstance(node.query, Term) and node.query.field in _COUNTED_FIELDS:
            # Whoosh's ConstantScoreQuery lists every matching id up front (all operating
            # entities, for the ranking boost); a term scored by its frequency (always 1 in
            # these fields) times the boost gives the same score lazily.
            return wq.Term(node.query.field, node.query.value, boost=node.score)
        return wq.ConstantScoreQuery(compile_node(node.query), node.score)
    if isinstance(node, AllOf):
        return wq.And([compile_node(c) for c in node.clauses])
    if isinstance(node, AnyOf):
        return wq.Or([compile_node(c) for c in node.clauses])
    raise TypeError(f"not a query node: {node!r}")


def compile_ranked(search: Ranked) -> tuple[wq.Query, wq.Query | None]:
    """(scored query, filter) for Whoosh: boosts add to the match's score, filters never score."""
    query = compile_node(search.match)
    boosts = [compile_node(b) for b in search.boosts]
    if search.prefer_active:
        boosts.append(wq.Term("active", "1", boost=PREFER_SCORE))
    if boosts:
        query = wq.AndMaybe(query, wq.Or(boosts))
    filters = wq.And([compile_node(f) for f in search.filters]) if search.filters else None
    return query, filters


class WhooshReader:
    """One Whoosh searcher, opened once (a point-in-time view) and used by one thread at a time.

    Whoosh searchers read files through shared handles, so calls are serialised; Whoosh is pure
    Python, so the GIL serialised them anyway.
    """

    def __init__(self, path: Path) -> None:
        self._index = whoosh_index.open_dir(str(path))
        self._searcher = self._index.searcher(weighting=WEIGHTING)
        self._lock = threading.Lock()

    def search(self, search: Ranked, offset: int, limit: int) -> RawPage:
        query, filters = compile_ranked(search)
        with self._lock:
            # No quality skipping and no matcher replacement: both drop documents that cannot
            # reach the top N, leaving the total uncounted (or undercounted), and len(results)
            # would then run the whole query a second time.
            collector: Any = TopCollector(limit=max(offset + limit, 1), usequality=False, replace=0)
            if filters is not None:
                collector = FilterCollector(collector, allow=filters)
            self._searcher.search_with_collector(query, collector)
            results = collector.results()
            end = min(offset + limit, len(results.top_n))
            hits = [_hit(results.score(i), results[i]) for i in range(offset, end)]
            return RawPage(len(results), hits)

    def count(self) -> int:
        with self._lock:
            return int(self._searcher.doc_count())

    def stored_by_ids(self, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        found = {}
        with self._lock:
            for entity_id in ids:
                fields = self._searcher.document(id=str(entity_id))
                if fields is not None:
                    found[entity_id] = json.loads(fields[STORED_FIELD])
        return found

    def close(self) -> None:
        with self._lock:
            self._searcher.close()
            self._index.close()


def _hit(score: float | None, fields: Any) -> RawHit:
    stored = json.loads(fields[STORED_FIELD])
    return RawHit(int(stored["id"]), float(score or 0.0), stored)


def _fields(doc: IndexDoc) -> dict[str, str]:
    fields = dict(doc.fields)
    fields["id"] = str(doc.entity_id)
    fields[STORED_FIELD] = json.dumps({**doc.stored, "id": doc.entity_id}, ensure_ascii=False)
    return fields


class WhooshWriter:
    """One Whoosh writer; Whoosh's own lock makes a second writer on the directory fail."""

    def __init__(self, path: Path, bulk: bool) -> None:
        self._index = whoosh_index.open_dir(str(path))
        self._options = BULK_OPTIONS if bulk else INCREMENTAL_OPTIONS
        self._writer: Any = None
        self._pending: set[int] = set()  # ids added since the last commit

    def _current(self) -> Any:
        if self._writer is None:
            options = dict(self._options)
            if options.get("procs", 1) > 1 and not _single_threaded():
                options.update(procs=1, multisegment=False)
            self._writer = self._index.writer(**options)
        return self._writer

    def upsert(self, docs: Sequence[IndexDoc]) -> None:
        latest = {doc.entity_id: doc for doc in docs}  # within a batch the last one wins
        if self._pending & latest.keys():
            # Whoosh's update_document deletes only committed documents: a repeat of an id
            # added since the last commit would be a duplicate, so commit the earlier one first.
            self.commit()
        writer = self._current()
        for doc in latest.values():
            writer.update_document(**_fields(doc))
        self._pending.update(latest)

    def add(self, docs: Sequence[IndexDoc]) -> None:
        writer = self._current()
        for doc in docs:
            writer.add_document(**_fields(doc))

    def delete(self, entity_ids: Sequence[int]) -> None:
        writer = self._current()
        for entity_id in entity_ids:
            writer.delete_by_term("id", str(entity_id))

    def commit(self) -> None:
        if self._writer is not None:
            self._writer.commit()
            self._writer = None
        self._pending.clear()

    def cancel(self) -> None:
        if self._writer is not None:
            self._writer.cancel()
            self._writer = None
        self._pending.clear()

    def close(self) -> None:
        self.cancel()
        self._index.close()


class WhooshEngine:
    """Creates and opens Whoosh index directories."""

    name = "whoosh"

    def create(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        whoosh_index.create_in(str(path), _schema()).close()

    def reader(self, path: Path) -> WhooshReader:
        return WhooshReader(path)

    def writer(self, path: Path, bulk: bool = False) -> WhooshWriter:
        return WhooshWriter(path, bulk)


ENGINE = WhooshEngine()
