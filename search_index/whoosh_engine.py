"""The Whoosh engine: the embedded default, for small and medium deployments."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh import scoring
from whoosh.analysis import SpaceSeparatedTokenizer
from whoosh.collectors import TopCollector
from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema
from whoosh.matching import Matcher, NullMatcher, ReadTooFar

from search_index import whoosh_skip
from search_index.analysis import normalise
from search_index.documents import NAME_TEXTS, TEXT_MAX
from search_index.engine import (
    GRAM_FIELDS, KEYWORD_FIELDS, STORED_FIELD, TOKEN_FIELDS, AllOf, AnyOf, Const, IndexDoc, Node, Phrase,
    Prefix, Ranked, RawHit, RawPage, Term,
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


# Phrases longer than this many grams on a field cut from the name (documents.NAME_TEXTS, which
# the stored JSON gives back) are matched by their rarest grams and confirmed against that text.
CONFIRM_ABOVE = 2
# How many of the rarest grams find the candidates: pinyin trigrams are less selective than
# Chinese bigrams (26 letters), so more of them are intersected.
DRIVING_GRAMS = {"name": 2, "py_initials": 3, "py_full": 3}


def _stored_names(stored: dict[str, Any]) -> tuple[str, list[str]]:
    """A hit's normalised name and former names, as search_index.documents normalised them."""
    return (normalise(stored.get("name"))[:TEXT_MAX],
            [normalise(t)[:TEXT_MAX] for t in stored.get("former_names") or () if t])


class ConfirmedPhrase(wq.Query):  # type: ignore[misc]
    """A phrase of overlapping grams, matched as its rarest grams and confirmed on the stored text.

    Whoosh checks a phrase by intersecting the posting lists of all its grams, and common grams
    (有限, 公司, "gon") have lists as long as the index: an exact company name walked them all.
    Two rare grams find a handful of candidates; a candidate matches when its text holds the
    phrase's text, which is exactly what the phrase of every gram means. Scored as the sum of
    the driving grams' scores.
    """

    def __init__(self, field: str, tokens: tuple[str, ...], boost: float = 1.0) -> None:
        self.fieldname, self.tokens, self.boost = field, tokens, boost
        self.text = tokens[0] + "".join(t[-1] for t in tokens[1:])

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, ConfirmedPhrase)
                and (other.fieldname, other.tokens, other.boost) == (self.fieldname, self.tokens, self.boost))

    def __hash__(self) -> int:
        return hash((self.fieldname, self.tokens, self.boost))

    def __repr__(self) -> str:
        return f"ConfirmedPhrase({self.fieldname!r}, {self.text!r})"

    def estimate_size(self, ixreader: Any) -> int:
        return int(min(ixreader.doc_frequency(self.fieldname, t) for t in self.tokens))

    def matcher(self, searcher: Any, context: Any = None) -> Any:
        reader = searcher.reader()
        frequencies = [(reader.doc_frequency(self.fieldname, t), t) for t in set(self.tokens)]
        if any(f == 0 for f, _ in frequencies):
            return NullMatcher()
        driving = [wq.Term(self.fieldname, t) for _, t in sorted(frequencies)[:DRIVING_GRAMS[self.fieldname]]]
        candidates = wq.And(driving).matcher(searcher, context)
        texts_of = NAME_TEXTS[self.fieldname]

        def holds(docnum: int) -> bool:
            stored = json.loads(reader.stored_fields(docnum)[STORED_FIELD])
            return any(self.text in text for text in texts_of(*_stored_names(stored)))

        return _Confirming(candidates, holds, self.boost)


class _Confirming(Matcher):  # type: ignore[misc]
    """The candidates of a matcher that pass a check, checked lazily: a search that stops early
    (a count limit) confirms only the candidates it reached."""

    def __init__(self, candidates: Any, holds: Callable[[int], bool], boost: float) -> None:
        self._candidates, self._holds, self._boost = candidates, holds, boost
        self._settle()

    def _settle(self) -> None:
        candidates = self._candidates
        while candidates.is_active() and not self._holds(candidates.id()):
            candidates.next()

    def is_active(self) -> bool:
        return bool(self._candidates.is_active())

    def id(self) -> int:
        return int(self._candidates.id())

    def next(self) -> bool:
        self._candidates.next()
        self._settle()
        return False

    def skip_to(self, target: int) -> None:
        if not self.is_active():
            raise ReadTooFar
        if target > self.id():
            self._candidates.skip_to(target)
            self._settle()

    def reset(self) -> None:
        self._candidates.reset()
        self._settle()

    def copy(self) -> _Confirming:
        return _Confirming(self._candidates.copy(), self._holds, self._boost)

    def supports_block_quality(self) -> bool:
        return False

    def weight(self) -> float:
        return float(self._candidates.weight())

    def score(self) -> float:
        return float(self._candidates.score()) * self._boost


def _overlapping(tokens: tuple[str, ...]) -> bool:
    """Whether the tokens are the overlapping grams of one text (each starts where the last ended
    but one character), so that the text they spell can stand for them."""
    return all(len(a) == len(b) > 1 and a[1:] == b[:-1] for a, b in zip(tokens, tokens[1:]))


def compile_node(node: Node) -> wq.Query:
    """The Whoosh query of one node of the engine-neutral tree."""
    if isinstance(node, Term):
        return wq.Term(node.field, node.value, boost=node.boost)
    if isinstance(node, Phrase):
        if len(node.tokens) == 1:
            return wq.Term(node.field, node.tokens[0], boost=node.boost)
        if len(node.tokens) > CONFIRM_ABOVE and node.field in NAME_TEXTS and _overlapping(node.tokens):
            return ConfirmedPhrase(node.field, node.tokens, node.boost)
        return wq.Phrase(node.field, list(node.tokens), boost=node.boost)
    if isinstance(node, Prefix):
        return _prefix(node, 1.0)
    if isinstance(node, Const):
        inner = node.query
        if isinstance(inner, Prefix):
            inner = inner.edge_term() or inner
        if isinstance(inner, Term) and inner.field in _COUNTED_FIELDS:
            # Whoosh's ConstantScoreQuery lists every matching id up front (all operating
            # entities, for the ranking boost); a term scored by its frequency (always 1 in
            # these fields) times the boost gives the same score lazily.
            return wq.Term(inner.field, inner.value, boost=node.score)
        return wq.ConstantScoreQuery(compile_node(inner), node.score)
    if isinstance(node, AllOf):
        return wq.And([compile_node(c) for c in node.clauses])
    if isinstance(node, AnyOf):
        return wq.Or([compile_node(c) for c in node.clauses])
    raise TypeError(f"not a query node: {node!r}")


def _prefix(node: Prefix, boost: float) -> wq.Query:
    edge = node.edge_term()
    if edge is not None:
        return compile_node(replace(edge, boost=boost))
    return wq.Or([wq.Prefix(f, node.value, boost=boost) for f in node.fields])


def _unscored(node: Node) -> wq.Query:
    """A condition that must hold and adds nothing to the score (filters, tier requirements)."""
    if isinstance(node, Const):
        return _unscored(node.query)
    if isinstance(node, Prefix):
        return _prefix(node, 0.0)
    if isinstance(node, (Term, Phrase)):
        return compile_node(replace(node, boost=0.0))
    if isinstance(node, AllOf):
        return wq.And([_unscored(c) for c in node.clauses])
    return wq.Or([_unscored(c) for c in node.clauses])


def _with_boosts(query: wq.Query, search: Ranked) -> wq.Query:
    boosts = [compile_node(b) for b in search.boosts]
    if search.prefer_active:
        boosts.append(wq.Term("active", "1", boost=PREFER_SCORE))
    return wq.AndMaybe(query, wq.Or(boosts)) if boosts else query


def compile_ranked(search: Ranked) -> wq.Query:
    """The Whoosh query of a search: filters hold without scoring, boosts add to the match's score.

    Filters are conditions of the query itself rather than a filter set: Whoosh would list
    every document a filter allows (most of the index, for "operating") on every search.
    """
    query = compile_node(search.match)
    if search.filters:
        query = wq.And([query, *(_unscored(f) for f in search.filters)])
    return _with_boosts(query, search)


def compile_tiers(search: Ranked) -> wq.Query | None:
    """The documents of ``search`` in a boost tier (exact name, prefix), scored as ``search`` scores
    them; None when the search has no tiers."""
    if not search.boosts:
        return None
    return compile_ranked(replace(search, filters=(*search.filters, AnyOf(search.boosts))))


class _FirstMatches(TopCollector):  # type: ignore[misc]
    """Whoosh's top-N collector, stopping after ``count_to`` matches (None: at the last).

    Scores every match it reaches: no block-quality skipping (measured: Whoosh's bounds for
    these queries never allowed a skip) and no matcher replacement, so the count is exact.
    """

    def __init__(self, limit: int, count_to: int | None) -> None:
        super().__init__(limit=limit, usequality=False, replace=0)
        self.count_to = count_to
        self.stopped = False

    def matches(self) -> Iterator[int]:
        for docnum in super().matches():
            if self.count_to is not None and self.total >= self.count_to:
                self.stopped = True  # one match more than counted: the total is a lower bound
                return
            yield docnum

    def top(self, searcher: Any, query: wq.Query) -> list[tuple[float, int]]:
        """(score, document number) of the top N of ``query``, best first."""
        searcher.search_with_collector(query, self)
        return list(self.results().top_n)


class WhooshReader:
    """One Whoosh searcher, opened once (a point-in-time view) and used by one thread at a time.

    Whoosh searchers read files through shared handles, so calls are serialised; Whoosh is pure
    Python, so the GIL serialised them anyway.
    """

    def __init__(self, path: Path) -> None:
        self._index = whoosh_index.open_dir(str(path))
        self._searcher = self._index.searcher(weighting=WEIGHTING)
        self._lock = threading.Lock()

    def search(self, search: Ranked, offset: int, limit: int, count_to: int | None = None) -> RawPage:
        """Hits ``offset``..``offset + limit``; with ``count_to``, ranked among the first ``count_to``
        matches (in index order) and the first ``count_to`` of the boost tiers.

        Whoosh scores matches in Python, tens of microseconds each: a fragment such as 有限公司
        matches most names and took seconds to rank exactly. The tiers are searched apart so that
        an exact name or a name starting with the query is never missed however many match.
        """
        wanted = max(offset + limit, 1)
        with self._lock:
            first = _FirstMatches(wanted, count_to)
            top = first.top(self._searcher, compile_ranked(search))
            tiers = compile_tiers(search) if first.stopped and self._tiers_match(search) else None
            if tiers is not None:
                merged = {n: s for s, n in top}
                merged.update((n, s) for s, n in _FirstMatches(wanted, count_to).top(self._searcher, tiers))
                top = sorted(((s, n) for n, s in merged.items()), key=lambda sn: (-sn[0], sn[1]))[:wanted]
            hits = [_hit(score, self._searcher.stored_fields(docnum)) for score, docnum in top[offset:offset + limit]]
            return RawPage(first.total, hits, not first.stopped)

    def _tiers_match(self, search: Ranked) -> bool:
        """Whether any document is in a boost tier (a name equal to or starting with the query):
        usually none for a fragment, and then the tiers need no search of their own."""
        return any(self._has_documents(b.query if isinstance(b, Const) else b) for b in search.boosts)

    def _has_documents(self, node: Node) -> bool:
        """Whether a tier's term or prefix matches any document (any other tier: assume it does)."""
        if isinstance(node, Prefix):
            edge = node.edge_term()
            if edge is None:
                reader = self._searcher.reader()
                return any(next(iter(reader.expand_prefix(f, node.value)), None) is not None for f in node.fields)
            node = edge
        if isinstance(node, Term):
            return bool(self._searcher.doc_frequency(node.field, node.value))
        return True

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
