"""Time in the store: naive UTC, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Return the current time as naive UTC, the store's convention."""
    return datetime.now(UTC).replace(tzinfo=None)
