"""Regulator actions against a real store (SQLite and PostgreSQL): scope, list rules, audit."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from blacklist.actions import InvalidAction, NotFound, OutOfScope, flag_entity, remove_listing, withdraw_record
from blacklist.rules import apply_list_rules
from blacklist.tokens import issue_token
from credit.claims import ClaimIn, apply_claims
from credit.entities import EntityIds, ensure_entities
from credit.listings import ListEntryIn, apply_list_entries
from credit.models import ApiToken, AuditEvent, ChangeLog, Entity, ListEntry
from tests.factories import REGISTRY, REGISTRY_RANK, T0, new_uscc

SZ_ID, SZ_NAME = "sz-samr", "深圳市市场监督管理局"
COMPANY = "有限责任公司（自然人投资或控股）"
NO_REPORT = "未依照《企业信息公示暂行条例》第八条规定的期限公示年度报告"
FALSE_INFO = "公示企业信息隐瞒真实情况、弄虚作假"
SERIOUS = "提供虚假材料取得食品经营许可，被处以吊销许可证"


def token_for(session: Session, lists: list[str], region: str = "4403", agency: tuple[str, str] = (SZ_ID, SZ_NAME)
              ) -> ApiToken:
    """A committed token of this agency for these lists and region."""
    token, _ = issue_token(session, agency[0], agency[1], lists, region, "测试")
    session.commit()
    return token


def firm(session: Session, seed: int, name: str, division: str = "440300", kind: str = COMPANY) -> Entity:
    """An operating company registered in ``division`` (established 2023)."""
    entity_id = ensure_entities(session, [EntityIds(uscc=new_uscc(seed, division))])[0].entity_id
    assert entity_id is not None
    apply_claims(session, [ClaimIn(entity_id, field, value, REGISTRY, REGISTRY_RANK, T0) for field, value in
                           {"name": name, "entity_type": kind, "status": "存续", "established_on": "2023-03-01"}.items()])
    session.commit()
    entity = session.get(Entity, entity_id)
    assert entity is not None
    return entity


def flag_unreported(session: Session, token: ApiToken, entity: Entity, year: int = 2024,
                    listed_on: date = date(2025, 7, 10), **more: object) -> ListEntry:
    """Reason 1 (annual report of ``year`` not published), flagged and committed."""
    entry = flag_entity(session, token, entity.uscc or "", "abnormal", NO_REPORT, listed_on, reason_code="1",
                        year=year, **more)  # type: ignore[arg-type]
    session.commit()
    return entry


def audits(session: Session, entry_id: int) -> list[AuditEvent]:
    """The audit events of one entry, oldest first."""
    query = select(AuditEvent).where(AuditEvent.target_type == "list_entry", AuditEvent.target_id == str(entry_id))
    return list(session.scalars(query.order_by(AuditEvent.id)))


def test_a_flag_is_the_agencys_listing_with_an_audit_event_holding_it(session: Session) -> None:
    token = token_for(session, ["abnormal"])
    entity = firm(session, 1, "深圳市南山区星河电子有限公司")
    entry = flag_unreported(session, token, entity, decision_no="深市监异〔2025〕18号", request_id="req-1")
    stored = session.scalars(select(ListEntry)).one()
    assert stored.id == entry.id
    assert (stored.entity_id, stored.list_id, stored.reason_code, stored.listed_on, stored.status, stored.public) == (
        entity.id, "abnormal", "1", date(2025, 7, 10), "active", True)
    assert stored.source == "regulator:sz-samr" and (stored.source_key or "").startswith("manual:")
    assert stored.listed_by == SZ_NAME and stored.reason == f"2024年度，{NO_REPORT}"
    (event,) = audits(session, entry.id)
    assert (event.action, event.agency_id, event.token_id, event.request_id, event.before) == (
        "list.flag", SZ_ID, token.id, "req-1", None)
    assert event.after is not None
    assert {k: event.after[k] for k in ("list_id", "entity_id", "reason_code", "listed_on", "listed_by",
                                        "decision_no", "status", "public")} == {
        "list_id": "abnormal", "entity_id": entity.id, "reason_code": "1", "listed_on": "2025-07-10",
        "listed_by": SZ_NAME, "decision_no": "深市监异〔2025〕18号", "status": "active", "public": True}


def test_the_list_rules_read_a_flagged_report_year_and_do_not_list_it_again(session: Session) -> None:
    token = token_for(session, ["abnormal"])
    entity = firm(session, 2, "深圳市福田区年报测试有限公司")
    flag_unreported(session, token, entity, year=2024)
    apply_list_rules(session, date(2025, 7, 10), entity_ids=[entity.id])
    session.expire_all()
    years = sorted((e.reason or "")[:4] for e in session.scalars(select(ListEntry).where(ListEntry.entity_id == entity.id)))
    assert years == ["2023", "2024"]  # the rules add only 2023, the other unfiled year since 2023


def test_a_duplicate_abnormal_listing_is_refused_and_another_year_is_not(session: Session) -> None:
    token = token_for(session, ["abnormal"])
    entity = firm(session, 3, "深圳市罗湖区重复列入有限公司")
    flag_unreported(session, token, entity, year=2024)
    with pytest.raises(InvalidAction, match="不得重复列入"):
        flag_unreported(session, token, entity, year=2024, listed_on=date(2025, 8, 1))
    session.rollback()
    flag_unreported(session, token, entity, year=2023)
    assert len(session.scalars(select(ListEntry)).all()) == 2


@pytest.mark.parametrize("reason_code, year, listed_on, field, message", [
    (None, None, date(2025, 7, 10), "reason_code", "事由代码"),
    ("5", None, date(2025, 7, 10), "reason_code", "事由代码"),
    ("1", None, date(2025, 7, 10), None, "须写明年度"),
    ("1", 2024, date(2025, 6, 30), None, "尚未届满"),  # the 2024 report is due by 30 June 2025
])
def test_abnormal_listings_follow_the_state_machine(session: Session, reason_code: str | None, year: int | None,
                                                    listed_on: date, field: str | None, message: str) -> None:
    token = token_for(session, ["abnormal"])
    entity = firm(session, 4, "深圳市宝安区规则测试有限公司")
    with pytest.raises(InvalidAction, match=message) as caught:
        flag_entity(session, token, entity.uscc or "", "abnormal", NO_REPORT, listed_on, reason_code=reason_code,
                    year=year)
    assert caught.value.field == field


def test_types_the_catalogue_excludes_are_refused(session: Session) -> None:
    token = token_for(session, ["abnormal"])
    shop = firm(session, 5, "深圳市龙岗区李记五金店", kind="个体工商户")
    coop = firm(session, 6, "深圳市光明区绿源果蔬专业合作社", kind="农民专业合作社")
    with pytest.raises(InvalidAction, match="个体工商户不列入经营异常名录（只标记为经营异常状态：名单 abnormal-mark）"):
        flag_entity(session, token, shop.uscc or "", "abnormal", FALSE_INFO, date(2025, 3, 1), reason_code="3")
    with pytest.raises(InvalidAction, match="合作社不适用列入事由2"):
        flag_entity(session, token, coop.uscc or "", "abnormal", "未按责令期限公示", date(2025, 3, 1), reason_code="2")


def test_an_individual_business_is_marked_on_the_marking_list_not_a_company(session: Session) -> None:
    token = token_for(session, ["abnormal-mark"])
    shop = firm(session, 50, "深圳市龙岗区张记小吃店", kind="个体工商户")
    company = firm(session, 51, "深圳市龙岗区标记测试有限公司")
    unreachable = "通过登记的经营场所无法联系"
    mark = flag_entity(session, token, shop.uscc or "", "abnormal-mark", unreachable, date(2025, 3, 1), reason_code="4")
    assert (mark.list_id, mark.status, mark.reason) == ("abnormal-mark", "active", unreachable)
    with pytest.raises(InvalidAction, match="不列入经营异常状态标记"):
        flag_entity(session, token, company.uscc or "", "abnormal-mark", unreachable, date(2025, 3, 1), reason_code="4")


def test_scope_is_the_tokens_lists_and_region(session: Session) -> None:
    token = token_for(session, ["abnormal"])
    shenzhen = firm(session, 7, "深圳市南山区范围测试有限公司")
    shanghai = firm(session, 8, "上海市黄浦区范围测试有限公司", division="310101")
    with pytest.raises(OutOfScope, match="serious-illegal"):
        flag_entity(session, token, shenzhen.uscc or "", "serious-illegal", SERIOUS, date(2025, 3, 1))
    with pytest.raises(OutOfScope, match="310101"):
        flag_entity(session, token, shanghai.uscc or "", "abnormal", FALSE_INFO, date(2025, 3, 1), reason_code="3")
    with pytest.raises(NotFound):
        flag_entity(session, token, new_uscc(99), "abnormal", FALSE_INFO, date(2025, 3, 1), reason_code="3")
    national = token_for(session, ["abnormal"], region="", agency=("samr", "国家市场监督管理总局"))
    flag_entity(session, national, shanghai.uscc or "", "abnormal", FALSE_INFO, date(2025, 3, 1), reason_code="3")


def test_a_serious_listing_runs_for_its_catalogue_term(session: Session) -> None:
    token = token_for(session, ["serious-illegal"])
    entity = firm(session, 9, "深圳市食品经营测试有限公司")
    entry = flag_entity(session, token, entity.uscc or "", "serious-illegal", SERIOUS, date(2025, 8, 8))
    assert entry.due_expiry == date(2028, 8, 8)  # 36 months


def test_a_removal_is_audited_with_before_and_after_and_logged(session: Session) -> None:
    token = token_for(session, ["abnormal"])
    entity = firm(session, 10, "深圳市移出测试有限公司")
    entry = flag_unreported(session, token, entity)
    seq = session.scalars(select(ChangeLog.seq).order_by(ChangeLog.seq.desc())).first()
    removed = remove_listing(session, token, entry.id, "已补报2024年度报告并公示", date(2025, 9, 1), request_id="req-2")
    session.commit()
    assert (removed.status, removed.removed_on, removed.removed_by, removed.public) == (
        "removed", date(2025, 9, 1), SZ_NAME, True)
    flagged, removal = audits(session, entry.id)
    assert removal.action == "list.remove" and removal.request_id == "req-2"
    assert removal.before == flagged.after
    assert removal.after is not None and removal.before is not None
    assert (removal.before["status"], removal.before["removed_on"]) == ("active", None)
    assert (removal.after["status"], removal.after["removed_on"], removal.after["removal_reason"]) == (
        "removed", "2025-09-01", "已补报2024年度报告并公示")
    logged = session.scalars(select(ChangeLog).where(ChangeLog.seq > (seq or 0))).all()
    assert [(c.entity_id, c.kind, c.detail["entry"]) for c in logged] == [(entity.id, "list", entry.id)]


def test_removal_rules_before_listing_twice_and_without_reason(session: Session) -> None:
    token = token_for(session, ["abnormal"])
    entry = flag_unreported(session, token, firm(session, 11, "深圳市移出规则有限公司"))
    with pytest.raises(InvalidAction, match="早于列入日期") as before:
        remove_listing(session, token, entry.id, "已补报", date(2025, 7, 9))
    assert before.value.field == "removed_on"
    with pytest.raises(InvalidAction, match="写明原因") as blank:
        remove_listing(session, token, entry.id, "  ", date(2025, 7, 11))
    assert blank.value.field == "reason"
    remove_listing(session, token, entry.id, "已补报", date(2025, 7, 11))
    with pytest.raises(InvalidAction, match="已于2025-07-11移出"):
        remove_listing(session, token, entry.id, "已补报", date(2025, 7, 12))
    with pytest.raises(NotFound):
        remove_listing(session, token, entry.id + 100, "已补报", date(2025, 7, 12))


def test_an_early_serious_removal_hides_the_listing_and_a_due_one_does_not(session: Session) -> None:
    token = token_for(session, ["serious-illegal"])
    early = flag_entity(session, token, firm(session, 12, "深圳市提前移出有限公司").uscc or "", "serious-illegal",
                        SERIOUS, date(2024, 3, 1))
    due = flag_entity(session, token, firm(session, 13, "深圳市期满移出有限公司").uscc or "", "serious-illegal",
                      SERIOUS, date(2021, 3, 1))
    remove_listing(session, token, early.id, "已履行处罚义务、消除不良影响并作出信用承诺", date(2025, 3, 2))
    remove_listing(session, token, due.id, "期满移出", date(2024, 3, 1))
    session.commit()
    session.expire_all()
    hidden, shown = session.get(ListEntry, early.id), session.get(ListEntry, due.id)
    assert hidden is not None and (hidden.status, hidden.public) == ("removed", False)
    assert shown is not None and (shown.status, shown.public) == ("removed", True)


def test_an_agency_withdraws_its_own_listing_only(session: Session) -> None:
    token = token_for(session, ["abnormal"])
    entity = firm(session, 14, "深圳市撤回测试有限公司")
    own = flag_entity(session, token, entity.uscc or "", "abnormal", FALSE_INFO, date(2025, 3, 1), reason_code="3")
    apply_list_entries(session, [
        ListEntryIn(entity.id, "abnormal", "samr-abnormal", "F1", listed_on=date(2025, 1, 5), reason="无法联系",
                    reason_code="4", listed_by="深圳市南山区市场监督管理局"),
        ListEntryIn(entity.id, "abnormal", "samr-abnormal", "F2", listed_on=date(2024, 7, 5), reason=NO_REPORT,
                    reason_code="1", listed_by=SZ_NAME)])
    others, filed = session.scalars(select(ListEntry).where(ListEntry.source == "samr-abnormal")
                                    .order_by(ListEntry.source_key)).all()
    withdrawn = withdraw_record(session, token, own.id, "列入依据有误", request_id="req-3")
    assert (withdrawn.status, withdrawn.public) == ("withdrawn", False)
    (_, event) = audits(session, own.id)
    assert event.before is not None and event.after is not None
    assert (event.action, event.before["status"], event.after["status"], event.after["withdrawal_reason"]) == (
        "list.withdraw", "active", "withdrawn", "列入依据有误")
    with pytest.raises(InvalidAction, match="已撤回"):
        withdraw_record(session, token, own.id, "重复撤回")
    with pytest.raises(OutOfScope, match="本机关"):
        withdraw_record(session, token, others.id, "不是本机关的")
    assert withdraw_record(session, token, filed.id, "文件中由本机关列入").status == "withdrawn"
