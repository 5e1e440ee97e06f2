"""Serious list from heavier penalties in the listed domains, against a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from blacklist.actions import InvalidAction, flag_entity, withdraw_record
from blacklist.catalogue import list_by_id
from blacklist.errors import PolicyError
from blacklist.policy import RULES_FILE, load_rules_policy
from blacklist.rules import apply_list_rules
from blacklist.store import RULES_SOURCE
from blacklist.tokens import issue_token
from credit.facts import apply_facts
from credit.listings import ListEntryIn, apply_list_entries
from credit.models import AuditEvent, Entity, Fact, ListEntry
from tests.factories import make_entity, penalty

SZ_BUREAU = "深圳市市场监督管理局"
COMPANY = "有限责任公司（自然人投资或控股）"
BASIS = "《市场监督管理严重违法失信名单管理办法》（国家市场监督管理总局令第44号）第二条、第五条至第十一条"
# A food-safety penalty that revokes the food business licence: the standard qualifying case.
FOOD = {"violation_type": "经营腐败变质、超过保质期的食品", "facts": "当事人在其经营场所销售超过保质期的预包装食品",
        "basis": "《中华人民共和国食品安全法》第一百二十四条第一款", "penalty_type": "罚款;吊销许可证",
        "content": "没收违法所得，罚款人民币十二万元，吊销食品经营许可证"}


def firm(session: Session, seed: int, kind: str = COMPANY) -> int:
    """An operating entity of this kind, registered in Shenzhen (its annual reports do not matter here)."""
    entity_id = make_entity(session, seed, name=f"深圳市鹏城{seed}号食品有限公司", entity_type=kind, status="存续",
                            established_on="2020-04-01", reg_authority=SZ_BUREAU)
    session.commit()
    return entity_id


def punish(session: Session, entity_id: int, key: str, decided_on: date, authority: str = SZ_BUREAU,
           **body: str) -> int:
    """Store a penalty of ``authority`` decided on ``decided_on`` (the food case unless ``body`` says otherwise)."""
    fields = FOOD | {"decision_no": f"深市监食罚〔{decided_on.year}〕{key}号"} | body
    apply_facts(session, [penalty(entity_id, key, decided_on=decided_on, authority=authority, body=fields,
                                  severity="serious")])
    session.commit()
    return session.scalars(select(Fact.id).where(Fact.source == "samr-penalty", Fact.source_key == key)).one()


def serious(session: Session, entity_id: int) -> list[ListEntry]:
    """The entity's serious-list entries made from penalties (not from 3 years on the abnormal list), oldest first."""
    session.expire_all()
    query = select(ListEntry).where(ListEntry.entity_id == entity_id, ListEntry.list_id == "serious-illegal",
                                    ListEntry.source_key.like("serious:penalty:%"))
    return list(session.scalars(query.order_by(ListEntry.id)))


def test_a_revoked_food_licence_is_listed_from_the_decision_day_for_three_years(session: Session) -> None:
    entity = firm(session, 1)
    fact = punish(session, entity, "P1", date(2024, 5, 20))
    assert apply_list_rules(session, date(2024, 5, 19)).counts["listed:serious_penalty"] == 0
    assert serious(session, entity) == []
    assert apply_list_rules(session, date(2024, 5, 20)).counts["listed:serious_penalty"] == 1
    (entry,) = serious(session, entity)
    assert (entry.source, entry.source_key, entry.listed_on, entry.due_expiry, entry.status, entry.public) == (
        RULES_SOURCE, f"serious:penalty:{fact}", date(2024, 5, 20), date(2027, 5, 20), "active", True)
    assert entry.reason == "食品安全领域违法行为，受到较重行政处罚（吊销许可证件或者营业执照）"
    assert (entry.basis, entry.listed_by, entry.decision_no) == (BASIS, SZ_BUREAU, "深市监食罚〔2024〕P1号")


@pytest.mark.parametrize("body, domain, kind", [
    ({"violation_type": "生产销售不符合强制性标准的医疗器械", "basis": "《医疗器械监督管理条例》第八十六条",
      "penalty_type": "罚款;责令停产停业", "content": "责令停产停业三个月"}, "医疗器械", "责令停产停业"),
    ({"violation_type": "虚假宣传，构成不正当竞争", "basis": "《中华人民共和国反不正当竞争法》第二十条",
      "penalty_type": "罚款", "content": "依法从重罚款人民币一百五十万元"}, "公平竞争", "从重罚款"),
    ({"violation_type": "使用未经定期检验的电梯", "basis": "《中華人民共和國特種設備安全法》第八十四條",
      "penalty_type": "罰款;吊銷許可證", "content": "吊銷特種設備使用登記證"}, "特种设备安全", "吊销许可证件或者营业执照"),
    ({"violation_type": "提交虚假材料取得公司登记", "basis": "《中华人民共和国公司法》第二百五十条",
      "penalty_type": "吊销营业执照", "content": "吊销营业执照"}, "虚假登记", "吊销许可证件或者营业执照"),
])
def test_the_reason_names_the_domain_and_the_heavier_kind(session: Session, body: dict[str, str], domain: str,
                                                          kind: str) -> None:
    entity = firm(session, 2)
    punish(session, entity, "P2", date(2023, 11, 8), facts="经查属实", **body)
    apply_list_rules(session, date(2024, 1, 2))
    (entry,) = serious(session, entity)
    assert entry.reason == f"{domain}领域违法行为，受到较重行政处罚（{kind}）"


@pytest.mark.parametrize("kind, authority, body", [
    (COMPANY, SZ_BUREAU, {}),  # the control: this one is listed
    (COMPANY, SZ_BUREAU, {"penalty_type": "罚款", "content": "没收违法所得，罚款人民币二万元"}),
    (COMPANY, SZ_BUREAU, {"penalty_type": "暂扣许可证", "content": "暂扣食品经营许可证三个月"}),
    (COMPANY, SZ_BUREAU, {"violation_type": "发布虚假广告", "facts": "在网络平台发布虚假广告",
                          "basis": "《中华人民共和国广告法》第五十五条", "penalty_type": "吊销营业执照"}),
    (COMPANY, "深圳市卫生健康委员会", {"violation_type": "医疗机构使用未依法注册的医疗器械",
                                      "basis": "《医疗器械监督管理条例》第八十九条"}),
    ("个体工商户", SZ_BUREAU, {}),
])
def test_only_a_market_regulators_heavier_penalty_in_a_listed_domain_on_a_company(
        session: Session, kind: str, authority: str, body: dict[str, str]) -> None:
    entity = firm(session, 3, kind=kind)
    punish(session, entity, "P3", date(2024, 5, 20), authority=authority, **body)
    listed = apply_list_rules(session, date(2024, 6, 1)).counts["listed:serious_penalty"]
    control = (kind, authority, body) == (COMPANY, SZ_BUREAU, {})
    assert (listed, len(serious(session, entity))) == ((1, 1) if control else (0, 0))


def test_a_cooperative_is_listed(session: Session) -> None:
    coop = firm(session, 4, kind="农民专业合作社")
    punish(session, coop, "P4", date(2024, 5, 20))
    apply_list_rules(session, date(2024, 6, 1))
    assert [e.listed_on for e in serious(session, coop)] == [date(2024, 5, 20)]


def test_a_penalty_whose_term_ended_before_the_first_run_is_not_listed_late(session: Session) -> None:
    ended, still = firm(session, 7), firm(session, 8)
    punish(session, ended, "P7", date(2021, 9, 30))  # its 3 years end on 2024-09-30, the day of the run
    punish(session, still, "P8", date(2021, 10, 1))
    assert apply_list_rules(session, date(2024, 9, 30)).counts["listed:serious_penalty"] == 1
    assert serious(session, ended) == []
    (entry,) = serious(session, still)
    assert (entry.listed_on, entry.due_expiry) == (date(2021, 10, 1), date(2024, 10, 1))


def test_valid_from_is_inclusive(session: Session) -> None:
    before, first = firm(session, 9), firm(session, 10)
    punish(session, before, "P9", date(2021, 8, 31))
    punish(session, first, "P10", date(2021, 9, 1))
    assert apply_list_rules(session, date(2022, 1, 4)).counts["listed:serious_penalty"] == 1
    assert serious(session, before) == [] and [e.listed_on for e in serious(session, first)] == [date(2021, 9, 1)]


def test_each_penalty_is_listed_once_and_a_rerun_changes_nothing(session: Session) -> None:
    entity = firm(session, 11)
    punish(session, entity, "P11a", date(2024, 2, 1))
    punish(session, entity, "P11b", date(2024, 4, 9), penalty_type="责令停产停业", content="责令停产停业一个月")
    assert apply_list_rules(session, date(2024, 6, 1)).counts["listed:serious_penalty"] == 2
    again = apply_list_rules(session, date(2024, 6, 1))
    assert sum(again.counts.values()) == 0
    assert apply_list_rules(session, date(2025, 1, 6)).counts["listed:serious_penalty"] == 0
    assert sorted(e.listed_on for e in serious(session, entity)) == [date(2024, 2, 1), date(2024, 4, 9)]


def test_the_term_ends_after_three_years_and_the_penalty_is_not_listed_again(session: Session) -> None:
    entity = firm(session, 12)
    punish(session, entity, "P12", date(2024, 5, 20))
    apply_list_rules(session, date(2024, 5, 20))
    assert apply_list_rules(session, date(2027, 5, 19)).counts["removed:expired"] == 0
    assert apply_list_rules(session, date(2027, 5, 20)).counts["removed:expired"] == 1
    (entry,) = serious(session, entity)
    assert (entry.status, entry.removed_on, entry.removal_reason, entry.public) == (
        "removed", date(2027, 5, 20), "期满移出", True)
    assert sum(apply_list_rules(session, date(2027, 6, 1)).counts.values()) == 0
    assert len(serious(session, entity)) == 1


def test_a_withdrawn_penalty_leaves_the_listing_until_its_authority_withdraws_it(session: Session) -> None:
    entity = firm(session, 13)
    punish(session, entity, "P13", date(2024, 5, 20))
    apply_list_rules(session, date(2024, 6, 1))
    apply_facts(session, [penalty(entity, "P13", change="d")])
    session.commit()
    apply_list_rules(session, date(2024, 7, 1))
    (entry,) = serious(session, entity)
    assert (entry.status, entry.public) == ("active", True)
    token, _ = issue_token(session, "sz-samr", SZ_BUREAU, ["serious-illegal"], "4403", "测试")
    withdraw_record(session, token, entry.id, "列入所依据的行政处罚决定已被撤销")
    session.commit()
    apply_facts(session, [penalty(entity, "P13", decided_on=date(2024, 5, 20), body=FOOD)])  # the source re-sends it
    session.commit()
    assert apply_list_rules(session, date(2024, 8, 1)).counts["listed:serious_penalty"] == 0
    (entry,) = serious(session, entity)
    assert (entry.status, entry.public) == ("withdrawn", False)  # not revived


def test_the_policy_term_matches_the_catalogue() -> None:
    rules = load_rules_policy().serious_penalty
    assert list_by_id(rules.list).term_months == 12 * rules.term_years


@pytest.mark.parametrize("old, new, names", [
    ('"食品安全" = ["食品"]', '"食品安全" = []', "domains.食品安全"),
    ('"限制从业" = ["限制从业"]', '"限制从业" = [" "]', "heavier_penalties.限制从业"),
    ('reason = "{domain}领域', 'reason = "{area}领域', "reason"),
    ('entity_kinds = ["enterprise", "cooperative"]', 'entity_kinds = ["enterprise", "person"]', "entity_kinds"),
    ("min_years_listed = 1", "min_years_listed = -1", "min_years_listed"),
    ('commitment_made = "已作出信用承诺"', 'commitment_made = ""', "commitment_made"),
    ("term_years = 3\nreason", "term_years = 3\nterm = 3\nreason", "unknown ['term']"),
])
def test_a_wrong_policy_table_names_what_is_wrong(tmp_path: Path, old: str, new: str, names: str) -> None:
    text = RULES_FILE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "rules.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(PolicyError, match=names.replace("[", r"\[").replace("]", r"\]")):
        load_rules_policy(path)


def _flag(session: Session, entity_id: int, decision_no: str) -> ListEntry:
    """The Shenzhen bureau puts the entity on the serious list by hand, citing ``decision_no``."""
    token, _ = issue_token(session, f"sz-samr-{entity_id}", SZ_BUREAU, ["serious-illegal"], "4403", "测试")
    uscc = session.get(Entity, entity_id).uscc  # type: ignore[union-attr]
    entry = flag_entity(session, token, uscc, "serious-illegal", "食品安全领域违法行为，受到较重行政处罚",
                        date(2024, 5, 21), decision_no=decision_no)
    session.commit()
    return entry


def test_a_penalty_its_authority_listed_already_is_not_listed_again(session: Session) -> None:
    entity = firm(session, 21)
    punish(session, entity, "P21", date(2024, 5, 20))
    manual = _flag(session, entity, "深市监食罚[2024]P21号")  # the same number, other brackets
    assert apply_list_rules(session, date(2024, 6, 1)).counts["listed:serious_penalty"] == 0
    assert serious(session, entity) == []
    entries = session.scalars(select(ListEntry).where(ListEntry.entity_id == entity,
                                                      ListEntry.list_id == "serious-illegal")).all()
    assert [e.id for e in entries] == [manual.id]


def test_a_rule_listing_gives_way_to_the_authoritys_own_listing_of_the_same_decision(session: Session) -> None:
    entity = firm(session, 22)
    punish(session, entity, "P22", date(2024, 5, 20))
    punish(session, entity, "P22b", date(2024, 5, 25))  # another decision: stays listed by the rules
    apply_list_rules(session, date(2024, 6, 1))
    assert len(serious(session, entity)) == 2
    # The bureau's own serious-list file arrives, naming the first decision in full-width form.
    apply_list_entries(session, [ListEntryIn(entity, "serious-illegal", "samr-serious", "SZ-2024-0021",
                                             listed_on=date(2024, 5, 20), reason="食品安全严重违法",
                                             decision_no="深市监食罚（２０２４）Ｐ２２号",
                                             listed_by=SZ_BUREAU)])
    session.commit()
    report = apply_list_rules(session, date(2024, 6, 2))
    assert report.counts["withdrawn:superseded"] == 1 and report.counts["listed:serious_penalty"] == 0
    first, second = serious(session, entity)
    assert (first.status, first.public, second.status, second.public) == ("withdrawn", False, "active", True)
    event = session.scalars(select(AuditEvent).where(AuditEvent.target_id == str(first.id),
                                                     AuditEvent.action == "list.withdraw.superseded")).one()
    assert event.after["withdrawal_reason"].startswith("同一行政处罚决定已由作出机关列入")
    assert sum(apply_list_rules(session, date(2024, 6, 3)).counts.values()) == 0  # settled


def test_a_second_manual_listing_of_one_decision_is_refused_naming_the_first(session: Session) -> None:
    entity = firm(session, 23)
    fact = punish(session, entity, "P23", date(2024, 5, 20))
    apply_list_rules(session, date(2024, 6, 1))
    (rule_entry,) = serious(session, entity)
    with pytest.raises(InvalidAction) as refused:
        _flag(session, entity, "深市监食罚〔2024〕P23号")
    assert refused.value.field == "decision_no"
    assert f"记录 {rule_entry.id}" in str(refused.value) and "深市监食罚〔2024〕P23号" in str(refused.value)
    session.rollback()
    assert _flag(session, entity, "深市监食罚〔2024〕P99号").decision_no == "深市监食罚〔2024〕P99号"
    assert rule_entry.source_key == f"serious:penalty:{fact}"
