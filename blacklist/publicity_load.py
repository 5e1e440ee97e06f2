"""Loading and checking publicity.toml: each table's keys are data, every error names regime and field."""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn

from blacklist.errors import PolicyError
from blacklist.publicity import (
    POLICY_FILE, SEVERITIES, SYSTEMS, DomainRule, PublicityPolicy, Regime, SeverityRule, ThresholdTable,
)

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
