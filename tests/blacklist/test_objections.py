"""Objections against a real store (SQLite and PostgreSQL): deadlines, targets, scope, answers, audit."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from blacklist.actions import NotFound, OutOfScope, flag_entity, remove_listing, withdraw_record
from blacklist.errors import ListQueryError, PolicyError
from blacklist.errors import InvalidObjection
from blacklist.objection_policy import load_objection_policy, policy_on
from blacklist.objections import (
    PublicObjection, answer_objection, objection_in_scope, objections_for, objections_to_answer, submit_objection,
)
from blacklist.tokens import issue_token
from credit.claims import ClaimIn, apply_claims
from credit.clock import utcnow
from credit.entities import EntityIds, ensure_entities
from credit.errors import EntityNotFoundError, MalformedIdentifierError
from credit.facts import FactIn, apply_facts
from credit.listings import ListEntryIn, apply_list_entries
from credit.models import ApiToken, AuditEvent, Entity, Fact, ListEntry, Objection
from tests.factories import REGISTRY, REGISTRY_RANK, T0, new_uscc

SZ, SZ_NAME = "sz-samr", "深圳市市场监督管理局"
NS, NS_NAME = "ns-samr", "深圳市南山区市场监督管理局"
SH, SH_NAME = "sh-samr", "上海市市场监督管理局"
NO_REPORT = "未依照《企业信息公示暂行条例》第八条规定的期限公示年度报告"
SERIOUS = "生产经营腐败变质食品，被吊销食品经营许可证"
PLEA = "我司已于2025年6月20日通过国家企业信用信息公示系统补报2024年度报告，请予核实并移出。"
PHONE = "0755-86001234 王女士"
FRIDAY = date(2026, 11, 27)


@dataclass(frozen=True)
class World:
    """Companies, the records they may object to, and the regulators' tokens."""

    xinghe: Entity
    pengcheng: Entity
    shenjiang: Entity
    flagged: ListEntry  # flagged by the city bureau through the API, on 星河
    ingested: ListEntry  # from the city bureau's file, on 鹏城
    licence: Fact  # decided by the city bureau, on 星河
    tax: Fact  # by an authority with no agency row, on 星河
    tokens: dict[str, ApiToken]


def firm(session: Session, seed: int, name: str, division: str) -> Entity:
    """An operating company registered in ``division``."""
    entity_id = ensure_entities(session, [EntityIds(uscc=new_uscc(seed, division))])[0].entity_id
    assert entity_id is not None
    apply_claims(session, [ClaimIn(entity_id, field, value, REGISTRY, REGISTRY_RANK, T0) for field, value in
                           {"name": name, "entity_type": "有限责任公司", "status": "存续"}.items()])
    entity = session.get(Entity, entity_id)
    assert entity is not None
    return entity


def fact(session: Session, entity: Entity, key: str, authority: str, **more: object) -> Fact:
    """A licence (or another kind, through ``more``) of the entity, stored through the keyed path."""
    record = FactIn(entity.id, "credit-licence", key, more.pop("kind", "licence"),  # type: ignore[arg-type]
                    {"licence_name": "食品经营许可证", "licence_no": f"JY1440305{key}"}, authority=authority,
                    decided_on=date(2025, 3, 1), **more)  # type: ignore[arg-type]
    apply_facts(session, [record])
    return session.scalars(select(Fact).where(Fact.source_key == key)).one()


def ingested_entry(session: Session, entity: Entity, key: str, **more: object) -> ListEntry:
    """An abnormal-list entry as the city bureau's file sent it."""
    apply_list_entries(session, [ListEntryIn(entity.id, "abnormal", "samr-abnormal", key, listed_on=date(2025, 7, 10),
                                             reason=NO_REPORT, reason_code="1", listed_by=SZ_NAME,
                                             **more)])  # type: ignore[arg-type]
    return session.scalars(select(ListEntry).where(ListEntry.source_key == key)).one()


@pytest.fixture
def world(session: Session) -> World:
    """Three companies, their records, and tokens of the city, district and Shanghai bureaus."""
    both = ["abnormal", "serious-illegal"]
    tokens = {"深圳": issue_token(session, SZ, SZ_NAME, both, "4403", "企业监管处")[0],
              "南山": issue_token(session, NS, NS_NAME, ["abnormal"], "440305", "南山所")[0],
              "南山严重": issue_token(session, NS, NS_NAME, ["serious-illegal"], "4403", "南山严重")[0],
              "上海": issue_token(session, SH, SH_NAME, both, "31", "上海")[0]}
    xinghe = firm(session, 1, "深圳市南山区星河电子有限公司", "440305")
    pengcheng = firm(session, 2, "深圳市宝安区鹏城食品有限公司", "440306")
    shenjiang = firm(session, 3, "上海市黄浦区申江商贸有限公司", "310101")
    flagged = flag_entity(session, tokens["深圳"], xinghe.uscc or "", "abnormal", NO_REPORT, date(2025, 7, 10),
                          reason_code="1", year=2024)
    world = World(xinghe, pengcheng, shenjiang, flagged, ingested_entry(session, pengcheng, "YC-2025-0001"),
                  fact(session, xinghe, "XK-0001", SZ_NAME), fact(session, xinghe, "XK-0002", "某县税务局"), tokens)
    session.commit()
    return world


def submit(session: Session, entity: Entity, target: ListEntry | Fact, today: date = FRIDAY,
           text: str = PLEA, contact: str | None = PHONE) -> Objection:
    """Object to a record of the entity on ``today``, committed."""
    kind = "list_entry" if isinstance(target, ListEntry) else "fact"
    objection = submit_objection(session, entity.uscc or "", kind, target.id, text, contact, today=today)
    session.commit()
    return objection


def objection_count(session: Session) -> int:
    """How many objections the store holds."""
    return int(session.scalar(select(func.count()).select_from(Objection)) or 0)


def audits(session: Session, objection: Objection) -> list[AuditEvent]:
    """The objection's audit events, oldest first."""
    return list(session.scalars(select(AuditEvent).where(
        AuditEvent.target_type == "objection", AuditEvent.target_id == str(objection.id)).order_by(AuditEvent.id)))


@pytest.mark.parametrize("today, due, check_due", [
    (date(2026, 11, 27), date(2026, 12, 4), date(2026, 12, 25)),  # Friday: over one weekend
    (date(2026, 11, 28), date(2026, 12, 4), date(2026, 12, 25)),  # Saturday: counting starts on Monday
    (date(2026, 11, 29), date(2026, 12, 4), date(2026, 12, 25)),  # Sunday
    (date(2026, 11, 30), date(2026, 12, 7), date(2026, 12, 28)),  # Monday
    (date(2026, 12, 2), date(2026, 12, 9), date(2026, 12, 30)),  # Wednesday
])
def test_the_answer_is_due_five_working_days_on_and_the_check_twenty(session: Session, world: World, today: date,
                                                                      due: date, check_due: date) -> None:
    before = utcnow()
    objection = submit(session, world.xinghe, world.flagged, today)
    stored = session.get(Objection, objection.id)
    assert stored is not None
    assert (stored.status, stored.answer_due, stored.entity_id, stored.target_type, stored.target_id) == (
        "open", due, world.xinghe.id, "list_entry", world.flagged.id)
    assert (stored.text, stored.contact, stored.answered_at, stored.answer) == (PLEA, PHONE, None, None)
    assert before - timedelta(seconds=1) <= stored.submitted_at <= utcnow() + timedelta(seconds=1)
    (view,) = objections_for(session, world.xinghe.id, today=today).items
    assert (view.answer_due, view.check_due, view.overdue) == (due, check_due, False)


def test_an_objection_deadline_skips_the_national_day_holiday(session: Session, world: World) -> None:
    # Submitted Tuesday 29 September 2026: 30 Sep (1); 1–7 Oct off; 8 (2), 9 (3), Saturday 10 Oct
    # worked by the State Council's arrangement (4), Monday 12 Oct (5).
    stored = session.get(Objection, submit(session, world.xinghe, world.flagged, date(2026, 9, 29)).id)
    assert stored is not None and stored.answer_due == date(2026, 10, 12)


def test_the_owning_agency_is_derived_from_the_record(session: Session, world: World) -> None:
    targets: list[tuple[Entity, ListEntry | Fact]] = [
        (world.xinghe, world.flagged), (world.pengcheng, world.ingested), (world.xinghe, world.licence),
        (world.xinghe, world.tax)]
    owners = [submit(session, entity, target).agency_id for entity, target in targets]
    assert owners == [SZ, SZ, SZ, None]  # by source "regulator:sz-samr", then by name; the tax office has no row


@pytest.mark.parametrize("target", ["鹏城's entry", "上海 fact", "0", "4242", str(2**70)])
def test_a_target_that_is_not_a_public_record_of_that_entity_is_refused(session: Session, world: World,
                                                                        target: str) -> None:
    other = fact(session, world.shenjiang, "XK-SH-1", SH_NAME)
    session.commit()
    named = {"鹏城's entry": world.ingested.id, "上海 fact": other.id}
    target_id = named[target] if target in named else int(target)
    kind = "fact" if target == "上海 fact" else "list_entry"
    with pytest.raises(InvalidObjection) as caught:
        submit_objection(session, world.xinghe.uscc or "", kind, target_id, PLEA, today=FRIDAY)
    assert caught.value.field == "target_id"
    session.rollback()
    assert objection_count(session) == 0


def test_withdrawn_or_hidden_records_cannot_be_objected_to(session: Session, world: World) -> None:
    withdrawn = withdraw_record(session, world.tokens["深圳"], world.flagged.id, "列入依据有误")
    serious = flag_entity(session, world.tokens["深圳"], world.xinghe.uscc or "", "serious-illegal", SERIOUS,
                          date(2024, 3, 1), decision_no="深市监食罚〔2024〕7号")
    hidden = remove_listing(session, world.tokens["深圳"], serious.id, "已履行处罚义务并作出信用承诺", date(2025, 6, 1))
    apply_facts(session, [FactIn(world.xinghe.id, "credit-licence", "XK-0001", "licence", change="d")])
    expired = fact(session, world.xinghe, "XK-0003", SZ_NAME, publicity_until=date(2026, 1, 31))
    session.commit()
    licence = session.get(Fact, world.licence.id, populate_existing=True)
    assert licence is not None and (withdrawn.status, hidden.public, licence.status) == ("withdrawn", False, "withdrawn")
    for kind, target_id in [("list_entry", withdrawn.id), ("list_entry", hidden.id), ("fact", world.licence.id),
                            ("fact", expired.id)]:
        with pytest.raises(InvalidObjection, match=f"编号为 {target_id} 的公开记录") as caught:
            submit_objection(session, world.xinghe.uscc or "", kind, target_id, PLEA, today=FRIDAY)
        assert caught.value.field == "target_id"
    assert objection_count(session) == 0


def test_a_removed_listing_is_still_public_and_open_to_objection(session: Session, world: World) -> None:
    remove_listing(session, world.tokens["深圳"], world.flagged.id, "已补报2024年度报告并公示", date(2025, 8, 1))
    session.commit()
    assert submit(session, world.xinghe, world.flagged).status == "open"


@pytest.mark.parametrize("target_type, text, contact, field", [
    ("list_entry", "", None, "text"),
    ("list_entry", " \n ", None, "text"),
    ("list_entry", "异" * 2001, None, "text"),
    ("list_entry", "含有\x00空字符", None, "text"),
    ("list_entry", PLEA, "电" * 201, "contact"),
    ("list_entry", PLEA, "0755\x07", "contact"),
    ("penalty", PLEA, None, "target_type"),
])
def test_bad_text_contact_or_type_is_refused_naming_the_field(session: Session, world: World, target_type: str,
                                                              text: str, contact: str | None, field: str) -> None:
    with pytest.raises(InvalidObjection) as caught:
        submit_objection(session, world.xinghe.uscc or "", target_type, world.flagged.id, text, contact, today=FRIDAY)
    assert caught.value.field == field
    session.rollback()
    assert objection_count(session) == 0


def test_text_is_trimmed_and_may_fill_the_column(session: Session, world: World) -> None:
    longest = "异" * 2000
    objection = submit(session, world.xinghe, world.flagged, text=f"  {longest}\n", contact="   ")
    assert (objection.text, objection.contact) == (longest, None)


def test_an_unknown_or_malformed_entity_is_refused(session: Session, world: World) -> None:
    with pytest.raises(EntityNotFoundError):
        submit_objection(session, new_uscc(99, "440305"), "list_entry", world.flagged.id, PLEA, today=FRIDAY)
    with pytest.raises(MalformedIdentifierError):
        submit_objection(session, "91440300ABC", "list_entry", world.flagged.id, PLEA, today=FRIDAY)


@pytest.mark.parametrize("who, target, allowed", [
    ("深圳", "flagged", True),  # the agency that flagged it
    ("南山", "flagged", True),  # not the owner, but its token covers the abnormal list and 440305
    ("南山", "ingested", False),  # 鹏城 is in 440306, outside the district token's region
    ("南山严重", "flagged", False),  # its token covers only the serious list
    ("上海", "flagged", False),  # another province
    ("深圳", "licence", True),  # the authority named on the record
    ("南山", "licence", False),  # facts are answered by their owner only
    ("深圳", "tax", False),  # no agency owns it
])
def test_only_the_owner_or_a_token_covering_the_entry_may_answer(session: Session, world: World, who: str,
                                                                 target: str, allowed: bool) -> None:
    record = getattr(world, target)
    objection = submit(session, world.pengcheng if target == "ingested" else world.xinghe, record)
    token = world.tokens[who]
    if not allowed:
        with pytest.raises(OutOfScope):
            answer_objection(session, token, objection.id, "refused", "经核实，列入依据充分。")
        session.rollback()
        assert session.get(Objection, objection.id).status == "open"  # type: ignore[union-attr]
        return
    answered = answer_objection(session, token, objection.id, "refused", "经核实，列入依据充分。")
    session.commit()
    assert (answered.status, answered.answer) == ("refused", "经核实，列入依据充分。")
    assert answered.answered_at is not None


def test_an_unknown_objection_is_not_found(session: Session, world: World) -> None:
    for objection_id in (4242, 2**70, 0):
        with pytest.raises(NotFound):
            answer_objection(session, world.tokens["深圳"], objection_id, "accepted", None)


@pytest.mark.parametrize("decision, answer, field", [
    ("refused", None, "answer"), ("refused", "  ", "answer"), ("refused", "驳" * 2001, "answer"),
    ("withdrawn", "不再处理", "decision"),
])
def test_a_refusal_needs_reasons_and_the_decision_must_be_known(session: Session, world: World, decision: str,
                                                               answer: str | None, field: str) -> None:
    objection = submit(session, world.xinghe, world.flagged)
    with pytest.raises(InvalidObjection) as caught:
        answer_objection(session, world.tokens["深圳"], objection.id, decision, answer)
    assert caught.value.field == field
    session.rollback()
    assert session.get(Objection, objection.id).status == "open"  # type: ignore[union-attr]


def test_an_accepted_objection_leaves_the_listing_in_place_and_cannot_be_answered_twice(
        session: Session, world: World) -> None:
    objection = submit(session, world.xinghe, world.flagged)
    accepted = answer_objection(session, world.tokens["深圳"], objection.id, "accepted", None)
    session.commit()
    assert (accepted.status, accepted.answer) == ("accepted", None)
    entry = session.get(ListEntry, world.flagged.id)
    assert entry is not None and (entry.status, entry.public, entry.removed_on) == ("active", True, None)
    with pytest.raises(InvalidObjection, match="已答复") as caught:
        answer_objection(session, world.tokens["深圳"], objection.id, "refused", "重复答复")
    assert caught.value.field is None


def test_submission_and_answer_are_audited_with_before_and_after_but_no_personal_data(
        session: Session, world: World) -> None:
    objection = submit(session, world.xinghe, world.flagged)
    answer_objection(session, world.tokens["深圳"], objection.id, "refused", "经核实，该企业未在期限内公示年报。",
                     request_id="sz-req-0042")
    session.commit()
    submitted, answered = audits(session, objection)
    assert (submitted.action, submitted.agency_id, submitted.token_id, submitted.before) == (
        "objection.submit", None, None, None)
    assert (answered.action, answered.agency_id, answered.token_id, answered.request_id) == (
        "objection.answer", SZ, world.tokens["深圳"].id, "sz-req-0042")
    assert answered.before == submitted.after
    assert answered.before is not None and answered.after is not None
    assert (answered.before["status"], answered.before["answer"], answered.before["answered_at"]) == (
        "open", None, None)
    assert (answered.after["status"], answered.after["answer"], answered.after["answer_due"]) == (
        "refused", "经核实，该企业未在期限内公示年报。", "2026-12-04")
    assert answered.after["answered_at"] is not None
    trail = json.dumps([submitted.before, submitted.after, answered.before, answered.after], ensure_ascii=False)
    assert PHONE not in trail and PLEA not in trail


def test_the_public_view_never_holds_the_contact_and_tells_what_is_overdue(session: Session, world: World) -> None:
    first = submit(session, world.xinghe, world.flagged, date(2026, 11, 20))  # due Friday 27 November
    second = submit(session, world.xinghe, world.licence, FRIDAY)  # due Friday 4 December
    answer_objection(session, world.tokens["深圳"], second.id, "accepted", "已受理，将在20个工作日内核实。")
    session.commit()
    names = {f.name for f in fields(PublicObjection)}
    assert "contact" not in names and "text" not in names
    on_due = objections_for(session, world.xinghe.id, today=date(2026, 11, 27))
    assert on_due.total == 2 and [v.id for v in on_due.items] == [second.id, first.id]  # newest first
    assert [v.overdue for v in on_due.items] == [False, False]
    after = objections_for(session, world.xinghe.id, today=date(2026, 11, 30)).items
    assert [(v.status, v.overdue, v.answer) for v in after] == [
        ("accepted", False, "已受理，将在20个工作日内核实。"), ("open", True, None)]
    assert all(not hasattr(v, "contact") for v in after)
    assert objections_for(session, world.pengcheng.id, today=FRIDAY).total == 0


def test_a_token_lists_exactly_what_it_may_answer_the_earliest_due_first(session: Session, world: World) -> None:
    late = submit(session, world.xinghe, world.flagged, date(2026, 12, 1))
    early = submit(session, world.xinghe, world.flagged, date(2026, 11, 20))
    middle = submit(session, world.xinghe, world.licence, FRIDAY)
    district = submit(session, world.pengcheng, world.ingested, FRIDAY)
    untouched = submit(session, world.xinghe, world.tax, FRIDAY)
    listed = objections_to_answer(session, world.tokens["深圳"], today=FRIDAY)
    assert [v.id for v in listed.items] == [early.id, middle.id, district.id, late.id] and listed.total == 4
    assert listed.items[0].contact == PHONE and listed.items[0].uscc == world.xinghe.uscc
    everything = [late, early, middle, district, untouched]
    for name, token in world.tokens.items():
        visible = {v.id for v in objections_to_answer(session, token, "all", today=FRIDAY).items}
        for objection in everything:
            try:
                objection_in_scope(session, token, objection.id)
                answerable = True
            except OutOfScope:
                answerable = False
            assert (objection.id in visible) == answerable, (name, objection.id)


def test_the_status_filter_separates_open_and_answered(session: Session, world: World) -> None:
    open_one = submit(session, world.xinghe, world.flagged)
    answered = submit(session, world.xinghe, world.licence)
    answer_objection(session, world.tokens["深圳"], answered.id, "accepted", None)
    session.commit()
    token = world.tokens["深圳"]
    assert [v.id for v in objections_to_answer(session, token, "open", today=FRIDAY).items] == [open_one.id]
    assert [v.id for v in objections_to_answer(session, token, "answered", today=FRIDAY).items] == [answered.id]
    assert objections_to_answer(session, token, "all", today=FRIDAY).total == 2
    with pytest.raises(ListQueryError):
        objections_to_answer(session, token, "closed", today=FRIDAY)


def test_the_policy_is_dated_data_with_its_legal_basis(tmp_path: Path) -> None:
    (current,) = load_objection_policy()
    assert (current.answer_working_days, current.check_working_days) == (5, 20)
    assert "第68号" in current.legal_basis
    path = tmp_path / "objections.toml"
    path.write_text('[[period]]\nvalid_from = 2027-01-01\nlegal_basis = "新办法"\nanswer_working_days = 3\n'
                    'check_working_days = 15\n\n[[period]]\nvalid_from = 2014-10-01\nlegal_basis = "旧办法"\n'
                    'answer_working_days = 5\ncheck_working_days = 20\n', encoding="utf-8")
    periods = load_objection_policy(path)
    assert policy_on(date(2026, 12, 31), periods).answer_working_days == 5
    assert policy_on(date(2027, 1, 1), periods).legal_basis == "新办法"
    with pytest.raises(PolicyError):
        policy_on(date(2014, 9, 30), periods)


@pytest.mark.parametrize("body", [
    'valid_from = 2014-10-01\nlegal_basis = "x"\nanswer_working_days = 5\n',
    'valid_from = 2014-10-01\nlegal_basis = "x"\nanswer_working_days = 5\ncheck_working_days = 3\n',
    'valid_from = "2014-10-01"\nlegal_basis = "x"\nanswer_working_days = 5\ncheck_working_days = 20\n',
    'valid_from = 2014-10-01\nlegal_basis = "x"\nanswer_working_days = 0\ncheck_working_days = 20\nextra = 1\n',
])
def test_a_broken_policy_file_is_refused(tmp_path: Path, body: str) -> None:
    path = tmp_path / "objections.toml"
    path.write_text(f"[[period]]\n{body}", encoding="utf-8")
    with pytest.raises(PolicyError):
        load_objection_policy(path)


def test_submitted_at_is_naive_utc(session: Session, world: World) -> None:
    objection = submit(session, world.xinghe, world.flagged)
    assert isinstance(objection.submitted_at, datetime) and objection.submitted_at.tzinfo is None
