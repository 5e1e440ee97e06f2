"""Publicity periods and credit repair of administrative penalties, as dated policy (publicity.toml).

Two publications, chosen by the ``system`` argument: ``"credit"`` (default) is the national credit
platform under the NDRC regimes, ``"samr"`` the market-regulation publicity system under SAMR's
rules. Each publishes the same penalty for its own period, so a caller asks for the one it shows.
Repair ("一处修复、处处修复") and withdrawal stop both, so they apply whatever the system.

Dates: the regime is the one in force on the decision date and periods run from that date. A
minimum of N months allows repair from ``decided_on + N months``; a maximum of M months stops
publication on ``decided_on + M months``, so ``public_until`` (the last public day, inclusive, as
``Fact.publicity_until``) is the day before. Months clamp to month ends (01-31 + 1 month = 02-28).
SAMR counts from publication, which follows the decision within days; DOMAIN.md §3 counts from the
decision for every system, and so do we. Minor penalties under the 2026 measures are not published;
their "or at most 3 months" alternative is the ``published`` switch in publicity.toml.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from blacklist.errors import PenaltyError, PolicyError
from credit.workdays import add_months

POLICY_FILE = "publicity.toml"
SYSTEMS = ("credit", "samr")
SEVERITIES = ("minor", "ordinary", "serious")
_SEVERITY_NAMES = {"minor": "轻微", "ordinary": "一般", "serious": "严重"}
_DAY = timedelta(days=1)


def _covers(valid_from: date, valid_to: date | None, day: date) -> bool:
    return valid_from <= day and (valid_to is None or day <= valid_to)


@dataclass(frozen=True)
class SeverityRule:
    """How penalties of one severity are published under one regime."""

    published: bool
    min_months: int
    max_months: int
    published_if_type: tuple[str, ...] = ()
    low_fine_max_months: int | None = None
    low_fine_excluded_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class DomainRule:
    """A special domain (food, special equipment, …) whose minimum publicity is longer."""

    key: str
    names: tuple[str, ...]
    min_months: int


@dataclass(frozen=True)
class Regime:
    """One dated publicity regime of one system, with its legal basis."""

    id: str
    system: str
    name: str
    legal_basis: str
    valid_from: date
    severity: Mapping[str, SeverityRule]
    domains: tuple[DomainRule, ...]
    valid_to: date | None = None
    ban_extends_publicity: bool = False


@dataclass(frozen=True)
class ThresholdTable:
    """Low-fine thresholds (万元) per 2-digit province code, with a default, for a period."""

    valid_from: date
    default: Decimal
    provinces: Mapping[str, Decimal]
    valid_to: date | None = None


@dataclass(frozen=True)
class PublicityPolicy:
    """All publicity regimes and low-fine threshold tables."""

    regimes: tuple[Regime, ...]
    thresholds: tuple[ThresholdTable, ...]

    def regime_on(self, system: str, day: date) -> Regime:
        """The regime of ``system`` in force on ``day``; PenaltyError when there is none."""
        for regime in self.regimes:
            if regime.system == system and _covers(regime.valid_from, regime.valid_to, day):
                return regime
        raise PenaltyError(f"no {system!r} publicity regime in force on {day.isoformat()}")

    def low_fine_threshold(self, province: str | None, day: date) -> Decimal:
        """The highest fine (万元, inclusive) that counts as low in ``province`` on ``day``."""
        for table in self.thresholds:
            if _covers(table.valid_from, table.valid_to, day):
                return table.provinces.get(province or "", table.default)
        raise PolicyError(f"no low-fine threshold table in force on {day.isoformat()}",
                          regime="low_fine_thresholds", field="valid_from")


@dataclass(frozen=True)
class PenaltyFacts:
    """What publicity depends on, taken from a penalty fact and its body."""

    decided_on: date
    severity: str
    penalty_type: str | None = None
    domain: str | None = None
    fine_wan: Decimal | None = None
    province: str | None = None
    ban_months: int | None = None
    repaired_on: date | None = None
    withdrawn: bool = False


@dataclass(frozen=True)
class Publicity:
    """When a penalty is public and when repair may be applied for, and why."""

    published: bool
    public_from: date | None
    public_until: date | None
    repair_from: date | None
    regime_id: str
    legal_basis: str
    reason: str


def publicity_of(penalty: PenaltyFacts, policy: PublicityPolicy, system: str = "credit") -> Publicity:
    """Publication and repair dates of a penalty under the regime in force on its decision date."""
    regime = policy.regime_on(system, penalty.decided_on)
    rule = _rule_of(regime, penalty.severity)
    withheld = _withheld(penalty, rule)
    if withheld:
        return Publicity(False, None, None, None, regime.id, regime.legal_basis, withheld)
    max_months, max_note = _max_months(penalty, policy, regime, rule)
    min_months, min_note = _min_months(penalty, regime, rule)
    return _dated(penalty, regime, min_months, max_months, max_note + min_note)


def _dated(penalty: PenaltyFacts, regime: Regime, min_months: int, max_months: int,
           notes: list[str]) -> Publicity:
    """The dates of a published penalty; a repair stops publication on the repair date."""
    end = add_months(penalty.decided_on, max_months)
    repair = add_months(penalty.decided_on, min_months)
    # Repair that could only start once publication has ended by itself is no repair at all.
    repair_from = repair if repair < end else None
    reason = _reason(penalty.severity, max_months, min_months if repair_from else None, notes)
    until = end - _DAY
    if penalty.repaired_on is not None and penalty.repaired_on <= until:
        until = penalty.repaired_on - _DAY
        reason += f"；已于{penalty.repaired_on.isoformat()}信用修复，停止公示"
    public = until >= penalty.decided_on
    return Publicity(public, penalty.decided_on if public else None, until if public else None,
                     repair_from, regime.id, regime.legal_basis, reason)


def is_public(penalty: PenaltyFacts, policy: PublicityPolicy, on: date, system: str = "credit") -> bool:
    """Whether the penalty is shown on ``on``: published, not expired, repaired or withdrawn by then."""
    found = publicity_of(penalty, policy, system)
    if found.public_from is None or found.public_until is None:
        return False
    return found.public_from <= on <= found.public_until


def _rule_of(regime: Regime, severity: str) -> SeverityRule:
    if severity not in regime.severity:
        raise PenaltyError(f"unknown severity {severity!r}; expected one of {', '.join(SEVERITIES)}")
    return regime.severity[severity]


def _mentions(text: str | None, phrases: tuple[str, ...]) -> bool:
    return text is not None and any(phrase in text for phrase in phrases)


def _withheld(penalty: PenaltyFacts, rule: SeverityRule) -> str:
    """Why the penalty is not published at all, or "" when it is."""
    if penalty.withdrawn:
        return "处罚决定已撤销或变更，撤下公示"
    if not rule.published and not _mentions(penalty.penalty_type, rule.published_if_type):
        return f"{_SEVERITY_NAMES[penalty.severity]}处罚，不予公示"
    return ""


def _max_months(penalty: PenaltyFacts, policy: PublicityPolicy, regime: Regime,
                rule: SeverityRule) -> tuple[int, list[str]]:
    ban = penalty.ban_months or 0
    if regime.ban_extends_publicity and ban > rule.max_months:
        return ban, [f"限制期限{ban}个月，按实际限制期限公示"]
    if rule.low_fine_max_months is not None and penalty.fine_wan is not None \
            and not _mentions(penalty.penalty_type, rule.low_fine_excluded_types) \
            and penalty.fine_wan <= policy.low_fine_threshold(penalty.province, penalty.decided_on):
        return rule.low_fine_max_months, ["较低数额罚款"]
    return rule.max_months, []


def _min_months(penalty: PenaltyFacts, regime: Regime, rule: SeverityRule) -> tuple[int, list[str]]:
    domain = (penalty.domain or "").strip()
    for special in regime.domains:
        if domain in (special.key, *special.names) and special.min_months > rule.min_months:
            return special.min_months, [f"{special.names[0]}领域"]
    return rule.min_months, []


def _reason(severity: str, max_months: int, min_months: int | None, notes: list[str]) -> str:
    head = "，".join([f"{_SEVERITY_NAMES[severity]}处罚", *notes, f"公示{max_months}个月"])
    if min_months is None:
        return f"{head}，期满前不可申请信用修复"
    return f"{head}，满{min_months}个月可申请信用修复"
