"""Regulator routes on records through the real app and store: credit repair, corrections, the full view."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app import store
from credit.clock import beijing_today
from blacklist.objections import submit_objection
from blacklist.tokens import issue_token
from credit.claims import ClaimIn, apply_claims
from credit.entities import EntityIds, ensure_entities
from credit.facts import apply_facts
from credit.models import AuditEvent, CreditRepair, Fact
from tests.factories import REGISTRY, REGISTRY_RANK, T0, new_uscc, penalty

API = "/api/v1/regulator"
SZ_NAME = "深圳市市场监督管理局"
ALL_MET = {"corrected": True, "obligations_fulfilled": True, "credit_commitment": True}
SERIOUS = "生产经营腐败变质食品，被吊销食品经营许可证"


@dataclass(frozen=True)
class World:
    """USCCs of the seeded entities, token secrets and fact ids, by short name."""

    uscc: dict[str, str]
    secret: dict[str, str]
    fact: dict[str, int]


def entity_in(session: Session, seed: int, name: str, division: str) -> int:
    """An operating company registered in ``division``; its id."""
    entity_id = ensure_entities(session, [EntityIds(uscc=new_uscc(seed, division))])[0].entity_id
    assert entity_id is not None
    apply_claims(session, [ClaimIn(entity_id, field, value, REGISTRY, REGISTRY_RANK, T0) for field, value in
                           {"name": name, "entity_type": "有限责任公司", "status": "存续"}.items()])
    return entity_id


def recent() -> date:
    """A decision date about five months ago: under the 2026 measures, repairable now and public for months yet."""
    return beijing_today() - timedelta(days=150)


@pytest.fixture
def world(app: Flask) -> World:
    """Two Shenzhen companies and one in Shanghai, with penalties of the Shenzhen bureau; three tokens."""
    with app.app_context():
        session = store.session()
        ids = {"星河": entity_in(session, 1, "深圳市南山区星河电子有限公司", "440305"),
               "鹏城": entity_in(session, 2, "深圳市宝安区鹏城食品有限公司", "440306"),
               "申江": entity_in(session, 3, "上海市黄浦区申江商贸有限公司", "310101")}
        apply_facts(session, [
            # Ordinary, decided 2026-04-10 under the 2026 measures: repair from 2026-07-10 (3 months).
            penalty(ids["星河"], "P-2026", decided_on=date(2026, 4, 10)),
            penalty(ids["鹏城"], "P-recent", decided_on=recent()),
            penalty(ids["鹏城"], "P-minor", decided_on=recent(), severity="minor"),
            penalty(ids["鹏城"], "P-revoked", decided_on=recent(), severity="serious"),
            penalty(ids["申江"], "P-shanghai", decided_on=recent()),
        ])
        apply_facts(session, [penalty(ids["鹏城"], "P-revoked", change="d")])
        lists = ["abnormal", "serious-illegal"]
        secret = {"深圳": issue_token(session, "sz-samr", SZ_NAME, lists, "4403", "信用修复")[1],
                  "广东": issue_token(session, "gd-samr", "广东省市场监督管理局", lists, "44", "省局")[1]}
        session.commit()
        facts = {f.source_key: f.id for f in session.scalars(select(Fact))}
        uscc = {"星河": new_uscc(1, "440305"), "鹏城": new_uscc(2, "440306"), "申江": new_uscc(3, "310101")}
    return World(uscc, secret, facts)


def call(client: FlaskClient, method: str, path: str, secret: str | None, body: Any = None,
         **headers: str) -> TestResponse:
    """A request with this token (none when ``secret`` is None) and a JSON body."""
    if secret is not None:
        headers["Authorization"] = f"Bearer {secret}"
    return client.open(path, method=method, json=body, headers=headers)


def repair_body(applied_on: date | str, **more: Any) -> dict[str, Any]:
    """A repair decided on the day of the application, every condition met."""
    day = applied_on if isinstance(applied_on, str) else applied_on.isoformat()
    return {"applied_on": day, "repaired_on": day, "decision_no": "深市监信修〔2026〕3号", "conditions": ALL_MET,
            **more}


def public_keys(client: FlaskClient, uscc: str) -> list[str]:
    """Source keys of the facts on the public profile."""
    response = client.get(f"/api/v1/entities/{uscc}")
    assert response.status_code == 200
    return [f["source_key"] for f in response.get_json()["facts"]]


def full_view(client: FlaskClient, world: World, name: str) -> dict[str, Any]:
    """The regulator's view of an entity, with the Shenzhen token."""
    response = call(client, "GET", f"{API}/entities/{world.uscc[name]}", world.secret["深圳"])
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def flag(client: FlaskClient, world: World, name: str, secret: str | None = None,
         decision_no: str = "深市监食罚〔2024〕7号") -> dict[str, Any]:
    """A serious listing of 2024-03-01 made through the API."""
    body = {"uscc": world.uscc[name], "list": "serious-illegal", "reason": SERIOUS, "listed_on": "2024-03-01",
            "decision_no": decision_no}
    response = call(client, "POST", f"{API}/listings", secret or world.secret["深圳"], body)
    assert response.status_code == 201, response.get_json()
    created: dict[str, Any] = response.get_json()
    return created


def events(app: Flask, target_type: str, target_id: int) -> list[AuditEvent]:
    """The audit events of one record, oldest first."""
    with app.app_context():
        query = select(AuditEvent).where(AuditEvent.target_type == target_type,
                                         AuditEvent.target_id == str(target_id))
        return list(store.session().scalars(query.order_by(AuditEvent.id)))


def test_repair_is_422_the_day_before_the_minimum_and_201_on_the_first_day(client: FlaskClient, world: World,
                                                                           app: Flask) -> None:
    path = f"{API}/penalties/{world.fact['P-2026']}/repair"
    early = call(client, "POST", path, world.secret["深圳"], repair_body("2026-07-09"))
    assert early.status_code == 422
    assert early.get_json()["error"]["field"] == "applied_on"
    assert "2026-07-10" in early.get_json()["error"]["message"]
    made = call(client, "POST", path, world.secret["深圳"], repair_body("2026-07-10"), **{"X-Request-Id": "req-r1"})
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert (body["fact_id"], body["status"], body["applied_on"], body["repaired_on"], body["decided_by"]) == (
        world.fact["P-2026"], "active", "2026-07-10", "2026-07-10", SZ_NAME)
    assert body["publicity"]["public"] is False and body["publicity"]["public_until"] == "2026-07-09"
    assert made.headers["X-Request-Id"] == "req-r1"
    (event,) = events(app, "fact", world.fact["P-2026"])
    assert event.action == "fact.repair" and event.request_id == "req-r1"


def test_the_public_profile_hides_a_repaired_penalty_at_once_and_the_regulator_still_sees_it(
        client: FlaskClient, world: World) -> None:
    assert "P-recent" in public_keys(client, world.uscc["鹏城"])
    applied = beijing_today() - timedelta(days=30)  # 120 days after the decision: past the 3-month minimum
    response = call(client, "POST", f"{API}/penalties/{world.fact['P-recent']}/repair", world.secret["深圳"],
                    repair_body(applied))
    assert response.status_code == 201, response.get_json()
    assert "P-recent" not in public_keys(client, world.uscc["鹏城"])
    (fact,) = [f for f in full_view(client, world, "鹏城")["facts"] if f["source_key"] == "P-recent"]
    assert fact["publicity"]["public"] is False
    assert f"已于{applied.isoformat()}信用修复" in fact["publicity"]["reason"]
    assert fact["repair"]["repaired_on"] == applied.isoformat() and fact["status"] == "active"


def test_an_ingest_re_send_with_a_changed_body_does_not_bring_the_penalty_back(
        client: FlaskClient, world: World, app: Flask) -> None:
    applied = beijing_today() - timedelta(days=30)
    path = f"{API}/penalties/{world.fact['P-recent']}/repair"
    assert call(client, "POST", path, world.secret["深圳"], repair_body(applied)).status_code == 201
    with app.app_context():
        session = store.session()
        entity_id = session.get(Fact, world.fact["P-recent"]).entity_id  # type: ignore[union-attr]
        result = apply_facts(session, [penalty(entity_id, "P-recent", decided_on=recent(),
                                               body={"decision_no": "深市监罚〔2026〕88号", "fine_amount": "3"})])
        session.commit()
        assert result.updated == 1
        assert len(session.scalars(select(CreditRepair)).all()) == 1
    assert "P-recent" not in public_keys(client, world.uscc["鹏城"])


@pytest.mark.parametrize("method, path", [
    ("POST", "/penalties/1/repair"), ("PATCH", "/listings/1"), ("GET", "/entities/{星河}"),
])
def test_every_route_is_401_without_a_token(client: FlaskClient, world: World, method: str, path: str) -> None:
    response = call(client, method, API + path.format(星河=world.uscc["星河"]), None, {})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="gongxin"'


def test_repair_is_403_for_another_agency_or_outside_the_region_and_404_when_unknown(
        client: FlaskClient, world: World, app: Flask) -> None:
    body = repair_body(beijing_today() - timedelta(days=30))
    other = call(client, "POST", f"{API}/penalties/{world.fact['P-recent']}/repair", world.secret["广东"], body)
    assert other.status_code == 403 and other.get_json()["error"]["code"] == "out_of_scope"
    shanghai = call(client, "POST", f"{API}/penalties/{world.fact['P-shanghai']}/repair", world.secret["深圳"], body)
    assert shanghai.status_code == 403 and "310101" in shanghai.get_json()["error"]["message"]
    unknown = call(client, "POST", f"{API}/penalties/987654/repair", world.secret["深圳"], body)
    assert unknown.status_code == 404 and unknown.get_json()["error"]["code"] == "not_found"
    huge = call(client, "POST", f"{API}/penalties/{2**64}/repair", world.secret["深圳"], body)
    assert huge.status_code == 404
    with app.app_context():
        assert store.session().scalars(select(CreditRepair)).all() == []


@pytest.mark.parametrize("change, field", [
    ({"decision_no": "  "}, "decision_no"),
    ({"decision_no": "号" * 201}, "decision_no"),
    ({"applied_on": "2999-01-01", "repaired_on": "2999-01-01"}, "applied_on"),
    ({"repaired_on": "2026-02-30"}, "repaired_on"),
    ({"conditions": "全部满足"}, "conditions"),
    ({"conditions": {"corrected": True, "credit_commitment": True}}, "conditions"),
    ({"fact_id": 1}, "fact_id"),
])
def test_a_bad_repair_body_is_422_naming_the_field(client: FlaskClient, world: World, change: dict[str, Any],
                                                   field: str) -> None:
    body = repair_body(beijing_today() - timedelta(days=30)) | change
    response = call(client, "POST", f"{API}/penalties/{world.fact['P-recent']}/repair", world.secret["深圳"], body)
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["field"] == field
    if change.get("conditions") == {"corrected": True, "credit_commitment": True}:
        assert "已履行法定义务" in response.get_json()["error"]["message"]


def test_a_correction_is_audited_with_before_and_after(client: FlaskClient, world: World, app: Flask) -> None:
    entry = flag(client, world, "星河")
    response = call(client, "PATCH", f"{API}/listings/{entry['id']}", world.secret["深圳"],
                    {"decision_no": "深市监食罚〔2024〕17号", "correction_reason": "决定文号录入错误"},
                    **{"X-Request-Id": "req-c1"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["decision_no"] == "深市监食罚〔2024〕17号" and body["reason"] == SERIOUS
    assert body["listed_on"] == "2024-03-01" and body["list"] == "serious-illegal"
    flagged, corrected = events(app, "list_entry", entry["id"])
    assert corrected.action == "list.correct" and corrected.request_id == "req-c1"
    assert corrected.before == flagged.after and corrected.after is not None
    assert corrected.after["decision_no"] == "深市监食罚〔2024〕17号"
    assert corrected.after["correction_reason"] == "决定文号录入错误"


@pytest.mark.parametrize("body, field", [
    ({"decision_no": "深市监食罚〔2024〕17号"}, "correction_reason"),
    ({"correction_reason": "更正"}, "body"),
    ({"correction_reason": "更正", "reason": ""}, "reason"),
    ({"correction_reason": "更正", "basis": "   "}, "basis"),
    ({"correction_reason": "更正", "decision_no": None}, "decision_no"),
    ({"correction_reason": "更正", "listed_on": "2999-01-01"}, "listed_on"),
    ({"correction_reason": "更正", "list": "abnormal"}, "list"),
    ({"correction_reason": "更正", "uscc": "91440300MA5XXXXXXX"}, "uscc"),
])
def test_a_bad_correction_body_is_422_naming_the_field(client: FlaskClient, world: World, body: dict[str, Any],
                                                       field: str) -> None:
    entry = flag(client, world, "星河")
    response = call(client, "PATCH", f"{API}/listings/{entry['id']}", world.secret["深圳"], body)
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["field"] == field


def test_a_correction_is_refused_on_a_withdrawn_entry_or_after_the_removal(client: FlaskClient, world: World,
                                                                          app: Flask) -> None:
    withdrawn, removed = flag(client, world, "星河"), flag(client, world, "鹏城")
    assert call(client, "POST", f"{API}/listings/{withdrawn['id']}/withdrawal", world.secret["深圳"],
                {"reason": "列入依据有误"}).status_code == 200
    assert call(client, "POST", f"{API}/listings/{removed['id']}/removal", world.secret["深圳"],
                {"reason": "已履行处罚义务并作出信用承诺", "removed_on": "2025-06-01"}).status_code == 200
    gone = call(client, "PATCH", f"{API}/listings/{withdrawn['id']}", world.secret["深圳"],
                {"correction_reason": "更正", "decision_no": "深市监食罚〔2024〕17号"})
    assert gone.status_code == 422 and "已撤回" in gone.get_json()["error"]["message"]
    late = call(client, "PATCH", f"{API}/listings/{removed['id']}", world.secret["深圳"],
                {"correction_reason": "更正", "listed_on": "2025-06-02"})
    assert late.status_code == 422 and late.get_json()["error"]["field"] == "listed_on"
    assert [e.action for e in events(app, "list_entry", removed["id"])] == ["list.flag", "list.remove"]


def test_a_correction_is_403_for_another_agencys_entry_and_404_when_unknown(client: FlaskClient,
                                                                          world: World) -> None:
    entry = flag(client, world, "星河")
    body = {"correction_reason": "更正", "decision_no": "粤市监罚〔2024〕1号"}
    other = call(client, "PATCH", f"{API}/listings/{entry['id']}", world.secret["广东"], body)
    assert other.status_code == 403 and "本机关" in other.get_json()["error"]["message"]
    assert call(client, "PATCH", f"{API}/listings/424242", world.secret["深圳"], body).status_code == 404


def test_the_full_view_holds_what_the_public_never_sees(client: FlaskClient, world: World, app: Flask) -> None:
    withdrawn, kept = flag(client, world, "鹏城"), flag(client, world, "鹏城", decision_no="深市监食罚〔2024〕8号")
    call(client, "POST", f"{API}/listings/{withdrawn['id']}/withdrawal", world.secret["深圳"], {"reason": "依据有误"})
    with app.app_context():
        session = store.session()
        submit_objection(session, world.uscc["鹏城"], "list_entry", kept["id"], "该处罚已履行完毕，列入有误",
                         "13800138000", today=beijing_today())
        session.commit()
    view = full_view(client, world, "鹏城")
    assert view["uscc"] == world.uscc["鹏城"] and view["name"] == "深圳市宝安区鹏城食品有限公司"
    entries = {e["id"]: e for e in view["lists"]}
    assert (entries[withdrawn["id"]]["status"], entries[withdrawn["id"]]["public"]) == ("withdrawn", False)
    facts = {f["source_key"]: f for f in view["facts"]}
    assert set(facts) == {"P-recent", "P-minor", "P-revoked"}
    assert facts["P-minor"]["publicity"]["public"] is False and "不予公示" in facts["P-minor"]["publicity"]["reason"]
    assert facts["P-minor"]["publicity"]["regime"] == "ndrc-2026"
    assert facts["P-revoked"]["status"] == "withdrawn" and facts["P-revoked"]["publicity"]["public"] is False
    assert facts["P-recent"]["publicity"]["public"] is True and facts["P-recent"]["repair"] is None
    repair_from = date.fromisoformat(facts["P-recent"]["publicity"]["repair_from"])
    assert recent() + timedelta(days=89) <= repair_from <= recent() + timedelta(days=92)  # 3 months on
    (objection,) = view["objections"]
    assert objection["target_id"] == kept["id"] and objection["text"] == "该处罚已履行完毕，列入有误"
    assert "contact" not in objection
    actions = sorted((a["target_id"], a["action"]) for a in view["audit"] if a["target_type"] == "list_entry")
    assert actions == sorted([(str(withdrawn["id"]), "list.flag"), (str(withdrawn["id"]), "list.withdraw"),
                              (str(kept["id"]), "list.flag")])
    public = client.get(f"/api/v1/entities/{world.uscc['鹏城']}").get_json()
    assert [f["source_key"] for f in public["facts"]] == ["P-recent"]
    assert len(public["lists"]) == 1 and public["lists"][0]["status"] == "active"
    assert not {"repairs", "audit", "objections", "risk_class"} & set(public)
    assert "13800138000" not in str(public) and "依据有误" not in str(public)


def test_the_full_view_is_403_outside_the_region_and_404_for_an_unknown_entity(client: FlaskClient,
                                                                              world: World) -> None:
    outside = call(client, "GET", f"{API}/entities/{world.uscc['申江']}", world.secret["深圳"])
    assert outside.status_code == 403 and "310101" in outside.get_json()["error"]["message"]
    unknown = call(client, "GET", f"{API}/entities/{new_uscc(999, '440305')}", world.secret["深圳"])
    assert unknown.status_code == 404
    province = call(client, "GET", f"{API}/entities/{world.uscc['星河']}", world.secret["广东"])
    assert province.status_code == 200  # the province's token covers Shenzhen
