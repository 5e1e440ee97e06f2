"""The dated policy of credit risk classes (credit/risk_policy.toml): weights, windows, thresholds.

Every number the classification uses comes from here; a wrong or missing entry raises
RiskPolicyError naming the file, the version and the key.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from credit.errors import CreditError
from credit.policyfile import read_policy_file
from credit.text import normalise_text

RISK_FILE = Path(__file__).with_name("risk_policy.toml")
SEVERITIES = ("minor", "ordinary", "serious")
DEFAULT = "default"


class RiskPolicyError(CreditError):
    """The risk policy file is wrong; the message names the file, the version and the key."""


@dataclass(frozen=True)
class Band:
    """Points for a value below ``limit`` (years of age, 万元 of capital)."""

    limit: Decimal
    points: int


@dataclass(frozen=True, eq=False)  # hashed by identity: a memo of lookups keys on the policy's tuples
class Phrase:
    """Points for a text holding ``phrase`` (folded as credit.text.normalise_text folds)."""

    phrase: str
    points: int


@dataclass(frozen=True)
class RiskClass:
    """One class: its name (what Entity.risk_class holds), its label, the lowest score in it."""

    name: str
    label: str
    min_score: int | None


@dataclass(frozen=True)
class Registration:
    """Registration attributes: age, registered capital, entity type, status."""

    max_points: int
    age: tuple[Band, ...]
    age_unknown: int
    capital: tuple[Band, ...]
    capital_unknown: int
    entity_type: tuple[Phrase, ...]
    entity_type_default: int
    status: tuple[Phrase, ...]
    status_default: int


@dataclass(frozen=True)
class StatusChanges:
    """Changes of registration status seen within a window."""

    window_months: int
    points_each: int
    max_points: int


@dataclass(frozen=True)
class AnnualReports:
    """Punctuality of the annual reports of the last report years."""

    due: tuple[int, int]
    first_report_year: int
    lookback_years: int
    missing_each: int
    late_each: int
    max_points: int

    def due_on(self, year: int) -> date:
        """The last day to file the report of ``year``."""
        return date(year + 1, *self.due)


@dataclass(frozen=True)
class Penalties:
    """Penalties by severity and by how recent they are."""

    windows_months: tuple[int, ...]
    points: dict[str, tuple[int, ...]]
    unknown_severity: str
    count_repaired: bool
    max_points: int


@dataclass(frozen=True)
class Lists:
    """List memberships, current and past, by list id."""

    past_window_months: int
    max_points: int
    active: dict[str, int]
    past: dict[str, int]

    def active_points(self, list_id: str) -> int:
        """Points for being on ``list_id`` now."""
        return self.active.get(list_id, self.active[DEFAULT])

    def past_points(self, list_id: str) -> int:
        """Points for having left ``list_id`` within the window."""
        return self.past.get(list_id, self.past[DEFAULT])


@dataclass(frozen=True)
class Inspections:
    """Inspection results within a window."""

    window_months: int
    results: tuple[Phrase, ...]
    other_points: int
    max_points: int


@dataclass(frozen=True)
class Objections:
    """Objections not yet answered."""

    open_each: int
    max_points: int


@dataclass(frozen=True)
class RiskPolicy:
    """One dated version of the classification policy."""

    id: str
    effective_from: date
    legal_basis: str
    classes: tuple[RiskClass, ...]
    registration: Registration
    status_changes: StatusChanges
    annual_reports: AnnualReports
    penalties: Penalties
    lists: Lists
    inspections: Inspections
    objections: Objections

    def class_of(self, score: int) -> str:
        """The class a score falls in: the last whose lowest score it reaches."""
        found = self.classes[0].name
        for risk_class in self.classes[1:]:
            if risk_class.min_score is not None and score >= risk_class.min_score:
                found = risk_class.name
        return found

    def label_of(self, name: str) -> str:
        """The Chinese label of class ``name`` ("" when the policy has no such class)."""
        return next((c.label for c in self.classes if c.name == name), "")


@dataclass(frozen=True)
class RiskPolicies:
    """Every version of the policy, oldest first."""

    versions: tuple[RiskPolicy, ...]

    def on(self, day: date) -> RiskPolicy:
        """The version in force on ``day``; RiskPolicyError before the first one."""
        found = [v for v in self.versions if v.effective_from <= day]
        if not found:
            raise RiskPolicyError(f"no risk policy version in force on {day.isoformat()}"
                                  f" (the first takes effect on {self.versions[0].effective_from.isoformat()})")
        return found[-1]


@functools.cache
def load_risk_policy(path: Path = RISK_FILE) -> RiskPolicies:
    """Read and check every version of the policy file."""
    data = read_policy_file(path, RiskPolicyError)
    blocks = data.get("version")
    if not isinstance(blocks, list) or not blocks:
        raise RiskPolicyError(f"{path}: no [[version]] table")
    versions = sorted((_version(_Where(f"{path}: [[version]] {i + 1}"), block) for i, block in enumerate(blocks)),
                      key=lambda v: v.effective_from)
    for older, newer in zip(versions, versions[1:]):
        if older.effective_from == newer.effective_from:
            raise RiskPolicyError(f"{path}: versions {older.id} and {newer.id} take effect on the same day")
    if len({v.id for v in versions}) != len(versions):
        raise RiskPolicyError(f"{path}: version ids must be unique")
    return RiskPolicies(tuple(versions))


class _Where:
    """Where in the file a value sits, for error messages; reads and checks typed values."""

    def __init__(self, where: str) -> None:
        self.where = where

    def error(self, key: str, what: str) -> RiskPolicyError:
        return RiskPolicyError(f"{self.where} {key}: {what}")

    def table(self, data: Any, key: str, wanted: set[str]) -> dict[str, Any]:
        table = data.get(key) if isinstance(data, dict) else None
        if not isinstance(table, dict):
            raise self.error(key, "missing table")
        missing, unknown = wanted - set(table), set(table) - wanted
        if missing or unknown:
            raise self.error(key, f"missing {sorted(missing)}, unknown {sorted(unknown)}")
        return table

    def whole(self, table: dict[str, Any], key: str, least: int | None = None) -> int:
        value = table.get(key)
        if type(value) is not int or (least is not None and value < least):
            raise self.error(key, "must be a whole number" + (f" of at least {least}" if least is not None else ""))
        return value

    def text(self, table: dict[str, Any], key: str) -> str:
        value = table.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, "must be non-empty text")
        return value.strip()

    def day(self, table: dict[str, Any], key: str) -> date:
        value = table.get(key)
        if not isinstance(value, date) or isinstance(value, datetime):
            raise self.error(key, "must be a date (YYYY-MM-DD)")
        return value

    def sub(self, name: str) -> _Where:
        return _Where(f"{self.where} [{name}]")


def _version(at: _Where, block: Any) -> RiskPolicy:
    if not isinstance(block, dict):
        raise at.error("version", "must be a table")
    at = _Where(f"{at.where} ({block.get('id', 'no id')})")
    sections = {"registration", "status_changes", "annual_reports", "penalties", "lists", "inspections",
                "objections"}
    known = {"id", "effective_from", "legal_basis", "classes"} | sections
    missing, unknown = known - set(block), set(block) - known
    if missing or unknown:
        raise at.error("version", f"missing {sorted(missing)}, unknown {sorted(unknown)}")
    return RiskPolicy(
        id=at.text(block, "id"), effective_from=at.day(block, "effective_from"),
        legal_basis=at.text(block, "legal_basis"), classes=_classes(at, block["classes"]),
        registration=_registration(at, block), status_changes=_status_changes(at, block),
        annual_reports=_annual_reports(at, block), penalties=_penalties(at, block), lists=_lists(at, block),
        inspections=_inspections(at, block), objections=_objections(at, block),
    )


def _classes(at: _Where, value: Any) -> tuple[RiskClass, ...]:
    if not isinstance(value, list) or len(value) < 2 or not all(isinstance(v, dict) for v in value):
        raise at.error("classes", "must be at least two [[version.classes]] tables")
    found: list[RiskClass] = []
    for i, table in enumerate(value):
        where = at.sub(f"classes {i + 1}")
        if set(table) - {"name", "label", "min_score"} or ("min_score" in table) != (i > 0):
            raise where.error("classes", "each needs name and label; every class but the first a min_score")
        name = where.text(table, "name")
        if len(name) > 2:
            raise where.error("name", "must be at most 2 characters")
        score = where.whole(table, "min_score") if i else None
        if score is not None and found[-1].min_score is not None and score <= found[-1].min_score:
            raise where.error("min_score", f"must be above the previous class's ({found[-1].min_score})")
        found.append(RiskClass(name, where.text(table, "label"), score))
    if len({c.name for c in found}) != len(found):
        raise at.error("classes", "names must be unique")
    return tuple(found)


def _registration(at: _Where, block: dict[str, Any]) -> Registration:
    keys = {"max_points", "age", "age_unknown", "capital", "capital_unknown", "entity_type",
            "entity_type_default", "status", "status_default"}
    table, where = at.table(block, "registration", keys), at.sub("registration")
    return Registration(
        max_points=where.whole(table, "max_points", 0), age=_bands(where, table, "age", "under_years"),
        age_unknown=where.whole(table, "age_unknown"), capital=_bands(where, table, "capital", "below"),
        capital_unknown=where.whole(table, "capital_unknown"),
        entity_type=_phrases(where, table, "entity_type"),
        entity_type_default=where.whole(table, "entity_type_default"),
        status=_phrases(where, table, "status"), status_default=where.whole(table, "status_default"),
    )


def _bands(at: _Where, table: dict[str, Any], key: str, limit: str) -> tuple[Band, ...]:
    value = table.get(key)
    if not isinstance(value, list) or not all(isinstance(v, dict) and set(v) == {limit, "points"} for v in value):
        raise at.error(key, f"must be a list of {{ {limit} = number, points = number }}")
    bands = []
    for band in value:
        raw = band[limit]
        if type(raw) not in (int, float) or raw <= 0:
            raise at.error(key, f"{limit} must be a positive number")
        bands.append(Band(Decimal(str(raw)), at.whole(band, "points")))
    if any(a.limit >= b.limit for a, b in zip(bands, bands[1:])):
        raise at.error(key, f"bands must be in increasing order of {limit}")
    return tuple(bands)


def _phrases(at: _Where, table: dict[str, Any], key: str) -> tuple[Phrase, ...]:
    value = table.get(key)
    if not isinstance(value, list) or not all(isinstance(v, dict) and set(v) == {"phrase", "points"} for v in value):
        raise at.error(key, "must be a list of { phrase = \"text\", points = number }")
    phrases = tuple(Phrase(normalise_text(at.text(v, "phrase")), at.whole(v, "points")) for v in value)
    if not all(p.phrase for p in phrases):
        raise at.error(key, "has an empty phrase")
    return phrases


def _status_changes(at: _Where, block: dict[str, Any]) -> StatusChanges:
    table = at.table(block, "status_changes", {"window_months", "points_each", "max_points"})
    where = at.sub("status_changes")
    return StatusChanges(where.whole(table, "window_months", 1), where.whole(table, "points_each"),
                         where.whole(table, "max_points", 0))


def _annual_reports(at: _Where, block: dict[str, Any]) -> AnnualReports:
    keys = {"due", "first_report_year", "lookback_years", "missing_each", "late_each", "max_points"}
    table, where = at.table(block, "annual_reports", keys), at.sub("annual_reports")
    due = table["due"]
    if not (isinstance(due, list) and len(due) == 2 and all(type(v) is int for v in due)):
        raise where.error("due", "must be [month, day]")
    try:
        date(2001, due[0], due[1])
    except ValueError as exc:
        raise where.error("due", f"is not a day of the year: {exc}") from exc
    return AnnualReports((due[0], due[1]), where.whole(table, "first_report_year", 1900),
                         where.whole(table, "lookback_years", 1), where.whole(table, "missing_each"),
                         where.whole(table, "late_each"), where.whole(table, "max_points", 0))


def _penalties(at: _Where, block: dict[str, Any]) -> Penalties:
    keys = {"windows_months", "unknown_severity", "count_repaired", "max_points", *SEVERITIES}
    table, where = at.table(block, "penalties", keys), at.sub("penalties")
    windows = table["windows_months"]
    if (not isinstance(windows, list) or not windows or not all(type(w) is int and w > 0 for w in windows)
            or windows != sorted(set(windows))):
        raise where.error("windows_months", "must be a non-empty list of increasing whole months")
    points = {}
    for severity in SEVERITIES:
        row = table[severity]
        if not isinstance(row, list) or len(row) != len(windows) or not all(type(p) is int for p in row):
            raise where.error(severity, f"must be {len(windows)} whole numbers, one per window")
        points[severity] = tuple(row)
    if table["unknown_severity"] not in SEVERITIES:
        raise where.error("unknown_severity", f"must be one of {list(SEVERITIES)}")
    if not isinstance(table["count_repaired"], bool):
        raise where.error("count_repaired", "must be true or false")
    return Penalties(tuple(windows), points, table["unknown_severity"], table["count_repaired"],
                     where.whole(table, "max_points", 0))


def _lists(at: _Where, block: dict[str, Any]) -> Lists:
    table, where = at.table(block, "lists", {"past_window_months", "max_points", "active", "past"}), at.sub("lists")
    by_list = {}
    for name in ("active", "past"):
        points = table[name]
        if not isinstance(points, dict) or DEFAULT not in points:
            raise where.error(name, "must be a table of list id = points with a default")
        by_list[name] = {key: where.sub(name).whole(points, key) for key in points}
    return Lists(where.whole(table, "past_window_months", 1), where.whole(table, "max_points", 0),
                 by_list["active"], by_list["past"])


def _inspections(at: _Where, block: dict[str, Any]) -> Inspections:
    table = at.table(block, "inspections", {"window_months", "results", "other_points", "max_points"})
    where = at.sub("inspections")
    return Inspections(where.whole(table, "window_months", 1), _phrases(where, table, "results"),
                       where.whole(table, "other_points"), where.whole(table, "max_points", 0))


def _objections(at: _Where, block: dict[str, Any]) -> Objections:
    table, where = at.table(block, "objections", {"open_each", "max_points"}), at.sub("objections")
    return Objections(where.whole(table, "open_each"), where.whole(table, "max_points", 0))
