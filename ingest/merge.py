"""Merge validated records into the store: resolve identity, then claims, facts or list entries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from credit.claims import apply_claims
from credit.entities import Match, ensure_entities, match_entities
from credit.facts import apply_facts
from credit.listings import apply_list_entries
from ingest.kinds import KINDS
from ingest.records import claims_of, fact_of, identity_of, list_entry_of, name_key
from ingest.registry import SourceSpec
from ingest.schemas import Rejection


@dataclass
class Merged:
    """What merging a batch of records did, and the records it could not place."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    unresolved: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    entities: set[int] = field(default_factory=set)

    def add(self, other: "Merged") -> None:
        """Fold another batch's outcome into this one."""
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.withdrawn += other.withdrawn
        self.rejected += other.rejected
        self.unresolved += other.unresolved
        self.entities |= other.entities


def merge_records(session: Session, spec: SourceSpec, records: Sequence[dict[str, Any]],
                  observed: datetime) -> Merged:
    """Apply one batch of validated records of ``spec``'s kind; nothing is committed here."""
    if spec.kind == "registration":
        return _merge_registrations(session, spec, records, observed)
    matches = match_entities(session, [identity_of(r) for r in records], [name_key(r) for r in records])
    return _merge_matched(session, spec, records, matches)


def _merge_registrations(session: Session, spec: SourceSpec, records: Sequence[dict[str, Any]],
                         observed: datetime) -> Merged:
    out = Merged()
    usable = []
    for record in records:
        if record.get("change") == "d":
            out.rejected.append(_reject(record, "change", "a registration cannot be withdrawn; send its status instead"))
        elif not any(identity_of(record).__dict__.values()):
            out.rejected.append(_reject(record, "uscc", "a registration needs a USCC, registration number or organisation code"))
        else:
            usable.append(record)
    resolved = ensure_entities(session, [identity_of(r) for r in usable])
    claims, created, placed = [], set(), []
    for record, res in zip(usable, resolved):
        if res.entity_id is None:
            out.rejected.append(_reject(record, "uscc", f"identity conflict: {res.conflict}"))
            continue
        placed.append(res.entity_id)
        if res.created:
            created.add(res.entity_id)
        claims += claims_of(record, res.entity_id, spec, observed)
    changed = set(apply_claims(session, claims).entities_changed)
    for entity_id in placed:
        if entity_id in created:
            out.new += 1
        elif entity_id in changed:
            out.updated += 1
        else:
            out.unchanged += 1
    out.entities = changed | created
    return out


def _merge_matched(session: Session, spec: SourceSpec, records: Sequence[dict[str, Any]],
                   matches: Sequence[Match]) -> Merged:
    out = Merged()
    placed = []
    for record, match in zip(records, matches):
        if match.entity_id is None:
            out.unresolved.append((record, match.conflict or "no entity matches its identifiers or name"))
        else:
            placed.append((record, match))
    if KINDS[spec.kind].is_list:
        result: Any = apply_list_entries(session, [list_entry_of(r, m.entity_id, spec) for r, m in placed])  # type: ignore[arg-type]
    else:
        result = apply_facts(session, [fact_of(r, m.entity_id, spec, m.matched_on) for r, m in placed])  # type: ignore[arg-type]
    out.new, out.updated, out.withdrawn = result.inserted, result.updated, result.withdrawn
    out.unchanged = result.unchanged + result.missing
    out.entities = set(result.entities_changed)
    return out


def _reject(record: dict[str, Any], field_name: str, reason: str) -> Rejection:
    raw = {k: str(v) for k, v in record.items() if k not in ("raw", "warnings", "__row__") and v not in (None, "")}
    return Rejection(record["__row__"], field_name, reason, raw)
