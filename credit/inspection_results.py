"""Results of drawn 双随机 tasks: recorded, published on the public profile, and timed (DOMAIN.md §4).

``record_result`` gives an assigned task its result and publishes it at once as an ``inspection``
fact (source ``inspection-plan``, key ``plan-P-task-T``) shaped like the inspection facts regulators
send, so the profile's 抽查检查结果 section shows both alike. Recording again on a done task is a
correction: the task and the fact are updated (the change log says so), and ``published_on`` keeps
the day the result was first published, since that is when the public first saw it.

Results may also arrive by ingest (``link_ingested_results``); the policy's publication deadline
(credit/inspection_policy.toml) gives ``publication_due`` and ``overdue_tasks``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from credit.facts import FactIn, apply_facts
from credit.inspection_rules import InspectionError, load_inspection_policy
from credit.models import Agency, AuditEvent, Entity, Fact, InspectionItemRecord, InspectionPlan, InspectionTask
from credit.workdays import add_working_days

SOURCE = "inspection-plan"
INSPECTION_TYPE = "双随机抽查"
MAX_RESULT_CHARS = 2000
_PLAN_REF = re.compile(r"^\s*(?:plan-|计划)?\s*(\d{1,18})\s*$", re.IGNORECASE)
_TASK_REF = re.compile(r"^\s*(?:task-|任务)?\s*(\d{1,18})\s*$", re.IGNORECASE)


class ResultError(InspectionError):
    """A task result that cannot be recorded; the message says which task and why."""


class UnknownTaskError(ResultError):
    """No inspection task has this id."""


class TaskStateError(ResultError):
    """The task is not one that takes a result (unassigned, or its plan not drawn)."""


class ResultDateError(ResultError):
    """The inspection day is in the future or before the plan's draw."""


class ResultTextError(ResultError):
    """The result text is empty or longer than the bound."""


def source_key(plan_id: int, task_id: int) -> str:
    """The key of a task's published result fact in the ``inspection-plan`` source."""
    return f"plan-{plan_id}-task-{task_id}"


def record_result(session: Session, task_id: int, result: str, inspected_on: date, *, today: date,
                  recorded_by: str) -> InspectionTask:
    """Record (or correct) an assigned task's result and publish it as an inspection fact; flushes only."""
    task = session.get(InspectionTask, task_id)
    if task is None:
        raise UnknownTaskError(f"no inspection task {task_id}")
    plan = session.get(InspectionPlan, task.plan_id)
    assert plan is not None
    text = _checked_result(task_id, result)
    _check_state(task, plan)
    _check_day(task, plan, inspected_on, today)
    before = _task_view(task)
    task.result, task.result_on, task.status = text, inspected_on, "done"
    task.published_on = task.published_on or today
    apply_facts(session, [_fact(session, plan, task)])
    session.add(AuditEvent(agency_id=plan.agency_id, action="inspection.result" if before["status"] != "done"
                           else "inspection.result.correct", target_type="inspection_task",
                           target_id=str(task.id), before=before, after=_task_view(task) | {"by": recorded_by}))
    session.flush()
    return task


def publication_due(inspected_on: date) -> date:
    """The last day the result of an inspection on ``inspected_on`` may be published (policy working days)."""
    return add_working_days(inspected_on, load_inspection_policy().publication_working_days)


@dataclass(frozen=True)
class Overdue:
    """A task late with its result: published after the due day, or still without a result."""

    task: InspectionTask
    reason: str  # "published-late" or "no-result"
    due: date


def overdue_tasks(session: Session, today: date) -> list[Overdue]:
    """Tasks whose result was published after its due day, and assigned tasks with no result past the policy's limit."""
    found = []
    done = select(InspectionTask).where(InspectionTask.status == "done", InspectionTask.result_on.is_not(None),
                                        InspectionTask.published_on.is_not(None))
    for task in session.scalars(done.order_by(InspectionTask.id)):
        assert task.result_on is not None and task.published_on is not None
        due = publication_due(task.result_on)
        if task.published_on > due:
            found.append(Overdue(task, "published-late", due))
    days = load_inspection_policy().result_due_days
    if not days:
        return found
    pending = (select(InspectionTask, InspectionPlan.drawn_at).join(InspectionPlan)
               .where(InspectionTask.status == "assigned", InspectionPlan.drawn_at.is_not(None))
               .order_by(InspectionTask.id))
    for task, drawn_at in session.execute(pending):
        due = drawn_at.date() + timedelta(days=days)
        if today > due:
            found.append(Overdue(task, "no-result", due))
    return found


def link_ingested_results(session: Session, entity_ids: Sequence[int] | None = None) -> int:
    """Mark assigned tasks done from ingested inspection facts naming their plan (and task); return how many."""
    query = select(InspectionTask).where(InspectionTask.status == "assigned")
    tasks = list(session.scalars(query))
    if entity_ids is not None:
        wanted = set(entity_ids)
        tasks = [t for t in tasks if t.entity_id in wanted]
    by_entity: dict[int, list[InspectionTask]] = {}
    for task in tasks:
        by_entity.setdefault(task.entity_id, []).append(task)
    linked = 0
    for start in range(0, len(by_entity), 500):
        chunk = sorted(by_entity)[start:start + 500]
        facts = session.scalars(select(Fact).where(Fact.entity_id.in_(chunk), Fact.kind == "inspection",
                                                   Fact.status == "active", Fact.source != SOURCE)
                                .order_by(Fact.first_seen, Fact.id))
        for fact in facts:
            task = _matching_task(fact, by_entity.get(fact.entity_id, []))
            if task is not None and _link(task, fact):
                by_entity[fact.entity_id].remove(task)
                linked += 1
    session.flush()
    return linked


def _matching_task(fact: Fact, tasks: list[InspectionTask]) -> InspectionTask | None:
    body = fact.body or {}
    plan = _PLAN_REF.match(str(body.get("plan_id") or body.get("plan") or ""))
    if plan is None:
        return None
    in_plan = [t for t in tasks if t.plan_id == int(plan.group(1))]
    task = _TASK_REF.match(str(body.get("task_id") or body.get("task") or ""))
    if task is not None:
        return next((t for t in in_plan if t.id == int(task.group(1))), None)
    return in_plan[0] if len(in_plan) == 1 else None


def _link(task: InspectionTask, fact: Fact) -> bool:
    result = str((fact.body or {}).get("result") or "").strip()
    if not result or fact.decided_on is None:
        return False
    task.result, task.result_on, task.status = result[:MAX_RESULT_CHARS], fact.decided_on, "done"
    task.published_on = fact.first_seen.date()
    return True


def _checked_result(task_id: int, result: str) -> str:
    text = (result or "").strip()
    if not text:
        raise ResultTextError(f"task {task_id}: the result is empty")
    if len(text) > MAX_RESULT_CHARS:
        raise ResultTextError(f"task {task_id}: the result has {len(text)} characters, at most "
                              f"{MAX_RESULT_CHARS} are allowed")
    return text


def _check_state(task: InspectionTask, plan: InspectionPlan) -> None:
    if plan.status not in ("drawn", "closed"):
        raise TaskStateError(f"task {task.id}: its plan {plan.id} is {plan.status}, not drawn")
    if task.status == "unassigned":
        raise TaskStateError(f"task {task.id} was drawn but not assigned ({task.reason or 'no inspectors'}); "
                             "it takes no result")
    if task.status not in ("assigned", "done"):
        raise TaskStateError(f"task {task.id} is {task.status}; only an assigned or done task takes a result")


def _check_day(task: InspectionTask, plan: InspectionPlan, inspected_on: date, today: date) -> None:
    if inspected_on > today:
        raise ResultDateError(f"task {task.id}: the inspection day {inspected_on} is after today ({today})")
    drawn = plan.drawn_at.date() if plan.drawn_at is not None else None
    if drawn is not None and inspected_on < drawn:
        raise ResultDateError(f"task {task.id}: the inspection day {inspected_on} is before the draw ({drawn})")


def _fact(session: Session, plan: InspectionPlan, task: InspectionTask) -> FactIn:
    entity = session.get(Entity, task.entity_id)
    assert entity is not None and task.result_on is not None
    items = list(session.scalars(select(InspectionItemRecord.name)
                                 .where(InspectionItemRecord.code.in_(plan.item_codes))
                                 .order_by(InspectionItemRecord.code)))
    authority = session.scalar(select(Agency.name).where(Agency.id == plan.agency_id)) or plan.agency_id
    body: dict[str, Any] = {
        "name": entity.name, "plan": plan.name, "plan_id": plan.id, "task": f"计划{plan.id}-任务{task.id}",
        "task_id": task.id, "inspection_type": INSPECTION_TYPE, "authority": authority,
        "inspected_on": task.result_on.isoformat(), "item": "、".join(items), "result": task.result,
    }
    if entity.uscc:
        body["uscc"] = entity.uscc
    return FactIn(entity_id=task.entity_id, source=SOURCE, source_key=source_key(plan.id, task.id),
                  kind="inspection", body=body, authority=authority, decided_on=task.result_on)


def _task_view(task: InspectionTask) -> dict[str, Any]:
    return {"status": task.status, "result": task.result,
            "result_on": task.result_on.isoformat() if task.result_on else None,
            "published_on": task.published_on.isoformat() if task.published_on else None}
