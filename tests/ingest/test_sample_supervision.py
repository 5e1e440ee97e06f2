"""Sample supervision data: registers, a drawn plan that verifies, some results; `inspections sample` once."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from blacklist.tokens import hash_secret
from credit.inspection_plans import verify_plan
from credit.inspection_results import SOURCE, publication_due
from credit.models import ApiToken, Entity, Fact, InspectionItemRecord, InspectionPlan, InspectionTask, InspectorRecord
from ingest.sample_supervision import AGENCIES, SampleError, seed_supervision
from tests.factories import make_entity

TODAY = date(2025, 11, 20)


def _sample_entities(session: Session, count: int = 80) -> None:
    """Shenzhen entities (the sample region) with no risk class yet."""
    for n in range(count):
        make_entity(session, n, name=f"深圳市福田区华强{n}号电子有限公司", status="存续", registered_capital="100",
                    established_on="2018-05-01")
    session.commit()


def _count(session: Session, model: type, *where: object) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)  # type: ignore[arg-type]


def test_the_sample_classifies_registers_draws_and_records_a_third_of_the_results(session: Session) -> None:
    _sample_entities(session)
    report = seed_supervision(session, TODAY)
    session.commit()
    assert report.classified == 80 and _count(session, Entity, Entity.risk_class.is_(None)) == 0
    assert _count(session, InspectionItemRecord) == report.items == 8
    officers = session.scalars(select(InspectorRecord)).all()
    assert len(officers) == report.inspectors == sum(a[4] for a in AGENCIES) == 60
    assert len({o.name for o in officers}) == 60 and all("\u4e00" <= o.name[0] <= "\u9fff" for o in officers)
    assert {o.agency_id for o in officers} == {a[0] for a in AGENCIES} and any(o.declared_ties for o in officers)
    assert verify_plan(session, report.plan_id).ok
    assigned = _count(session, InspectionTask, InspectionTask.status.in_(("assigned", "done")))
    done = session.scalars(select(InspectionTask).where(InspectionTask.status == "done")).all()
    assert len(done) == report.results == -(-assigned // 3) and report.targets == assigned
    assert _count(session, Fact, Fact.source == SOURCE) == len(done)
    plan = session.get(InspectionPlan, report.plan_id)
    assert plan is not None and plan.drawn_at is not None
    for task in done:
        assert task.result_on is not None and task.published_on is not None
        assert plan.drawn_at.date() <= task.result_on <= task.published_on <= TODAY
    assert report.late == sum(t.published_on > publication_due(t.result_on) for t in done)  # type: ignore[operator]
    assert f"plan {report.plan_id} 「" in "\n".join(report.lines())


def test_the_sample_registers_are_the_same_every_time(session: Session) -> None:
    _sample_entities(session, 10)
    seed_supervision(session, TODAY)
    first = session.execute(select(InspectorRecord.id, InspectorRecord.name, InspectorRecord.division_code,
                                   InspectorRecord.declared_ties).order_by(InspectorRecord.id)).all()
    seed_supervision(session, TODAY)
    again = session.execute(select(InspectorRecord.id, InspectorRecord.name, InspectorRecord.division_code,
                                   InspectorRecord.declared_ties).order_by(InspectorRecord.id)).all()
    assert first == again and len(first) == 60 and _count(session, InspectionPlan) == 2


def test_without_sample_entities_the_sample_says_what_to_run(session: Session) -> None:
    with pytest.raises(SampleError, match="gongxin sample-data"):
        seed_supervision(session, TODAY)


def test_the_sample_command_twice_with_if_empty_makes_one_plan_and_one_token(
        cli: Callable[..., Result], session: Session, app: Flask) -> None:
    _sample_entities(session)
    first = cli("inspections", "sample", "--if-empty", "--port", "8000")
    assert first.exit_code == 0, first.output
    assert "console: http://127.0.0.1:8000/console — sign in with the token in instance/console-token.txt" in first.output
    second = cli("inspections", "sample", "--if-empty")
    assert second.exit_code == 0 and "already exist" in second.output, second.output
    assert _count(session, InspectionPlan) == 1
    tokens = session.scalars(select(ApiToken)).all()
    assert len(tokens) == 1 and tokens[0].label == "示例工作台令牌" and tokens[0].agency_id == "sz-amr"
    path = Path(app.instance_path) / "console-token.txt"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert hash_secret(path.read_text(encoding="utf-8").strip()) == tokens[0].token_hash
    session.rollback()
    # Without --if-empty a second plan is made, but the labelled token is never issued twice.
    again = cli("inspections", "sample")
    assert again.exit_code == 0, again.output
    assert _count(session, InspectionPlan) == 2 and _count(session, ApiToken) == 1


def test_the_sample_command_on_an_empty_store_fails_clearly(cli: Callable[..., Result]) -> None:
    failed = cli("inspections", "sample", "--if-empty")
    assert failed.exit_code == 1 and "no sample entities in region 4403" in failed.output
