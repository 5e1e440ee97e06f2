"""Credit risk classes A–D (企业信用风险分类, DOMAIN.md §4): classify, keep the history, explain.

Regulators only: nothing here writes the change log (the public change feed must never show a
risk change), and the public API, pages and exports never read these tables.

A full run walks the entities in id ranges; each range is read with one aggregate query per
factor family (credit.risk_inputs), scored in plain Python (credit.risk_score) and written back
in bulk: an assessment row only where the score or class changed, ``Entity.risk_class`` only
where the class changed. Each run is recorded with the change-log seq it covered, so the next
run of changed entities knows where to start. Like every domain function it flushes, never commits.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import Session

from credit.bulk import insert_rows, update_by_id
from credit.changelog import last_seq
from credit.clock import utcnow
from credit.db import among, is_postgres, note_bulk_write
from credit.models import ChangeLog, Entity, Objection, RiskAssessment, RiskRun
from credit.risk_inputs import Scope, id_chunks, load_inputs
from credit.risk_policy import RiskPolicies, RiskPolicy, load_risk_policy
from credit.risk_score import Scored, score_entity

RISK_LOCK = int.from_bytes(b"gx-risk", "big")  # PostgreSQL advisory lock of classification runs
RANGE_CHUNK = 50_000  # ids per range of a full run
IDS_CHUNK = 5_000  # ids per chunk when classifying named entities
# Runs that covered every entity the change log touched up to their seq (a run of named entities does not).
WATERMARK_SCOPES = ("full", "changed")
Progress = Callable[[int], None]  # called with the number of entities just classified


@dataclass
class RiskReport:
    """What a run did: the day, the policy, how many entities were assessed and changed, per class."""

    as_of: date
    policy_version: str
    scope: str
    assessed: int = 0
    changed: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    last_seq: int = 0
    run_id: int | None = None


@dataclass(frozen=True)
class Assessment:
    """An entity's recorded class: when, under which policy, the score and its factors."""

    entity_id: int
    assessed_on: date
    policy_version: str
    score: int
    risk_class: str
    explanation: list[dict[str, Any]]
    created_at: datetime


def classify(session: Session, as_of: date, entity_ids: Sequence[int] | None = None, *,
             policies: RiskPolicies | None = None, progress: Progress | None = None) -> RiskReport:
    """Classify every entity (or these) as of ``as_of``; record changes, the classes and the run."""
    _serialise(session)
    scope = "full" if entity_ids is None else "some"
    seq = last_seq(session) if entity_ids is None else watermark(session)[0]
    return _run(session, as_of, scope, seq, entity_ids, policies, progress)


def classify_changed(session: Session, as_of: date, *, policies: RiskPolicies | None = None,
                     progress: Progress | None = None) -> RiskReport:
    """Classify the entities the change log (or an objection) touched since the last run."""
    _serialise(session)
    seq = last_seq(session)  # read first: whatever commits later is left for the next run
    since_seq, since_time = watermark(session)
    ids = changed_since(session, since_seq, since_time)
    return _run(session, as_of, "changed", seq, ids, policies, progress)


def _serialise(session: Session) -> None:
    """One classification at a time (PostgreSQL; SQLite's writers queue anyway): two runs at once
    would read the same watermark and record the same changes twice."""
    if is_postgres(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": RISK_LOCK})


def watermark(session: Session) -> tuple[int, datetime | None]:
    """The change-log seq the finished runs covered, and when the last of them started."""
    row = session.execute(select(func.max(RiskRun.last_seq), func.max(RiskRun.started_at))
                          .where(RiskRun.finished_at.is_not(None), RiskRun.scope.in_(WATERMARK_SCOPES))).one()
    return int(row[0] or 0), row[1]


def changed_since(session: Session, seq: int, since: datetime | None = None) -> list[int]:
    """Entities with change-log entries after ``seq``, and those with objections submitted or
    answered from ``since`` on (objections leave no change-log entry)."""
    ids = set(session.scalars(select(ChangeLog.entity_id).where(ChangeLog.seq > seq,
                                                                  ChangeLog.entity_id.is_not(None)).distinct()))
    if since is not None:
        ids |= set(session.scalars(select(Objection.entity_id).where(
            or_(Objection.submitted_at >= since, Objection.answered_at >= since)).distinct()))
    return sorted(ids)


def explain(session: Session, entity_id: int) -> Assessment | None:
    """The entity's latest assessment, with the factors and the points each contributed."""
    row = session.scalars(select(RiskAssessment).where(RiskAssessment.entity_id == entity_id)
                          .order_by(RiskAssessment.id.desc()).limit(1)).first()
    return _assessment(row) if row is not None else None


def history(session: Session, entity_id: int) -> list[Assessment]:
    """Every recorded change of the entity's class or score, oldest first."""
    rows = session.scalars(select(RiskAssessment).where(RiskAssessment.entity_id == entity_id)
                           .order_by(RiskAssessment.id))
    return [_assessment(row) for row in rows]


def _assessment(row: RiskAssessment) -> Assessment:
    return Assessment(row.entity_id, row.assessed_on, row.policy_version, row.score, row.risk_class,
                      list(row.explanation or []), row.created_at)


def _run(session: Session, as_of: date, scope: str, seq: int, entity_ids: Sequence[int] | None,
         policies: RiskPolicies | None, progress: Progress | None) -> RiskReport:
    policy = (policies or load_risk_policy()).on(as_of)
    report = RiskReport(as_of, policy.id, scope, last_seq=seq)
    started = utcnow()
    session.flush()  # the bulk writes below bypass the session: nothing of the caller's may be pending
    for chunk in _chunks(session, entity_ids):
        assessed, changed = _classify_chunk(session, chunk, policy, as_of, report.counts)
        report.assessed += assessed
        report.changed += changed
        if progress is not None:
            progress(assessed)
    run = RiskRun(scope=scope, as_of=as_of, policy_version=policy.id, last_seq=seq, assessed=report.assessed,
                  changed=report.changed, counts=dict(sorted(report.counts.items())), started_at=started,
                  finished_at=utcnow())
    session.add(run)
    session.flush()
    report.run_id = run.id
    session.expire_all()  # loaded entities must show the classes written in bulk
    return report


def count_entities(session: Session) -> int:
    """How many entities a full run will classify (for a progress display)."""
    return int(session.execute(select(func.count()).select_from(Entity)).scalar_one())


def _chunks(session: Session, entity_ids: Sequence[int] | None) -> Iterator[Scope]:
    """Id ranges over the whole table, or slices of the named ids."""
    if entity_ids is not None:
        for part in id_chunks(entity_ids, IDS_CHUNK):
            yield lambda column, part=part: among(session, column, part)  # type: ignore[misc]
        return
    low, high = session.execute(select(func.min(Entity.id), func.max(Entity.id))).one()
    if low is None:
        return
    for start in range(int(low), int(high) + 1, RANGE_CHUNK):
        yield lambda column, start=start: column.between(start, start + RANGE_CHUNK - 1)  # type: ignore[misc]


def _classify_chunk(session: Session, scope: Scope, policy: RiskPolicy, as_of: date,
                    counts: Counter[str]) -> tuple[int, int]:
    """Score one chunk and write what changed; returns (assessed, assessments appended)."""
    inputs = load_inputs(session, scope, policy, as_of)
    now = utcnow()
    rows: list[dict[str, Any]] = []
    classes: list[dict[str, Any]] = []
    for entity in inputs.entities:
        scored: Scored = score_entity(policy, as_of, entity, inputs)
        counts[scored.risk_class] += 1
        if inputs.latest.get(entity.id) != (scored.score, scored.risk_class):
            rows.append({"entity_id": entity.id, "assessed_on": as_of, "policy_version": policy.id,
                         "score": scored.score, "risk_class": scored.risk_class,
                         "explanation": scored.explanation, "created_at": now})
        if entity.risk_class != scored.risk_class:
            classes.append({"_id": entity.id, "risk_class": scored.risk_class})
    insert_rows(session, RiskAssessment.__table__, rows)  # type: ignore[arg-type]
    note_bulk_write(session, "risk_assessment", len(rows))
    update_by_id(session, Entity.__table__, classes)  # type: ignore[arg-type]
    return len(inputs.entities), len(rows)
