"""Apply batches of list entries keyed by (source, source key): list, update, remove, withdraw.

This is the plain mapping of listing and removal records to entries; the rules that decide
listings on their own (deadlines, transfers, expiry) live in ``blacklist``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import Any

from sqlalchemy.orm import Session

from credit.errors import InvalidFactError
from credit.keyed import KeyedResult, apply_keyed, digest
from credit.models import ListEntry

CONTENT = ("entity_id", "list_id", "reason", "reason_code", "basis", "decision_no", "listed_on",
           "listed_by", "due_expiry", "removed_on", "removal_reason", "removed_by")
ListResult = KeyedResult
# A withdrawn listing stays in the store for regulators; the public no longer sees it.
WITHDRAWN = {"status": "withdrawn", "public": False}


@dataclass(frozen=True)
class ListEntryIn:
    """A listing (and, when removed, its removal) as a source sent it."""

    entity_id: int
    list_id: str
    source: str
    source_key: str
    listed_on: date | None = None
    reason: str | None = None
    reason_code: str | None = None
    basis: str | None = None
    decision_no: str | None = None
    listed_by: str | None = None
    due_expiry: date | None = None
    removed_on: date | None = None
    removal_reason: str | None = None
    removed_by: str | None = None
    change: str = "i"

    @cached_property
    def content_hash(self) -> str:
        """Digest of what the record says; an unchanged re-send writes nothing."""
        return digest(getattr(self, name) for name in CONTENT)

    @property
    def status(self) -> str:
        """``removed`` once a removal date is known, else ``active``."""
        return "removed" if self.removed_on else "active"

    def row(self, now: datetime) -> dict[str, Any]:
        """The entry's columns as stored (public, with this content)."""
        row = {name: getattr(self, name) for name in CONTENT}
        row.update(source=self.source, source_key=self.source_key, content_hash=self.content_hash,
                   status=self.status, public=True, updated_at=now)
        return row

    def describe(self) -> dict[str, str]:
        """What the change log says about this entry besides its key."""
        return {"list": self.list_id}


def apply_list_entries(session: Session, entries: Sequence[ListEntryIn]) -> ListResult:
    """Apply listing records in stream order; a withdrawn record stays, hidden from the public."""
    for entry in entries:
        if entry.removed_on and entry.listed_on and entry.removed_on < entry.listed_on:
            raise InvalidFactError(entry.source, entry.source_key, "removed before it was listed")
    return apply_keyed(session, ListEntry, entries, log_kind="list", withdrawn=WITHDRAWN,
                       created_column="created_at")
