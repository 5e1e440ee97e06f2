"""Records whose entity is unknown: held (never dropped, never invented), retried on later runs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from credit.bulk import update_by_id
from credit.clock import utcnow
from credit.models import UnresolvedRecord
from ingest.merge import Merged, merge_records
from ingest.records import identity_of, json_record, record_key, typed_record
from ingest.registry import SourceSpec

RETRY_BATCH = 5000


def hold(session: Session, spec: SourceSpec, run_id: int, held: Sequence[tuple[dict[str, Any], str]]) -> None:
    """Keep unresolved records of this run, refreshing the ones already held under the same key."""
    if not held:
        return
    now = utcnow()
    rows = {record_key(spec.kind, r): (r, reason) for r, reason in held}
    existing = dict(session.execute(
        select(UnresolvedRecord.source_key, UnresolvedRecord.id)
        .where(UnresolvedRecord.source == spec.id, UnresolvedRecord.source_key.in_(list(rows)))
    ).tuples().all())
    for key, (record, reason) in rows.items():
        values = {"record": json_record(record), "identity": identity_of(record).__dict__, "reason": reason,
                  "run_id": run_id, "row_number": record["__row__"], "last_tried": now, "resolved_at": None}
        if key in existing:
            session.execute(update(UnresolvedRecord).where(UnresolvedRecord.id == existing[key])
                            .values(**values, attempts=UnresolvedRecord.attempts + 1))
        else:
            session.add(UnresolvedRecord(source=spec.id, source_key=key, kind=spec.kind, first_seen=now, **values))
    session.flush()


def retry(session: Session, spec: SourceSpec, observed: datetime) -> tuple[int, Merged]:
    """Try again to place this source's held records; merge those that now resolve."""
    held = session.execute(
        select(UnresolvedRecord.id, UnresolvedRecord.record)
        .where(UnresolvedRecord.source == spec.id, UnresolvedRecord.resolved_at.is_(None))
        .order_by(UnresolvedRecord.id)
    ).all()
    total = Merged()
    resolved = 0
    now = utcnow()
    for start in range(0, len(held), RETRY_BATCH):
        part = held[start:start + RETRY_BATCH]
        outcome = merge_records(session, spec, [typed_record(r.record) for r in part], observed)
        still = {record_key(spec.kind, r) for r, _reason in outcome.unresolved}
        done = [row.id for row in part if record_key(spec.kind, row.record) not in still]
        update_by_id(session, UnresolvedRecord.__table__, [{"_id": i, "resolved_at": now} for i in done])
        resolved += len(done)
        outcome.unresolved = []
        total.add(outcome)
    return resolved, total
