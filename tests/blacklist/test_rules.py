"""List rules on dates against a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from blacklist.rules import apply_list_rules
from blacklist.store import NOTICE_ACTION, RULES_SOURCE
from credit.claims import ClaimIn, apply_claims
from credit.facts import FactIn, apply_facts
from credit.listings import ListEntryIn, apply_list_entries
from credit.models import AuditEvent, ListEntry
from tests.factories import REGISTRY, REGISTRY_RANK, make_entity


def firm(session: Session, seed: int, established: str = "2022-03-01", kind: str = "有限责任公司（自然人投资或控股）",
         **extra: str) -> int:
    """An operating entity registered on ``established``."""
    attrs = {"name": f"深圳市测试{seed}号科技有限公司", "status": "存续", "entity_type": kind,
             "established_on": established, "legal_rep": "张伟", "reg_authority": "深圳市市场监督管理局", **extra}
    entity_id = make_entity(session, seed, **attrs)
    session.commit()
    return entity_id


def file_report(session: Session, entity_id: int, year: int, filed: date) -> None:
    """The entity publishes its annual report for ``year`` on ``filed``."""
    apply_facts(session, [FactIn(entity_id, "samr-annual-reports", f"AR-{entity_id}-{year}", "annual_report",
                                 body={"year": str(year)}, decided_on=filed)])
    session.commit()


def entries(session: Session, entity_id: int, list_id: str = "abnormal") -> list[ListEntry]:
    """The entity's entries on a list, oldest first."""
    session.expire_all()
    return list(session.scalars(select(ListEntry).where(ListEntry.entity_id == entity_id,
                                                        ListEntry.list_id == list_id).order_by(ListEntry.id)))


def test_an_unfiled_report_is_listed_the_day_after_the_deadline_and_only_once(session: Session) -> None:
    entity = firm(session, 1)
    file_report(session, entity, 2022, date(2023, 5, 1))
    assert apply_list_rules(session, date(2024, 6, 30)).counts["listed"] == 0
    assert apply_list_rules(session, date(2024, 7, 1)).counts["listed"] == 1
    (entry,) = entries(session, entity)
    assert (entry.reason_code, entry.listed_on, entry.status, entry.source) == ("1", date(2024, 7, 1), "active",
                                                                                 RULES_SOURCE)
    assert "2023年度" in entry.reason
    again = apply_list_rules(session, date(2024, 7, 1))
    assert sum(again.counts.values()) == 0 and len(entries(session, entity)) == 1
    assert apply_list_rules(session, date(2024, 8, 1)).counts["listed"] == 0  # the same year is not relisted


def test_filing_the_missing_report_removes_the_listing_on_the_filing_day(session: Session) -> None:
    entity = firm(session, 2)
    file_report(session, entity, 2022, date(2023, 5, 1))
    apply_list_rules(session, date(2024, 7, 1))
    file_report(session, entity, 2023, date(2024, 9, 10))
    report = apply_list_rules(session, date(2024, 9, 15))
    assert report.counts["removed:report_filed"] == 1
    (entry,) = entries(session, entity)
    assert (entry.status, entry.removed_on, entry.removal_reason) == ("removed", date(2024, 9, 10),
                                                                      "已补报未报年度的年度报告并公示")
    audit = session.scalars(select(AuditEvent).where(AuditEvent.target_id == str(entry.id))).one()
    assert audit.before["status"] == "active" and audit.after["removed_on"] == "2024-09-10"


def test_individual_businesses_are_marked_not_listed_cooperatives_are_listed(session: Session) -> None:
    shop = firm(session, 3, kind="个体工商户")
    coop = firm(session, 4, kind="农民专业合作社")
    report = apply_list_rules(session, date(2024, 7, 1))
    assert entries(session, shop) == []
    assert [e.reason_code for e in entries(session, coop)] == ["1", "1"]  # report years 2022 and 2023
    marks = entries(session, shop, "abnormal-mark")
    assert [(m.reason_code, m.listed_on, m.status) for m in marks] == [("1", date(2024, 7, 1), "active")] * 2
    assert ["2022年度" in marks[0].reason, "2023年度" in marks[1].reason] == [True, True]
    assert "个体工商户年度报告暂行办法" in (marks[0].basis or "")
    assert (report.counts["listed"], report.counts["marked"]) == (2, 2)
    assert sum(apply_list_rules(session, date(2024, 7, 1)).counts.values()) == 0  # marked once


def test_a_filed_report_restores_the_normal_state_and_deregistration_ends_the_rest(session: Session) -> None:
    shop = firm(session, 30, kind="个体工商户")
    apply_list_rules(session, date(2024, 7, 1))
    file_report(session, shop, 2023, date(2024, 8, 20))
    report = apply_list_rules(session, date(2024, 9, 1))
    assert report.counts["removed:mark_report_filed"] == 1
    old, restored = entries(session, shop, "abnormal-mark")
    assert (restored.status, restored.removed_on, restored.removal_reason) == (
        "removed", date(2024, 8, 20), "已补报未报年份的年度报告并公示，恢复正常记载状态")
    assert old.status == "active"  # the 2022 report is still missing
    apply_claims(session, [ClaimIn(shop, "status", "注销", REGISTRY, REGISTRY_RANK, datetime(2025, 2, 20, 9))])
    session.commit()
    assert apply_list_rules(session, date(2025, 3, 1)).counts["removed:mark_deregistered"] == 1
    old, _ = entries(session, shop, "abnormal-mark")
    assert (old.status, old.removed_on) == ("removed", date(2025, 2, 20))
    assert entries(session, shop) == [] and entries(session, shop, "serious-illegal") == []


def test_a_mark_never_moves_to_the_serious_list(session: Session) -> None:
    shop = firm(session, 31, kind="个体工商户", established="2019-01-01")
    apply_list_rules(session, date(2021, 7, 1))
    later = apply_list_rules(session, date(2025, 7, 1))  # four years on: an abnormal listing would have moved
    assert later.counts["removed:transferred"] == 0 and later.counts["notices"] == 0
    assert entries(session, shop, "serious-illegal") == []
    assert {m.status for m in entries(session, shop, "abnormal-mark")} == {"active"}


def test_three_years_on_the_list_notice_then_transfer_with_the_representative_bar(session: Session) -> None:
    entity = firm(session, 5, established="2010-01-01")
    for year in range(2013, 2025):
        file_report(session, entity, year, date(year + 1, 3, 1))
    apply_list_entries(session, [ListEntryIn(entity, "abnormal", "samr-abnormal", "A-5", listed_on=date(2021, 5, 10),
                                             reason="未按照规定期限公示有关企业信息", reason_code="2")])
    session.commit()
    assert apply_list_rules(session, date(2024, 3, 10)).counts["notices"] == 0
    assert apply_list_rules(session, date(2024, 3, 11)).counts["notices"] == 1
    assert apply_list_rules(session, date(2024, 5, 9)).counts["notices"] == 0  # told once
    assert len(session.scalars(select(AuditEvent).where(AuditEvent.action == NOTICE_ACTION)).all()) == 1
    assert entries(session, entity, "serious-illegal") == []
    report = apply_list_rules(session, date(2024, 5, 10))
    assert report.counts["removed:transferred"] == 1
    (abnormal,) = entries(session, entity)
    assert (abnormal.status, abnormal.removed_on) == ("removed", date(2024, 5, 10))
    (serious,) = entries(session, entity, "serious-illegal")
    assert (serious.listed_on, serious.due_expiry, serious.status) == (date(2024, 5, 10), date(2027, 5, 10), "active")
    assert "张伟" in serious.basis and "不得担任其他企业的法定代表人" in serious.basis
    assert sum(apply_list_rules(session, date(2024, 5, 10)).counts.values()) == 0
    expired = apply_list_rules(session, date(2027, 5, 10))
    assert expired.counts["removed:expired"] == 1
    assert entries(session, entity, "serious-illegal")[0].removal_reason == "期满移出"


def test_deregistration_removes_every_abnormal_listing(session: Session) -> None:
    entity = firm(session, 6)
    apply_list_rules(session, date(2024, 7, 1))
    assert len(entries(session, entity)) == 2
    # Registration claims of the factories are observed on 2025-01-01; the deregistration comes later.
    apply_claims(session, [ClaimIn(entity, "status", "注销", REGISTRY, REGISTRY_RANK, datetime(2025, 2, 20, 9))])
    session.commit()
    report = apply_list_rules(session, date(2025, 3, 1))
    assert report.counts["removed:deregistered"] == 2
    assert {(e.status, e.removed_on, e.removal_reason) for e in entries(session, entity)} == {
        ("removed", date(2025, 2, 20), "企业注销，自动移出")}


def test_a_registered_address_change_removes_a_reason_four_listing(session: Session) -> None:
    entity = firm(session, 7, address="深圳市南山区科技路1号")
    for year in (2022, 2023):
        file_report(session, entity, year, date(year + 1, 3, 1))
    apply_list_entries(session, [ListEntryIn(entity, "abnormal", "samr-abnormal", "A-7", listed_on=date(2025, 3, 10),
                                             reason="通过登记的住所或者经营场所无法联系", reason_code="4")])
    session.commit()
    assert apply_list_rules(session, date(2025, 3, 20)).counts["removed:address_changed"] == 0
    apply_claims(session, [ClaimIn(entity, "address", "深圳市福田区深南大道8号", REGISTRY, REGISTRY_RANK,
                                   datetime(2025, 4, 1, 10))])
    session.commit()
    assert apply_list_rules(session, date(2025, 4, 5)).counts["removed:address_changed"] == 1
    (entry,) = entries(session, entity)
    assert (entry.removed_on, entry.removal_reason) == (date(2025, 4, 1), "已办理住所或经营场所变更登记")


def test_only_the_last_three_report_years_are_checked(session: Session) -> None:
    entity = firm(session, 8, established="2005-06-01")
    apply_list_rules(session, date(2024, 7, 1))
    assert sorted(e.reason for e in entries(session, entity)) == [
        f"{y}年度，未依照《企业信息公示暂行条例》第八条规定的期限公示年度报告" for y in (2021, 2022, 2023)]
