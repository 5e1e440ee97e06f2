"""Early removal from the serious list on application, against a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from blacklist.actions import InvalidAction, NotFound, OutOfScope
from blacklist.early_removal import apply_early_removal
from blacklist.queries import count_entries
from blacklist.rules import apply_list_rules
from blacklist.tokens import issue_token
from credit.facts import apply_facts
from credit.models import ApiToken, AuditEvent, ListEntry
from tests.factories import make_entity, penalty

SZ_BUREAU = "深圳市市场监督管理局"
REMOVAL = "提前移出：列入满1年，已履行行政处罚义务、消除危害后果和不良影响并作出信用承诺"
ALL_MET = {"penalty_fulfilled": True, "harm_corrected": True, "commitment_made": True}
LISTED = date(2024, 3, 15)
FOOD = {"decision_no": "深市监食罚〔2024〕15号", "violation_type": "生产经营添加非食用物质的食品",
        "basis": "《中华人民共和国食品安全法》第一百二十三条", "penalty_type": "罚款;吊销许可证",
        "content": "罚款人民币二十万元，吊销食品生产许可证"}


def token_for(session: Session, lists: tuple[str, ...] = ("serious-illegal",), region: str = "4403") -> ApiToken:
    """A committed token of the Shenzhen bureau."""
    token, _ = issue_token(session, "sz-samr", SZ_BUREAU, list(lists), region, "测试")
    session.commit()
    return token


def listed_firm(session: Session, seed: int) -> tuple[int, int]:
    """A company listed by the rules on LISTED for a revoked food licence; (entity id, entry id)."""
    entity_id = make_entity(session, seed, name=f"深圳市福田区禾丰{seed}号食品有限公司", entity_type="有限责任公司",
                            status="存续", established_on="2019-06-01")
    apply_facts(session, [penalty(entity_id, f"P{seed}", decided_on=LISTED, body=FOOD, severity="serious")])
    session.commit()
    apply_list_rules(session, LISTED, entity_ids=[entity_id])
    entry_id = session.scalars(select(ListEntry.id).where(ListEntry.entity_id == entity_id,
                                                          ListEntry.list_id == "serious-illegal")).one()
    return entity_id, entry_id


def later_penalty(session: Session, entity_id: int, key: str, decided_on: date, penalty_type: str,
                  content: str) -> None:
    """Another penalty of the bureau, in advertising (not a listed domain)."""
    apply_facts(session, [penalty(entity_id, key, decided_on=decided_on, body={
        "decision_no": f"深市监广罚〔{decided_on.year}〕{key}号", "violation_type": "发布虚假广告",
        "basis": "《中华人民共和国广告法》第五十五条", "penalty_type": penalty_type, "content": content})])
    session.commit()


def stored(session: Session, entry_id: int) -> ListEntry:
    """The entry as stored now."""
    session.expire_all()
    entry = session.get(ListEntry, entry_id)
    assert entry is not None
    return entry


def test_refused_the_day_before_the_first_anniversary_and_removed_on_it(session: Session) -> None:
    token = token_for(session)
    _, entry_id = listed_firm(session, 1)
    with pytest.raises(InvalidAction, match="列入满1年（2025-03-15）后方可申请") as early:
        apply_early_removal(session, token, entry_id, date(2025, 3, 14), ALL_MET)
    assert early.value.field == "applied_on"
    session.rollback()
    assert stored(session, entry_id).status == "active"
    apply_early_removal(session, token, entry_id, date(2025, 3, 15), ALL_MET)
    session.commit()
    entry = stored(session, entry_id)
    assert (entry.status, entry.removed_on, entry.removal_reason, entry.removed_by, entry.public) == (
        "removed", date(2025, 3, 15), REMOVAL, SZ_BUREAU, False)
    assert count_entries(session, "serious-illegal", status="all") == 0


@pytest.mark.parametrize("conditions, named, not_named", [
    ({"penalty_fulfilled": True, "harm_corrected": False}, ["已主动消除危害后果和不良影响", "已作出信用承诺"],
     ["已履行行政处罚决定规定的义务"]),
    ({}, ["已履行行政处罚决定规定的义务", "已主动消除危害后果和不良影响", "已作出信用承诺"], []),
    (ALL_MET | {"commitment_made": "是"}, ["已作出信用承诺"], ["已主动消除危害后果和不良影响"]),
])
def test_each_unmet_condition_is_named(session: Session, conditions: dict[str, object], named: list[str],
                                       not_named: list[str]) -> None:
    token = token_for(session)
    _, entry_id = listed_firm(session, 2)
    with pytest.raises(InvalidAction, match="不符合提前移出条件") as refused:
        apply_early_removal(session, token, entry_id, date(2025, 6, 1), conditions)  # type: ignore[arg-type]
    assert refused.value.field == "conditions"
    assert all(label in str(refused.value) for label in named)
    assert not any(label in str(refused.value) for label in not_named)
    session.rollback()
    assert stored(session, entry_id).status == "active"


def test_a_heavier_penalty_after_the_listing_refuses_and_an_ordinary_fine_does_not(session: Session) -> None:
    token = token_for(session)
    blocked, blocked_entry = listed_firm(session, 3)
    fined, fined_entry = listed_firm(session, 4)
    later_penalty(session, blocked, "G3", date(2024, 9, 2), "罚款;责令停产停业", "责令停产停业十五日")
    later_penalty(session, fined, "G4", date(2024, 9, 2), "罚款", "罚款人民币三万元")
    with pytest.raises(InvalidAction, match="再次受到较重行政处罚") as refused:
        apply_early_removal(session, token, blocked_entry, date(2025, 6, 1), ALL_MET)
    assert "深市监广罚〔2024〕G3号" in str(refused.value) and "责令停产停业" in str(refused.value)
    session.rollback()
    assert apply_early_removal(session, token, fined_entry, date(2025, 6, 1), ALL_MET).status == "removed"
    session.commit()
    assert stored(session, blocked_entry).status == "active"


def test_a_heavier_penalty_before_the_listing_does_not_count(session: Session) -> None:
    token = token_for(session)
    entity, entry_id = listed_firm(session, 5)
    later_penalty(session, entity, "G5", date(2024, 1, 10), "吊销营业执照", "吊销营业执照")
    assert apply_early_removal(session, token, entry_id, date(2025, 6, 1), ALL_MET).status == "removed"


def test_the_application_is_audited_beside_the_removal(session: Session) -> None:
    token = token_for(session)
    _, entry_id = listed_firm(session, 6)
    apply_early_removal(session, token, entry_id, date(2025, 4, 1), ALL_MET, request_id="req-er-1",
                        note="已缴清罚款并提交信用承诺书")
    session.commit()
    events = session.scalars(select(AuditEvent).where(AuditEvent.target_id == str(entry_id))
                             .order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["list.remove", "list.early_removal"]
    event = events[-1]
    assert (event.agency_id, event.token_id, event.request_id) == ("sz-samr", token.id, "req-er-1")
    assert event.before is not None and event.after is not None
    assert (event.before["status"], event.before["public"], event.before["removed_on"]) == ("active", True, None)
    assert (event.after["status"], event.after["public"], event.after["removed_on"]) == ("removed", False,
                                                                                         "2025-04-01")
    assert event.after["application"] == {
        "applied_on": "2025-04-01", "conditions": ALL_MET, "note": "已缴清罚款并提交信用承诺书",
        "legal_basis": "《市场监督管理严重违法失信名单管理办法》（国家市场监督管理总局令第44号）第十六条、第十七条"}


def test_the_rules_neither_relist_nor_expire_an_early_removal(session: Session) -> None:
    token = token_for(session)
    _, entry_id = listed_firm(session, 7)
    apply_early_removal(session, token, entry_id, date(2025, 4, 1), ALL_MET)
    session.commit()
    apply_list_rules(session, date(2025, 4, 2))
    apply_list_rules(session, date(2027, 3, 15))
    entry = stored(session, entry_id)
    assert (entry.status, entry.removed_on, entry.removal_reason, entry.public) == (
        "removed", date(2025, 4, 1), REMOVAL, False)
    assert session.scalars(select(ListEntry).where(ListEntry.list_id == "serious-illegal",
                                                   ListEntry.source_key.like("serious:penalty:%"))).all() == [entry]


def test_only_an_active_serious_listing_within_its_term(session: Session) -> None:
    token = token_for(session, ("serious-illegal", "abnormal"))
    entity, entry_id = listed_firm(session, 8)
    # The rules listed the company on the abnormal list too (its annual reports were never filed).
    abnormal = session.scalars(select(ListEntry).where(ListEntry.entity_id == entity,
                                                       ListEntry.list_id == "abnormal")).first()
    assert abnormal is not None
    with pytest.raises(InvalidAction, match="只有严重违法失信名单的列入记录"):
        apply_early_removal(session, token, abnormal.id, date(2025, 6, 1), ALL_MET)
    with pytest.raises(InvalidAction, match="2027-03-15届满") as due:
        apply_early_removal(session, token, entry_id, date(2027, 3, 15), ALL_MET)
    assert due.value.field == "applied_on"
    apply_early_removal(session, token, entry_id, date(2025, 6, 1), ALL_MET)
    with pytest.raises(InvalidAction, match="已移出"):
        apply_early_removal(session, token, entry_id, date(2025, 6, 2), ALL_MET)


def test_scope_is_the_tokens_lists_and_region(session: Session) -> None:
    _, entry_id = listed_firm(session, 9)
    with pytest.raises(OutOfScope, match="serious-illegal"):
        apply_early_removal(session, token_for(session, ("abnormal",)), entry_id, date(2025, 6, 1), ALL_MET)
    with pytest.raises(OutOfScope, match="3101"):
        apply_early_removal(session, token_for(session, region="3101"), entry_id, date(2025, 6, 1), ALL_MET)
    with pytest.raises(NotFound):
        apply_early_removal(session, token_for(session), entry_id + 100, date(2025, 6, 1), ALL_MET)
    assert stored(session, entry_id).status == "active"
