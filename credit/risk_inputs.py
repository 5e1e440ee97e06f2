"""What the risk classification reads from the store, one aggregate query per factor family.

Every query groups by entity over one chunk of entities (an id range on a full run, a list of ids
otherwise), so a million entities cost a few dozen set-based queries, never a query or an ORM
object per entity. The results are plain tuples and dicts for the pure scoring in credit.risk_score.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Float, String, and_, case, cast, distinct, exists, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from credit.clock import BEIJING
from credit.models import Claim, CreditRepair, Entity, Fact, ListEntry, Objection, RiskAssessment
from credit.risk_policy import RiskPolicy
from credit.workdays import add_months

ON_TIME = ""  # the filing day of a report filed without a date: before every deadline
Scope = Callable[[Any], ColumnElement[bool]]  # a column of entity ids → the chunk's condition


class EntityRow(NamedTuple):
    """The registration attributes the score reads, and the entity's current class."""

    id: int
    entity_type: str | None
    status: str | None
    registered_capital: float | Decimal | None  # 万元; compared with the policy's bands only
    established_on: date | None
    risk_class: str | None


@dataclass
class Inputs:
    """Everything one chunk of entities is scored from, keyed by entity id."""

    entities: list[EntityRow] = field(default_factory=list)
    status_changes: dict[int, int] = field(default_factory=dict)
    reports: dict[int, dict[int, str]] = field(default_factory=dict)  # year → earliest filing, ISO day
    penalties: dict[int, list[tuple[str | None, tuple[int, ...]]]] = field(default_factory=dict)
    lists: dict[int, list[tuple[str, int, int]]] = field(default_factory=dict)  # (list id, active, past)
    inspections: dict[int, list[tuple[str, int]]] = field(default_factory=dict)  # (result, count)
    objections: dict[int, int] = field(default_factory=dict)
    latest: dict[int, tuple[int, str]] = field(default_factory=dict)  # (score, class) last recorded


def day_end(day: date) -> datetime:
    """The end of ``day`` in Beijing as the store's naive UTC: timestamps before it are on or before it."""
    return _utc(datetime.combine(day + timedelta(days=1), time(), BEIJING))


def _utc(moment: datetime) -> datetime:
    offset = moment.utcoffset() or timedelta()
    return (moment - offset).replace(tzinfo=None)


def load_inputs(session: Session, scope: Scope, policy: RiskPolicy, as_of: date) -> Inputs:
    """Read every factor family of the chunk of entities ``scope`` selects, as of ``as_of``."""
    inputs = Inputs(entities=_entities(session, scope))
    if not inputs.entities:
        return inputs
    inputs.status_changes = _status_changes(session, scope, policy, as_of)
    inputs.reports = _reports(session, scope, policy, as_of)
    inputs.penalties = _penalties(session, scope, policy, as_of)
    inputs.lists = _lists(session, scope, policy, as_of)
    inputs.inspections = _inspections(session, scope, policy, as_of)
    inputs.objections = _objections(session, scope, as_of)
    inputs.latest = latest_scores(session, scope)
    return inputs


def _entities(session: Session, scope: Scope) -> list[EntityRow]:
    # Capital as a float (exact enough to compare with a band) and the date as ISO text: both far
    # cheaper to fetch than a Decimal and SQLAlchemy's parsing of SQLite dates.
    capital = type_coerce(Entity.registered_capital, Float)
    query = select(Entity.id, Entity.entity_type, Entity.status, capital, _iso(Entity.established_on),
                   Entity.risk_class).where(scope(Entity.id)).order_by(Entity.id)
    return [EntityRow(i, kind, status, money, date.fromisoformat(day) if day else None, risk)
            for i, kind, status, money, day, risk in session.execute(query)]


def _iso(column: Any) -> Any:
    """A date column read as its ISO text (YYYY-MM-DD) on both databases."""
    return cast(column, String)


def _status_changes(session: Session, scope: Scope, policy: RiskPolicy, as_of: date) -> dict[int, int]:
    """New status values first seen within the window, less the entity's very first status."""
    start, end = day_end(add_months(as_of, -policy.status_changes.window_months)), day_end(as_of)
    in_window = and_(Claim.first_seen >= start, Claim.first_seen < end)
    values = func.count(distinct(case((in_window, Claim.value))))
    older = func.max(case((Claim.first_seen < start, 1), else_=0))
    query = (select(Claim.entity_id, values, older)
             .where(scope(Claim.entity_id), Claim.field == "status", Claim.first_seen < end)
             .group_by(Claim.entity_id).having(values > 0))
    found = {}
    for entity_id, count, had_one in session.execute(query):
        changes = int(count) - (0 if had_one else 1)  # without an older status, the first value is no change
        if changes > 0:
            found[entity_id] = changes
    return found


def report_years(policy: RiskPolicy, as_of: date) -> range:
    """The report years whose deadline passed before ``as_of`` that the policy looks back on."""
    rules = policy.annual_reports
    last = as_of.year - 1 if as_of > rules.due_on(as_of.year - 1) else as_of.year - 2
    return range(max(rules.first_report_year, last - rules.lookback_years + 1), last + 1)


def _reports(session: Session, scope: Scope, policy: RiskPolicy, as_of: date) -> dict[int, dict[int, str]]:
    """The earliest filing (ISO day) on or before ``as_of`` of each report year looked at; undated ones are ON_TIME."""
    years = report_years(policy, as_of)
    if not years:
        return {}
    dated = and_(Fact.decided_on >= date(years[0], 1, 1), Fact.decided_on <= as_of)
    # Plain rows, folded here: grouping by a JSON value costs SQLite a sort several times the scan.
    query = (select(Fact.entity_id, Fact.body["year"].as_string(), _iso(Fact.decided_on))
             .where(scope(Fact.entity_id), Fact.kind == "annual_report", Fact.status == "active",
                    or_(Fact.decided_on.is_(None), dated)))
    wanted = {str(year): year for year in years}
    found: dict[int, dict[int, str]] = {}
    for entity_id, raw_year, filed in session.execute(query):
        year = wanted.get(raw_year) if isinstance(raw_year, str) else wanted.get(str(raw_year))
        if year is None:
            year = _int(raw_year)
            if year not in years:
                continue
        filed = filed or ON_TIME
        reports = found.setdefault(entity_id, {})
        if year not in reports or filed < reports[year]:
            reports[year] = filed
    return found


def _penalties(session: Session, scope: Scope, policy: RiskPolicy,
               as_of: date) -> dict[int, list[tuple[str | None, tuple[int, ...]]]]:
    """Per entity and severity, how many penalties fall in each window (the first that holds them)."""
    rules = policy.penalties
    bounds = [add_months(as_of, -months) for months in rules.windows_months]
    within = [func.sum(case((Fact.decided_on > bound, 1), else_=0)) for bound in bounds]
    query = (select(Fact.entity_id, Fact.severity, *within)
             .where(scope(Fact.entity_id), Fact.kind == "penalty", Fact.status == "active",
                    Fact.decided_on > bounds[-1], Fact.decided_on <= as_of)
             .group_by(Fact.entity_id, Fact.severity))
    if not rules.count_repaired:
        query = query.where(~exists().where(CreditRepair.fact_id == Fact.id, CreditRepair.status == "active",
                                            CreditRepair.repaired_on <= as_of))
    found: dict[int, list[tuple[str | None, tuple[int, ...]]]] = {}
    for entity_id, severity, *cumulative in session.execute(query):
        counts = tuple(int(c) - int(p) for c, p in zip(cumulative, [0, *cumulative[:-1]]))
        found.setdefault(entity_id, []).append((severity, counts))
    return found


def _lists(session: Session, scope: Scope, policy: RiskPolicy, as_of: date) -> dict[int, list[tuple[str, int, int]]]:
    """Per entity and list: entries active on ``as_of``, and entries removed within the past window."""
    past_start = add_months(as_of, -policy.lists.past_window_months)
    active = or_(ListEntry.removed_on.is_(None), ListEntry.removed_on > as_of)
    query = (select(ListEntry.entity_id, ListEntry.list_id, func.sum(case((active, 1), else_=0)),
                    func.sum(case((active, 0), else_=1)))
             .where(scope(ListEntry.entity_id), ListEntry.status != "withdrawn",
                    or_(ListEntry.listed_on.is_(None), ListEntry.listed_on <= as_of),
                    or_(ListEntry.removed_on.is_(None), ListEntry.removed_on > past_start))
             .group_by(ListEntry.entity_id, ListEntry.list_id))
    found: dict[int, list[tuple[str, int, int]]] = {}
    for entity_id, list_id, now, past in session.execute(query):
        found.setdefault(entity_id, []).append((list_id, int(now), int(past)))
    return found


def _inspections(session: Session, scope: Scope, policy: RiskPolicy, as_of: date) -> dict[int, list[tuple[str, int]]]:
    """Per entity, how many inspections within the window ended with each result."""
    start = add_months(as_of, -policy.inspections.window_months)
    result = Fact.body["result"].as_string()
    query = (select(Fact.entity_id, result, func.count())
             .where(scope(Fact.entity_id), Fact.kind == "inspection", Fact.status == "active",
                    Fact.decided_on > start, Fact.decided_on <= as_of)
             .group_by(Fact.entity_id, result))
    found: dict[int, list[tuple[str, int]]] = {}
    for entity_id, text, count in session.execute(query):
        found.setdefault(entity_id, []).append((text or "", int(count)))
    return found


def _objections(session: Session, scope: Scope, as_of: date) -> dict[int, int]:
    """Objections submitted by the end of ``as_of`` and not answered by then."""
    end = day_end(as_of)
    query = (select(Objection.entity_id, func.count())
             .where(scope(Objection.entity_id), Objection.submitted_at < end,
                    or_(Objection.answered_at.is_(None), Objection.answered_at >= end))
             .group_by(Objection.entity_id))
    return {entity_id: int(count) for entity_id, count in session.execute(query)}


def latest_scores(session: Session, scope: Scope) -> dict[int, tuple[int, str]]:
    """The score and class of each entity's latest assessment."""
    newest = select(func.max(RiskAssessment.id)).where(scope(RiskAssessment.entity_id)).group_by(
        RiskAssessment.entity_id)
    query = select(RiskAssessment.entity_id, RiskAssessment.score, RiskAssessment.risk_class).where(
        RiskAssessment.id.in_(newest))
    return {entity_id: (score, risk_class) for entity_id, score, risk_class in session.execute(query)}


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def id_chunks(ids: Sequence[int], size: int) -> list[Sequence[int]]:
    """Sorted, distinct ids in slices of at most ``size``."""
    ordered = sorted(set(ids))
    return [ordered[i:i + size] for i in range(0, len(ordered), size)]
