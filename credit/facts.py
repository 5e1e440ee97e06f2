"""Apply batches of facts keyed by (source, source key): insert, update, withdraw or skip."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any

from sqlalchemy.orm import Session

from credit.clock import utcnow
from credit.keyed import KeyedResult, apply_keyed, digest
from credit.models import Fact

CONTENT = ("entity_id", "kind", "authority", "decided_on", "valid_from", "valid_to",
           "publicity_until", "severity", "body")
FactResult = KeyedResult


@dataclass(frozen=True)
class FactIn:
    """One credit record as a source sent it; ``change`` is i(nsert), u(pdate) or d(elete)."""

    entity_id: int
    source: str
    source_key: str
    kind: str
    body: dict[str, Any] = field(default_factory=dict)
    authority: str | None = None
    decided_on: date | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    publicity_until: date | None = None
    severity: str | None = None
    change: str = "i"

    @cached_property
    def content_hash(self) -> str:
        """A digest of everything the record says, so an unchanged re-send writes nothing."""
        return digest(getattr(self, name) for name in CONTENT)

    def row(self, now: datetime) -> dict[str, Any]:
        """The fact's columns as stored (active, with this content)."""
        row = {name: getattr(self, name) for name in CONTENT}
        row.update(source=self.source, source_key=self.source_key, content_hash=self.content_hash,
                   status="active", updated_at=now, withdrawn_at=None)
        return row

    def describe(self) -> dict[str, str]:
        """What the change log says about this fact besides its key."""
        return {"kind": self.kind}


def apply_facts(session: Session, facts: Sequence[FactIn]) -> FactResult:
    """Apply a batch in stream order: the last record of a key in the batch is what counts."""
    withdrawn = {"status": "withdrawn", "withdrawn_at": utcnow()}
    return apply_keyed(session, Fact, facts, log_kind="fact", withdrawn=withdrawn, created_column="first_seen")
