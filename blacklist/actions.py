"""Regulator actions on lists: flag an entity, remove a listing, withdraw a record.

Each action checks the token's scope (its lists and its region), asks the list rules whether the
transition is allowed, writes the entry and the change log, and appends an audit event with the
entry before and after. Functions flush but never commit: the request or command owns the unit.
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from blacklist.abnormal import Listing, Refused, check_listing, entity_kind, remove
from blacklist.audit import audit
from blacklist.catalogue import ListSpec, list_by_id
from blacklist.errors import BlacklistError
from blacklist.ownership import made_by, regulator_source
from blacklist.policy import load_rules_policy
from blacklist.publicity import add_months
from blacklist.store import decision_key, load_batch
from blacklist.tokens import agency_name
from credit.changelog import Change, append_changes
from credit.clock import utcnow
from credit.db import lock_rows
from credit.listings import ListEntryIn, apply_list_entries
from credit.models import ApiToken, Entity, ListEntry
from credit.profile import entity_by_identifier

ABNORMAL = "abnormal"
# SAMR Order 44 art. 16: a listing removed before its term ends is no longer published. The
# catalogue states it in words only, so the lists it applies to are named here.
HIDDEN_WHEN_REMOVED_EARLY = frozenset({"serious-illegal"})
KIND_NAMES = {"enterprise": "企业", "cooperative": "农民专业合作社", "individual": "个体工商户"}
_YEAR = re.compile(r"(\d{4})\s*年度")


class ActionError(BlacklistError):
    """Base of the errors of regulator actions; messages are in Chinese, for the regulator."""


class OutOfScope(ActionError):
    """The token may not act on this list, this region or this record."""


class NotFound(ActionError):
    """No entity or list entry is known by what was given."""


class InvalidAction(ActionError):
    """The action is not allowed: a missing or bad value (``field``) or a rule of the list."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def flag_entity(session: Session, token: ApiToken, identifier: str, list_id: str, reason: str, listed_on: date,
                reason_code: str | None = None, decision_no: str | None = None, basis: str | None = None,
                year: int | None = None, request_id: str | None = None) -> ListEntry:
    """Put an entity onto a list in the token's scope, as its agency's decision; audited."""
    spec = _list_in_scope(token, list_id)
    entity = _entity(session, identifier)
    check_region(token, entity)
    _check_entity_type(spec, entity)
    reason = reason.strip()
    if not reason:
        raise InvalidAction("须写明列入原因", "reason")
    if spec.id == ABNORMAL:
        reason_code = str(_check_abnormal(session, entity, reason_code, year, listed_on, decision_no))
        reason = with_report_year(reason, year) if reason_code == "1" and year else reason
    _check_not_listed_already(session, entity, spec, decision_no)
    return _insert(session, token, request_id, ListEntryIn(
        entity.id, spec.id, regulator_source(token), f"manual:{uuid.uuid4()}", listed_on=listed_on,
        reason=reason, reason_code=reason_code, basis=basis, decision_no=decision_no,
        listed_by=agency_name(session, token),
        due_expiry=add_months(listed_on, spec.term_months) if spec.term_months else None))


def _check_not_listed_already(session: Session, entity: Entity, spec: ListSpec, decision_no: str | None) -> None:
    """One decision, one entry in force on a list: refuse a second, naming the first."""
    key = decision_key(decision_no)
    if key is None:
        return
    active = session.scalars(select(ListEntry).where(
        ListEntry.entity_id == entity.id, ListEntry.list_id == spec.id, ListEntry.status == "active",
        ListEntry.decision_no.is_not(None)).order_by(ListEntry.id))
    for entry in active:
        if decision_key(entry.decision_no) == key:
            raise InvalidAction(f"该主体已依据同一决定书（{entry.decision_no}）列入{spec.name}，"
                                f"记录 {entry.id}（{entry.listed_by or '未知机关'}，{entry.listed_on}）", "decision_no")


def remove_listing(session: Session, token: ApiToken, entry_id: int, reason: str, removed_on: date,
                   request_id: str | None = None) -> ListEntry:
    """Remove an active listing on a day, with a reason; an early removal from some lists also hides it."""
    entry = locked_entry_in_scope(session, token, entry_id)
    _check_removal(entry, removed_on, reason)
    before = entry_view(entry)
    hide = _removed_early(entry, removed_on)
    entry.status, entry.removed_on, entry.removal_reason = "removed", removed_on, reason.strip()
    entry.removed_by, entry.updated_at = agency_name(session, token), utcnow()
    if hide:
        entry.public = False
    record_entry_change(session, token, "list.remove", entry, before, request_id, {"removed": "regulator"})
    return entry


def withdraw_record(session: Session, token: ApiToken, entry_id: int, reason: str,
                    request_id: str | None = None) -> ListEntry:
    """Withdraw a listing the token's agency made: kept for regulators, hidden from the public."""
    entry = locked_entry_in_scope(session, token, entry_id)
    if not made_by(session, token, entry.source, entry.listed_by):
        raise OutOfScope("只能撤回本机关作出的列入记录")
    if entry.status == "withdrawn":
        raise InvalidAction("该记录已撤回")
    if not reason.strip():
        raise InvalidAction("撤回须写明原因", "reason")
    before = entry_view(entry)
    entry.status, entry.public, entry.updated_at = "withdrawn", False, utcnow()
    record_entry_change(session, token, "list.withdraw", entry, before, request_id, {"withdrawn": "regulator"},
            {"withdrawal_reason": reason.strip()})
    return entry


def entry_in_scope(session: Session, token: ApiToken, entry_id: int) -> ListEntry:
    """The entry with this id, when the token may act on its list and its entity's region."""
    entry = session.get(ListEntry, entry_id)
    if entry is None:
        raise NotFound(f"未找到列入记录 {entry_id}")
    _list_in_scope(token, entry.list_id)
    entity = session.get(Entity, entry.entity_id)
    assert entity is not None  # list_entry.entity_id is a foreign key
    check_region(token, entity)
    return entry


def locked_entry_in_scope(session: Session, token: ApiToken, entry_id: int) -> ListEntry:
    """As ``entry_in_scope``, with the row locked (PostgreSQL) so two removals queue."""
    entry = entry_in_scope(session, token, entry_id)
    session.refresh(entry, with_for_update=True)
    return entry


def entry_view(entry: ListEntry) -> dict[str, Any]:
    """The entry's fields as audited: what it says and whether the public sees it (no source keys)."""
    return {"id": entry.id, "list_id": entry.list_id, "entity_id": entry.entity_id, "reason": entry.reason,
            "reason_code": entry.reason_code, "basis": entry.basis, "decision_no": entry.decision_no,
            "listed_on": _iso(entry.listed_on), "listed_by": entry.listed_by, "due_expiry": _iso(entry.due_expiry),
            "removed_on": _iso(entry.removed_on), "removal_reason": entry.removal_reason,
            "removed_by": entry.removed_by, "status": entry.status, "public": entry.public}


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _list_in_scope(token: ApiToken, list_id: str) -> ListSpec:
    """The list (UnknownListError when the catalogue has none such), if the token may act on it."""
    spec = list_by_id(list_id)
    if spec.id not in token.lists:
        raise OutOfScope(f"令牌无权操作名单 {spec.name}（{spec.id}）；可操作：{'、'.join(token.lists)}")
    return spec


def _entity(session: Session, identifier: str) -> Entity:
    entity = session.execute(entity_by_identifier(identifier)).scalar_one_or_none()
    if entity is None:
        raise NotFound(f"未找到该主体：{identifier}")
    return entity


def check_region(token: ApiToken, entity: Entity) -> None:
    division = entity.division_code or ""
    if not division.startswith(token.region_prefix):
        raise OutOfScope(f"该主体（行政区划 {division or '未知'}）不在令牌的地区范围（{token.region_prefix}）内")


def _check_entity_type(spec: ListSpec, entity: Entity) -> None:
    """The catalogue says which kinds of entity a list takes; the others are refused."""
    kind = entity_kind(entity.entity_type).value
    if "any" in spec.entity_types or kind in spec.entity_types:
        return
    marked = ""
    if kind in spec.marked_entity_types:
        mark = load_rules_policy().individual_mark.list
        marked = f"（只标记为经营异常状态：名单 {mark}）"
    raise InvalidAction(f"{KIND_NAMES[kind]}不列入{spec.name}{marked}")


def _check_abnormal(session: Session, entity: Entity, reason_code: str | None, year: int | None,
                    listed_on: date, decision_no: str | None) -> int:
    """The reason number, when the abnormal-list rules allow this listing beside the entity's others."""
    number = _reason_number(reason_code)
    lock_rows(session, "entity", [entity.id])  # two concurrent flags of one entity queue here
    existing = [stored.listing for stored in load_batch(session, [entity.id])[entity.id].abnormal]
    new = Listing(entity.id, number, listed_on, year if number == 1 else None,
                  decision_no if number == 4 else None)
    try:
        check_listing(new, entity_kind(entity.entity_type), existing, load_rules_policy().abnormal)
    except Refused as exc:
        raise InvalidAction(str(exc)) from exc
    return number


def _reason_number(reason_code: str | None) -> int:
    code = (reason_code or "").strip()
    if code not in ("1", "2", "3", "4"):
        raise InvalidAction("列入经营异常名录须写明事由代码 1–4", "reason_code")
    return int(code)


def with_report_year(reason: str, year: int) -> str:
    """The reason naming the report year first: the list rules read a manual listing's year from it."""
    match = _YEAR.search(reason)
    return reason if match and int(match.group(1)) == year else f"{year}年度，{reason}"


def _check_removal(entry: ListEntry, removed_on: date, reason: str) -> None:
    """The abnormal list's removal rules hold for every list: active, not before listing, with a reason."""
    if entry.status == "withdrawn":
        raise InvalidAction("该记录已撤回，不能移出")
    removed = (entry.removed_on or entry.listed_on or removed_on) if entry.status != "active" else None
    listing = Listing(entry.entity_id, 0, entry.listed_on or removed_on, removed_on=removed)
    try:
        remove(listing, removed_on, reason)
    except Refused as exc:
        field = None if removed else ("removed_on" if removed_on < listing.listed_on else "reason")
        raise InvalidAction(str(exc), field) from exc


def _removed_early(entry: ListEntry, removed_on: date) -> bool:
    if entry.list_id not in HIDDEN_WHEN_REMOVED_EARLY:
        return False
    term = list_by_id(entry.list_id).term_months
    due = entry.due_expiry or (add_months(entry.listed_on, term) if entry.listed_on and term else None)
    return due is not None and removed_on < due


def _insert(session: Session, token: ApiToken, request_id: str | None, record: ListEntryIn) -> ListEntry:
    """Store a new listing through the keyed path (change log included) and audit it."""
    apply_list_entries(session, [record])
    entry = session.scalars(select(ListEntry).where(ListEntry.source == record.source,
                                                    ListEntry.source_key == record.source_key)).one()
    _audit(session, token, "list.flag", entry, None, request_id)
    return entry


def record_entry_change(session: Session, token: ApiToken, action: str, entry: ListEntry, before: dict[str, Any],
            request_id: str | None, change: dict[str, str], extra: dict[str, Any] | None = None) -> None:
    """Write the changed entry, then its change-log entry and audit event."""
    session.flush()
    append_changes(session, [Change(entry.entity_id, "list", "change",
                                    {"list": entry.list_id, "entry": entry.id, **change})])
    _audit(session, token, action, entry, before, request_id, extra)


def _audit(session: Session, token: ApiToken, action: str, entry: ListEntry, before: dict[str, Any] | None,
           request_id: str | None, extra: dict[str, Any] | None = None) -> None:
    audit(session, action, "list_entry", entry.id, before, entry_view(entry) | (extra or {}), token=token,
          request_id=request_id)
