"""What the public may see of an entity's records on a day, under the dated publicity policy.

Applied when a profile is read (not when a record is stored), so a change of policy or a
repair takes effect everywhere at once ("一处修复、处处修复"). A repair is read from the
credit_repair table (what a regulator decided) and from a source's own ``repaired_on``; the
earlier one counts. Regulators see everything, with the status this module gives each fact.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from blacklist.errors import PenaltyError
from blacklist.publicity import PenaltyFacts, Publicity, PublicityPolicy, publicity_of
from blacklist.publicity_load import load_policy
from credit.db import among, chunked
from credit.models import CreditRepair
from credit.profile import Profile, get_profile

SYSTEMS = ("credit", "samr")  # regimes tried in this order: the credit platform's, then SAMR's
CHUNK = 2000


class FactLike(Protocol):
    """The fields of a stored fact that publicity depends on."""

    kind: str
    decided_on: date | None
    severity: str | None
    publicity_until: date | None
    status: str
    body: dict[str, Any]
    entity_id: int


@dataclass(frozen=True)
class FactPublicity:
    """Whether the public sees a fact on a day, until when, from when it may be repaired, and why."""

    public: bool
    public_until: date | None
    repair_from: date | None
    reason: str
    regime: str | None = None
    legal_basis: str | None = None


def public_profile(session: Session, identifier: str, today: date) -> Profile:
    """What the public may see of an entity on ``today``: its profile with only the public facts.

    The one loader behind the public API and the public pages, so they never disagree.
    """
    profile = get_profile(session, identifier, public_on=today)
    province = (profile.entity.division_code or "")[:2] or None
    return replace(profile, facts=public_facts(profile.facts, today, province))


def public_facts(facts: Iterable[Any], on: date, province: str | None = None,
                 policy: PublicityPolicy | None = None, repairs: Mapping[int, date] | None = None) -> list[Any]:
    """The facts the public may see on ``on``: active, within a period the source or policy allows.

    ``repairs`` maps fact ids to their repair day; when it is not given, the repairs of stored
    facts are loaded from their own session in one query, so no caller can miss one.
    """
    policy = policy or load_policy()
    shown = list(facts)
    repairs = _stored_repairs(shown) if repairs is None else repairs
    return [f for f in shown if publicity_status(f, on, province, policy, _repair_day(f, repairs)).public]


def repairs_by_fact(session: Session, fact_ids: Sequence[int]) -> dict[int, date]:
    """The repair day of each of these facts that has an active repair (one query per 2,000 ids)."""
    found: dict[int, date] = {}
    for part in chunked(sorted(set(fact_ids)), CHUNK):
        query = select(CreditRepair.fact_id, CreditRepair.repaired_on).where(
            CreditRepair.status == "active", among(session, CreditRepair.fact_id, part))
        found.update({fact_id: day for fact_id, day in session.execute(query).tuples()})
    return found


def _stored_repairs(facts: list[Any]) -> dict[int, date]:
    """The table's repairs of the stored penalties among these, read through their session."""
    session = next((state.session for state in map(_state, facts) if state is not None and state.session), None)
    ids = [f.id for f in facts if f.kind == "penalty" and getattr(f, "id", None) is not None]
    return repairs_by_fact(session, ids) if session is not None and ids else {}


def _state(fact: Any) -> Any:
    return inspect(fact, raiseerr=False)  # None for a plain object


def _repair_day(fact: Any, repairs: Mapping[int, date]) -> date | None:
    fact_id = getattr(fact, "id", None)
    return None if fact_id is None else repairs.get(fact_id)


def publicity_status(fact: FactLike, on: date, province: str | None = None, policy: PublicityPolicy | None = None,
                     repaired_on: date | None = None) -> FactPublicity:
    """Whether the public sees ``fact`` on ``on``, until when and why; ``repaired_on`` from the repair table."""
    if fact.status != "active":
        return FactPublicity(False, None, None, "记录已撤回，不予公示")
    source_end = fact.publicity_until
    found = None
    if fact.kind == "penalty" and fact.decided_on is not None and fact.severity:
        found = policy_publicity(penalty_facts(fact, province, repaired_on), policy or load_policy())
    if found is None:  # not a penalty, or older than every regime we hold: the source's dates decide
        public = source_end is None or on <= source_end
        return FactPublicity(public, source_end, None, "按来源公示期限" if public else "来源公示期已满")
    until = found.public_until if source_end is None or found.public_until is None \
        else min(found.public_until, source_end)
    reason = found.reason if until == found.public_until else f"{found.reason}；来源公示期至{until}"
    public = found.public_from is not None and until is not None and found.public_from <= on <= until
    return FactPublicity(public, until, found.repair_from, reason, found.regime_id, found.legal_basis)


def policy_publicity(penalty: PenaltyFacts, policy: PublicityPolicy) -> Publicity | None:
    """The penalty's publicity under the first system with a regime on its decision date; None when none has."""
    for system in SYSTEMS:
        try:
            return publicity_of(penalty, policy, system)
        except PenaltyError:
            continue  # no regime of this system covers the decision date (or an unknown severity)
    return None


def penalty_facts(fact: FactLike, province: str | None, repaired_on: date | None = None) -> PenaltyFacts:
    """What publicity depends on, from the fact; the earlier of its source's and the table's repair day."""
    body = fact.body or {}
    days = [day for day in (_date(body.get("repaired_on")), repaired_on) if day is not None]
    return PenaltyFacts(fact.decided_on, fact.severity, penalty_type=body.get("penalty_type"),  # type: ignore[arg-type]
                        fine_wan=_amount(body.get("fine_amount")), province=province,
                        repaired_on=min(days) if days else None)


def _amount(value: Any) -> Decimal | None:
    try:
        return None if value in (None, "") else Decimal(str(value))
    except InvalidOperation:
        return None


def _date(value: Any) -> date | None:
    try:
        return None if not value else date.fromisoformat(str(value))
    except ValueError:
        return None


__all__: Sequence[str] = ("FactPublicity", "public_facts", "publicity_status", "policy_publicity",
                          "penalty_facts", "repairs_by_fact")
