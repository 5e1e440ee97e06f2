"""The write side: rebuild beside the live index and swap, sync from the change log, check against the store."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from credit.changelog import changes_since, last_seq
from credit.models import Entity
from search_index.documents import documents_by_ids, iter_documents
from search_index.engine import Engine, EngineWriter, IndexDoc
from search_index.errors import IndexMismatch
from search_index.index import SearchIndex
from search_index.producer import documents_in_helper, fewer_collections
from search_index.layout import SCHEMA_VERSION, Layout, Meta

Progress = Callable[[int], None]  # called with the number of entities just indexed
SYNC_BATCH = 5000  # change-log entries per sync step: one engine commit each
# A backlog longer than this and than the index itself is cheaper to rebuild than to replay.
REBUILD_BACKLOG = 50_000
REBUILD_BATCH = 5000
PARALLEL_ABOVE = 20_000  # entities from which a rebuild builds documents in helper processes
REBUILD_HELPERS = 2  # two cores: the helpers share them with the engine's indexing threads


@dataclass(frozen=True)
class SyncReport:
    """What a sync did: change-log entries read, documents written and removed, where it stopped."""

    changes: int = 0
    updated: int = 0
    deleted: int = 0
    last_seq: int = 0
    rebuilt: bool = False


@dataclass(frozen=True)
class CheckReport:
    """How the index differs from the store."""

    store_entities: int
    index_documents: int
    index_seq: int
    store_seq: int
    sampled: int
    differences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when counts, sequence and every sampled document agree."""
        return not self.differences


def rebuild(session: Session, index: SearchIndex, progress: Progress | None = None,
            wait: float = 30.0) -> SyncReport:
    """Build a new version from the store beside the live one, swap it in, then catch up the log."""
    with index.layout.writing(wait):
        return _rebuild_locked(session, index, progress)


def _rebuild_locked(session: Session, index: SearchIndex, progress: Progress | None) -> SyncReport:
    seq = last_seq(session)  # before reading: whatever commits after it is synced below
    version = index.layout.new_version(index.engine.name)
    documents = _build(session, index.engine, version / "data", progress)
    Layout.write_meta(version, Meta(index.engine.name, SCHEMA_VERSION, seq, _now(), documents))
    index.layout.swap(version)
    caught_up = _sync_locked(session, index)
    return replace(caught_up, rebuilt=True, updated=documents + caught_up.updated)


def _build(session: Session, engine: Engine, data: Path, progress: Progress | None) -> int:
    engine.create(data)
    writer = engine.writer(data, bulk=True)
    written = 0
    try:
        with fewer_collections():
            for docs in _documents(session):
                writer.add(docs)
                written += len(docs)
                if progress:
                    progress(len(docs))
            writer.commit()
    finally:
        writer.close()
    return written


def _documents(session: Session) -> Iterator[list[IndexDoc]]:
    """Every document, built in a helper process when the store is big enough for it to pay off."""
    count = int(session.execute(select(func.count()).select_from(Entity)).scalar_one())
    url = session.get_bind().engine.url
    if count < PARALLEL_ABOVE or url.database in (None, "", ":memory:"):
        return iter_documents(session, REBUILD_BATCH)
    return documents_in_helper(url.render_as_string(hide_password=False), REBUILD_BATCH, REBUILD_HELPERS)


def sync(session: Session, index: SearchIndex, wait: float = 30.0) -> SyncReport:
    """Apply the change log after the index's last seq, in order; build the index if there is none,
    or if the live one was built by another engine or an older schema (it is derived data)."""
    with index.layout.writing(wait):
        if not index.layout.exists():
            return _rebuild_locked(session, index, None)
        try:
            meta = Layout.read_meta(index.layout.current(), index.engine.name)
        except IndexMismatch:
            return _rebuild_locked(session, index, None)
        if last_seq(session) - meta.last_seq > max(REBUILD_BACKLOG, meta.documents):
            return _rebuild_locked(session, index, None)
        return _sync_locked(session, index)


def _sync_locked(session: Session, index: SearchIndex) -> SyncReport:
    version = index.layout.current()
    meta = Layout.read_meta(version, index.engine.name)
    writer = index.engine.writer(version / "data")
    try:
        return _replay(session, version, meta, writer)
    finally:
        writer.close()


def _replay(session: Session, version: Path, meta: Meta, writer: EngineWriter) -> SyncReport:
    report = SyncReport(last_seq=meta.last_seq)
    while True:
        changes = session.execute(changes_since(report.last_seq, SYNC_BATCH)).scalars().all()
        if not changes:
            return report
        ids = sorted({c.entity_id for c in changes if c.entity_id is not None})
        docs = documents_by_ids(session, ids)
        gone = [i for i in ids if i not in docs]
        writer.upsert(list(docs.values()))
        writer.delete(gone)
        writer.commit()
        # The meta moves only after the engine committed: a crash in between re-applies the
        # batch, which is harmless (documents are rebuilt from the store, by id).
        meta = replace(meta, last_seq=changes[-1].seq)
        Layout.write_meta(version, meta)
        report = replace(report, changes=report.changes + len(changes), updated=report.updated + len(docs),
                         deleted=report.deleted + len(gone), last_seq=meta.last_seq)


def check(session: Session, index: SearchIndex, sample: int = 200, seed: int | None = None) -> CheckReport:
    """Compare counts, change-log position and a random sample of documents with the store."""
    meta = index.meta()
    reader = index.reader()
    store_count = int(session.execute(select(func.count()).select_from(Entity)).scalar_one())
    report = CheckReport(store_count, reader.count(), meta.last_seq, last_seq(session), 0)
    if report.store_entities != report.index_documents:
        report.differences.append(f"store has {report.store_entities} entities, index {report.index_documents}")
    if report.index_seq < report.store_seq:
        report.differences.append(f"index has applied the change log up to {report.index_seq},"
                                  f" the store is at {report.store_seq}: run `gongxin index sync`")
    ids = _sample_ids(session, sample, seed)
    expected = documents_by_ids(session, ids)
    found = reader.stored_by_ids(ids)
    for entity_id in ids:
        want, got = expected[entity_id].stored, found.get(entity_id)
        if got is None:
            report.differences.append(f"entity {entity_id} ({want['name']}) is missing from the index")
        elif {k: got.get(k) for k in want} != want:
            diff = sorted(k for k in want if got.get(k) != want[k])
            report.differences.append(f"entity {entity_id} differs in {', '.join(diff)}")
    return replace(report, sampled=len(ids))


def _sample_ids(session: Session, size: int, seed: int | None) -> list[int]:
    """Up to ``size`` random entity ids: random points in the id range, each taking the next id."""
    low, high = session.execute(select(func.min(Entity.id), func.max(Entity.id))).one()
    if low is None:
        return []
    rng = random.Random(seed)
    picks = set()
    for _ in range(size):
        point = rng.randint(low, high)
        found = session.execute(select(Entity.id).where(Entity.id >= point).order_by(Entity.id).limit(1)).scalar()
        if found is not None:
            picks.add(int(found))
    return sorted(picks)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
