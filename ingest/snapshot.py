"""Snapshot sources: what the file no longer carries is withdrawn (never deleted)."""

from __future__ import annotations

from collections.abc import Set

from sqlalchemy import select
from sqlalchemy.orm import Session

from credit.facts import FactIn, apply_facts
from credit.listings import ListEntryIn, apply_list_entries
from credit.models import Fact, ListEntry
from ingest.kinds import KINDS
from ingest.registry import SourceSpec


def withdraw_missing(session: Session, spec: SourceSpec, present: Set[str]) -> int:
    """Withdraw this source's active records whose keys the snapshot lacks; return how many."""
    if spec.kind == "registration":
        return 0
    model = ListEntry if KINDS[spec.kind].is_list else Fact
    rows = session.execute(
        select(model.source_key, model.entity_id, model.list_id if model is ListEntry else model.kind)  # type: ignore[attr-defined]
        .where(model.source == spec.id, model.status != "withdrawn")
    ).all()
    gone = [r for r in rows if r[0] not in present]
    if model is ListEntry:
        return apply_list_entries(session, [ListEntryIn(r[1], r[2], spec.id, r[0], change="d") for r in gone]).withdrawn
    return apply_facts(session, [FactIn(r[1], spec.id, r[0], r[2], change="d") for r in gone]).withdrawn
