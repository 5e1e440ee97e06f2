"""The change log: an append-only feed, numbered in commit order, that others follow."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, select, text
from sqlalchemy.orm import Session

from credit.clock import utcnow
from credit.bulk import insert_rows
from credit.db import is_postgres, note_bulk_write
from credit.models import ChangeLog

# Key of the PostgreSQL advisory lock that orders change-log appends: a transaction holds it
# from its first append until it commits, so sequence numbers follow commit order and a
# reader that has seen seq N never later finds a committed entry below N.
CHANGE_LOG_LOCK = 0x676F6E67_78696E  # "gongxin"


@dataclass(frozen=True)
class Change:
    """One entry to append: which entity, what kind of thing, what happened, details."""

    entity_id: int | None
    kind: str
    op: str
    detail: dict[str, Any] = field(default_factory=dict)


def append_changes(session: Session, changes: Sequence[Change]) -> None:
    """Append entries to the change log; nothing is written for an empty batch."""
    if not changes:
        return
    if is_postgres(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHANGE_LOG_LOCK})
    now = utcnow()
    rows = [
        {"entity_id": c.entity_id, "kind": c.kind, "op": c.op, "detail": c.detail, "created_at": now}
        for c in changes
    ]
    insert_rows(session, ChangeLog.__table__, rows)
    note_bulk_write(session, "change_log", len(rows))


def changes_since(since: int = 0, limit: int = 1000) -> Select[tuple[ChangeLog]]:
    """Query of the entries after ``since``, in order, at most ``limit`` of them."""
    return select(ChangeLog).where(ChangeLog.seq > since).order_by(ChangeLog.seq).limit(limit)


def last_seq(session: Session) -> int:
    """The highest sequence number in the log, 0 when it is empty."""
    value = session.execute(select(ChangeLog.seq).order_by(ChangeLog.seq.desc()).limit(1)).scalar()
    return int(value or 0)
