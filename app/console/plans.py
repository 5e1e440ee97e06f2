"""``/console/plans``: the 双随机 plans of the token's agency — create, freeze, draw, verify, record results.

Thin views over credit/inspection_plans.py and credit/inspection_results.py: find the plan of the
token's agency (another agency's plan is 404), turn the form into a value or Chinese problems naming
the field, call one domain function, leave an audit event, commit. The seed is shown once, on the
page that answers the creation; nothing shows it again until the draw reveals it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any

from flask import abort, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import case, func, select
from sqlalchemy.orm import defer

from app import store
from app.console import bp
from app.console.entities import count_tasks, stratum_name, task_rows
from app.console.plan_form import PlanForm, plan_problems
from app.pages.paging import make_pager
from blacklist.audit import audit
from blacklist.tokens import agency_name
from credit.clock import beijing_today
from credit.inspection_plans import (
    PlanFilters, create_plan, draw_plan, stored_snapshot, take_snapshot, verify_plan,
)
from credit.inspection_results import (
    ResultDateError, ResultTextError, TaskStateError, UnknownTaskError, record_result,
)
from credit.inspection_rules import DrawRules, InspectionError, decimal_text, load_inspection_policy
from credit.inspections import Verification, seed_commitment
from credit.models import AuditEvent, InspectionItemRecord, InspectionPlan, InspectionTask

PER_PAGE = 50
PLAN_STATUS = {"planned": "待抽取", "drawn": "已抽取", "closed": "已结束"}
NOTICES = {
    "snapshot": "名录已冻结。请在抽取前公布快照哈希值和随机种子承诺值。",
    "drawn": "已按随机种子完成抽取，抽取结果和检查任务已记录。请公布随机种子和结果哈希值，供社会复核。",
    "recorded": "检查结果已记录，并已在该企业的公示页面“抽查检查结果”中公示。",
}
SEED = re.compile(r"[0-9a-f]{64}")
MAX_RESULT_FIELD = 4000  # longer than the domain's bound, so that its own message names the length


def own_plan(plan_id: int) -> InspectionPlan:
    """The plan with this id if the token's agency made it; 404 otherwise (never a hint that it exists)."""
    plan = store.session().get(InspectionPlan, plan_id, options=[defer(InspectionPlan.snapshot)])
    if plan is None or plan.agency_id != g.token.agency_id:
        abort(404, description=f"本部门没有编号为 {plan_id} 的抽查计划")
    return plan


def plan_view(plan: InspectionPlan) -> dict[str, Any]:
    """What an audit event records of a plan (never the seed before the draw reveals it)."""
    return {"name": plan.name, "status": plan.status, "filters": plan.filters, "ratios": plan.ratios,
            "item_codes": plan.item_codes, "seed_commitment": plan.seed_commitment,
            "snapshot_hash": plan.snapshot_hash, "snapshot_on": plan.snapshot_on.isoformat() if plan.snapshot_on
            else None, "result_hash": plan.result_hash, "seed": plan.seed if plan.status != "planned" else None}


@dataclass(frozen=True)
class PlanRow:
    """A plan in the list: its state and how far its tasks are."""

    id: int
    name: str
    status: str
    created_at: Any
    snapshot_on: date | None
    targets: int
    done: int

    @property
    def stage(self) -> str:
        """The plan's state in words."""
        if self.status == "planned":
            return "待抽取（名录已冻结）" if self.snapshot_on else "待抽取（待冻结名录）"
        return PLAN_STATUS.get(self.status, self.status)


@bp.get("/plans")
def plans() -> ResponseReturnValue:
    """The agency's plans, newest first, and the form for a new one."""
    return _plans_page(PlanForm.blank(g.token, load_inspection_policy()), [])


@bp.post("/plans")
def create() -> ResponseReturnValue:
    """Create a plan from the form; answer with its seed, shown this once."""
    session, token, policy = store.session(), g.token, load_inspection_policy()
    form = PlanForm.posted(request.form, policy)
    problems = plan_problems(form, token, policy, _item_codes())
    if problems:
        return _plans_page(form, problems, 422)
    filters = PlanFilters(form.region, form.industry_list, inspector_agencies=(token.agency_id,)
                          if form.own_inspectors else ())
    try:
        plan, seed = create_plan(session, form.name, token.agency_id, form.items, filters, dict(form.ratios),
                                 form.require_local, today=beijing_today())
    except InspectionError as exc:
        session.rollback()
        return _plans_page(form, [f"未能创建计划：{exc}"], 422)
    audit(session, "inspection_plan.create", "inspection_plan", plan.id, None, plan_view(plan), token=token)
    session.commit()
    return render_template("console/plan_seed.html", plan=plan, seed=seed), 201


@bp.get("/plans/<int:plan_id>")
def plan(plan_id: int) -> ResponseReturnValue:
    """The plan: filters, rules, commitment, snapshot, draw and its tasks."""
    return _plan_page(own_plan(plan_id))


@bp.post("/plans/<int:plan_id>/snapshot")
def snapshot(plan_id: int) -> ResponseReturnValue:
    """Freeze the plan's registers (once, before the draw)."""
    session, found = store.session(), own_plan(plan_id)
    if found.status != "planned" or found.snapshot_hash is not None:
        return _plan_page(found, problem="该计划的名录已经冻结，快照不能重新生成。", status=409)
    before = plan_view(found)
    try:
        take_snapshot(session, found.id, today=beijing_today())
    except InspectionError as exc:
        session.rollback()
        return _plan_page(own_plan(plan_id), problem=f"未能冻结名录：{exc}", status=409)
    sizes = Counter(row.risk_class or "unclassified" for row in stored_snapshot(found).entities)
    audit(session, "inspection_plan.snapshot", "inspection_plan", found.id, before,
          plan_view(found) | {"strata": dict(sorted(sizes.items()))}, token=g.token)
    session.commit()
    return redirect(url_for("console.plan", plan_id=plan_id, notice="snapshot"), 303)


@bp.post("/plans/<int:plan_id>/draw")
def draw(plan_id: int) -> ResponseReturnValue:
    """Draw with the seed the planner kept; a seed that does not match the commitment draws nothing."""
    session, found = store.session(), own_plan(plan_id)
    seed = request.form.get("seed", "").strip().lower()[:200]
    if found.status != "planned":
        return _plan_page(found, problem="该计划已经抽取，不能再次抽取。", status=409)
    if found.snapshot_hash is None:
        return _plan_page(found, problem="请先冻结名录（生成快照），再进行抽取。", status=409)
    if not SEED.fullmatch(seed):
        return _plan_page(found, problem="随机种子：须为创建计划时显示的 64 位十六进制字符（0–9、a–f）。", status=422)
    if seed_commitment(seed) != found.seed_commitment:
        return _plan_page(found, problem="随机种子：与本计划公布的种子承诺值不符，未进行抽取。请核对创建计划时保存的随机种子。",
                          status=422)
    before = plan_view(found)
    try:
        result = draw_plan(session, found.id, seed)
    except InspectionError as exc:
        session.rollback()
        return _plan_page(own_plan(plan_id), problem=f"未能抽取：{exc}", status=409)
    audit(session, "inspection_plan.draw", "inspection_plan", found.id, before,
          plan_view(found) | {"targets": len(result.targets), "unassigned": len(result.unassigned)}, token=g.token)
    session.commit()
    return redirect(url_for("console.plan", plan_id=plan_id, notice="drawn"), 303)


@bp.post("/plans/<int:plan_id>/verify")
def verify(plan_id: int) -> ResponseReturnValue:
    """Re-run the draw from what the plan stored and show 一致 or every difference."""
    session, found = store.session(), own_plan(plan_id)
    if found.status == "planned":
        return _plan_page(found, problem="该计划尚未抽取，没有可以验证的结果。", status=409)
    check = verify_plan(session, found.id)
    audit(session, "inspection_plan.verify", "inspection_plan", found.id, None,
          {"ok": check.ok, "problems": check.problems[:20]}, token=g.token)
    session.commit()
    return _plan_page(found, verification=check)


@bp.post("/tasks/<int:task_id>/result")
def task_result(task_id: int) -> ResponseReturnValue:
    """Record an assigned task's result (published on the entity's profile), then go back to its plan."""
    session = store.session()
    task = session.get(InspectionTask, task_id)
    if task is None:
        abort(404, description=f"没有编号为 {task_id} 的检查任务")
    found = own_plan(task.plan_id)
    typed: dict[str, Any] = {"task_id": task_id, "result": request.form.get("result", "").strip()[:MAX_RESULT_FIELD],
             "inspected_on": request.form.get("inspected_on", "").strip()[:20]}
    try:
        inspected_on = date.fromisoformat(typed["inspected_on"])
    except ValueError:
        return _plan_page(found, problem=f"任务 {task_id} 的检查日期：请填写日期（如 2026-03-05）。", status=422,
                          typed=typed)
    try:
        record_result(session, task_id, typed["result"], inspected_on, today=beijing_today(),
                      recorded_by=f"{g.token.agency_id} token {g.token.id}")
    except (UnknownTaskError, TaskStateError, ResultDateError, ResultTextError) as exc:
        session.rollback()
        return _plan_page(own_plan(task.plan_id), problem=_result_problem(task_id, exc), status=422, typed=typed)
    session.commit()
    return redirect(url_for("console.plan", plan_id=found.id, notice="recorded", page=_page()) + f"#task-{task_id}",
                    303)


def _result_problem(task_id: int, exc: InspectionError) -> str:
    if isinstance(exc, ResultTextError):
        return f"任务 {task_id} 的检查结果：请填写检查结果，不超过 2000 字。"
    if isinstance(exc, ResultDateError):
        return f"任务 {task_id} 的检查日期：不能晚于今天，也不能早于抽取日期。"
    return f"任务 {task_id} 未派执法人员或计划尚未抽取，不能记录检查结果。"


def _item_codes() -> dict[str, str]:
    rows = store.session().execute(select(InspectionItemRecord.code, InspectionItemRecord.name)
                                   .order_by(InspectionItemRecord.code))
    return dict(rows.tuples().all())


def _page() -> int:
    raw = request.values.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 1_000_000 else 1


def _plans_page(form: PlanForm, problems: list[str], status: int = 200) -> ResponseReturnValue:
    session, token, policy = store.session(), g.token, load_inspection_policy()
    done = func.sum(case((InspectionTask.status == "done", 1), else_=0))
    counts = (select(InspectionTask.plan_id, func.count().label("targets"), done.label("done"))
              .group_by(InspectionTask.plan_id).subquery())
    mine = InspectionPlan.agency_id == token.agency_id
    total = int(session.scalar(select(func.count()).select_from(InspectionPlan).where(mine)) or 0)
    pager = make_pager(total, _page(), PER_PAGE, lambda n: url_for("console.plans", page=n))
    query = (select(InspectionPlan.id, InspectionPlan.name, InspectionPlan.status, InspectionPlan.created_at,
                    InspectionPlan.snapshot_on, func.coalesce(counts.c.targets, 0), func.coalesce(counts.c.done, 0))
             .outerjoin(counts, counts.c.plan_id == InspectionPlan.id).where(mine)
             .order_by(InspectionPlan.created_at.desc(), InspectionPlan.id.desc())
             .offset((pager.page - 1) * PER_PAGE).limit(PER_PAGE))
    rows = [PlanRow(*row) for row in session.execute(query).tuples()]
    return render_template("console/plans.html", rows=rows, pager=pager, form=form, problems=problems,
                           items=_item_codes(), policy=policy, agency=agency_name(session, token),
                           prefix=token.region_prefix or ""), status


@dataclass(frozen=True)
class StratumRow:
    """A stratum of the plan: its size, ratio and how many were (or will be) drawn."""

    name: str
    size: int
    ratio: str
    drawn: int

    @property
    def label(self) -> str:
        """The stratum in words."""
        return stratum_name(self.name)


def _strata(plan: InspectionPlan, rules: DrawRules) -> list[StratumRow]:
    if plan.result is not None:
        return [StratumRow(str(n), int(s), str(r), int(d)) for n, s, r, d in plan.result.get("strata", [])]
    if plan.snapshot_hash is None:
        return []
    sizes = _snapshot_sizes(plan)
    return [StratumRow(name, sizes.get(name, 0), decimal_text(ratio),
                       math.floor(Fraction(ratio) * sizes.get(name, 0) + Fraction(1, 2)))
            for name, ratio in sorted(rules.ratios.items())]


def _snapshot_sizes(plan: InspectionPlan) -> dict[str, int]:
    """Entities per stratum of the frozen register: as audited when it was taken, else counted from it."""
    after = store.session().scalar(select(AuditEvent.after).where(
        AuditEvent.action == "inspection_plan.snapshot", AuditEvent.target_type == "inspection_plan",
        AuditEvent.target_id == str(plan.id)).order_by(AuditEvent.id.desc()).limit(1))
    if isinstance(after, dict) and isinstance(after.get("strata"), dict):
        return {str(k): int(v) for k, v in after["strata"].items()}
    return dict(Counter(row.risk_class or "unclassified" for row in stored_snapshot(plan).entities))


def _plan_page(plan: InspectionPlan, *, problem: str = "", verification: Verification | None = None,
               status: int = 200, typed: dict[str, Any] | None = None) -> ResponseReturnValue:
    session = store.session()
    rules = DrawRules.from_dict(plan.rules)
    where = InspectionTask.plan_id == plan.id
    total = count_tasks(session, where)
    pager = make_pager(total, _page(), PER_PAGE, lambda n: url_for("console.plan", plan_id=plan.id, page=n))
    tasks = task_rows(session, where, (pager.page - 1) * PER_PAGE, PER_PAGE)
    items = session.execute(select(InspectionItemRecord.code, InspectionItemRecord.name)
                            .where(InspectionItemRecord.code.in_(plan.item_codes))
                            .order_by(InspectionItemRecord.code)).tuples().all()
    return render_template(
        "console/plan.html", plan=plan, stage=PLAN_STATUS.get(plan.status, plan.status),
        filters=PlanFilters.from_dict(plan.filters), rules=rules, items=items, strata=_strata(plan, rules),
        tasks=tasks, pager=pager, total=total, done=count_tasks(session, where & (InspectionTask.status == "done")),
        unassigned=count_tasks(session, where & (InspectionTask.status == "unassigned")),
        notice=NOTICES.get(request.args.get("notice", ""), ""), problem=problem, verification=verification,
        typed=typed or {}, today=beijing_today()), status
