"""``gongxin inspections classify | explain``: the risk classes from the command line."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from click.testing import Result
from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings

from credit.facts import apply_facts
from credit.models import Entity, RiskRun
from credit.risk_policy import load_risk_policy
from tests.factories import make_entity, new_uscc, penalty

AS_OF = date(2025, 9, 1)
P = load_risk_policy().on(AS_OF)


def seed(session: Session) -> tuple[int, int]:
    """A revoked entity with a serious penalty, and an old capitalised one (reports missing)."""
    risky = make_entity(session, 1, name="深圳市风险较高贸易有限公司", status="吊销", registered_capital="5",
                        established_on="2010-01-01")
    apply_facts(session, [penalty(risky, "K1", severity="serious", decided_on=AS_OF - timedelta(days=3))])
    plain = make_entity(session, 2, name="深圳市守信科技有限公司", status="存续", registered_capital="500",
                        established_on="2010-01-01")
    session.commit()
    return risky, plain


def test_classify_prints_the_counts_per_class_and_explain_the_factors(cli: Callable[..., Result],
                                                                     session: Session) -> None:
    risky, plain = seed(session)
    result = cli("inspections", "classify", "--full", "--as-of", AS_OF.isoformat())
    assert result.exit_code == 0, result.output
    score = (next(p.points for p in P.registration.status if p.phrase == "吊销") + P.registration.capital[0].points
             + P.penalties.points["serious"][0])
    risky_class = P.class_of(score)
    plain_class = P.class_of(min(3 * P.annual_reports.missing_each, P.annual_reports.max_points))
    assert f"risk classes as of {AS_OF} (policy {P.id}), all entities:" in result.output
    for risk_class in P.classes:
        count = [risky_class, plain_class].count(risk_class.name)
        assert f"  {risk_class.name}  {count:>10,}  {risk_class.label}" in result.output
    assert "2 assessed, 2 with a new class or score recorded" in result.output

    shown = cli("inspections", "explain", new_uscc(1))
    assert shown.exit_code == 0, shown.output
    assert f"class {risky_class} {P.label_of(risky_class)}, score {score}, as of {AS_OF} (policy {P.id})" in shown.output
    assert "登记状态为“吊销”" in shown.output and f"{P.penalties.points['serious'][0]:>+5}  行政处罚" in shown.output
    assert f"{score:>5}  合计" in shown.output
    by_id = cli("inspections", "explain", str(plain), "--history")
    assert by_id.exit_code == 0 and "未报送" in by_id.output and "history:" in by_id.output


def test_classify_without_full_takes_the_changed_entities_and_errors_are_clear(cli: Callable[..., Result],
                                                                              session: Session) -> None:
    seed(session)
    first = cli("inspections", "classify", "--as-of", AS_OF.isoformat())
    assert first.exit_code == 0 and "entities changed since the last run" in first.output
    assert "2 assessed" in first.output
    again = cli("inspections", "classify", "--as-of", AS_OF.isoformat())
    assert "0 assessed" in again.output
    early = cli("inspections", "classify", "--full", "--as-of", "2020-01-01")
    assert early.exit_code != 0 and "no risk policy version in force on 2020-01-01" in early.output
    assert cli("inspections", "explain", "999999").exit_code != 0
    unclassified = make_entity(session, 3, name="深圳市新设有限公司")
    session.commit()
    missing = cli("inspections", "explain", str(unclassified))
    assert missing.exit_code != 0 and "not been classified" in missing.output
    assert session.get(Entity, unclassified) is not None
    assert cli("inspections", "explain", "不是代码").exit_code != 0


# --- the jobs that run the same: after each ingest (changed entities) and monthly (all) -----------

def test_the_monthly_job_classifies_everyone_on_the_first_at_three_beijing_time(settings: Settings,
                                                                                session: Session) -> None:
    from app import jobs
    from app.scheduler import MONTHLY_RISK_JOB, build_scheduler
    from ingest.registry import Registry
    from ingest.schedule import TIMEZONE

    none = Registry(settings.sources, ())
    scheduler = build_scheduler(settings, registry=none, job=lambda s, source_id: None, daily=None)
    monthly = scheduler.get_job(MONTHLY_RISK_JOB)
    assert monthly.func is jobs.monthly_risk_job and (monthly.max_instances, monthly.coalesce) == (1, True)
    fire = monthly.trigger.get_next_fire_time(None, datetime(2024, 3, 1, 10, 7, tzinfo=TIMEZONE))
    assert fire == datetime(2024, 4, 1, 3, 0, tzinfo=TIMEZONE)
    assert build_scheduler(settings, registry=none, monthly=None).get_job(MONTHLY_RISK_JOB) is None

    risky, plain = seed(session)
    try:
        jobs.monthly_risk_job(settings)
        session.expire_all()
        assert None not in (session.get(Entity, risky).risk_class, session.get(Entity, plain).risk_class)  # type: ignore[union-attr]
        assert session.scalars(select(RiskRun.scope)).all() == ["full"]
        session.rollback()  # end the read: on SQLite every transaction holds the write lock
        jobs.classify_risk(settings)  # what follows an ingest: nothing changed since
        assert session.scalars(select(RiskRun.assessed).order_by(RiskRun.id)).all() == [2, 0]
    finally:
        jobs.dispose_engines()


def test_a_failing_classification_is_logged_never_raised(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    from app import jobs

    broken = settings.with_overrides(database_url="sqlite:////nonexistent-dir/risk.db")
    try:
        jobs.monthly_risk_job(broken)
    finally:
        jobs.dispose_engines()
    assert "monthly credit risk classification failed" in caplog.text
