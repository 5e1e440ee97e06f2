"""Time in the store: naive UTC, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    """Return the current time as naive UTC, the store's convention."""
    return datetime.now(UTC).replace(tzinfo=None)


# China keeps one time zone and no daylight saving: every dated rule (publicity periods, list
# terms, deadlines) counts in Beijing days, whatever the server's own zone.
BEIJING = ZoneInfo("Asia/Shanghai")


def beijing_today() -> date:
    """Today's date in Beijing, the day the dated rules count in."""
    return datetime.now(BEIJING).date()
