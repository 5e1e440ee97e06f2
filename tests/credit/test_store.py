"""The store's bulk operations on SQLite and PostgreSQL: precedence, idempotence, change log."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from credit.changelog import changes_since, last_seq
from credit.claims import ClaimIn, apply_claims
from credit.entities import EntityIds, ensure_entities
from credit.errors import InvalidClaimError, InvalidFactError, UnknownEntityError
from credit.facts import apply_facts
from credit.models import ChangeLog, Claim, Entity, Fact
from tests.factories import OTHER_RANK, REGISTRY, REGISTRY_RANK, T0, make_entity, new_uscc, penalty


def writes(session: Session) -> int:
    """Rows inserted, updated or deleted so far by this session's transaction."""
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        return int(conn.connection.dbapi_connection.total_changes)  # type: ignore[union-attr]
    row = conn.execute(text(
        "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_xact_user_tables"
    ))
    return int(row.scalar_one())


def test_ensure_entities_creates_once_and_finds_again(session: Session) -> None:
    ids = [EntityIds(uscc=new_uscc(i)) for i in range(3)]
    first = ensure_entities(session, ids + ids[:1])
    assert [r.created for r in first] == [True, True, True, True]
    assert first[0].entity_id == first[3].entity_id
    session.commit()
    again = ensure_entities(session, ids)
    assert [r.entity_id for r in again] == [r.entity_id for r in first[:3]]
    assert not any(r.created for r in again)
    entity = session.get(Entity, first[0].entity_id)
    assert entity is not None and entity.org_code == ids[0].uscc[8:17]
    assert entity.division_code == "440300"


def test_ensure_entities_matches_by_reg_no_then_org_code_and_fills_uscc(session: Session) -> None:
    uscc = new_uscc(7)
    legacy = ensure_entities(session, [EntityIds(reg_no="440301000000018")])[0]
    by_org = ensure_entities(session, [EntityIds(org_code=uscc[8:17])])[0]
    later = ensure_entities(session, [EntityIds(uscc=uscc, reg_no="440301000000018")])[0]
    assert later.entity_id == legacy.entity_id and not later.created
    entity = session.get(Entity, legacy.entity_id)
    assert entity is not None and entity.uscc == uscc
    # The org-code-only entity must not be merged silently: its code now belongs elsewhere.
    assert by_org.entity_id != legacy.entity_id


def test_ensure_entities_refuses_conflicting_identifiers(session: Session) -> None:
    a = ensure_entities(session, [EntityIds(uscc=new_uscc(1), reg_no="440301000000018")])[0]
    clash = ensure_entities(session, [EntityIds(uscc=new_uscc(2), reg_no="440301000000018")])[0]
    assert a.entity_id is not None
    assert clash.entity_id is None
    assert clash.conflict is not None and clash.conflict.startswith("uscc")


def test_registry_outranks_newer_claims_of_other_sources(session: Session) -> None:
    eid = make_entity(session, 1, name="深圳市甲乙科技有限公司")
    apply_claims(session, [ClaimIn(eid, "name", "深圳甲乙科技", "tax", OTHER_RANK, T0 + timedelta(days=30))])
    session.commit()
    entity = session.get(Entity, eid)
    assert entity is not None and entity.name == "深圳市甲乙科技有限公司"
    names = {c.source: c.value for c in session.scalars(select(Claim).where(Claim.field == "name"))}
    assert names == {REGISTRY: "深圳市甲乙科技有限公司", "tax": "深圳甲乙科技"}


def test_newest_claim_wins_within_a_rank(session: Session) -> None:
    eid = make_entity(session, 2, status="存续")
    apply_claims(session, [ClaimIn(eid, "status", "注销", REGISTRY, REGISTRY_RANK, T0 + timedelta(days=1))])
    assert session.get(Entity, eid).status == "注销"  # type: ignore[union-attr]
    # An older observation arriving late does not turn the clock back.
    apply_claims(session, [ClaimIn(eid, "status", "吊销", "court", REGISTRY_RANK, T0 - timedelta(days=1))])
    session.commit()
    session.expire_all()
    assert session.get(Entity, eid).status == "注销"  # type: ignore[union-attr]


def test_claims_are_order_independent(session: Session) -> None:
    a = make_entity(session, 3)
    b = make_entity(session, 4)
    batch = [
        ClaimIn(a, "legal_rep", "张三", "tax", OTHER_RANK, T0),
        ClaimIn(a, "legal_rep", "李四", "court", OTHER_RANK, T0 + timedelta(hours=1)),
        ClaimIn(b, "legal_rep", "李四", "court", OTHER_RANK, T0 + timedelta(hours=1)),
        ClaimIn(b, "legal_rep", "张三", "tax", OTHER_RANK, T0),
    ]
    apply_claims(session, batch[:1])
    apply_claims(session, batch[1:2])
    apply_claims(session, batch[2:3])
    apply_claims(session, batch[3:])
    session.commit()
    assert session.get(Entity, a).legal_rep == session.get(Entity, b).legal_rep == "李四"  # type: ignore[union-attr]


def test_typed_attributes_and_name_normalisation(session: Session) -> None:
    eid = make_entity(session, 5, name="臺灣積體電路（深圳）有限公司", registered_capital="1,000.5".replace(",", ""),
                      established_on="2003-05-06", former_names='["旧名一","旧名二"]')
    session.commit()
    entity = session.get(Entity, eid)
    assert entity is not None
    assert entity.name_norm == "台湾积体电路(深圳)有限公司"
    assert str(entity.registered_capital.normalize()) == "1000.5"  # type: ignore[union-attr]
    assert entity.established_on == date(2003, 5, 6)
    assert entity.former_names == ["旧名一", "旧名二"]


def test_reapplying_claims_writes_nothing_and_logs_nothing(session: Session) -> None:
    eid = make_entity(session, 6)
    batch = [ClaimIn(eid, f, v, REGISTRY, REGISTRY_RANK, T0) for f, v in
             {"name": "深圳市丙丁贸易有限公司", "status": "存续", "address": "深圳市南山区科技园"}.items()]
    first = apply_claims(session, batch)
    session.commit()
    seq = last_seq(session)
    before = writes(session)
    again = apply_claims(session, batch)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    assert first.inserted == 3 and again.entities_changed == []
    assert writes(session) == before
    assert last_seq(session) == seq


def test_same_value_from_a_source_widens_its_window_only(session: Session) -> None:
    eid = make_entity(session, 8, status="存续")
    result = apply_claims(session, [ClaimIn(eid, "status", "存续", REGISTRY, REGISTRY_RANK, T0 + timedelta(days=9))])
    session.commit()
    assert (result.updated, result.entities_changed) == (1, [])
    claim = session.scalars(select(Claim).where(Claim.field == "status")).one()
    assert (claim.first_seen, claim.last_seen) == (T0, T0 + timedelta(days=9))


def test_invalid_claims_and_unknown_entities_are_refused(session: Session) -> None:
    eid = make_entity(session, 9)
    with pytest.raises(InvalidClaimError, match="established_on"):
        apply_claims(session, [ClaimIn(eid, "established_on", "2024-13-01", REGISTRY, 1, T0)])
    with pytest.raises(InvalidClaimError, match="not an entity attribute"):
        apply_claims(session, [ClaimIn(eid, "risk_class", "A", REGISTRY, 1, T0)])
    with pytest.raises(InvalidClaimError, match="longer than"):
        apply_claims(session, [ClaimIn(eid, "address", "路" * 1001, REGISTRY, 1, T0)])
    with pytest.raises(UnknownEntityError):
        apply_claims(session, [ClaimIn(eid + 999, "name", "某公司", REGISTRY, 1, T0)])


def test_facts_insert_skip_update_withdraw_reinstate(session: Session) -> None:
    eid = make_entity(session, 10)
    first = apply_facts(session, [penalty(eid, "P1"), penalty(eid, "P2")])
    assert (first.inserted, first.updated, first.unchanged) == (2, 0, 0)
    session.commit()
    before = writes(session)
    seq = last_seq(session)
    same = apply_facts(session, [penalty(eid, "P1"), penalty(eid, "P2")])
    assert (same.inserted, same.updated, same.unchanged) == (0, 0, 2)
    assert writes(session) == before and last_seq(session) == seq
    changed = apply_facts(session, [penalty(eid, "P1", severity="serious", change="u")])
    gone = apply_facts(session, [penalty(eid, "P2", change="d"), penalty(eid, "P9", change="d")])
    session.commit()
    assert changed.updated == 1 and (gone.withdrawn, gone.missing) == (1, 1)
    facts = {f.source_key: f for f in session.scalars(select(Fact))}
    assert facts["P1"].severity == "serious" and facts["P2"].status == "withdrawn"
    assert facts["P2"].withdrawn_at is not None
    back = apply_facts(session, [penalty(eid, "P2")])
    session.commit()
    session.expire_all()
    assert back.updated == 1 and session.get(Fact, facts["P2"].id).status == "active"  # type: ignore[union-attr]
    assert session.scalar(select(func.count()).select_from(Fact)) == 2


def test_last_record_of_a_key_in_a_batch_wins(session: Session) -> None:
    eid = make_entity(session, 11)
    result = apply_facts(session, [penalty(eid, "P1", severity="minor"), penalty(eid, "P1", severity="serious")])
    session.commit()
    assert result.inserted == 1
    assert session.scalars(select(Fact.severity)).one() == "serious"


def test_bad_fact_is_refused_with_its_key(session: Session) -> None:
    eid = make_entity(session, 12)
    with pytest.raises(InvalidFactError, match="P1.*change flag"):
        apply_facts(session, [penalty(eid, "P1", change="x")])


def test_change_log_records_each_real_change_in_order(session: Session) -> None:
    start = last_seq(session)
    eid = make_entity(session, 13, name="深圳市戊己餐饮管理有限公司")
    apply_facts(session, [penalty(eid, "P1")])
    session.commit()
    apply_claims(session, [ClaimIn(eid, "status", "注销", REGISTRY, REGISTRY_RANK, T0 + timedelta(days=1))])
    apply_facts(session, [penalty(eid, "P1", change="d")])
    session.commit()
    entries = session.scalars(changes_since(start)).all()
    assert [(e.kind, e.op) for e in entries] == [
        ("entity", "create"), ("entity", "update"), ("fact", "change"), ("entity", "update"), ("fact", "change"),
    ]
    assert [e.seq for e in entries] == sorted(e.seq for e in entries)
    assert entries[1].detail == {"fields": {"name": "深圳市戊己餐饮管理有限公司"}}
    assert entries[3].detail == {"fields": {"status": "注销"}}
    assert entries[4].detail["facts"] == [{"op": "withdraw", "kind": "penalty", "source": "samr-penalty", "key": "P1"}]
    assert all(e.entity_id == eid for e in entries)
    assert session.scalar(select(func.count()).select_from(ChangeLog)) == len(entries) + start

