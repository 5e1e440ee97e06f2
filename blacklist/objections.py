"""Objections to published records: the public submits, the owning regulator answers (DOMAIN.md §3).

Anyone may object to a list entry or a credit record that the public can see. The agency that owns
the record answers within the dated policy's working days (blacklist/objections.toml). The public
sees each objection's progress and answer, never the objector's contact. Functions flush but never
commit: the request or command owns the unit of work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, true
from sqlalchemy.orm import Session

from blacklist.actions import NotFound, OutOfScope, entry_in_scope
from blacklist.audit import audit
from blacklist.errors import InvalidObjection, ListQueryError
from blacklist.objection_policy import policy_on
from blacklist.ownership import made_by, regulator_source
from credit.workdays import add_working_days
from blacklist.tokens import agency_name
from blacklist.visibility import public_facts
from credit.clock import utcnow
from credit.errors import EntityNotFoundError
from credit.models import TEXT_LENGTH, Agency, ApiToken, Entity, Fact, ListEntry, Objection
from credit.profile import entity_by_identifier

TARGET_TYPES = ("list_entry", "fact")
DECISIONS = ("accepted", "refused")
STATUSES = ("open", "answered", "all")
CONTACT_LENGTH = 200  # the objection.contact column
MAX_ID = 2**63 - 1  # a larger id makes PostgreSQL fail the query instead of finding nothing
MAX_PAGE = 100
# Tabs and line breaks are fine in a letter; other control characters (NUL above all, which
# PostgreSQL refuses in text) are not.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LABELS = {"text": "异议内容", "contact": "联系方式", "answer": "答复意见"}
V = TypeVar("V")


@dataclass(frozen=True)
class PublicObjection:
    """An objection as the public sees it on ``as_of``: neither the objector's text nor the contact."""

    id: int
    target_type: str
    target_id: int | None
    status: str
    submitted_at: datetime
    answer_due: date | None
    check_due: date | None
    answered_at: datetime | None
    answer: str | None
    as_of: date

    @property
    def overdue(self) -> bool:
        """Still open after the day its answer was due."""
        return self.status == "open" and self.answer_due is not None and self.as_of > self.answer_due


@dataclass(frozen=True)
class RegulatorObjection(PublicObjection):
    """An objection as the regulator answering it sees it: whose record, the text and the contact."""

    uscc: str | None
    name: str
    agency_id: str | None
    text: str
    contact: str | None


@dataclass(frozen=True)
class Page(Generic[V]):
    """Some items of a longer list, and how long the whole list is."""

    total: int
    items: list[V]


def entity_for(session: Session, identifier: str) -> Entity:
    """The entity with this USCC, registration number or organisation code, or EntityNotFoundError."""
    entity = session.execute(entity_by_identifier(identifier)).scalar_one_or_none()
    if entity is None:
        raise EntityNotFoundError(identifier)
    return entity


def submit_objection(session: Session, identifier: str, target_type: str, target_id: int, text: str,
                     contact: str | None = None, *, today: date) -> Objection:
    """Record the public's objection to a visible record of the entity, due for answer by the policy."""
    entity = entity_for(session, identifier)
    text, contact = _required(text, "text"), _bounded(contact, "contact", CONTACT_LENGTH)
    target = _visible_target(session, entity, target_type, target_id, today)
    objection = Objection(entity_id=entity.id, target_type=target_type, target_id=target.id,
                          agency_id=_owner(session, target), text=text, contact=contact, status="open",
                          submitted_at=utcnow(),
                          answer_due=add_working_days(today, policy_on(today).answer_working_days))
    session.add(objection)
    session.flush()
    _audit(session, None, "objection.submit", objection, None, None)
    return objection


def answer_objection(session: Session, token: ApiToken, objection_id: int, decision: str, answer: str | None,
                     request_id: str | None = None) -> Objection:
    """Answer an open objection the token may handle: ``accepted`` (受理) or ``refused`` (with reasons).

    Accepting an objection to a list entry does not remove the entry: once the record is checked,
    the regulator removes or withdraws it through the listing endpoints, under their rules and audit.
    """
    objection = objection_in_scope(session, token, objection_id)
    if decision not in DECISIONS:
        raise InvalidObjection("答复结论须为 accepted（受理）或 refused（不予受理）", "decision")
    text = _required(answer, "answer") if decision == "refused" else _bounded(answer, "answer", TEXT_LENGTH)
    session.refresh(objection, with_for_update=True)  # two answers at once queue here (PostgreSQL)
    if objection.status != "open":
        raise InvalidObjection(f"异议 {objection.id} 已答复，不能再次答复")
    before = objection_view(objection)
    objection.status, objection.answer, objection.answered_at = decision, text, utcnow()
    session.flush()
    _audit(session, token, "objection.answer", objection, before, request_id)
    return objection


def objection_in_scope(session: Session, token: ApiToken, objection_id: int) -> Objection:
    """The objection, when the token's agency owns its record or the token covers its list entry."""
    objection = session.get(Objection, objection_id) if 1 <= objection_id <= MAX_ID else None
    if objection is None:
        raise NotFound(f"未找到异议 {objection_id}")
    if _owned_by(session, token, objection):
        return objection
    if objection.target_type != "list_entry" or objection.target_id is None:
        raise OutOfScope(f"异议 {objection.id} 所涉记录不属于本机关，令牌无权答复")
    entry_in_scope(session, token, objection.target_id)  # raises OutOfScope naming the list or region
    return objection


def objections_for(session: Session, entity_id: int, *, today: date, limit: int = MAX_PAGE
                   ) -> Page[PublicObjection]:
    """The entity's objections for the public, newest first: progress and answers, never the contact."""
    query = select(Objection).where(Objection.entity_id == entity_id)
    rows = session.scalars(query.order_by(Objection.submitted_at.desc(), Objection.id.desc()).limit(limit))
    return Page(_count(session, query), [public_view(row, today) for row in rows])


def objections_to_answer(session: Session, token: ApiToken, status: str = "open", *, today: date,
                         limit: int = MAX_PAGE) -> Page[RegulatorObjection]:
    """The objections this token may answer (``open``, ``answered`` or ``all``), the earliest due first."""
    query = scope_query(token, agency_name(session, token), status)
    rows = session.execute(query.order_by(Objection.answer_due, Objection.id).limit(limit)).tuples()
    return Page(_count(session, query), [regulator_view(row, entity, today) for row, entity in rows])


def scope_query(token: ApiToken, agency: str, status: str = "all") -> Select[tuple[Objection, Entity]]:
    """Objections (with their entity) whose record the agency owns or whose list entry the token covers."""
    if status not in STATUSES:
        raise ListQueryError("status", f"须为 {'、'.join(STATUSES)} 之一")
    source = regulator_source(token)
    owned = or_(Objection.agency_id == token.agency_id, ListEntry.source == source, ListEntry.listed_by == agency,
                Fact.source == source, Fact.authority == agency)
    covered = and_(ListEntry.list_id.in_(token.lists), _in_region(token.region_prefix))
    query = (select(Objection, Entity).join(Entity, Entity.id == Objection.entity_id)
             .outerjoin(ListEntry, and_(Objection.target_type == "list_entry", ListEntry.id == Objection.target_id))
             .outerjoin(Fact, and_(Objection.target_type == "fact", Fact.id == Objection.target_id))
             .where(or_(owned, covered)))
    if status == "open":
        return query.where(Objection.status == "open")
    return query.where(Objection.status != "open") if status == "answered" else query


def _in_region(prefix: str) -> ColumnElement[bool]:
    # An empty prefix covers every entity, those without a division code included (as in actions).
    return Entity.division_code.startswith(prefix) if prefix else true()


def public_view(objection: Objection, as_of: date) -> PublicObjection:
    """What the public may see of an objection on ``as_of``."""
    return PublicObjection(objection.id, objection.target_type, objection.target_id, objection.status,
                           objection.submitted_at, objection.answer_due, _check_due(objection),
                           objection.answered_at, objection.answer, as_of)


def regulator_view(objection: Objection, entity: Entity, as_of: date) -> RegulatorObjection:
    """What the answering regulator sees of an objection on ``as_of``."""
    public = public_view(objection, as_of)
    return RegulatorObjection(**{name: getattr(public, name) for name in PublicObjection.__dataclass_fields__},
                              uscc=entity.uscc, name=entity.name, agency_id=objection.agency_id,
                              text=objection.text, contact=objection.contact)


def objection_view(objection: Objection) -> dict[str, Any]:
    """The objection as audited: no text or contact, since the audit trail can never be erased."""
    return {"id": objection.id, "entity_id": objection.entity_id, "target_type": objection.target_type,
            "target_id": objection.target_id, "agency_id": objection.agency_id, "status": objection.status,
            "answer_due": _iso(objection.answer_due), "answered_at": _iso(objection.answered_at),
            "answer": objection.answer}


def _check_due(objection: Objection) -> date | None:
    """Submission + check days, counted on from the answer's due day; none once refused."""
    if objection.status == "refused" or objection.answer_due is None:
        return None
    # The store keeps the UTC moment of submission: its date picks the period (off by a day only
    # for an objection sent before 08:00 Beijing time on the day a new period begins).
    policy = policy_on(objection.submitted_at.date())
    return add_working_days(objection.answer_due, policy.check_working_days - policy.answer_working_days)


def _visible_target(session: Session, entity: Entity, target_type: str, target_id: int, today: date
                    ) -> ListEntry | Fact:
    """The record objected to, when it is the entity's and the public can see it today."""
    if target_type not in TARGET_TYPES:
        raise InvalidObjection("异议对象类型须为 list_entry（名单记录）或 fact（信用记录）", "target_type")
    target = _target(session, target_type, target_id)
    if target is None or target.entity_id != entity.id or not _public(target, entity, today):
        # One answer for absent, someone else's and hidden records: it reveals nothing of hidden ones.
        raise InvalidObjection(f"该主体没有编号为 {target_id} 的公开记录", "target_id")
    return target


def _target(session: Session, target_type: str, target_id: int | None) -> ListEntry | Fact | None:
    if target_id is None or not 1 <= target_id <= MAX_ID:
        return None
    # Bulk writes (ingest, withdrawals) bypass the identity map: read the row as it is now.
    if target_type == "list_entry":
        return session.get(ListEntry, target_id, populate_existing=True)
    return session.get(Fact, target_id, populate_existing=True)


def _public(target: ListEntry | Fact, entity: Entity, today: date) -> bool:
    if isinstance(target, ListEntry):
        return target.public and target.status != "withdrawn"
    return bool(public_facts([target], today, (entity.division_code or "")[:2] or None))


def _owner(session: Session, target: ListEntry | Fact) -> str | None:
    """The agency that owns a record: the one that flagged it through the API, else the one so named."""
    if (target.source or "").startswith("regulator:"):
        return (target.source or "").removeprefix("regulator:")
    name = _owner_name(target)
    return session.scalars(select(Agency.id).where(Agency.name == name).order_by(Agency.id).limit(1)).first()


def _owner_name(target: ListEntry | Fact) -> str | None:
    return target.listed_by if isinstance(target, ListEntry) else target.authority


def _owned_by(session: Session, token: ApiToken, objection: Objection) -> bool:
    """Whether the token's agency owns the record (also when it registered after the objection came)."""
    if objection.agency_id == token.agency_id:
        return True
    target = _target(session, objection.target_type, objection.target_id)
    return target is not None and made_by(session, token, target.source, _owner_name(target))


def _required(value: str | None, field: str) -> str:
    cleaned = _bounded(value, field, TEXT_LENGTH)
    if cleaned is None:
        raise InvalidObjection(f"须填写{_LABELS[field]}", field)
    return cleaned


def _bounded(value: str | None, field: str, limit: int) -> str | None:
    """The value without surrounding blanks (None when empty), refused when too long or with control characters."""
    cleaned = (value or "").strip()
    if len(cleaned) > limit:
        raise InvalidObjection(f"{_LABELS[field]}不得超过 {limit} 字", field)
    if _CONTROL.search(cleaned):
        raise InvalidObjection(f"{_LABELS[field]}含有控制字符", field)
    return cleaned or None


def _count(session: Session, query: Select[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0)


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _audit(session: Session, token: ApiToken | None, action: str, objection: Objection,
           before: dict[str, Any] | None, request_id: str | None) -> None:
    # A submission comes from the public: no agency or token acted.
    audit(session, action, "objection", objection.id, before, objection_view(objection), token=token,
          request_id=request_id)
