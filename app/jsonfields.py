"""marshmallow fields shared by the dump schemas of the public and the regulator API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import fields


class UtcDateTime(fields.DateTime):
    """A moment the store keeps as naive UTC, dumped with its offset (RFC 3339): ``2026-11-28T23:39:06+00:00``.

    Without the offset a client cannot tell UTC from Beijing time, and the value is not an
    OpenAPI ``date-time``.
    """

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | float | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)
