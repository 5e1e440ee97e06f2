"""Audit events: every write on lists, records, objections and tokens appends one (append-only).

Who acted (the token's agency and the token, the rules' own source, or nobody for the public),
what (action, target), the target before and after, and the request id that carried it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from credit.clock import utcnow
from credit.models import ApiToken, AuditEvent


def audit_event(action: str, target_type: str, target_id: object, before: dict[str, Any] | None,
                after: dict[str, Any] | None, *, token: ApiToken | None = None, agency_id: str | None = None,
                request_id: str | None = None, at: datetime | None = None) -> AuditEvent:
    """One event, not yet added: by ``token`` (its agency), or by ``agency_id`` alone when no token acted."""
    return AuditEvent(at=at or utcnow(), agency_id=agency_id or (token.agency_id if token else None),
                      token_id=token.id if token else None, action=action, target_type=target_type,
                      target_id=str(target_id), before=before, after=after, request_id=request_id)


def audit(session: Session, action: str, target_type: str, target_id: object, before: dict[str, Any] | None,
          after: dict[str, Any] | None, *, token: ApiToken | None = None, agency_id: str | None = None,
          request_id: str | None = None) -> AuditEvent:
    """Append one event to the unit of work (flushed, not committed)."""
    event = audit_event(action, target_type, target_id, before, after, token=token, agency_id=agency_id,
                        request_id=request_id)
    session.add(event)
    session.flush()
    return event
