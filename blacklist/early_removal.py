"""Early removal from the serious illegal & dishonest list on application (SAMR Order 44 arts. 16–17).

After at least a year on the list, with the penalty fulfilled, the harm corrected and a credit
commitment made, and with no heavier penalty from a market regulator decided since the listing,
the listing is removed on the day of the application and is no longer published. The removal is
``blacklist.actions.remove_listing`` (scope, row lock, hiding, change log, its audit event); this
module checks the application and records it in an audit event of its own. It flushes, never commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from blacklist.actions import InvalidAction, entry_in_scope, entry_view, remove_listing
from blacklist.audit import audit
from blacklist.catalogue import list_by_id
from blacklist.policy import EarlyRemovalPolicy, RulesPolicy, SeriousPenaltyPolicy, add_years, load_rules_policy
from blacklist.rules import heavier_penalty
from blacklist.store import load_batch
from credit.models import ApiToken, ListEntry

ACTION = "list.early_removal"
STATUS_NAMES = {"removed": "已移出", "withdrawn": "已撤回"}


def apply_early_removal(session: Session, token: ApiToken, entry_id: int, applied_on: date,
                        conditions: Mapping[str, bool], request_id: str | None = None, note: str | None = None,
                        policy: RulesPolicy | None = None) -> ListEntry:
    """Remove a serious listing early on the entity's application; InvalidAction names the rule not met."""
    policy = policy or load_rules_policy()
    rules = policy.early_removal
    entry = entry_in_scope(session, token, entry_id)
    listed_on = _check_listing(entry, applied_on, policy)
    _check_conditions(conditions, rules)
    _check_no_later_penalty(session, entry.entity_id, listed_on, policy.serious_penalty)
    before = entry_view(entry)
    removed = remove_listing(session, token, entry_id, rules.removal_reason, applied_on, request_id)
    application = {"applied_on": applied_on.isoformat(), "legal_basis": rules.legal_basis, "note": note,
                   "conditions": {name: conditions.get(name) is True for name in rules.conditions}}
    _audit(session, token, removed, before, entry_view(removed) | {"application": application}, request_id)
    return removed


def _check_listing(entry: ListEntry, applied_on: date, policy: RulesPolicy) -> date:
    """The listing's day, when it is an active serious listing past its minimum and before its term's end."""
    rules = policy.early_removal
    if entry.list_id != rules.list:
        raise InvalidAction(f"只有{list_by_id(rules.list).name}的列入记录可以申请提前移出")
    if entry.status != "active":
        raise InvalidAction(f"该列入记录{STATUS_NAMES.get(entry.status, '不在名单中')}，不能申请提前移出")
    if entry.listed_on is None:
        raise InvalidAction("该列入记录没有列入日期，不能申请提前移出")
    earliest = add_years(entry.listed_on, rules.min_years_listed)
    if applied_on < earliest:
        raise InvalidAction(f"列入满{rules.min_years_listed}年（{earliest}）后方可申请提前移出", "applied_on")
    due = entry.due_expiry or add_years(entry.listed_on, policy.serious_penalty.term_years)
    if applied_on >= due:
        raise InvalidAction(f"列入期限于{due}届满，应期满移出，无需申请提前移出", "applied_on")
    return entry.listed_on


def _check_conditions(conditions: Mapping[str, bool], rules: EarlyRemovalPolicy) -> None:
    """Every condition of the policy declared true; the others are named."""
    missing = [label for name, label in rules.conditions.items() if conditions.get(name) is not True]
    if missing:
        raise InvalidAction(f"不符合提前移出条件，尚未满足：{'、'.join(missing)}", "conditions")


def _check_no_later_penalty(session: Session, entity_id: int, listed_on: date, rules: SeriousPenaltyPolicy) -> None:
    """Art. 16: no heavier penalty from a market regulator decided after the listing, in any domain."""
    penalties = load_batch(session, [entity_id])[entity_id].penalties
    for penalty in penalties:
        kind = heavier_penalty(penalty, rules)
        if kind is not None and penalty.decided_on is not None and penalty.decided_on > listed_on:
            decision = f"{penalty.decision_no}，" if penalty.decision_no else ""
            raise InvalidAction(f"列入后于{penalty.decided_on}再次受到较重行政处罚（{decision}{kind}），"
                                "不得提前移出")


def _audit(session: Session, token: ApiToken, entry: ListEntry, before: dict[str, Any], after: dict[str, Any],
           request_id: str | None) -> None:
    audit(session, ACTION, "list_entry", entry.id, before, after, token=token, request_id=request_id)
