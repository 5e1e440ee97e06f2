"""What the public may see of an entity's records on a day, under the dated publicity policy.

Applied when a profile is read (not when a record is stored), so a change of policy or a
repair takes effect everywhere at once ("一处修复、处处修复"). Regulators see everything.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from blacklist.errors import PenaltyError
from blacklist.publicity import PenaltyFacts, PublicityPolicy, is_public
from blacklist.publicity_load import load_policy

SYSTEMS = ("credit", "samr")  # regimes tried in this order: the credit platform's, then SAMR's


class FactLike(Protocol):
    """The fields of a stored fact that publicity depends on."""

    kind: str
    decided_on: date | None
    severity: str | None
    publicity_until: date | None
    status: str
    body: dict[str, Any]
    entity_id: int


def public_facts(facts: Iterable[Any], on: date, province: str | None = None,
                 policy: PublicityPolicy | None = None) -> list[Any]:
    """The facts the public may see on ``on``: active, within a period the source or policy allows."""
    policy = policy or load_policy()
    return [f for f in facts if _visible(f, on, province, policy)]


def _visible(fact: FactLike, on: date, province: str | None, policy: PublicityPolicy) -> bool:
    if fact.status != "active":
        return False
    if fact.publicity_until is not None and fact.publicity_until < on:
        return False  # the source's own end of publicity stands
    if fact.kind != "penalty" or fact.decided_on is None or not fact.severity:
        return True
    penalty = _penalty(fact, province)
    for system in SYSTEMS:
        try:
            return is_public(penalty, policy, on, system)
        except PenaltyError:
            continue  # no regime of this system covers the decision date
    return True  # older than every regime we hold: the source's dates decide


def _penalty(fact: FactLike, province: str | None) -> PenaltyFacts:
    body = fact.body or {}
    return PenaltyFacts(fact.decided_on, fact.severity, penalty_type=body.get("penalty_type"),  # type: ignore[arg-type]
                        fine_wan=_amount(body.get("fine_amount")), province=province,
                        repaired_on=_date(body.get("repaired_on")))


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


__all__: Sequence[str] = ("public_facts",)
