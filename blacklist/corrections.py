"""Corrections of list entries by the agency that made them: reason, basis, decision number, listing day.

The entity and the list are not corrected: a listing of the wrong entity or onto the wrong list is
withdrawn and flagged anew. A correction changes only the fields given, keeps the list rules'
reading of the entry (report year, address case, term) consistent, and is audited with the entry
before and after. Functions flush but never commit: the request or command owns the unit of work.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from blacklist.abnormal import Refused, check_listing, entity_kind
from blacklist.actions import (
    ABNORMAL, InvalidAction, NotFound, OutOfScope, entry_view, locked_entry_in_scope, record_entry_change,
    with_report_year,
)
from blacklist.catalogue import list_by_id
from blacklist.ownership import made_by
from blacklist.policy import load_rules_policy
from blacklist.publicity import add_months
from blacklist.store import load_batch
from credit.clock import utcnow
from credit.models import TEXT_LENGTH, ApiToken, Entity, ListEntry

# What may be corrected, with its name for the regulator and its longest text (listing day: a date).
LABELS = {"reason": "列入原因", "basis": "列入依据", "decision_no": "决定文号", "listed_on": "列入日期"}
_LIMITS = {"reason": TEXT_LENGTH, "basis": TEXT_LENGTH, "decision_no": 200}
MAX_ID = 2**63 - 1  # a larger id makes PostgreSQL fail the query instead of finding nothing


def correct_listing(session: Session, token: ApiToken, entry_id: int, correction_reason: str,
                    changes: Mapping[str, Any], request_id: str | None = None) -> ListEntry:
    """Correct the given fields of a listing the token's agency made (not withdrawn), with a reason; audited."""
    entry = _own_entry(session, token, entry_id)
    reason = _text("correction_reason", "更正原因", correction_reason, TEXT_LENGTH)
    values = _changed(entry, changes)
    if entry.list_id == ABNORMAL:
        _check_abnormal(session, entry, values)
    before = entry_view(entry)
    _apply(entry, values)
    record_entry_change(session, token, "list.correct", entry, before, request_id, {"corrected": "regulator"},
            {"correction_reason": reason, "corrected_fields": sorted(values)})
    return entry


def _own_entry(session: Session, token: ApiToken, entry_id: int) -> ListEntry:
    """The entry, locked, when the token covers its list and region and its agency made it; not withdrawn."""
    if not 1 <= entry_id <= MAX_ID:
        raise NotFound(f"未找到列入记录 {entry_id}")
    entry = locked_entry_in_scope(session, token, entry_id)
    if not made_by(session, token, entry.source, entry.listed_by):
        raise OutOfScope("只能更正本机关作出的列入记录")
    if entry.status == "withdrawn":
        raise InvalidAction("该记录已撤回，不能更正")
    return entry


def _changed(entry: ListEntry, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The given fields, checked, that differ from the entry; refused when none is given or none differs."""
    for key in changes:
        if key not in LABELS:
            raise InvalidAction(f"不能更正字段 {key}：只能更正{'、'.join(LABELS.values())}", key)
    if not changes:
        raise InvalidAction(f"须给出至少一项更正内容（{'、'.join(LABELS.values())}）")
    values = {key: _value(key, value, entry) for key, value in changes.items()}
    values = {key: value for key, value in values.items() if value != getattr(entry, key)}
    if not values:
        raise InvalidAction("更正内容与原记录相同")
    return values


def _value(key: str, value: Any, entry: ListEntry) -> Any:
    if key != "listed_on":
        return _text(key, LABELS[key], value, _LIMITS[key])
    if not isinstance(value, date):
        raise InvalidAction("列入日期须为日期（YYYY-MM-DD）", key)
    if entry.removed_on is not None and value > entry.removed_on:
        raise InvalidAction(f"列入日期{value.isoformat()}晚于移出日期{entry.removed_on.isoformat()}", key)
    return value


def _text(field: str, label: str, value: Any, limit: int) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise InvalidAction(f"{label}不得为空", field)
    if len(text) > limit:
        raise InvalidAction(f"{label}不得超过 {limit} 字", field)
    return text


def _check_abnormal(session: Session, entry: ListEntry, values: dict[str, Any]) -> None:
    """The corrected listing must still pass the abnormal list's rules beside the entity's other listings."""
    stored = load_batch(session, [entry.entity_id])[entry.entity_id].abnormal
    mine = next((item.listing for item in stored if item.entry_id == entry.id), None)
    if mine is None or mine.reason not in (1, 2, 3, 4):
        return  # an entry the rules do not read (no listing day or no reason number)
    if mine.reason == 1 and mine.year is not None and "reason" in values:
        values["reason"] = with_report_year(values["reason"], mine.year)  # the rules read the report year from it
    case = values.get("decision_no", mine.case) if mine.reason == 4 else None
    corrected = replace(mine, listed_on=values.get("listed_on", mine.listed_on), case=case)
    # A removed listing is no longer a duplicate of anything: only its own rules apply.
    others = [item.listing for item in stored if item.entry_id != entry.id] if entry.status == "active" else []
    entity = session.get(Entity, entry.entity_id)
    assert entity is not None  # list_entry.entity_id is a foreign key
    try:
        check_listing(corrected, entity_kind(entity.entity_type), others, load_rules_policy().abnormal)
    except Refused as exc:
        raise InvalidAction(f"更正后不符合经营异常名录规则：{exc}") from exc


def _apply(entry: ListEntry, values: dict[str, Any]) -> None:
    """Write the values; a term counted from the listing day moves with it."""
    term = list_by_id(entry.list_id).term_months
    old = entry.listed_on
    if "listed_on" in values and term and old is not None and entry.due_expiry == add_months(old, term):
        entry.due_expiry = add_months(values["listed_on"], term)
    for key, value in values.items():
        setattr(entry, key, value)
    entry.updated_at = utcnow()
