"""Credit repair of administrative penalties (DOMAIN.md §3): the entity applies, the deciding agency repairs.

A repair is stored in credit_repair, apart from the fact that a source re-sends, and stops the
penalty's publication everywhere from its day ("一处修复、处处修复"); the fact and the repair stay
for regulators. When repair may be applied for is the dated publicity policy's answer
(blacklist.publicity, through blacklist.visibility); this module checks scope, the penalty, the
dates and the conditions, then writes the repair, its change-log entry and its audit event.
Functions flush but never commit: the request or command owns the unit of work.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from blacklist.actions import InvalidAction, NotFound, OutOfScope, check_region
from blacklist.audit import audit
from blacklist.ownership import made_by
from blacklist.publicity import Publicity
from blacklist.publicity_load import load_policy
from blacklist.tokens import agency_name
from blacklist.visibility import penalty_facts, policy_publicity, repairs_by_fact
from credit.changelog import Change, append_changes
from credit.clock import utcnow
from credit.db import lock_rows
from credit.models import ApiToken, CreditRepair, Entity, Fact

# The three conditions of a repair (DOMAIN.md §3), each named when it is not met.
CONDITIONS = {"corrected": "已纠正失信行为", "obligations_fulfilled": "已履行法定义务",
              "credit_commitment": "已作出信用承诺"}
DECISION_NO_LENGTH = 200  # the credit_repair.decision_no column
MAX_ID = 2**63 - 1  # a larger id makes PostgreSQL fail the query instead of finding nothing


def repair_penalty(session: Session, token: ApiToken, fact_id: int, applied_on: date, repaired_on: date,
                   decision_no: str, conditions: Mapping[str, bool], request_id: str | None = None
                   ) -> CreditRepair:
    """Repair a penalty the token's agency decided, once the policy allows it and every condition holds; audited."""
    fact, entity = _penalty_in_scope(session, token, fact_id)
    province = (entity.division_code or "")[:2] or None
    found = _repairable(session, fact, province, repaired_on)
    _check_dates(found, applied_on, repaired_on)
    _check_conditions(conditions)
    number = _decision_no(decision_no)
    before = penalty_view(fact, found, None)
    repair = CreditRepair(fact_id=fact.id, status="active", applied_on=applied_on, repaired_on=repaired_on,
                          decision_no=number, decided_by=agency_name(session, token), agency_id=token.agency_id,
                          conditions={key: True for key in CONDITIONS}, created_at=utcnow(),
                          request_id=request_id)
    session.add(repair)
    session.flush()
    after = policy_publicity(penalty_facts(fact, province, repaired_on), load_policy())
    _record(session, token, fact, repair, before, penalty_view(fact, after, repair), request_id)
    return repair


def penalty_view(fact: Fact, publicity: Publicity | None, repair: CreditRepair | None) -> dict[str, Any]:
    """The penalty as audited: what it is, until when the policy publishes it and why, and its repair."""
    return {"id": fact.id, "entity_id": fact.entity_id, "kind": fact.kind, "authority": fact.authority,
            "decision_no": (fact.body or {}).get("decision_no"), "decided_on": _iso(fact.decided_on),
            "severity": fact.severity, "status": fact.status,
            "public_until": _iso(publicity.public_until) if publicity else None,
            "publicity_reason": publicity.reason if publicity else None,
            "repair": repair_view(repair) if repair is not None else None}


def repair_view(repair: CreditRepair) -> dict[str, Any]:
    """A repair as regulators see it and the audit records it."""
    return {"id": repair.id, "fact_id": repair.fact_id, "status": repair.status,
            "applied_on": _iso(repair.applied_on), "repaired_on": _iso(repair.repaired_on),
            "decision_no": repair.decision_no, "decided_by": repair.decided_by, "agency_id": repair.agency_id,
            "conditions": dict(repair.conditions), "request_id": repair.request_id}


def _penalty_in_scope(session: Session, token: ApiToken, fact_id: int) -> tuple[Fact, Entity]:
    """The fact and its entity, locked, when the token's agency decided it and covers its region."""
    fact = session.get(Fact, fact_id) if 1 <= fact_id <= MAX_ID else None
    if fact is None:
        raise NotFound(f"未找到信用记录 {fact_id}")
    if not made_by(session, token, fact.source, fact.authority):
        raise OutOfScope("只能修复本机关作出的行政处罚")
    entity = session.get(Entity, fact.entity_id)
    assert entity is not None  # fact.entity_id is a foreign key
    check_region(token, entity)
    # Every writer of an entity's records (ingest included) locks its row first: two repairs queue here.
    lock_rows(session, "entity", [entity.id])
    session.refresh(fact)  # ingest writes in bulk, past the identity map: read the row as it is now
    if fact.kind != "penalty":
        raise InvalidAction("该记录不是行政处罚，不适用信用修复")
    if fact.status != "active":
        raise InvalidAction("该处罚已撤下（撤销或变更），不适用信用修复")
    return fact, entity


def _repairable(session: Session, fact: Fact, province: str | None, repaired_on: date) -> Publicity:
    """The penalty's publicity under the policy, unrepaired, when it is published and a repair would count."""
    if fact.decided_on is None or not fact.severity:
        raise InvalidAction("该处罚缺少决定日期或处罚等级，无法确定可申请信用修复的日期")
    if fact.id in repairs_by_fact(session, [fact.id]):
        raise InvalidAction("该处罚已信用修复，不能重复修复")
    penalty = penalty_facts(fact, province)
    sourced = penalty.repaired_on  # the source's own repair: a later one is overtaken by this repair
    if sourced is not None and sourced <= repaired_on:
        raise InvalidAction(f"来源已报送该处罚于{sourced.isoformat()}信用修复，不能重复修复")
    found = policy_publicity(replace(penalty, repaired_on=None), load_policy())
    if found is None:
        raise InvalidAction(f"处罚决定日期{fact.decided_on.isoformat()}早于现行各公示规定，无法确定可申请信用修复的日期")
    if not found.published:
        raise InvalidAction(f"该处罚不予公示（{found.reason}），无需信用修复")
    return found


def _check_dates(found: Publicity, applied_on: date, repaired_on: date) -> None:
    """Applied for within publicity, from the policy's first allowed day; decided no earlier than applied for."""
    if found.repair_from is None:
        raise InvalidAction(f"{found.reason}（{found.legal_basis}）", "applied_on")
    if applied_on < found.repair_from:
        raise InvalidAction(f"未满最短公示期限，不能申请信用修复：{found.reason}，最早可于"
                            f"{found.repair_from.isoformat()}申请（{found.legal_basis}）", "applied_on")
    if found.public_until is not None and applied_on > found.public_until:
        raise InvalidAction(f"该处罚公示期已于{found.public_until.isoformat()}届满，停止公示，无需信用修复",
                            "applied_on")
    if repaired_on < applied_on:
        raise InvalidAction(f"修复日期{repaired_on.isoformat()}早于申请日期{applied_on.isoformat()}", "repaired_on")


def _check_conditions(conditions: Mapping[str, bool]) -> None:
    missing = [label for key, label in CONDITIONS.items() if conditions.get(key) is not True]
    if missing:
        raise InvalidAction(f"不符合信用修复条件，尚未确认：{'、'.join(missing)}", "conditions")


def _decision_no(value: str) -> str:
    number = (value or "").strip()
    if not number or len(number) > DECISION_NO_LENGTH:
        raise InvalidAction(f"须写明修复决定文号（1–{DECISION_NO_LENGTH} 字）", "decision_no")
    return number


def _record(session: Session, token: ApiToken, fact: Fact, repair: CreditRepair, before: dict[str, Any],
            after: dict[str, Any], request_id: str | None) -> None:
    """The change-log entry (the index and the change feed follow it) and the audit event."""
    append_changes(session, [Change(fact.entity_id, "fact", "change", {"facts": [
        {"op": "repair", "kind": fact.kind, "source": fact.source, "key": fact.source_key, "repair": repair.id}]})])
    audit(session, "fact.repair", "fact", fact.id, before, after, token=token, request_id=request_id)


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()
