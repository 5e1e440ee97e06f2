"""SQLAlchemy 2 typed models of the credit profile store (see DESIGN.md, "The store").

Timestamps are naive UTC (``credit.clock.utcnow``) so that SQLite and PostgreSQL
compare them the same way. Text columns carry explicit bounds: text from
regulators is untrusted and must not grow without limit.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from credit.clock import utcnow

# One naming convention so that Alembic writes the same constraint names on both dialects.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

BigId = BigInteger().with_variant(Integer, "sqlite")
Json = JSON().with_variant(JSONB(), "postgresql")

NAME_LENGTH = 400
TEXT_LENGTH = 2000
CLAIM_VALUE_LENGTH = 1000


class Base(DeclarativeBase):
    """Declarative base carrying the shared metadata and naming convention."""

    metadata = MetaData(naming_convention=NAMING)


class Entity(Base):
    """One market entity; its attribute columns show the winning claims."""

    __tablename__ = "entity"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    reg_no: Mapped[str | None] = mapped_column(String(32), unique=True)
    org_code: Mapped[str | None] = mapped_column(String(9), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    name_norm: Mapped[str] = mapped_column(String(NAME_LENGTH), default="", index=True)
    former_names: Mapped[list[str]] = mapped_column(Json, default=list)
    entity_type: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str | None] = mapped_column(String(40))
    legal_rep: Mapped[str | None] = mapped_column(String(200))
    registered_capital: Mapped[Decimal | None] = mapped_column(Numeric(20, 6))
    established_on: Mapped[date | None] = mapped_column(Date)
    division_code: Mapped[str | None] = mapped_column(String(6), index=True)
    industry: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(TEXT_LENGTH))
    reg_authority: Mapped[str | None] = mapped_column(String(200))
    risk_class: Mapped[str | None] = mapped_column(String(2))
    id_warnings: Mapped[list[str]] = mapped_column(Json, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Claim(Base):
    """What one source said about one attribute of one entity, first and last seen."""

    __tablename__ = "claim"
    __table_args__ = (UniqueConstraint("entity_id", "field", "source", "value"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entity.id"), index=True)
    field: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(CLAIM_VALUE_LENGTH))
    source: Mapped[str] = mapped_column(String(64))
    rank: Mapped[int] = mapped_column(SmallInteger)
    first_seen: Mapped[datetime] = mapped_column(DateTime)
    last_seen: Mapped[datetime] = mapped_column(DateTime)


class Fact(Base):
    """One credit record from one source, keyed by (source, source key); never deleted."""

    __tablename__ = "fact"
    __table_args__ = (
        UniqueConstraint("source", "source_key"),
        Index("ix_fact_entity_kind", "entity_id", "kind"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entity.id"))
    source: Mapped[str] = mapped_column(String(64))
    source_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    authority: Mapped[str | None] = mapped_column(String(200))
    decided_on: Mapped[date | None] = mapped_column(Date)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    publicity_until: Mapped[date | None] = mapped_column(Date)
    severity: Mapped[str | None] = mapped_column(String(16))
    body: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    content_hash: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="active")
    first_seen: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime)


class ListEntry(Base):
    """Membership of an entity in a list, with its whole history (never deleted)."""

    __tablename__ = "list_entry"
    __table_args__ = (
        UniqueConstraint("source", "source_key"),
        Index("ix_list_entry_list_status", "list_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entity.id"), index=True)
    list_id: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(String(TEXT_LENGTH))
    reason_code: Mapped[str | None] = mapped_column(String(8))
    basis: Mapped[str | None] = mapped_column(String(TEXT_LENGTH))
    decision_no: Mapped[str | None] = mapped_column(String(200))
    listed_on: Mapped[date | None] = mapped_column(Date)
    listed_by: Mapped[str | None] = mapped_column(String(200))
    due_expiry: Mapped[date | None] = mapped_column(Date)
    removed_on: Mapped[date | None] = mapped_column(Date)
    removal_reason: Mapped[str | None] = mapped_column(String(TEXT_LENGTH))
    removed_by: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="active")
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    source: Mapped[str | None] = mapped_column(String(64))
    source_key: Mapped[str | None] = mapped_column(String(200))
    content_hash: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ChangeLog(Base):
    """Append-only feed of what changed, numbered in commit order."""

    __tablename__ = "change_log"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True)
    entity_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    op: Mapped[str] = mapped_column(String(16))
    detail: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class IngestRun(Base):
    """One file ingested as one source: its hash, outcome and counts."""

    __tablename__ = "ingest_run"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source_id: Mapped[str] = mapped_column(String(64), index=True)
    file_path: Mapped[str] = mapped_column(String(TEXT_LENGTH))
    file_hash: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_new: Mapped[int] = mapped_column(Integer, default=0)
    rows_updated: Mapped[int] = mapped_column(Integer, default=0)
    rows_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rows_withdrawn: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    rows_unresolved: Mapped[int] = mapped_column(Integer, default=0)
    rows_resolved: Mapped[int] = mapped_column(Integer, default=0)
    file_mtime: Mapped[datetime | None] = mapped_column(DateTime)


class RejectedRow(Base):
    """A row of an ingested file that failed validation: where, which field, why."""

    __tablename__ = "rejected_row"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("ingest_run.id"), index=True)
    row_number: Mapped[int] = mapped_column(Integer)
    field: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(TEXT_LENGTH))
    raw: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)


class Agency(Base):
    """A regulator that sends records and acts on lists."""

    __tablename__ = "agency"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str | None] = mapped_column(String(40))
    division_code: Mapped[str | None] = mapped_column(String(6))


class ApiToken(Base):
    """A regulator API token: only its hash is stored; scoped to lists and a region."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agency.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str | None] = mapped_column(String(200))
    lists: Mapped[list[str]] = mapped_column(Json, default=list)
    region_prefix: Mapped[str] = mapped_column(String(6), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class AuditEvent(Base):
    """Append-only record of a write: who, what, before, after, when, which request."""

    __tablename__ = "audit_event"
    # The trail of one record (a listing, a fact, an objection), read by the regulators' full view.
    __table_args__ = (Index("ix_audit_event_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    agency_id: Mapped[str | None] = mapped_column(String(64))
    token_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(Json)
    after: Mapped[dict[str, Any] | None] = mapped_column(Json)
    request_id: Mapped[str | None] = mapped_column(String(64))


class Objection(Base):
    """A public objection to a record, answered by the owning regulator."""

    __tablename__ = "objection"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entity.id"), index=True)
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[int | None] = mapped_column(BigInteger)
    agency_id: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(String(TEXT_LENGTH))
    contact: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="open")
    submitted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    answer_due: Mapped[date | None] = mapped_column(Date)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    answer: Mapped[str | None] = mapped_column(String(TEXT_LENGTH))


class UnresolvedRecord(Base):
    """A record whose entity matched nothing: held, visible to regulators, retried on later runs."""

    __tablename__ = "unresolved_record"
    __table_args__ = (UniqueConstraint("source", "source_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    source_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_run.id"))
    row_number: Mapped[int | None] = mapped_column(Integer)
    identity: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    record: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    reason: Mapped[str] = mapped_column(String(TEXT_LENGTH))
    first_seen: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_tried: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    entity_id: Mapped[int | None] = mapped_column(BigInteger)


class CreditRepair(Base):
    """A credit repair of a penalty, decided by its agency: publication stops from ``repaired_on``.

    Kept apart from the fact so that a source re-sending the penalty cannot undo it; kept for
    regulators after publication stops. At most one repair of a fact is active.
    """

    __tablename__ = "credit_repair"
    __table_args__ = (
        Index("uq_credit_repair_active_fact", "fact_id", unique=True,
              sqlite_where=text("status = 'active'"), postgresql_where=text("status = 'active'")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    fact_id: Mapped[int] = mapped_column(ForeignKey("fact.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    applied_on: Mapped[date] = mapped_column(Date)
    repaired_on: Mapped[date] = mapped_column(Date)
    decision_no: Mapped[str] = mapped_column(String(200))
    decided_by: Mapped[str] = mapped_column(String(200))
    agency_id: Mapped[str] = mapped_column(String(64))
    conditions: Mapped[dict[str, bool]] = mapped_column(Json, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    request_id: Mapped[str | None] = mapped_column(String(64))


class RiskAssessment(Base):
    """An entity's credit risk class and score, with the factors that made them: regulators only.

    A row is appended only when the class or the score differs from the entity's latest one, so
    the rows of an entity are the history of its class. Never shown to the public.
    """

    __tablename__ = "risk_assessment"
    # The latest assessment of each entity: the highest id per entity_id, read from the index alone.
    __table_args__ = (Index("ix_risk_assessment_entity_latest", "entity_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entity.id"))
    assessed_on: Mapped[date] = mapped_column(Date)
    policy_version: Mapped[str] = mapped_column(String(40))
    score: Mapped[int] = mapped_column(Integer)
    risk_class: Mapped[str] = mapped_column(String(2))
    explanation: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class RiskRun(Base):
    """One classification run: its day, policy, scope and counts, and the change-log seq it covered.

    The highest ``last_seq`` of the finished runs is the watermark from which the next run of
    changed entities reads the change log.
    """

    __tablename__ = "risk_run"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))
    as_of: Mapped[date] = mapped_column(Date)
    policy_version: Mapped[str] = mapped_column(String(40))
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    assessed: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    counts: Mapped[dict[str, int]] = mapped_column(Json, default=dict)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)


class InspectionItemRecord(Base):
    """An item of the published inspection list (抽查事项清单): what may be inspected, on which basis."""

    __tablename__ = "inspection_item"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    basis: Mapped[str] = mapped_column(String(TEXT_LENGTH), default="")
    agency_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class InspectorRecord(Base):
    """An officer of the inspector register (执法检查人员名录): agency, region, declared ties (entity ids)."""

    __tablename__ = "inspector"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    agency_id: Mapped[str] = mapped_column(String(64), index=True)
    division_code: Mapped[str | None] = mapped_column(String(6))
    declared_ties: Mapped[list[int]] = mapped_column(Json, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class InspectionPlan(Base):
    """A 双随机 plan: its filters and rules, the seed's commitment, then its snapshot, seed and result.

    The snapshot is its canonical JSON, zlib-compressed and base64-encoded; the seed stays null
    until the draw reveals it (credit/inspection_plans.py).
    """

    __tablename__ = "inspection_plan"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    agency_id: Mapped[str] = mapped_column(String(64))
    filters: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    ratios: Mapped[dict[str, str]] = mapped_column(Json, default=dict)
    rules: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    item_codes: Mapped[list[str]] = mapped_column(Json, default=list)
    seed_commitment: Mapped[str] = mapped_column(String(64))
    seed: Mapped[str | None] = mapped_column(String(64))
    snapshot: Mapped[str | None] = mapped_column(Text)
    snapshot_hash: Mapped[str | None] = mapped_column(String(64))
    snapshot_on: Mapped[date | None] = mapped_column(Date)
    result: Mapped[dict[str, Any] | None] = mapped_column(Json)
    result_hash: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="planned")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    drawn_at: Mapped[datetime | None] = mapped_column(DateTime)


class InspectionTask(Base):
    """One drawn target of a plan: its inspectors (or why it has none), then its result and publication."""

    __tablename__ = "inspection_task"
    __table_args__ = (UniqueConstraint("plan_id", "entity_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("inspection_plan.id"))
    entity_id: Mapped[int] = mapped_column(ForeignKey("entity.id"), index=True)
    stratum: Mapped[str] = mapped_column(String(32))
    inspector_ids: Mapped[list[str]] = mapped_column(Json, default=list)
    status: Mapped[str] = mapped_column(String(16), default="assigned")
    reason: Mapped[str | None] = mapped_column(String(TEXT_LENGTH))
    result: Mapped[str | None] = mapped_column(String(TEXT_LENGTH))
    result_on: Mapped[date | None] = mapped_column(Date)
    published_on: Mapped[date | None] = mapped_column(Date)
