"""Which penalties the public sees on a day, under the dated publicity regimes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from blacklist.visibility import public_facts


@dataclass
class Fact:
    """The fields of a stored fact that visibility reads."""

    kind: str
    decided_on: date | None
    severity: str | None
    publicity_until: date | None = None
    status: str = "active"
    body: dict[str, Any] = field(default_factory=dict)
    entity_id: int = 1


def seen(fact: Fact, on: date) -> bool:
    """Whether the public sees ``fact`` on ``on``."""
    return public_facts([fact], on, province="44") == [fact]


def test_an_ordinary_penalty_under_the_2026_measures_is_public_for_one_year() -> None:
    fact = Fact("penalty", date(2026, 4, 1), "ordinary", body={"penalty_type": "罚款", "fine_amount": "5"})
    assert seen(fact, date(2026, 4, 1)) and seen(fact, date(2027, 3, 31))
    assert not seen(fact, date(2027, 4, 1))


def test_the_regime_follows_the_decision_date_at_the_boundary() -> None:
    before = Fact("penalty", date(2026, 3, 31), "ordinary")  # trial measures: up to 3 years
    after = Fact("penalty", date(2026, 4, 1), "ordinary")  # 2026 measures: up to 1 year
    assert seen(before, date(2028, 1, 1)) and not seen(after, date(2028, 1, 1))


def test_a_minor_penalty_under_the_2026_measures_is_never_public() -> None:
    assert not seen(Fact("penalty", date(2026, 5, 1), "minor"), date(2026, 5, 1))


def test_a_repaired_penalty_stops_being_public_on_the_repair_day() -> None:
    fact = Fact("penalty", date(2026, 4, 1), "serious", body={"repaired_on": "2027-05-01"})
    assert seen(fact, date(2027, 4, 30)) and not seen(fact, date(2027, 5, 1))


def test_the_sources_own_end_of_publicity_and_withdrawal_stand() -> None:
    assert not seen(Fact("penalty", date(2026, 4, 1), "serious", publicity_until=date(2026, 6, 30)), date(2026, 7, 1))
    assert not seen(Fact("penalty", date(2026, 4, 1), "serious", status="withdrawn"), date(2026, 4, 2))


def test_other_kinds_and_penalties_older_than_every_regime_follow_their_own_dates() -> None:
    assert seen(Fact("licence", date(2015, 1, 1), None), date(2026, 11, 28))
    assert seen(Fact("penalty", date(2019, 1, 1), "serious"), date(2026, 11, 28))
