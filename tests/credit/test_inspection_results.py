"""Results of drawn tasks: recorded and published, corrected, refused, timed, and linked from ingest."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.api.changes import public_changes
from config import Settings
from blacklist.visibility import public_profile
from credit.facts import FactIn, apply_facts
from credit.inspection_plans import create_plan, draw_plan, save_inspector, save_item, take_snapshot
from credit.inspection_results import (
    MAX_RESULT_CHARS,
    SOURCE,
    ResultDateError,
    ResultError,
    ResultTextError,
    TaskStateError,
    UnknownTaskError,
    link_ingested_results,
    overdue_tasks,
    publication_due,
    record_result,
)
from credit.inspection_rules import load_inspection_policy
from credit.models import Agency, AuditEvent, ChangeLog, Entity, Fact, InspectionPlan, InspectionTask
from credit.workdays import load_calendar
from tests.factories import make_entity, new_uscc

AGENCY, AGENCY_NAME = "hz-amr", "杭州市市场监督管理局"
DRAWN = datetime(2025, 9, 1, 2, 0)
INSPECTED = date(2025, 9, 26)  # the Friday before the National Day holiday
TODAY = date(2025, 9, 29)


def _plan(session: Session, entities: int = 6) -> InspectionPlan:
    """A drawn plan over ``entities`` class-D entities (all drawn), four inspectors, two items."""
    session.add(Agency(id=AGENCY, name=AGENCY_NAME))
    ids = [make_entity(session, n, name=f"杭州市西湖区青禾{n}号餐饮有限公司", status="存续") for n in range(entities)]
    session.execute(update(Entity).values(risk_class="D"))
    for j in range(4):
        save_inspector(session, f"ZF{j:03d}", ["王建国", "李秀英", "张伟", "刘芳"][j], AGENCY, "440300")
    save_item(session, "SC-01", "企业公示信息抽查", "国办发〔2015〕58号")
    save_item(session, "SC-02", "食品经营许可事项检查")
    plan, seed = create_plan(session, "2025年第三季度餐饮企业双随机抽查", AGENCY, ["SC-01", "SC-02"],
                             ratios={"D": "1"}, today=DRAWN.date())
    take_snapshot(session, plan.id, today=DRAWN.date())
    draw_plan(session, plan.id, seed)
    plan.drawn_at = DRAWN
    session.commit()
    assert len(ids) == entities
    return plan


def _tasks(session: Session, plan: InspectionPlan) -> list[InspectionTask]:
    return list(session.scalars(select(InspectionTask).where(InspectionTask.plan_id == plan.id)
                                .order_by(InspectionTask.id)))


def _due(day: date, count: int) -> date:
    """The due day counted here, day by day over the calendar, not by the code under test."""
    calendar = load_calendar()
    while count:
        day += timedelta(days=1)
        count -= calendar.is_working_day(day)
    return day


def test_a_recorded_result_closes_the_task_and_is_published_on_the_profile_and_the_feed(session: Session) -> None:
    plan = _plan(session)
    task = _tasks(session, plan)[0]
    record_result(session, task.id, "未发现问题", INSPECTED, today=TODAY, recorded_by="王建国")
    session.commit()
    assert (task.status, task.result, task.result_on, task.published_on) == ("done", "未发现问题", INSPECTED, TODAY)
    entity = session.get(Entity, task.entity_id)
    assert entity is not None and entity.uscc is not None
    facts = [f for f in public_profile(session, entity.uscc, TODAY).facts if f.kind == "inspection"]
    assert len(facts) == 1
    fact = facts[0]
    assert fact.source == SOURCE and fact.source_key == f"plan-{plan.id}-task-{task.id}"
    assert fact.authority == AGENCY_NAME and fact.decided_on == INSPECTED
    assert fact.body["result"] == "未发现问题" and fact.body["inspection_type"] == "双随机抽查"
    assert fact.body["plan"] == "2025年第三季度餐饮企业双随机抽查" and fact.body["item"] == "企业公示信息抽查、食品经营许可事项检查"
    assert fact.body["plan_id"] == plan.id and fact.body["task_id"] == task.id
    rows = session.scalars(select(ChangeLog).where(ChangeLog.entity_id == task.entity_id)).all()
    feed = [f for change in public_changes(session, rows, TODAY) for f in change.facts]
    assert [f for f in feed if f["source"] == SOURCE] == [
        {"op": "insert", "kind": "inspection", "source": SOURCE, "key": fact.source_key}]


def test_recording_again_corrects_the_result_and_keeps_the_first_publication_day(session: Session) -> None:
    plan = _plan(session)
    task = _tasks(session, plan)[0]
    record_result(session, task.id, "未发现问题", INSPECTED, today=TODAY, recorded_by="王建国")
    session.commit()
    later = TODAY + timedelta(days=3)
    record_result(session, task.id, "发现问题已责令整改", INSPECTED, today=later, recorded_by="李秀英")
    session.commit()
    facts = session.scalars(select(Fact).where(Fact.source == SOURCE)).all()
    assert len(facts) == 1 and facts[0].body["result"] == "发现问题已责令整改"
    assert task.result == "发现问题已责令整改" and task.published_on == TODAY
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.target_id == str(task.id))).all()
    assert sorted(actions) == ["inspection.result", "inspection.result.correct"]


@pytest.mark.parametrize("case, error, message", [
    ("unknown", UnknownTaskError, "no inspection task"),
    ("unassigned", TaskStateError, "not assigned"),
    ("future", ResultDateError, "after today"),
    ("before-draw", ResultDateError, "before the draw"),
    ("empty", ResultTextError, "empty"),
    ("too-long", ResultTextError, f"at most {MAX_RESULT_CHARS}"),
])
def test_a_bad_result_is_refused_and_changes_nothing(session: Session, case: str, error: type[ResultError],
                                                     message: str) -> None:
    plan = _plan(session)
    task = _tasks(session, plan)[0]
    if case == "unassigned":
        task.status, task.inspector_ids, task.reason = "unassigned", [], "too few inspectors: 1 of 2"
        session.commit()
    task_id = 10**9 if case == "unknown" else task.id
    text = {"empty": "  ", "too-long": "问" * (MAX_RESULT_CHARS + 1)}.get(case, "未发现问题")
    day = {"future": TODAY + timedelta(days=1), "before-draw": DRAWN.date() - timedelta(days=1)}.get(case, INSPECTED)
    with pytest.raises(error, match=message):
        record_result(session, task_id, text, day, today=TODAY, recorded_by="王建国")
    session.rollback()
    assert task.result is None and task.status in ("assigned", "unassigned")
    assert session.scalar(select(func.count()).select_from(Fact).where(Fact.source == SOURCE)) == 0
    assert session.scalar(select(func.count()).select_from(AuditEvent)
                          .where(AuditEvent.target_type == "inspection_task")) == 0


def test_publication_is_due_twenty_working_days_after_the_inspection_across_the_holiday() -> None:
    assert load_inspection_policy().publication_working_days == 20
    due = _due(INSPECTED, 20)
    assert publication_due(INSPECTED) == due
    assert due > INSPECTED + timedelta(days=28)  # the National Day week is not counted


def test_a_result_published_after_its_due_day_is_overdue_and_on_the_due_day_is_not(session: Session) -> None:
    plan = _plan(session)
    on_time, late = _tasks(session, plan)[:2]
    due = _due(INSPECTED, 20)
    record_result(session, on_time.id, "未发现问题", INSPECTED, today=due, recorded_by="王建国")
    record_result(session, late.id, "未发现问题", INSPECTED, today=due + timedelta(days=1), recorded_by="王建国")
    session.commit()
    overdue = {o.task.id: o for o in overdue_tasks(session, due + timedelta(days=1)) if o.reason == "published-late"}
    assert set(overdue) == {late.id} and overdue[late.id].due == due


def test_a_task_without_result_is_overdue_only_past_the_policys_days_after_the_draw(session: Session) -> None:
    plan = _plan(session, entities=2)
    days = load_inspection_policy().result_due_days
    assert days > 0
    last_day = DRAWN.date() + timedelta(days=days)
    assert overdue_tasks(session, last_day) == []
    late = overdue_tasks(session, last_day + timedelta(days=1))
    assert {o.task.id for o in late} == {t.id for t in _tasks(session, plan)}
    assert {o.reason for o in late} == {"no-result"} and {o.due for o in late} == {last_day}


def _ingested(entity_id: int, key: str, body: dict[str, str], on: date = INSPECTED) -> FactIn:
    body = {"inspection_type": "双随机抽查", "item": "企业公示信息抽查", "result": "未发现问题"} | body
    return FactIn(entity_id=entity_id, source="samr-inspections", source_key=key, kind="inspection", body=body,
                  authority=AGENCY_NAME, decided_on=on)


def test_ingested_results_naming_a_plan_and_task_complete_the_task(session: Session) -> None:
    plan = _plan(session, entities=4)
    by_task, by_entity, wrong_entity, untouched = _tasks(session, plan)
    apply_facts(session, [
        _ingested(by_task.entity_id, "r1", {"plan": str(plan.id), "task": str(by_task.id), "result": "责令整改"}),
        _ingested(by_entity.entity_id, "r2", {"plan": f"计划{plan.id}"}),
        # names a task of another entity: never linked
        _ingested(wrong_entity.entity_id, "r3", {"plan": str(plan.id), "task": str(untouched.id)}),
        # a free-text plan name, as the sample feed sends: not ours
        _ingested(untouched.entity_id, "r4", {"plan": "2025年度杭州市市场监管领域部门联合双随机抽查计划",
                                              "task": "杭市监抽〔2025〕3号"}),
    ])
    session.commit()
    assert link_ingested_results(session, [by_task.entity_id, by_entity.entity_id, wrong_entity.entity_id,
                                           untouched.entity_id]) == 2
    session.commit()
    assert (by_task.status, by_task.result, by_task.result_on) == ("done", "责令整改", INSPECTED)
    first_seen = session.scalar(select(Fact.first_seen).where(Fact.source_key == "r1"))
    assert first_seen is not None and by_task.published_on == first_seen.date()
    assert by_entity.status == "done" and wrong_entity.status == untouched.status == "assigned"
    assert link_ingested_results(session) == 0  # idempotent
    # the ingested record is already public: no second fact is written
    assert session.scalar(select(func.count()).select_from(Fact).where(Fact.source == SOURCE)) == 0


def test_linking_only_looks_at_the_entities_named(session: Session) -> None:
    plan = _plan(session, entities=2)
    first, second = _tasks(session, plan)
    apply_facts(session, [_ingested(second.entity_id, "r1", {"plan": str(plan.id), "task": str(second.id)})])
    session.commit()
    assert link_ingested_results(session, [first.entity_id]) == 0
    assert link_ingested_results(session, [second.entity_id]) == 1


def test_a_result_for_an_unknown_uscc_entity_still_names_its_entity(session: Session) -> None:
    plan = _plan(session, entities=1)
    task = _tasks(session, plan)[0]
    record_result(session, task.id, "未发现问题", INSPECTED, today=TODAY, recorded_by="王建国")
    fact = session.scalars(select(Fact).where(Fact.source == SOURCE)).one()
    assert fact.body["uscc"] == new_uscc(0) and fact.body["name"].startswith("杭州市西湖区青禾")


def test_the_ingest_job_links_results_after_a_run_and_never_raises(session: Session, settings: Settings) -> None:
    from app.jobs import link_results

    plan = _plan(session, entities=1)
    task = _tasks(session, plan)[0]
    apply_facts(session, [_ingested(task.entity_id, "r1", {"plan": str(plan.id), "task": str(task.id)})])
    session.commit()
    link_results(settings, entity_ids=[task.entity_id])
    session.refresh(task)
    assert task.status == "done" and task.result == "未发现问题"
    link_results(Settings(database_url="sqlite:////nonexistent/dir/store.db"))  # logged, not raised
