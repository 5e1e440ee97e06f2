"""Credit repair of penalties against a real store (SQLite and PostgreSQL): policy dates, scope, persistence.

Expected dates come from DOMAIN.md §3 and the conventions in publicity.toml (periods run from the
decision date in calendar months; a month lacking the day ends on its last day), not from the code.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from blacklist.actions import InvalidAction, NotFound, OutOfScope
from blacklist.errors import InvalidObjection
from blacklist.objections import submit_objection
from blacklist.repair import repair_penalty
from blacklist.tokens import issue_token
from blacklist.visibility import public_facts
from credit.claims import ClaimIn, apply_claims
from credit.entities import EntityIds, ensure_entities
from credit.facts import FactIn, apply_facts
from credit.models import ApiToken, AuditEvent, ChangeLog, CreditRepair, Entity, Fact
from tests.factories import REGISTRY, REGISTRY_RANK, T0, new_uscc, penalty

SZ_ID, SZ_NAME = "sz-samr", "深圳市市场监督管理局"
ALL_MET = {"corrected": True, "obligations_fulfilled": True, "credit_commitment": True}
# An ordinary penalty decided 2026-04-10 falls under the NDRC measures in force from 2026-04-01:
# minimum 3 months (repair from 2026-07-10), maximum 1 year (stops 2027-04-10, last public day 2027-04-09).
DECIDED = date(2026, 4, 10)
FIRST_REPAIR_DAY = date(2026, 7, 10)
LAST_PUBLIC_DAY = date(2027, 4, 9)


def token_for(session: Session, region: str = "4403", agency: tuple[str, str] = (SZ_ID, SZ_NAME)) -> ApiToken:
    """A committed token of this agency and region."""
    token, _ = issue_token(session, agency[0], agency[1], ["abnormal"], region, "信用修复")
    session.commit()
    return token


def firm(session: Session, seed: int, name: str, division: str = "440305") -> Entity:
    """An operating company registered in ``division``."""
    entity_id = ensure_entities(session, [EntityIds(uscc=new_uscc(seed, division))])[0].entity_id
    assert entity_id is not None
    apply_claims(session, [ClaimIn(entity_id, field, value, REGISTRY, REGISTRY_RANK, T0) for field, value in
                           {"name": name, "entity_type": "有限责任公司", "status": "存续"}.items()])
    session.commit()
    entity = session.get(Entity, entity_id)
    assert entity is not None
    return entity


def stored_penalty(session: Session, entity: Entity, key: str, **more: Any) -> Fact:
    """An ordinary penalty of the Shenzhen bureau decided 2026-04-10 (unless ``more`` says otherwise), committed."""
    apply_facts(session, [penalty(entity.id, key, **({"decided_on": DECIDED} | more))])
    session.commit()
    return session.scalars(select(Fact).where(Fact.source_key == key)).one()


def repair(session: Session, token: ApiToken, fact: Fact, applied_on: date, repaired_on: date | None = None,
           conditions: dict[str, bool] = ALL_MET, request_id: str | None = None) -> CreditRepair:
    """Repair through the domain function, with a decision number."""
    return repair_penalty(session, token, fact.id, applied_on, repaired_on or applied_on, "深市监信修〔2026〕12号",
                          conditions, request_id)


def shown(session: Session, entity: Entity, on: date) -> list[str]:
    """Source keys of the entity's facts the public sees on ``on`` (stored facts, repairs read from the table)."""
    facts = session.scalars(select(Fact).where(Fact.entity_id == entity.id).order_by(Fact.id)).all()
    return [f.source_key for f in public_facts(facts, on, "44")]


def test_repair_is_refused_the_day_before_the_minimum_period_ends(session: Session) -> None:
    token, entity = token_for(session), firm(session, 1, "深圳市南山区星河电子有限公司")
    fact = stored_penalty(session, entity, "P-early")
    with pytest.raises(InvalidAction, match="最早可于2026-07-10申请") as refused:
        repair(session, token, fact, date(2026, 7, 9))
    assert refused.value.field == "applied_on" and "未满最短公示期限" in str(refused.value)
    session.rollback()
    assert session.scalars(select(CreditRepair)).all() == []


def test_repair_is_accepted_on_the_first_allowed_day_and_stops_publication_from_its_day(session: Session) -> None:
    token, entity = token_for(session), firm(session, 2, "深圳市福田区修复测试有限公司")
    fact = stored_penalty(session, entity, "P-first-day")
    assert shown(session, entity, LAST_PUBLIC_DAY) == ["P-first-day"]
    assert shown(session, entity, date(2027, 4, 10)) == []  # the maximum of 1 year has passed
    made = repair(session, token, fact, FIRST_REPAIR_DAY, date(2026, 7, 20), request_id="req-repair-1")
    session.commit()
    assert (made.fact_id, made.status, made.applied_on, made.repaired_on, made.decided_by, made.agency_id) == (
        fact.id, "active", FIRST_REPAIR_DAY, date(2026, 7, 20), SZ_NAME, SZ_ID)
    assert made.conditions == ALL_MET and made.request_id == "req-repair-1"
    assert shown(session, entity, date(2026, 7, 19)) == ["P-first-day"]
    assert shown(session, entity, date(2026, 7, 20)) == []


def test_the_month_of_the_minimum_period_ends_on_its_last_day(session: Session) -> None:
    # Trial measures (2023-05-01 to 2026-03-31): minimum 3 months; 2025-01-31 + 3 months = 2025-04-30.
    token, entity = token_for(session), firm(session, 3, "深圳市罗湖区月末测试有限公司")
    fact = stored_penalty(session, entity, "P-month-end", decided_on=date(2025, 1, 31))
    with pytest.raises(InvalidAction, match="最早可于2025-04-30申请"):
        repair(session, token, fact, date(2025, 4, 29))
    session.rollback()
    assert repair(session, token, fact, date(2025, 4, 30)).repaired_on == date(2025, 4, 30)


def test_a_serious_penalty_waits_one_year_under_the_2026_measures(session: Session) -> None:
    token, entity = token_for(session), firm(session, 4, "深圳市宝安区严重处罚有限公司")
    fact = stored_penalty(session, entity, "P-serious", severity="serious")
    with pytest.raises(InvalidAction, match="最早可于2027-04-10申请"):
        repair(session, token, fact, date(2027, 4, 9))


def test_each_missing_condition_is_named(session: Session) -> None:
    token, entity = token_for(session), firm(session, 5, "深圳市龙岗区条件测试有限公司")
    fact = stored_penalty(session, entity, "P-conditions")
    with pytest.raises(InvalidAction) as refused:
        repair(session, token, fact, FIRST_REPAIR_DAY, conditions={"corrected": True, "credit_commitment": False})
    message = str(refused.value)
    assert refused.value.field == "conditions"
    assert "已履行法定义务" in message and "已作出信用承诺" in message and "已纠正失信行为" not in message


def test_a_repaired_penalty_is_no_longer_open_to_public_objection(session: Session) -> None:
    token, entity = token_for(session), firm(session, 14, "深圳市福田区异议测试有限公司")
    kept, repaired = stored_penalty(session, entity, "P-kept"), stored_penalty(session, entity, "P-repaired")
    repair(session, token, repaired, FIRST_REPAIR_DAY)
    session.commit()
    text = "该处罚已经信用修复，不应继续公示"
    assert submit_objection(session, entity.uscc or "", "fact", kept.id, text, today=date(2026, 8, 3)).id
    with pytest.raises(InvalidObjection, match="公开记录"):
        submit_objection(session, entity.uscc or "", "fact", repaired.id, text, today=date(2026, 8, 3))


def test_a_repair_is_audited_and_logged_for_the_index_and_the_change_feed(session: Session) -> None:
    token, entity = token_for(session), firm(session, 6, "深圳市光明区审计测试有限公司")
    fact = stored_penalty(session, entity, "P-audit")
    seq = session.scalars(select(ChangeLog.seq).order_by(ChangeLog.seq.desc())).first() or 0
    made = repair(session, token, fact, FIRST_REPAIR_DAY, request_id="req-audit")
    session.commit()
    (audited,) = session.scalars(select(AuditEvent).where(AuditEvent.target_type == "fact")).all()
    assert (audited.action, audited.target_id, audited.agency_id, audited.token_id, audited.request_id) == (
        "fact.repair", str(fact.id), SZ_ID, token.id, "req-audit")
    assert audited.before is not None and audited.after is not None
    assert (audited.before["public_until"], audited.before["repair"]) == (LAST_PUBLIC_DAY.isoformat(), None)
    assert audited.after["public_until"] == "2026-07-09" and "信用修复" in audited.after["publicity_reason"]
    assert audited.after["repair"]["id"] == made.id and audited.after["repair"]["repaired_on"] == "2026-07-10"
    (logged,) = session.scalars(select(ChangeLog).where(ChangeLog.seq > seq)).all()
    assert (logged.entity_id, logged.kind) == (entity.id, "fact")
    assert logged.detail["facts"] == [{"op": "repair", "kind": "penalty", "source": "samr-penalty",
                                       "key": "P-audit", "repair": made.id}]


def test_an_ingest_re_send_of_the_penalty_does_not_undo_the_repair(session: Session) -> None:
    token, entity = token_for(session), firm(session, 7, "深圳市坪山区重报测试有限公司")
    fact = stored_penalty(session, entity, "P-resent")
    repair(session, token, fact, FIRST_REPAIR_DAY)
    session.commit()
    changed = {"decision_no": "深市监罚〔2026〕P-resent号", "fine_amount": "2.5", "penalty_type": "罚款；没收违法所得"}
    result = apply_facts(session, [penalty(entity.id, "P-resent", decided_on=DECIDED, body=changed)])
    session.commit()
    session.expire_all()
    assert result.updated == 1
    stored = session.get(Fact, fact.id)
    assert stored is not None and stored.body == changed and "repaired_on" not in stored.body
    assert session.scalars(select(CreditRepair.fact_id)).all() == [fact.id]
    assert shown(session, entity, date(2026, 8, 1)) == []


def test_a_sources_own_repair_day_still_counts_and_the_earlier_day_wins(session: Session) -> None:
    token, entity = token_for(session), firm(session, 8, "深圳市盐田区来源修复有限公司")
    body = {"decision_no": "深市监罚〔2026〕9号", "penalty_type": "罚款", "repaired_on": "2026-08-01"}
    sourced = stored_penalty(session, entity, "P-sourced", body=body)
    assert shown(session, entity, date(2026, 7, 31)) == ["P-sourced"]
    assert shown(session, entity, date(2026, 8, 1)) == []
    with pytest.raises(InvalidAction, match="来源已报送该处罚于2026-08-01信用修复"):
        repair(session, token, sourced, date(2026, 9, 1))
    session.rollback()
    other = stored_penalty(session, entity, "P-both", body=body | {"repaired_on": "2026-10-01"})
    repair(session, token, other, date(2026, 7, 15))
    session.commit()
    assert shown(session, entity, date(2026, 7, 14)) == ["P-sourced", "P-both"]
    assert shown(session, entity, date(2026, 7, 15)) == ["P-sourced"]  # the table's earlier day wins


def test_only_the_deciding_agency_in_its_region_may_repair(session: Session) -> None:
    owner = token_for(session)
    other_agency = token_for(session, "44", ("gz-samr", "广州市市场监督管理局"))
    elsewhere = token_for(session, "3101", ("sz-samr", SZ_NAME))
    shenzhen = firm(session, 9, "深圳市南山区归属测试有限公司")
    shanghai = firm(session, 10, "上海市黄浦区归属测试有限公司", division="310101")
    fact = stored_penalty(session, shenzhen, "P-owned")
    with pytest.raises(OutOfScope, match="本机关"):
        repair(session, other_agency, fact, FIRST_REPAIR_DAY)
    with pytest.raises(OutOfScope, match="440305"):
        repair(session, elsewhere, fact, FIRST_REPAIR_DAY)
    with pytest.raises(OutOfScope, match="310101"):
        repair(session, owner, stored_penalty(session, shanghai, "P-shanghai"), FIRST_REPAIR_DAY)
    with pytest.raises(NotFound, match="未找到信用记录"):
        repair_penalty(session, owner, fact.id + 1000, FIRST_REPAIR_DAY, FIRST_REPAIR_DAY, "文号", ALL_MET)
    session.rollback()
    assert session.scalars(select(CreditRepair)).all() == []


def test_a_penalty_the_policy_does_not_publish_or_already_repaired_or_withdrawn_is_refused(session: Session) -> None:
    token, entity = token_for(session), firm(session, 11, "深圳市龙华区状态测试有限公司")
    minor = stored_penalty(session, entity, "P-minor", severity="minor")
    with pytest.raises(InvalidAction, match="不予公示"):
        repair(session, token, minor, FIRST_REPAIR_DAY)
    session.rollback()
    fact = stored_penalty(session, entity, "P-twice")
    repair(session, token, fact, FIRST_REPAIR_DAY)
    session.commit()
    with pytest.raises(InvalidAction, match="不能重复修复"):
        repair(session, token, fact, date(2026, 8, 1))
    session.rollback()
    gone = stored_penalty(session, entity, "P-gone")
    apply_facts(session, [penalty(entity.id, "P-gone", change="d")])
    session.commit()
    with pytest.raises(InvalidAction, match="已撤下"):
        repair(session, token, gone, FIRST_REPAIR_DAY)
    session.rollback()
    apply_facts(session, [FactIn(entity.id, "samr-licence", "L-1", "licence", authority=SZ_NAME, decided_on=DECIDED)])
    session.commit()
    licence = session.scalars(select(Fact).where(Fact.kind == "licence")).one()
    with pytest.raises(InvalidAction, match="不是行政处罚"):
        repair(session, token, licence, FIRST_REPAIR_DAY)


def test_dates_after_publicity_ended_or_a_decision_before_the_application_are_refused(session: Session) -> None:
    token, entity = token_for(session), firm(session, 12, "深圳市大鹏新区日期测试有限公司")
    fact = stored_penalty(session, entity, "P-dates")
    with pytest.raises(InvalidAction, match="2027-04-09届满"):
        repair(session, token, fact, date(2027, 4, 10))
    with pytest.raises(InvalidAction, match="早于申请日期") as early:
        repair(session, token, fact, date(2026, 8, 1), date(2026, 7, 31))
    assert early.value.field == "repaired_on"


def test_public_facts_reads_the_repairs_of_all_shown_facts_in_one_query(session: Session, engine: Engine) -> None:
    token, entity = token_for(session), firm(session, 13, "深圳市南山区批量读取有限公司")
    facts = [stored_penalty(session, entity, f"P-many-{i}") for i in range(5)]
    repair(session, token, facts[2], FIRST_REPAIR_DAY)
    session.commit()
    loaded = session.scalars(select(Fact).where(Fact.entity_id == entity.id).order_by(Fact.id)).all()
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "credit_repair" in statement:
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        visible = public_facts(loaded, date(2026, 8, 1), "44")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert [f.source_key for f in visible] == ["P-many-0", "P-many-1", "P-many-3", "P-many-4"]
    assert len(statements) == 1
