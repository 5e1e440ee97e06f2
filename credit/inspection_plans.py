"""双随机 plans in the store: commit a seed, freeze the registers, draw, and verify (DOMAIN.md §4).

A plan's life, one function per step; each flushes and never commits:

1. ``create_plan`` fixes the filters and the rules (ratios checked against the dated policy),
   makes a seed and stores only its commitment. The seed is returned once: the planner keeps it
   until the draw (it cannot be read back, as an API token cannot).
2. ``take_snapshot`` freezes, once, the registers the filters select: the entities, the active
   inspectors, their recent inspections (tasks of earlier plans), the complainants the caller
   gives, the plan's items. Publish its hash beside the commitment before the draw.
3. ``draw_plan`` takes the seed, checks it against the commitment, draws (credit/inspections.py)
   and records the seed, the result and one task per drawn target (unassigned ones with reason).
4. ``verify_plan`` re-runs the draw from what the plan stored and names every mismatch.

Complainants: the objection table's ``agency_id`` is the agency owning the objected record, and
the objector is the anonymous public, so it names no complainant agency and is not read here;
complaints (12315 and the like) reach ``take_snapshot`` from its caller.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import ColumnElement, and_, insert, not_, or_, select, true
from sqlalchemy.orm import Session

from credit.clock import utcnow
from credit.inspection_rules import DrawRules, InspectionError, decimal_text, load_inspection_policy
from credit.inspection_snapshot import snapshot_from_dict, snapshot_json
from credit.inspections import (
    Complaint,
    DrawResult,
    EntityRow,
    InspectionItem,
    Inspector,
    RecentInspection,
    Snapshot,
    Verification,
    draw,
    new_seed,
    result_from_dict,
    result_json,
    seed_commitment,
    verify,
)
from credit.models import (
    Entity,
    InspectionItemRecord,
    InspectionPlan,
    InspectionTask,
    InspectorRecord,
    ListEntry,
)
from credit.status import INACTIVE_MARKS
from credit.workdays import add_months

DONE_STATUSES = ("assigned", "done")
EXPORT_FORMAT = "gongxin-inspection-plan/1"


class PlanError(InspectionError):
    """A plan that does not exist, is in the wrong state for the step, or was given a wrong seed or filter."""


@dataclass(frozen=True)
class PlanFilters:
    """Which entities and inspectors a plan draws from (empty: no restriction)."""

    region_prefix: str = ""
    industries: tuple[str, ...] = ()
    entity_types: tuple[str, ...] = ()
    lists: tuple[str, ...] = ()  # an active entry on any of these lists
    operating_only: bool = True  # leave out deregistered, revoked, moved-out… entities
    inspector_agencies: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not (self.region_prefix.isdigit() or not self.region_prefix) or len(self.region_prefix) > 6:
            raise PlanError(f"region_prefix must be up to 6 digits of a division code, not {self.region_prefix!r}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlanFilters:
        """Filters read back from the plan's JSON."""
        def texts(name: str) -> tuple[str, ...]:
            return tuple(map(str, data.get(name, ())))

        return cls(str(data.get("region_prefix", "")), texts("industries"), texts("entity_types"), texts("lists"),
                   bool(data.get("operating_only", True)), texts("inspector_agencies"))


def save_inspector(session: Session, inspector_id: str, name: str, agency_id: str, division_code: str | None,
                   declared_ties: Iterable[int] = (), active: bool = True) -> InspectorRecord:
    """Add an officer to the inspector register or update their entry (ties replace the old ones)."""
    record = session.get(InspectorRecord, inspector_id) or InspectorRecord(id=inspector_id)
    record.name, record.agency_id, record.division_code = name, agency_id, division_code
    record.declared_ties, record.active, record.updated_at = sorted(set(declared_ties)), active, utcnow()
    session.add(record)
    session.flush()
    return record


def save_item(session: Session, code: str, name: str, basis: str = "", agency_id: str | None = None) -> None:
    """Add an item to the published inspection list, or update the item with this code."""
    record = session.scalar(select(InspectionItemRecord).where(InspectionItemRecord.code == code))
    record = record or InspectionItemRecord(code=code)
    record.name, record.basis, record.agency_id = name, basis, agency_id
    session.add(record)
    session.flush()


def create_plan(session: Session, name: str, agency_id: str, item_codes: Iterable[str],
                filters: PlanFilters = PlanFilters(), ratios: dict[str, object] | None = None,
                require_local: bool | None = None, *, today: date) -> tuple[InspectionPlan, str]:
    """Record a plan under the policy in force ``today``; return it and its seed (shown once)."""
    codes = sorted(set(item_codes))
    known = set(session.scalars(select(InspectionItemRecord.code).where(InspectionItemRecord.code.in_(codes))))
    if not codes or known != set(codes):
        raise PlanError(f"a plan needs items of the inspection list; unknown: {sorted(set(codes) - known)}")
    rules = load_inspection_policy().rules(ratios, require_local, on=today)
    seed = new_seed()
    plan = InspectionPlan(name=name, agency_id=agency_id, filters=_json(asdict(filters)),
                          ratios={k: decimal_text(v) for k, v in rules.ratios.items()}, rules=rules.to_dict(),
                          item_codes=codes, seed_commitment=seed_commitment(seed), status="planned")
    session.add(plan)
    session.flush()
    return plan, seed


def take_snapshot(session: Session, plan_id: int, complaints: Iterable[tuple[int, str]] = (), *,
                  today: date) -> str:
    """Freeze the plan's registers as of ``today``; return the snapshot hash to publish."""
    plan = _plan(session, plan_id, "planned")
    if plan.snapshot is not None:
        raise PlanError(f"plan {plan_id}: its snapshot was taken on {plan.snapshot_on}; it is never retaken")
    rules = DrawRules.from_dict(plan.rules)
    filters = PlanFilters.from_dict(plan.filters)
    entities = tuple(EntityRow(*row) for row in session.execute(_entity_query(filters)))
    ids = {row.entity_id for row in entities}
    snapshot = Snapshot(entities, _inspectors(session, filters), _recent(session, ids, rules.recent_months, today),
                        tuple(Complaint(e, a) for e, a in complaints if e in ids), _items(session, plan.item_codes),
                        today)
    plan.snapshot, plan.snapshot_hash, plan.snapshot_on = _pack(snapshot_json(snapshot)), snapshot.hash, today
    session.flush()
    return snapshot.hash


def draw_plan(session: Session, plan_id: int, seed: str) -> DrawResult:
    """Draw the plan with its seed (checked against the commitment); record the result and the tasks."""
    plan = _plan(session, plan_id, "planned")
    if plan.snapshot is None:
        raise PlanError(f"plan {plan_id}: take its snapshot before the draw")
    if seed_commitment(seed) != plan.seed_commitment:
        raise PlanError(f"plan {plan_id}: this seed does not match the published commitment")
    result = draw(seed, stored_snapshot(plan), DrawRules.from_dict(plan.rules))
    plan.seed, plan.result, plan.result_hash = seed, json.loads(result_json(result)), result.result_hash
    plan.status, plan.drawn_at = "drawn", utcnow()
    rows = [{"plan_id": plan.id, "entity_id": t.entity_id, "stratum": t.stratum, "inspector_ids": list(t.inspector_ids),
             "status": "assigned"} for t in result.targets]
    rows += [{"plan_id": plan.id, "entity_id": u.entity_id, "stratum": u.stratum, "inspector_ids": [],
              "status": "unassigned", "reason": f"{u.reason}: {u.detail}"} for u in result.unassigned]
    if rows:
        session.execute(insert(InspectionTask), rows)
    session.flush()
    return result


def verify_plan(session: Session, plan_id: int) -> Verification:
    """Re-run a drawn plan from its stored seed, snapshot and rules; compare with its result and tasks."""
    plan = _plan(session, plan_id, "drawn", "closed")
    assert plan.seed is not None and plan.result is not None and plan.snapshot_hash is not None
    try:
        published = result_from_dict(plan.result)
        snapshot = stored_snapshot(plan)
    except InspectionError as exc:
        return Verification(False, [str(exc)])
    check = verify(plan.seed, plan.seed_commitment, snapshot, plan.snapshot_hash, published,
                   DrawRules.from_dict(plan.rules))
    problems = list(check.problems)
    if plan.result_hash != published.result_hash:
        problems.append(f"plan: records result hash {plan.result_hash}, its result says {published.result_hash}")
    problems += _task_differences(session, plan.id, published)
    return Verification(not problems, problems)


def stored_snapshot(plan: InspectionPlan) -> Snapshot:
    """The plan's frozen registers, read back from its stored canonical JSON."""
    if plan.snapshot is None:
        raise PlanError(f"plan {plan.id}: no snapshot taken")
    return snapshot_from_dict(json.loads(zlib.decompress(base64.b64decode(plan.snapshot)).decode("utf-8")))


def export_plan(session: Session, plan_id: int) -> dict[str, Any]:
    """A drawn plan as one JSON document holding all ``verify_document`` needs to re-run its draw offline."""
    plan = _plan(session, plan_id, "drawn", "closed")
    assert plan.snapshot is not None
    return {"format": EXPORT_FORMAT, "plan": {"id": plan.id, "name": plan.name, "agency_id": plan.agency_id,
                                              "item_codes": plan.item_codes, "filters": plan.filters,
                                              "snapshot_on": plan.snapshot_on.isoformat() if plan.snapshot_on else None},
            "seed_commitment": plan.seed_commitment, "seed": plan.seed,
            "snapshot": json.loads(zlib.decompress(base64.b64decode(plan.snapshot)).decode("utf-8")),
            "snapshot_hash": plan.snapshot_hash, "rules": plan.rules, "result": plan.result,
            "result_hash": plan.result_hash}


def verify_document(document: Any) -> Verification:
    """Re-run the draw of an exported plan (``export_plan``) from the document alone; name every mismatch."""
    try:
        if document.get("format") != EXPORT_FORMAT:
            return Verification(False, [f"document: format is {document.get('format')!r}, not {EXPORT_FORMAT!r}"])
        published = result_from_dict(document["result"])
        check = verify(document["seed"], document["seed_commitment"], snapshot_from_dict(document["snapshot"]),
                       document["snapshot_hash"], published, DrawRules.from_dict(document["rules"]))
    except InspectionError as exc:
        return Verification(False, [str(exc)])
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        return Verification(False, [f"document: malformed ({exc!r})"])
    problems = list(check.problems)
    if document.get("result_hash") != published.result_hash:
        problems.append(f"document: gives result hash {document.get('result_hash')}, "
                        f"its result says {published.result_hash}")
    return Verification(not problems, problems)


def _task_differences(session: Session, plan_id: int, published: DrawResult) -> list[str]:
    stored = {e: (s, tuple(i)) for e, s, i in session.execute(
        select(InspectionTask.entity_id, InspectionTask.status, InspectionTask.inspector_ids)
        .where(InspectionTask.plan_id == plan_id))}
    expected = {t.entity_id: ("assigned", t.inspector_ids) for t in published.targets}
    expected |= {u.entity_id: ("unassigned", ()) for u in published.unassigned}
    # A task whose result was recorded is still the drawn task.
    actual = {e: ("assigned" if s == "done" else s, i) for e, (s, i) in stored.items()}
    if actual == expected:
        return []
    differing = sorted(e for e in set(actual) | set(expected) if actual.get(e) != expected.get(e))
    return [f"tasks: {len(differing)} stored tasks differ from the result, e.g. entity {differing[0]}: "
            f"stored {actual.get(differing[0])}, result {expected.get(differing[0])}"]


def _plan(session: Session, plan_id: int, *statuses: str) -> InspectionPlan:
    plan: InspectionPlan | None = session.get(InspectionPlan, plan_id)
    if plan is None:
        raise PlanError(f"no inspection plan {plan_id}")
    if plan.status not in statuses:
        raise PlanError(f"plan {plan_id} is {plan.status}; this step needs it {' or '.join(statuses)}")
    return plan


def _entity_query(filters: PlanFilters) -> Any:
    conditions: list[ColumnElement[bool]] = [true()]
    if filters.region_prefix:
        conditions.append(Entity.division_code.startswith(filters.region_prefix, autoescape=True))
    if filters.industries:
        conditions.append(Entity.industry.in_(filters.industries))
    if filters.entity_types:
        conditions.append(Entity.entity_type.in_(filters.entity_types))
    if filters.lists:
        conditions.append(select(ListEntry.id).where(ListEntry.entity_id == Entity.id, ListEntry.status == "active",
                                                     ListEntry.list_id.in_(filters.lists)).exists())
    if filters.operating_only:
        conditions.append(or_(Entity.status.is_(None),
                              and_(*(not_(Entity.status.contains(mark, autoescape=True)) for mark in INACTIVE_MARKS))))
    return (select(Entity.id, Entity.uscc, Entity.risk_class, Entity.division_code, Entity.industry,
                   Entity.entity_type, Entity.name).where(*conditions).execution_options(yield_per=10_000))


def _inspectors(session: Session, filters: PlanFilters) -> tuple[Inspector, ...]:
    query = select(InspectorRecord).where(InspectorRecord.active.is_(True))
    if filters.inspector_agencies:
        query = query.where(InspectorRecord.agency_id.in_(filters.inspector_agencies))
    return tuple(Inspector(r.id, r.name, r.agency_id, r.division_code, frozenset(map(int, r.declared_ties)))
                 for r in session.scalars(query))


def _recent(session: Session, ids: set[int], months: int, today: date) -> tuple[RecentInspection, ...]:
    """Inspections of the snapshot's entities by each inspector since the period began: earlier tasks,
    dated by their result, or by their draw while the result is pending."""
    since = add_months(today, -months)
    since_start = datetime.combine(since, time())
    query = (select(InspectionTask.entity_id, InspectionTask.inspector_ids, InspectionTask.result_on,
                    InspectionPlan.drawn_at)
             .join(InspectionPlan, InspectionPlan.id == InspectionTask.plan_id)
             .where(InspectionTask.status.in_(DONE_STATUSES),
                    or_(InspectionTask.result_on >= since,
                        and_(InspectionTask.result_on.is_(None), InspectionPlan.drawn_at >= since_start))))
    rows = set()
    for entity_id, inspector_ids, result_on, drawn_at in session.execute(query):
        if entity_id in ids:
            day = result_on or drawn_at.date()
            rows |= {RecentInspection(entity_id, str(i), day) for i in inspector_ids}
    return tuple(rows)


def _items(session: Session, codes: list[str]) -> tuple[InspectionItem, ...]:
    query = select(InspectionItemRecord).where(InspectionItemRecord.code.in_(codes))
    return tuple(InspectionItem(r.code, r.name, r.basis) for r in session.scalars(query))


def _pack(text: str) -> str:
    return base64.b64encode(zlib.compress(text.encode("utf-8"), 6)).decode("ascii")


def _json(value: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in value.items()}
