"""双随机 plans in the store: commitment, snapshot by filters, draw, tasks, verification, tampering."""

from __future__ import annotations

import base64
import json
import zlib
from datetime import date, datetime

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from credit.claims import ClaimIn, apply_claims
from credit.entities import EntityIds, ensure_entities
from credit.inspection_plans import (
    PlanError,
    PlanFilters,
    create_plan,
    draw_plan,
    save_inspector,
    save_item,
    stored_snapshot,
    take_snapshot,
    verify_plan,
)
from credit.inspection_rules import RatioError
from credit.inspection_snapshot import snapshot_json
from credit.inspections import EntityRow, seed_commitment
from credit.models import Entity, InspectionPlan, InspectionTask, ListEntry
from tests.factories import REGISTRY, REGISTRY_RANK, T0, new_uscc

TODAY = date(2025, 6, 30)
HZ = "杭州市市场监督管理局"
NB = "宁波市市场监督管理局"


def _entity(session: Session, seed: int, division: str, risk_class: str | None, **attributes: str) -> int:
    entity_id = ensure_entities(session, [EntityIds(uscc=new_uscc(seed, division))])[0].entity_id
    assert entity_id is not None
    apply_claims(session, [ClaimIn(entity_id, f, v, REGISTRY, REGISTRY_RANK, T0) for f, v in attributes.items()])
    session.execute(update(Entity).where(Entity.id == entity_id).values(risk_class=risk_class))
    return entity_id


def _registers(session: Session, count: int = 60) -> list[int]:
    """Entities in Hangzhou (330102) and Ningbo (330203), six inspectors, two items."""
    ids = [_entity(session, n, "330102" if n % 3 else "330203", "ABCD"[n % 4] if n % 5 else None,
                   name=f"杭州测试商贸{n}有限公司", industry="零售业" if n % 2 else "餐饮业",
                   entity_type="有限责任公司", status="存续") for n in range(count)]
    for j in range(6):
        save_inspector(session, f"ZF{j:03d}", f"执法员{j}", HZ if j % 2 else NB, "330100" if j % 2 else "330200",
                       declared_ties=ids[j:j + 1])
    save_item(session, "ZJ-001", "营业执照（登记证）规范使用情况的检查", "《市场主体登记管理条例》")
    save_item(session, "ZJ-002", "食品经营许可事项检查")
    return ids


def _drawn(session: Session, filters: PlanFilters = PlanFilters()) -> tuple[InspectionPlan, str]:
    _registers(session)
    plan, seed = create_plan(session, "2025年第三季度双随机抽查", HZ, ["ZJ-001"], filters,
                             {"A": "0.05", "B": "0.2", "C": "0.5", "D": "1"}, today=TODAY)
    take_snapshot(session, plan.id, today=TODAY)
    draw_plan(session, plan.id, seed)
    session.commit()
    return plan, seed


def test_a_plan_commits_its_seed_freezes_its_registers_draws_and_verifies(session: Session) -> None:
    _registers(session)
    plan, seed = create_plan(session, "2025年第三季度双随机抽查", HZ, ["ZJ-001", "ZJ-002"],
                             ratios={"D": "0.9"}, today=TODAY)
    assert plan.seed is None and plan.seed_commitment == seed_commitment(seed) and plan.status == "planned"
    assert plan.ratios["D"] == "0.9" and plan.ratios["unclassified"] == plan.ratios["B"]
    published = take_snapshot(session, plan.id, today=TODAY)
    assert plan.snapshot_hash == published and stored_snapshot(plan).hash == published
    result = draw_plan(session, plan.id, seed)
    session.commit()
    assert plan.status == "drawn" and plan.seed == seed and plan.result_hash == result.result_hash
    tasks = session.scalars(select(InspectionTask).where(InspectionTask.plan_id == plan.id)).all()
    assert len(tasks) == len(result.targets) + len(result.unassigned) > 0
    assert all(len(t.inspector_ids) >= 2 for t in tasks if t.status == "assigned")
    assert all(t.reason for t in tasks if t.status == "unassigned")
    check = verify_plan(session, plan.id)
    assert check.ok, check.problems


def test_the_steps_keep_their_order(session: Session) -> None:
    _registers(session, 10)
    plan, seed = create_plan(session, "抽查", HZ, ["ZJ-001"], today=TODAY)
    with pytest.raises(PlanError, match="take its snapshot"):
        draw_plan(session, plan.id, seed)
    with pytest.raises(PlanError, match="is planned"):
        verify_plan(session, plan.id)
    take_snapshot(session, plan.id, today=TODAY)
    with pytest.raises(PlanError, match="never retaken"):
        take_snapshot(session, plan.id, today=TODAY)
    with pytest.raises(PlanError, match="does not match the published commitment"):
        draw_plan(session, plan.id, "0" * 64)
    draw_plan(session, plan.id, seed)
    with pytest.raises(PlanError, match="is drawn"):
        draw_plan(session, plan.id, seed)
    with pytest.raises(PlanError, match="no inspection plan 999"):
        verify_plan(session, 999)


def test_a_plan_needs_known_items_and_ratios_within_the_policy(session: Session) -> None:
    _registers(session, 3)
    with pytest.raises(PlanError, match="unknown: \\['ZJ-404'\\]"):
        create_plan(session, "抽查", HZ, ["ZJ-001", "ZJ-404"], today=TODAY)
    with pytest.raises(PlanError, match="needs items"):
        create_plan(session, "抽查", HZ, [], today=TODAY)
    with pytest.raises(RatioError, match="class A is 0.2"):
        create_plan(session, "抽查", HZ, ["ZJ-001"], ratios={"A": "0.2"}, today=TODAY)
    with pytest.raises(PlanError, match="region_prefix"):
        PlanFilters(region_prefix="33-01")


def test_filters_choose_the_entity_and_inspector_registers(session: Session) -> None:
    ids = _registers(session, 30)
    closed = _entity(session, 900, "330102", "A", name="杭州已注销公司", status="注销")
    session.add(ListEntry(entity_id=ids[1], list_id="abnormal", status="active", listed_on=date(2024, 7, 1)))
    session.add(ListEntry(entity_id=ids[2], list_id="abnormal", status="removed", listed_on=date(2024, 7, 1)))
    filters = {
        PlanFilters(region_prefix="3301"): {e for e in ids if ids.index(e) % 3},
        PlanFilters(industries=("餐饮业",)): {e for e in ids if ids.index(e) % 2 == 0},
        PlanFilters(lists=("abnormal",)): {ids[1]},
        PlanFilters(operating_only=False, entity_types=("有限责任公司",)): set(ids),
        PlanFilters(operating_only=False): set(ids) | {closed},
    }
    for chosen, expected in filters.items():
        plan, _ = create_plan(session, "抽查", HZ, ["ZJ-001"], chosen, today=TODAY)
        take_snapshot(session, plan.id, today=TODAY)
        snapshot = stored_snapshot(plan)
        assert {e.entity_id for e in snapshot.entities} == expected, chosen
        assert len(snapshot.inspectors) == 6 and [i.code for i in snapshot.items] == ["ZJ-001"]
    plan, _ = create_plan(session, "抽查", HZ, ["ZJ-001"], PlanFilters(inspector_agencies=(HZ,)), today=TODAY)
    take_snapshot(session, plan.id, today=TODAY)
    assert {i.agency for i in stored_snapshot(plan).inspectors} == {HZ}
    row = next(e for e in stored_snapshot(plan).entities if e.entity_id == ids[1])
    assert row == EntityRow(ids[1], new_uscc(1, "330102"), "B", "330102", "零售业", "有限责任公司", "杭州测试商贸1有限公司")


def test_earlier_tasks_and_complaints_become_conflicts(session: Session) -> None:
    first, _ = _drawn(session)
    assigned = {t.entity_id: set(t.inspector_ids) for t in session.scalars(
        select(InspectionTask).where(InspectionTask.plan_id == first.id, InspectionTask.status == "assigned"))}
    target = next(iter(assigned))
    plan, seed = create_plan(session, "复查", HZ, ["ZJ-002"], ratios={"A": "0.05", "B": "0.2", "C": "0.6", "D": "1"},
                             today=TODAY)
    take_snapshot(session, plan.id, [(target, NB)], today=TODAY)
    snapshot = stored_snapshot(plan)
    recent = {(r.entity_id, r.inspector_id) for r in snapshot.recent}
    assert {(e, i) for e, people in assigned.items() for i in people} == recent
    assert {(c.entity_id, c.agency) for c in snapshot.complainants} == {(target, NB)}
    result = draw_plan(session, plan.id, seed)
    agencies = {i.id: i.agency for i in snapshot.inspectors}
    for task in result.targets:
        assert not set(task.inspector_ids) & assigned.get(task.entity_id, set())
        assert task.entity_id != target or NB not in {agencies[i] for i in task.inspector_ids}


def test_verify_plan_names_a_changed_task_result_or_snapshot(session: Session) -> None:
    plan, _ = _drawn(session)
    assert verify_plan(session, plan.id).ok
    task = session.scalars(select(InspectionTask).where(InspectionTask.plan_id == plan.id,
                                                        InspectionTask.status == "assigned")).first()
    assert task is not None
    original = list(task.inspector_ids)
    task.inspector_ids = original[::-1]
    session.commit()
    assert verify_plan(session, plan.id).problems[0].startswith("tasks: 1 stored tasks differ")
    task.inspector_ids = original
    assert plan.result is not None
    result = json.loads(json.dumps(plan.result))
    result["targets"][0][2] = result["targets"][0][2][::-1]
    plan.result = result
    session.commit()
    problems = verify_plan(session, plan.id).problems
    assert any(p.startswith("result: its hash") for p in problems)
    assert any(p.startswith("targets: 1 differ") for p in problems)
    snapshot = stored_snapshot(plan)
    changed = snapshot.__class__(snapshot.entities[1:], snapshot.inspectors, snapshot.recent,
                                 snapshot.complainants, snapshot.items, snapshot.taken_on)
    plan.snapshot = base64.b64encode(zlib.compress(snapshot_json(changed).encode())).decode()
    session.commit()
    assert any(p.startswith("snapshot: its hash") for p in verify_plan(session, plan.id).problems)


def test_a_pending_task_counts_as_an_inspection_from_its_draw(session: Session) -> None:
    plan, _ = _drawn(session)
    session.execute(update(InspectionPlan).where(InspectionPlan.id == plan.id)
                    .values(drawn_at=datetime(2024, 1, 1)))
    session.commit()
    later, _ = create_plan(session, "抽查", HZ, ["ZJ-001"], today=TODAY)
    take_snapshot(session, later.id, today=TODAY)
    assert stored_snapshot(later).recent == ()
