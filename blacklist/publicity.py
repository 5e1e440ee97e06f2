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

import functools
import re
import tomllib
from calendar import monthrange
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn

from blacklist.errors import PenaltyError, PolicyError

POLICY_FILE = "publicity.toml"
SYSTEMS = ("credit", "samr")
SEVERITIES = ("minor", "ordinary", "serious")
_SEVERITY_NAMES = {"minor": "轻微", "ordinary": "一般", "serious": "严重"}
_DAY = timedelta(days=1)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the end of a shorter month."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


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


# --- loading and checking publicity.toml ------------------------------------------------------
# Each table's keys are data: key → (converter, required). A converter raises ValueError(reason).


def load_policy(path: Path | None = None) -> PublicityPolicy:
    """The policy in ``path``, or the packaged publicity.toml (read once); PolicyError if wrong."""
    if path is None:
        return _packaged_policy()
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: {exc}") from exc
    return _parse_policy(raw, str(path))


@functools.cache
def _packaged_policy() -> PublicityPolicy:
    return _parse_policy(resources.files("blacklist").joinpath(POLICY_FILE).read_text("utf-8"), POLICY_FILE)


def _parse_policy(raw: str, source: str) -> PublicityPolicy:
    try:
        data = _read(tomllib.loads(raw, parse_float=Decimal), _TOP, "policy")
        regimes = tuple(_regime(table, i) for i, table in enumerate(data["regimes"]))
        thresholds = tuple(_thresholds(table, i) for i, table in enumerate(data.get("low_fine_thresholds", [])))
        _check_overlaps(regimes, thresholds)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{source}: {exc}") from exc
    except PolicyError as exc:
        raise PolicyError(f"{source}: {exc}", regime=exc.regime, field=exc.field) from exc
    return PublicityPolicy(regimes, thresholds)


def _regime(table: dict[str, Any], index: int) -> Regime:
    where = table["id"] if isinstance(table.get("id"), str) and table["id"] else f"regimes[{index}]"
    fields = _read(table, _REGIME, where)
    _check_span(fields, where)
    severity = _read(fields["severity"], _SEVERITIES, where, "severity.")
    fields["severity"] = MappingProxyType({name: _severity(rule, where, f"severity.{name}.")
                                           for name, rule in severity.items()})
    fields["domains"] = tuple(DomainRule(key, **_read(entry, _DOMAIN, where, f"domains.{key}."))
                              for key, entry in fields.get("domains", {}).items())
    return Regime(**fields)


def _severity(table: Any, where: str, prefix: str) -> SeverityRule:
    rule = SeverityRule(**_read(table, _SEVERITY, where, prefix))
    if rule.max_months == 0:
        _fail(where, prefix + "max_months", "must be at least 1")
    return rule


def _thresholds(table: dict[str, Any], index: int) -> ThresholdTable:
    where = f"low_fine_thresholds[{index}]"
    fields = _read(table, _THRESHOLDS, where)
    _check_span(fields, where)
    provinces = fields.get("provinces", {})
    for code in provinces:
        if not re.fullmatch(r"\d{2}", code):
            _fail(where, f"provinces.{code}", "must be a 2-digit province code")
    amounts = _read(provinces, {code: (_as_amount, True) for code in provinces}, where, "provinces.")
    fields["provinces"] = MappingProxyType(amounts)
    return ThresholdTable(**fields)


def _check_span(fields: dict[str, Any], where: str) -> None:
    valid_from, valid_to = fields["valid_from"], fields.get("valid_to")
    if valid_to is not None and valid_to < valid_from:
        _fail(where, "valid_to", f"{valid_to.isoformat()} is before valid_from {valid_from.isoformat()}")


def _check_overlaps(regimes: tuple[Regime, ...], thresholds: tuple[ThresholdTable, ...]) -> None:
    ids = [regime.id for regime in regimes]
    for regime in regimes:
        if ids.count(regime.id) > 1:
            _fail(regime.id, "id", "used by more than one regime")
    for system in SYSTEMS:
        _check_disjoint([(r.id, r.valid_from, r.valid_to) for r in regimes if r.system == system])
    _check_disjoint([(f"low_fine_thresholds[{i}]", t.valid_from, t.valid_to) for i, t in enumerate(thresholds)])


def _check_disjoint(spans: list[tuple[str, date, date | None]]) -> None:
    ordered = sorted(spans, key=lambda span: span[1])
    for (left, _, left_to), (right, right_from, _) in zip(ordered, ordered[1:]):
        if left_to is None or left_to >= right_from:
            until = left_to.isoformat() if left_to else "further notice"
            _fail(right, "valid_from", f"{right_from.isoformat()} overlaps {left} (in force until {until})")


def _fail(where: str, field: str, reason: str) -> NoReturn:
    raise PolicyError(f"[{where}] {field}: {reason}", regime=where, field=field)


def _read(table: Any, spec: _Spec, where: str, prefix: str = "") -> dict[str, Any]:
    """The table's values converted by ``spec``; PolicyError naming an unknown, missing or bad key."""
    if not isinstance(table, dict):
        _fail(where, prefix.rstrip(".") or "(table)", "must be a table")
    for key in sorted(set(table) - set(spec)):
        _fail(where, prefix + key, "unknown key")
    for key in sorted(key for key, (_, required) in spec.items() if required and key not in table):
        _fail(where, prefix + key, "missing")
    values: dict[str, Any] = {}
    for key, value in table.items():
        try:
            values[key] = spec[key][0](value)
        except ValueError as exc:
            _fail(where, prefix + key, f"{exc}, got {value!r}")
    return values


def _as_date(value: Any) -> date:
    # TOML dates arrive as date; an ISO string is accepted too, a date-time is not (periods are days).
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise ValueError("must be a date (YYYY-MM-DD)") from exc


def _is_phrases(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) and item.strip() for item in value)


def _checked(test: Callable[[Any], bool], reason: str,
             convert: Callable[[Any], Any] = lambda value: value) -> Callable[[Any], Any]:
    """A converter that raises ValueError(reason) unless ``test`` holds."""
    def convert_checked(value: Any) -> Any:
        if not test(value):
            raise ValueError(reason)
        return convert(value)
    return convert_checked


# type(...) is int: TOML booleans are ints to isinstance, and must not pass for months or amounts.
_as_text = _checked(lambda v: isinstance(v, str) and bool(v.strip()), "must be non-empty text")
_as_system = _checked(lambda v: v in SYSTEMS, f"must be one of {', '.join(SYSTEMS)}")
_as_flag = _checked(lambda v: isinstance(v, bool), "must be true or false")
_as_months = _checked(lambda v: type(v) is int and v >= 0, "must be a whole number of months")
_as_phrases = _checked(_is_phrases, "must be a list of non-empty text", tuple)
_as_names = _checked(lambda v: _is_phrases(v) and len(v) > 0, "must name the domain at least once", tuple)
_as_amount = _checked(lambda v: type(v) in (int, Decimal) and v >= 0, "must be an amount in 万元, at least 0",
                      Decimal)
_as_table = _checked(lambda v: isinstance(v, dict), "must be a table")
_as_tables = _checked(lambda v: isinstance(v, list) and all(isinstance(i, dict) for i in v),
                      "must be an array of tables ([[...]])")
_Spec = Mapping[str, tuple[Callable[[Any], Any], bool]]
_TOP: _Spec = {"regimes": (_as_tables, True), "low_fine_thresholds": (_as_tables, False)}
_REGIME: _Spec = {
    "id": (_as_text, True), "system": (_as_system, True), "name": (_as_text, True),
    "legal_basis": (_as_text, True), "valid_from": (_as_date, True), "valid_to": (_as_date, False),
    "severity": (_as_table, True), "domains": (_as_table, False), "ban_extends_publicity": (_as_flag, False),
}
_SEVERITIES: _Spec = {name: (_as_table, True) for name in SEVERITIES}
_SEVERITY: _Spec = {
    "published": (_as_flag, True), "min_months": (_as_months, True), "max_months": (_as_months, True),
    "published_if_type": (_as_phrases, False), "low_fine_max_months": (_as_months, False),
    "low_fine_excluded_types": (_as_phrases, False),
}
_DOMAIN: _Spec = {"names": (_as_names, True), "min_months": (_as_months, True)}
_THRESHOLDS: _Spec = {
    "valid_from": (_as_date, True), "valid_to": (_as_date, False), "default": (_as_amount, True),
    "provinces": (_as_table, False),
}
