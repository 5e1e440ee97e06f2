"""The console's view of drawn tasks and of one entity's credit risk (class, explanation, history).

Everything is scoped to the signed-in token: plans of its agency only, entities inside its region.
Risk classes and their explanations are for regulators only; nothing here is reachable without a token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import abort, g, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from app import store
from app.console import bp
from app.console.charts import CLASS_NAMES
from credit.clock import beijing_today
from credit.errors import CreditError
from credit.models import ApiToken, Entity, InspectionPlan, InspectionTask, InspectorRecord
from credit.profile import entity_by_identifier
from credit.risk import explain, history
from credit.risk_policy import load_risk_policy
from credit.risk_score import FAMILY_LABELS

MAX_ID_DIGITS = 14  # a plain number this short is an internal id, not an identifier (registration numbers have 15)
TASK_STATUS = {"assigned": "待检查", "done": "已检查", "unassigned": "未派员"}
UNCLASSIFIED_NAME = "未分类"


@bp.app_template_filter("stratum")
def stratum_name(stratum: str) -> str:
    """A stratum of the draw in words: the risk class, or 未分类."""
    return CLASS_NAMES.get(stratum, UNCLASSIFIED_NAME if stratum == "unclassified" else stratum)


def entity_key(entity: Entity) -> str:
    """What identifies the entity in a URL: its USCC, registration number, organisation code or id."""
    return entity.uscc or entity.reg_no or entity.org_code or str(entity.id)


@dataclass(frozen=True)
class TaskRow:
    """One drawn task as the tables show it."""

    task: InspectionTask
    entity: Entity
    plan_name: str
    inspectors: tuple[str, ...]

    @property
    def status(self) -> str:
        """The task's status in words."""
        return TASK_STATUS.get(self.task.status, self.task.status)

    @property
    def stratum(self) -> str:
        """The task's stratum (the entity's risk class at the snapshot) in words."""
        return stratum_name(self.task.stratum)

    @property
    def key(self) -> str:
        """The entity's identifier for links."""
        return entity_key(self.entity)

    @property
    def public(self) -> bool:
        """Whether the entity has an identifier the public profile takes (an internal id it does not)."""
        return bool(self.entity.uscc or self.entity.reg_no or self.entity.org_code)


def task_rows(session: Session, where: ColumnElement[bool], offset: int = 0, limit: int = 50) -> list[TaskRow]:
    """A page of tasks with their entity, plan name and inspectors' names, in task order."""
    rows = session.execute(select(InspectionTask, Entity, InspectionPlan.name)
                           .join(Entity, Entity.id == InspectionTask.entity_id)
                           .join(InspectionPlan, InspectionPlan.id == InspectionTask.plan_id)
                           .where(where).order_by(InspectionTask.id).offset(offset).limit(limit)).all()
    ids = {str(i) for task, _, _ in rows for i in task.inspector_ids}
    names = dict(session.execute(select(InspectorRecord.id, InspectorRecord.name)
                                 .where(InspectorRecord.id.in_(ids))).tuples().all()) if ids else {}
    return [TaskRow(task, entity, plan_name, tuple(names.get(str(i), str(i)) for i in task.inspector_ids))
            for task, entity, plan_name in rows]


def count_tasks(session: Session, where: ColumnElement[bool]) -> int:
    """How many tasks match."""
    return int(session.scalar(select(func.count()).select_from(InspectionTask).where(where)) or 0)


def own_entity(session: Session, token: ApiToken, identifier: str) -> Entity:
    """The entity with this identifier (or internal id) inside the token's region; 404 otherwise."""
    text = identifier.strip()
    try:
        if text.isdigit() and len(text) <= MAX_ID_DIGITS:
            entity = session.get(Entity, int(text))
        else:
            entity = session.execute(entity_by_identifier(text)).scalar_one_or_none()
    except CreditError:
        abort(404, description=f"没有标识符为“{text[:40]}”的主体")
    prefix = token.region_prefix or ""
    if entity is None or not (entity.division_code or "").startswith(prefix):
        abort(404, description=f"本部门辖区内没有标识符为“{text[:40]}”的主体")
    return entity


@dataclass(frozen=True)
class Factor:
    """One line of an explanation: the factor family in words, the detail and the points."""

    family: str
    detail: str
    points: int


def _class_label(risk_class: str | None, on: date) -> str:
    if not risk_class:
        return UNCLASSIFIED_NAME
    try:
        label = load_risk_policy().on(on).label_of(risk_class)
    except CreditError:
        label = ""
    return f"{risk_class} 类（{label}）" if label else CLASS_NAMES.get(risk_class, risk_class)


@bp.get("/entities/<identifier>")
def entity(identifier: str) -> ResponseReturnValue:
    """An entity's latest risk class with the factors behind its score, its class history and its tasks."""
    session, token = store.session(), g.token
    found = own_entity(session, token, identifier)
    latest = explain(session, found.id)
    factors = [Factor(FAMILY_LABELS.get(str(item.get("factor")), str(item.get("factor"))), str(item.get("detail", "")),
                      int(item.get("points", 0))) for item in (latest.explanation if latest else [])]
    past = list(reversed(history(session, found.id)))
    mine = (InspectionTask.entity_id == found.id) & (InspectionPlan.agency_id == token.agency_id)
    tasks = task_rows(session, mine, limit=200)
    return render_template("console/entity.html", entity=found, key=entity_key(found), latest=latest,
                           latest_label=_class_label(latest.risk_class, latest.assessed_on) if latest else "",
                           current_label=_class_label(found.risk_class, beijing_today()), factors=factors,
                           total=sum(f.points for f in factors),
                           history=[(a, _class_label(a.risk_class, a.assessed_on)) for a in past],
                           tasks=tasks, public=bool(found.uscc or found.reg_no or found.org_code))
