"""Corrections of list entries against a real store (SQLite and PostgreSQL): fields, rules, scope, audit."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from blacklist.actions import InvalidAction, NotFound, OutOfScope, flag_entity, remove_listing, withdraw_record
from blacklist.corrections import correct_listing
from blacklist.tokens import issue_token
from credit.claims import ClaimIn, apply_claims
from credit.entities import EntityIds, ensure_entities
from credit.models import ApiToken, AuditEvent, ChangeLog, Entity, ListEntry
from tests.factories import REGISTRY, REGISTRY_RANK, T0, new_uscc

SZ_ID, SZ_NAME = "sz-samr", "深圳市市场监督管理局"
LISTS = ["abnormal", "serious-illegal"]
SERIOUS = "生产经营腐败变质食品，被吊销食品经营许可证"
NO_REPORT = "未依照《企业信息公示暂行条例》第八条规定的期限公示年度报告"
WHY = "原决定文号录入错误，依原处罚决定书更正"


def token_for(session: Session, region: str = "4403", agency: tuple[str, str] = (SZ_ID, SZ_NAME)) -> ApiToken:
    """A committed token of this agency for both lists and this region."""
    token, _ = issue_token(session, agency[0], agency[1], LISTS, region, "更正")
    session.commit()
    return token


def firm(session: Session, seed: int, name: str) -> Entity:
    """An operating company in Shenzhen's Nanshan district (established 2023)."""
    entity_id = ensure_entities(session, [EntityIds(uscc=new_uscc(seed, "440305"))])[0].entity_id
    assert entity_id is not None
    apply_claims(session, [ClaimIn(entity_id, field, value, REGISTRY, REGISTRY_RANK, T0) for field, value in
                           {"name": name, "entity_type": "有限责任公司", "status": "存续",
                            "established_on": "2023-03-01"}.items()])
    session.commit()
    entity = session.get(Entity, entity_id)
    assert entity is not None
    return entity


def serious(session: Session, token: ApiToken, entity: Entity) -> ListEntry:
    """A serious listing of 2024-03-01 (term 36 months), committed."""
    entry = flag_entity(session, token, entity.uscc or "", "serious-illegal", SERIOUS, date(2024, 3, 1),
                        decision_no="深市监食罚〔2024〕7号", basis="《市场监督管理严重违法失信名单管理办法》第九条")
    session.commit()
    return entry


def audits(session: Session, entry_id: int) -> list[AuditEvent]:
    """The audit events of one entry, oldest first."""
    query = select(AuditEvent).where(AuditEvent.target_type == "list_entry", AuditEvent.target_id == str(entry_id))
    return list(session.scalars(query.order_by(AuditEvent.id)))


def test_a_correction_changes_only_the_given_fields_and_is_audited_with_before_and_after(session: Session) -> None:
    token = token_for(session)
    entity = firm(session, 1, "深圳市南山区更正测试有限公司")
    entry = serious(session, token, entity)
    seq = session.scalars(select(ChangeLog.seq).order_by(ChangeLog.seq.desc())).first() or 0
    corrected = correct_listing(session, token, entry.id, WHY, {"decision_no": " 深市监食罚〔2024〕17号 "},
                                request_id="req-correct")
    session.commit()
    session.expire_all()
    stored = session.get(ListEntry, entry.id)
    assert stored is not None and corrected.id == stored.id
    assert (stored.decision_no, stored.reason, stored.basis, stored.listed_on) == (
        "深市监食罚〔2024〕17号", SERIOUS, "《市场监督管理严重违法失信名单管理办法》第九条", date(2024, 3, 1))
    flagged, correction = audits(session, entry.id)
    assert (correction.action, correction.agency_id, correction.token_id, correction.request_id) == (
        "list.correct", SZ_ID, token.id, "req-correct")
    assert correction.before == flagged.after
    assert correction.before is not None and correction.after is not None
    assert (correction.before["decision_no"], correction.after["decision_no"]) == (
        "深市监食罚〔2024〕7号", "深市监食罚〔2024〕17号")
    assert correction.after["correction_reason"] == WHY and correction.after["corrected_fields"] == ["decision_no"]
    logged = session.scalars(select(ChangeLog).where(ChangeLog.seq > seq)).all()
    assert [(c.entity_id, c.kind, c.detail["entry"]) for c in logged] == [(entity.id, "list", entry.id)]


def test_a_corrected_listing_day_moves_the_term_with_it(session: Session) -> None:
    token = token_for(session)
    entry = serious(session, token, firm(session, 2, "深圳市南山区期限测试有限公司"))
    assert entry.due_expiry == date(2027, 3, 1)
    correct_listing(session, token, entry.id, "列入日期以决定书送达日为准", {"listed_on": date(2024, 2, 1)})
    session.commit()
    assert (entry.listed_on, entry.due_expiry) == (date(2024, 2, 1), date(2027, 2, 1))


def test_a_withdrawn_entry_cannot_be_corrected(session: Session) -> None:
    token = token_for(session)
    entry = serious(session, token, firm(session, 3, "深圳市南山区撤回测试有限公司"))
    withdraw_record(session, token, entry.id, "列入依据有误")
    session.commit()
    with pytest.raises(InvalidAction, match="已撤回"):
        correct_listing(session, token, entry.id, WHY, {"decision_no": "深市监食罚〔2024〕17号"})


def test_a_listing_day_after_the_removal_is_refused(session: Session) -> None:
    token = token_for(session)
    entry = serious(session, token, firm(session, 4, "深圳市南山区移出测试有限公司"))
    remove_listing(session, token, entry.id, "已履行处罚义务、消除不良影响并作出信用承诺", date(2025, 3, 2))
    session.commit()
    with pytest.raises(InvalidAction, match="晚于移出日期2025-03-02") as refused:
        correct_listing(session, token, entry.id, WHY, {"listed_on": date(2025, 3, 3)})
    assert refused.value.field == "listed_on"
    correct_listing(session, token, entry.id, WHY, {"listed_on": date(2025, 3, 2)})


@pytest.mark.parametrize("changes, field, message", [
    ({"reason": "   "}, "reason", "列入原因不得为空"),
    ({"basis": ""}, "basis", "列入依据不得为空"),
    ({"decision_no": None}, "decision_no", "决定文号不得为空"),
    ({"decision_no": "号" * 201}, "decision_no", "不得超过 200 字"),
    ({"list_id": "abnormal"}, "list_id", "不能更正字段"),
    ({"entity_id": 1}, "entity_id", "不能更正字段"),
    ({}, None, "至少一项"),
    ({"decision_no": "深市监食罚〔2024〕7号"}, None, "与原记录相同"),
])
def test_empty_unknown_or_unchanged_values_are_refused(session: Session, changes: dict[str, Any], field: str | None,
                                                       message: str) -> None:
    token = token_for(session)
    entry = serious(session, token, firm(session, 5, "深圳市南山区空值测试有限公司"))
    with pytest.raises(InvalidAction, match=message) as refused:
        correct_listing(session, token, entry.id, WHY, changes)
    assert refused.value.field == field
    session.rollback()
    assert [e.action for e in audits(session, entry.id)] == ["list.flag"]


def test_a_correction_needs_a_reason(session: Session) -> None:
    token = token_for(session)
    entry = serious(session, token, firm(session, 6, "深圳市南山区原因测试有限公司"))
    with pytest.raises(InvalidAction, match="更正原因不得为空") as refused:
        correct_listing(session, token, entry.id, " ", {"decision_no": "深市监食罚〔2024〕17号"})
    assert refused.value.field == "correction_reason"


def test_only_the_agency_that_made_the_entry_may_correct_it(session: Session) -> None:
    owner = token_for(session)
    province = token_for(session, "44", ("gd-samr", "广东省市场监督管理局"))
    entry = serious(session, owner, firm(session, 7, "深圳市南山区归属测试有限公司"))
    with pytest.raises(OutOfScope, match="本机关"):
        correct_listing(session, province, entry.id, WHY, {"decision_no": "粤市监罚〔2024〕1号"})
    elsewhere = token_for(session, "3101", (SZ_ID, SZ_NAME))
    with pytest.raises(OutOfScope, match="440305"):
        correct_listing(session, elsewhere, entry.id, WHY, {"decision_no": "深市监食罚〔2024〕17号"})
    with pytest.raises(NotFound):
        correct_listing(session, owner, entry.id + 100, WHY, {"decision_no": "深市监食罚〔2024〕17号"})
    with pytest.raises(NotFound):
        correct_listing(session, owner, 2**63, WHY, {"decision_no": "深市监食罚〔2024〕17号"})


def test_an_abnormal_correction_keeps_the_report_year_and_the_listing_deadline(session: Session) -> None:
    token = token_for(session)
    entity = firm(session, 8, "深圳市南山区年报更正有限公司")
    entry = flag_entity(session, token, entity.uscc or "", "abnormal", NO_REPORT, date(2025, 7, 10), reason_code="1",
                        year=2024)
    session.commit()
    # The 2024 report was due by 2025-06-30: a listing on that day would have been too early.
    with pytest.raises(InvalidAction, match="尚未届满"):
        correct_listing(session, token, entry.id, WHY, {"listed_on": date(2025, 6, 30)})
    session.rollback()
    correct_listing(session, token, entry.id, "列入原因表述更正", {"reason": "未按规定期限公示年度报告"})
    session.commit()
    assert entry.reason == "2024年度，未按规定期限公示年度报告"


def test_an_abnormal_correction_may_not_duplicate_another_open_address_case(session: Session) -> None:
    token = token_for(session)
    entity = firm(session, 9, "深圳市南山区住所更正有限公司")
    unreachable = "通过登记的住所或者经营场所无法联系"
    first = flag_entity(session, token, entity.uscc or "", "abnormal", unreachable, date(2025, 3, 1),
                        reason_code="4", decision_no="深市监南异〔2025〕1号")
    second = flag_entity(session, token, entity.uscc or "", "abnormal", unreachable, date(2025, 9, 1),
                         reason_code="4", decision_no="深市监南异〔2025〕2号")
    session.commit()
    with pytest.raises(InvalidAction, match="不得重复列入"):
        correct_listing(session, token, second.id, WHY, {"decision_no": "深市监南异〔2025〕1号"})
    session.rollback()
    remove_listing(session, token, first.id, "已办理住所变更登记", date(2025, 10, 1))
    correct_listing(session, token, second.id, WHY, {"decision_no": "深市监南异〔2025〕1号"})
