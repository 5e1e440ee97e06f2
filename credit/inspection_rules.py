"""The draw's dated policy (credit/inspection_policy.toml) and the rules one plan draws under.

The policy bounds what a plan may choose (ratios per risk class) and fixes the rest (officers per
inspection, the recent-inspection period, the load cap); ``InspectionPolicy.rules`` turns a plan's
choices into the ``DrawRules`` that are published with the result and re-run by verification.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from credit.errors import CreditError
from credit.policyfile import read_policy_file

POLICY_FILE = Path(__file__).with_name("inspection_policy.toml")
TABLE = "draw"


class InspectionError(CreditError):
    """Base of the errors of inspection planning and the draw."""


class InspectionPolicyError(InspectionError):
    """The policy file is wrong; the message names the file and the key."""


class RatioError(InspectionError):
    """A plan's ratio is unknown, not a number, or outside the policy's bounds; names the class."""


class DrawError(InspectionError):
    """A seed, snapshot, rules or published result the draw cannot use; says which and why."""


def decimal_text(value: Decimal) -> str:
    """A decimal in its shortest exact form (``0.10`` → ``0.1``), as the canonical JSON holds it."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def parse_decimal(value: object) -> Decimal:
    """A decimal from text, an integer or a float as written (``0.05`` stays exactly 0.05)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError(f"{value!r} is not a number")
    try:
        number = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except InvalidOperation as exc:
        raise ValueError(f"{value!r} is not a number") from exc
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return number


@dataclass(frozen=True)
class DrawRules:
    """Everything besides seed and snapshot that decides a draw; published with its result."""

    ratios: dict[str, Decimal]  # stratum → ratio; the unclassified stratum included
    unclassified: str
    min_inspectors: int
    recent_months: int
    load_cap_factor: Decimal
    require_local: bool

    def __post_init__(self) -> None:
        if self.unclassified not in self.ratios:
            raise DrawError(f"rules: no ratio for the unclassified stratum {self.unclassified!r}")
        for name, ratio in self.ratios.items():
            if not isinstance(ratio, Decimal) or not Decimal(0) <= ratio <= Decimal(1):
                raise DrawError(f"rules: ratio of {name!r} must be a decimal from 0 to 1, not {ratio!r}")
        if type(self.min_inspectors) is not int or self.min_inspectors < 2:
            raise DrawError("rules: min_inspectors must be a whole number of at least 2")
        if type(self.recent_months) is not int or self.recent_months < 0:
            raise DrawError("rules: recent_months must be a whole number of at least 0")
        if not isinstance(self.load_cap_factor, Decimal) or not self.load_cap_factor >= 1:
            raise DrawError("rules: load_cap_factor must be a decimal of at least 1")
        if not isinstance(self.require_local, bool):
            raise DrawError("rules: require_local must be true or false")

    def to_dict(self) -> dict[str, Any]:
        """The rules as JSON values (decimals as exact text)."""
        return {"ratios": {name: decimal_text(r) for name, r in self.ratios.items()},
                "unclassified": self.unclassified, "min_inspectors": self.min_inspectors,
                "recent_months": self.recent_months, "load_cap_factor": decimal_text(self.load_cap_factor),
                "require_local": self.require_local}

    @classmethod
    def from_dict(cls, data: Any) -> DrawRules:
        """Rules read back from ``to_dict``'s form; a malformed value raises DrawError."""
        try:
            return cls({str(k): parse_decimal(v) for k, v in data["ratios"].items()}, data["unclassified"],
                       data["min_inspectors"], data["recent_months"], parse_decimal(data["load_cap_factor"]),
                       data["require_local"])
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise DrawError(f"rules: malformed {exc!r}") from exc


@dataclass(frozen=True)
class InspectionPolicy:
    """The dated draw policy: legal basis, risk classes, ratio bounds and defaults, counts."""

    path: Path
    effective_from: date
    legal_basis: str
    ratio_basis: str
    classes: tuple[str, ...]
    unclassified_stratum: str
    unclassified_ratio_of: str
    ratio_bounds: dict[str, tuple[Decimal, Decimal]]
    default_ratios: dict[str, Decimal]
    min_inspectors: int
    recent_inspection_months: int
    publication_working_days: int
    load_cap_factor: Decimal
    require_local_inspectors: bool
    result_due_days: int  # days after the draw an assigned task may stay without a result; 0: no limit

    def check_ratio(self, risk_class: str, value: object) -> Decimal:
        """The plan's ratio for ``risk_class`` as a decimal within the policy's bounds, or RatioError."""
        if risk_class not in self.ratio_bounds:
            raise RatioError(f"ratio for unknown risk class {risk_class!r} (classes: {', '.join(self.classes)})")
        try:
            ratio = parse_decimal(value)
        except ValueError as exc:
            raise RatioError(f"ratio for class {risk_class}: {exc}") from exc
        low, high = self.ratio_bounds[risk_class]
        if not low <= ratio <= high:
            raise RatioError(f"ratio for class {risk_class} is {decimal_text(ratio)}, outside the policy's bounds "
                             f"{decimal_text(low)}–{decimal_text(high)} ({self.path})")
        return ratio

    def rules(self, ratios: Mapping[str, object] | None = None, require_local: bool | None = None,
              on: date | None = None) -> DrawRules:
        """The rules of a plan choosing ``ratios`` (the policy's defaults for the classes it leaves out)."""
        if on is not None and on < self.effective_from:
            raise InspectionPolicyError(f"{self.path}: the policy is in force from {self.effective_from}, not on {on}")
        chosen = dict(self.default_ratios)
        for risk_class, value in (ratios or {}).items():
            chosen[risk_class] = self.check_ratio(risk_class, value)
        chosen[self.unclassified_stratum] = chosen[self.unclassified_ratio_of]
        local = self.require_local_inspectors if require_local is None else require_local
        return DrawRules(chosen, self.unclassified_stratum, self.min_inspectors,
                         self.recent_inspection_months, self.load_cap_factor, local)


@functools.cache
def load_inspection_policy(path: Path = POLICY_FILE) -> InspectionPolicy:
    """Read and check the draw policy; a wrong or missing key raises InspectionPolicyError naming it."""
    data = read_policy_file(path, InspectionPolicyError)
    table = data.get(TABLE)
    if not isinstance(table, dict):
        raise InspectionPolicyError(f"{path}: missing table [{TABLE}]")
    wanted = set(InspectionPolicy.__dataclass_fields__) - {"path"}
    missing, unknown = wanted - set(table), set(table) - wanted
    if missing or unknown:
        raise InspectionPolicyError(f"{path}: [{TABLE}] missing {sorted(missing)}, unknown {sorted(unknown)}")
    where = f"{path}: [{TABLE}]"
    classes = _classes(table, where)
    policy = InspectionPolicy(
        path, _day(table, "effective_from", where), _text(table, "legal_basis", where),
        _text(table, "ratio_basis", where), classes, _text(table, "unclassified_stratum", where),
        _text(table, "unclassified_ratio_of", where), _bounds(table, classes, where), {},
        _count(table, "min_inspectors", where, 2), _count(table, "recent_inspection_months", where, 0),
        _count(table, "publication_working_days", where, 1), _factor(table, where), _flag(table, where),
        _count(table, "result_due_days", where, 0))
    if policy.unclassified_stratum in classes:
        raise InspectionPolicyError(f"{where} unclassified_stratum must not be one of the classes")
    if policy.unclassified_ratio_of not in classes:
        raise InspectionPolicyError(f"{where} unclassified_ratio_of must be one of the classes {list(classes)}")
    return replace(policy, default_ratios=_defaults(policy, table, where))


def _defaults(policy: InspectionPolicy, table: dict[str, Any], where: str) -> dict[str, Decimal]:
    defaults = table["default_ratios"]
    if not isinstance(defaults, dict) or set(defaults) != set(policy.classes):
        raise InspectionPolicyError(f"{where} default_ratios must give exactly the classes {list(policy.classes)}")
    try:
        return {name: policy.check_ratio(name, defaults[name]) for name in policy.classes}
    except RatioError as exc:
        raise InspectionPolicyError(f"{where} default_ratios: {exc}") from exc


def _classes(table: dict[str, Any], where: str) -> tuple[str, ...]:
    classes = table["classes"]
    if (not isinstance(classes, list) or not classes or len(set(classes)) != len(classes)
            or not all(isinstance(c, str) and c.strip() == c and c for c in classes)):
        raise InspectionPolicyError(f"{where} classes must be a list of distinct non-empty names")
    return tuple(classes)


def _bounds(table: dict[str, Any], classes: tuple[str, ...], where: str) -> dict[str, tuple[Decimal, Decimal]]:
    bounds = table["ratio_bounds"]
    if not isinstance(bounds, dict) or set(bounds) != set(classes):
        raise InspectionPolicyError(f"{where} ratio_bounds must give exactly the classes {list(classes)}")
    out = {}
    for name in classes:
        pair = bounds[name]
        try:
            low, high = (parse_decimal(v) for v in pair) if isinstance(pair, list) and len(pair) == 2 else (None, None)
        except ValueError:
            low = high = None
        if low is None or high is None or not Decimal(0) <= low <= high <= Decimal(1):
            raise InspectionPolicyError(f"{where} ratio_bounds.{name} must be [lowest, highest] with 0 <= lowest "
                                        f"<= highest <= 1, not {pair!r}")
        out[name] = (low, high)
    return out


def _day(table: dict[str, Any], name: str, where: str) -> date:
    value = table[name]
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InspectionPolicyError(f"{where} {name} must be a date")
    return value


def _text(table: dict[str, Any], name: str, where: str) -> str:
    if not isinstance(table[name], str) or not table[name].strip():
        raise InspectionPolicyError(f"{where} {name} must be non-empty text")
    return str(table[name])


def _count(table: dict[str, Any], name: str, where: str, least: int) -> int:
    if type(table[name]) is not int or table[name] < least:
        raise InspectionPolicyError(f"{where} {name} must be a whole number of at least {least}")
    return int(table[name])


def _factor(table: dict[str, Any], where: str) -> Decimal:
    try:
        factor = parse_decimal(table["load_cap_factor"])
    except ValueError as exc:
        raise InspectionPolicyError(f"{where} load_cap_factor: {exc}") from exc
    if factor < 1:
        raise InspectionPolicyError(f"{where} load_cap_factor must be at least 1")
    return factor


def _flag(table: dict[str, Any], where: str) -> bool:
    if not isinstance(table["require_local_inspectors"], bool):
        raise InspectionPolicyError(f"{where} require_local_inspectors must be true or false")
    return bool(table["require_local_inspectors"])
