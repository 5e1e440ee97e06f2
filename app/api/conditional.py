"""Conditional GETs of public profiles: a strong ETag of the body, Last-Modified from the store.

The ETag is exact: a SHA-256 of the JSON sent, so any change the public can see changes it.
``If-None-Match`` is answered from it and, when both are sent, wins over ``If-Modified-Since``
(RFC 9110, 13.2.2).

``Last-Modified`` is the newest of the times at which what the public sees of the entity could
have changed, never later than now:

- the entity row's ``updated_at`` and its newest change-log entry (every write to its facts and
  list entries, withdrawals and repairs included, appends one, so facts that are no longer shown
  still count);
- for provenance, the claims' first and last seen (the sources' own times) and the end of the
  last ingest run of every source that made a claim, since a claim is written by a run whose
  file may be older than the client's copy;
- the start of the day the publicity rules were applied for, since a record's publicity starts
  and ends with a day and no write marks it.

It is an upper bound, so a 304 on ``If-Modified-Since`` is never wrong (within HTTP dates' whole
seconds); it may move when nothing the public sees did, which costs a client one full answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date, datetime, time, timezone

from flask import Response, jsonify, request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from credit.clock import utcnow
from credit.models import ChangeLog, IngestRun
from credit.profile import Profile

MAX_AGE = 60  # seconds a cache may reuse a profile without asking


def conditional_json(body: object, last_modified: datetime) -> Response:
    """``body`` as JSON with a strong ETag, Last-Modified and Cache-Control; 304 when the client's copy is current."""
    response = jsonify(body)
    response.set_etag(hashlib.sha256(response.get_data()).hexdigest())
    response.last_modified = last_modified.replace(tzinfo=timezone.utc)
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    return response.make_conditional(request)


def profile_modified_at(session: Session, profile: Profile, public_on: date) -> datetime:
    """When what the public sees of this profile last changed, at most now (naive UTC; see the module)."""
    entity = profile.entity
    logged = session.execute(select(func.max(ChangeLog.created_at)).where(ChangeLog.entity_id == entity.id)).scalar()
    stamps = [entity.updated_at, logged, _runs_finished(session, {c.source for c in profile.claims}),
              _day_start(public_on)]
    stamps += [stamp for claim in profile.claims for stamp in (claim.first_seen, claim.last_seen)]
    stamps += [record.updated_at for record in [*profile.facts, *profile.lists]]
    return min(max(s for s in stamps if s is not None), utcnow())


def _runs_finished(session: Session, sources: Iterable[str]) -> datetime | None:
    """When the last ingest run of any of these sources ended (or started, while it runs)."""
    wanted = sorted(sources)
    if not wanted:
        return None
    ended = func.max(func.coalesce(IngestRun.finished_at, IngestRun.started_at))
    return session.execute(select(ended).where(IngestRun.source_id.in_(wanted))).scalar()


def _day_start(day: date) -> datetime:
    """Midnight of this server-local day, as naive UTC."""
    return datetime.combine(day, time.min).astimezone(timezone.utc).replace(tzinfo=None)
