"""The regulator API through the real app and store: tokens, scope, list rules, audit, publicity."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app import store
from blacklist.tokens import issue_token, revoke_token
from credit.claims import ClaimIn, apply_claims
from credit.entities import EntityIds, ensure_entities
from credit.models import AuditEvent, ListEntry
from tests.factories import REGISTRY, REGISTRY_RANK, T0, new_uscc

LISTINGS = "/api/v1/regulator/listings"
SZ_NAME = "深圳市市场监督管理局"
NO_REPORT = "未依照《企业信息公示暂行条例》第八条规定的期限公示年度报告"
SERIOUS = "生产经营腐败变质食品，被吊销食品经营许可证"


@dataclass(frozen=True)
class World:
    """USCCs of the seeded entities and the secrets of the issued tokens, by short name."""

    uscc: dict[str, str]
    secret: dict[str, str]


def entity_in(session: Session, seed: int, name: str, division: str) -> str:
    """An operating company registered in ``division``; its USCC."""
    uscc = new_uscc(seed, division)
    entity_id = ensure_entities(session, [EntityIds(uscc=uscc)])[0].entity_id
    assert entity_id is not None
    apply_claims(session, [ClaimIn(entity_id, field, value, REGISTRY, REGISTRY_RANK, T0) for field, value in
                           {"name": name, "entity_type": "有限责任公司", "status": "存续"}.items()])
    return uscc


@pytest.fixture
def world(app: Flask) -> World:
    """Companies in Shenzhen and Shanghai; Shenzhen tokens for both lists, for one list, and a revoked one."""
    with app.app_context():
        session = store.session()
        uscc = {"星河": entity_in(session, 1, "深圳市南山区星河电子有限公司", "440305"),
                "鹏城": entity_in(session, 2, "深圳市宝安区鹏城食品有限公司", "440306"),
                "申江": entity_in(session, 3, "上海市黄浦区申江商贸有限公司", "310101")}
        both = ["abnormal", "serious-illegal"]
        secret = {"深圳": issue_token(session, "sz-samr", SZ_NAME, both, "4403", "企业监管处")[1],
                  "异常": issue_token(session, "sz-samr", SZ_NAME, ["abnormal"], "4403", "只管异常名录")[1]}
        revoked, secret["吊销"] = issue_token(session, "sz-samr", SZ_NAME, both, "4403", "已离职")
        revoke_token(session, revoked.id)
        session.commit()
    return World(uscc, secret)


def post(client: FlaskClient, path: str, body: Any, secret: str | None, **headers: str) -> TestResponse:
    """POST a JSON body with this token (none when ``secret`` is None)."""
    if secret is not None:
        headers["Authorization"] = f"Bearer {secret}"
    return client.post(path, json=body, headers=headers)


def unreported(uscc: str, year: int = 2024, **more: Any) -> dict[str, Any]:
    """Body of a reason-1 abnormal listing."""
    return {"uscc": uscc, "list": "abnormal", "reason": NO_REPORT, "reason_code": "1", "year": year,
            "listed_on": "2025-07-10", **more}


def serious(uscc: str, listed_on: str = "2024-03-01") -> dict[str, Any]:
    """Body of a serious illegal & dishonest listing."""
    return {"uscc": uscc, "list": "serious-illegal", "reason": SERIOUS, "listed_on": listed_on,
            "decision_no": "深市监食罚〔2024〕7号"}


def events(app: Flask, entry_id: int) -> list[AuditEvent]:
    """The audit events of an entry, oldest first."""
    with app.app_context():
        return list(store.session().scalars(select(AuditEvent).where(
            AuditEvent.target_type == "list_entry", AuditEvent.target_id == str(entry_id)).order_by(AuditEvent.id)))


def entry_count(app: Flask) -> int:
    """How many list entries the store holds."""
    with app.app_context():
        return int(store.session().scalar(select(func.count()).select_from(ListEntry)) or 0)


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Basic c3o6c2Ftcg==", "Bearer not-ours"])
def test_no_usable_token_is_401_with_a_bearer_challenge(client: FlaskClient, world: World,
                                                         authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.post(LISTINGS, json=unreported(world.uscc["星河"]), headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="gongxin"'
    assert response.get_json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("which", ["wrong", "吊销"])
def test_a_wrong_or_revoked_token_is_401_invalid_token(client: FlaskClient, world: World, app: Flask,
                                                       which: str) -> None:
    secret = world.secret["深圳"][:-2] + "xx" if which == "wrong" else world.secret["吊销"]
    response = post(client, LISTINGS, unreported(world.uscc["星河"]), secret)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert entry_count(app) == 0


def test_a_list_outside_the_token_is_403_and_so_is_a_region(client: FlaskClient, world: World, app: Flask) -> None:
    outside_list = post(client, LISTINGS, serious(world.uscc["星河"]), world.secret["异常"])
    assert outside_list.status_code == 403 and outside_list.get_json()["error"]["code"] == "out_of_scope"
    outside_region = post(client, LISTINGS, unreported(world.uscc["申江"]), world.secret["深圳"])
    assert outside_region.status_code == 403 and "310101" in outside_region.get_json()["error"]["message"]
    assert entry_count(app) == 0


def test_a_valid_flag_is_201_with_location_and_an_audit_event(client: FlaskClient, world: World, app: Flask) -> None:
    response = post(client, LISTINGS, unreported(world.uscc["星河"], decision_no="深市监南异〔2025〕3号"),
                    world.secret["深圳"], **{"X-Request-Id": "sz-req-0001"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"].endswith(f"{LISTINGS}/{body['id']}")
    assert response.headers["X-Request-Id"] == "sz-req-0001"
    assert {k: body[k] for k in ("list", "uscc", "name", "reason_code", "listed_on", "listed_by", "status",
                                 "public", "removed_on")} == {
        "list": "abnormal", "uscc": world.uscc["星河"], "name": "深圳市南山区星河电子有限公司", "reason_code": "1",
        "listed_on": "2025-07-10", "listed_by": SZ_NAME, "status": "active", "public": True, "removed_on": None}
    assert "source_key" not in body and "content_hash" not in body
    (event,) = events(app, body["id"])
    assert (event.action, event.agency_id, event.request_id, event.before) == (
        "list.flag", "sz-samr", "sz-req-0001", None)
    assert event.after is not None
    assert (event.after["listed_on"], event.after["reason"], event.after["listed_by"]) == (
        "2025-07-10", body["reason"], SZ_NAME)
    fetched = client.get(response.headers["Location"], headers={"Authorization": f"Bearer {world.secret['深圳']}"})
    assert fetched.status_code == 200 and fetched.get_json() == body


def test_a_request_without_an_id_gets_a_new_one(client: FlaskClient, world: World) -> None:
    response = post(client, LISTINGS, unreported(world.uscc["星河"]), world.secret["深圳"],
                    **{"X-Request-Id": "带中文的请求号"})
    assert response.status_code == 201
    assert uuid.UUID(response.headers["X-Request-Id"]).version == 4


def test_a_removal_is_200_and_audited_with_before_and_after(client: FlaskClient, world: World, app: Flask) -> None:
    flagged = post(client, LISTINGS, unreported(world.uscc["星河"]), world.secret["深圳"]).get_json()
    removal = post(client, f"{LISTINGS}/{flagged['id']}/removal",
                   {"reason": "已补报2024年度报告并公示", "removed_on": "2025-08-01"}, world.secret["深圳"])
    assert removal.status_code == 200, removal.get_json()
    assert (removal.get_json()["status"], removal.get_json()["removed_on"]) == ("removed", "2025-08-01")
    flag_event, remove_event = events(app, flagged["id"])
    assert remove_event.action == "list.remove" and remove_event.before == flag_event.after
    assert remove_event.before is not None and remove_event.after is not None
    assert (remove_event.before["status"], remove_event.after["status"]) == ("active", "removed")
    assert remove_event.after["removal_reason"] == "已补报2024年度报告并公示"


def test_a_duplicate_abnormal_listing_is_422_in_chinese(client: FlaskClient, world: World, app: Flask) -> None:
    assert post(client, LISTINGS, unreported(world.uscc["星河"]), world.secret["深圳"]).status_code == 201
    again = post(client, LISTINGS, unreported(world.uscc["星河"]), world.secret["深圳"])
    assert again.status_code == 422
    assert again.get_json()["error"]["code"] == "refused"
    assert "2024年度" in again.get_json()["error"]["message"] and "不得重复列入" in again.get_json()["error"]["message"]
    assert post(client, LISTINGS, unreported(world.uscc["星河"], year=2023), world.secret["深圳"]).status_code == 201
    assert entry_count(app) == 2


def test_a_removal_before_the_listing_is_422_and_changes_nothing(client: FlaskClient, world: World,
                                                                 app: Flask) -> None:
    flagged = post(client, LISTINGS, unreported(world.uscc["星河"]), world.secret["深圳"]).get_json()
    response = post(client, f"{LISTINGS}/{flagged['id']}/removal", {"reason": "已补报", "removed_on": "2025-07-09"},
                    world.secret["深圳"])
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "removed_on"
    assert "早于列入日期" in response.get_json()["error"]["message"]
    assert [e.action for e in events(app, flagged["id"])] == ["list.flag"]


def test_a_second_listing_of_one_decision_is_422_naming_the_first(client: FlaskClient, world: World,
                                                                  app: Flask) -> None:
    first = post(client, LISTINGS, serious(world.uscc["鹏城"]), world.secret["深圳"]).get_json()
    again = post(client, LISTINGS, {**serious(world.uscc["鹏城"]), "decision_no": "深市监食罚[2024]7号"},
                 world.secret["深圳"])
    assert again.status_code == 422
    error = again.get_json()["error"]
    assert error["field"] == "decision_no" and f"记录 {first['id']}" in error["message"]
    assert entry_count(app) == 1
    other = post(client, LISTINGS, serious(world.uscc["星河"]), world.secret["深圳"])  # another entity: fine
    assert other.status_code == 201 and entry_count(app) == 2


def test_an_early_serious_removal_leaves_the_public_list_but_not_the_store(
        client: FlaskClient, world: World, app: Flask) -> None:
    early = post(client, LISTINGS, serious(world.uscc["鹏城"]), world.secret["深圳"]).get_json()
    stays = post(client, LISTINGS, serious(world.uscc["星河"], "2022-01-10"), world.secret["深圳"]).get_json()
    assert early["due_expiry"] == "2027-03-01"
    public = client.get("/api/v1/lists/serious-illegal", query_string={"status": "all"}).get_json()
    assert sorted(item["uscc"] for item in public["items"]) == sorted([world.uscc["鹏城"], world.uscc["星河"]])
    for entry in (early, stays):
        removed = post(client, f"{LISTINGS}/{entry['id']}/removal",
                       {"reason": "已履行处罚义务并作出信用承诺，申请提前移出", "removed_on": "2025-06-01"},
                       world.secret["深圳"])
        assert removed.status_code == 200
    public = client.get("/api/v1/lists/serious-illegal", query_string={"status": "all"}).get_json()
    assert [item["uscc"] for item in public["items"]] == [world.uscc["星河"]]  # its term had ended: still shown
    with app.app_context():
        row = store.session().get(ListEntry, early["id"])
        assert row is not None and (row.status, row.public, row.removed_on) == ("removed", False, date(2025, 6, 1))


def test_a_withdrawal_hides_the_agencys_listing(client: FlaskClient, world: World, app: Flask) -> None:
    flagged = post(client, LISTINGS, unreported(world.uscc["星河"]), world.secret["深圳"]).get_json()
    response = post(client, f"{LISTINGS}/{flagged['id']}/withdrawal", {"reason": "列入依据有误"}, world.secret["异常"])
    assert response.status_code == 200
    assert (response.get_json()["status"], response.get_json()["public"]) == ("withdrawn", False)
    public = client.get("/api/v1/lists/abnormal", query_string={"status": "all"}).get_json()
    assert public["total"] == 0
    assert [e.action for e in events(app, flagged["id"])] == ["list.flag", "list.withdraw"]


@pytest.mark.parametrize("body, field", [
    ({"list": "abnormal", "reason": NO_REPORT, "listed_on": "2025-07-10"}, "uscc"),
    ({"uscc": "91440300ABC", "list": "abnormal", "reason": NO_REPORT, "listed_on": "2025-07-10"}, "uscc"),
    ({"uscc": "{星河}", "list": "abnormal", "listed_on": "2025-07-10"}, "reason"),
    ({"uscc": "{星河}", "list": "abnormal", "reason": "   ", "listed_on": "2025-07-10"}, "reason"),
    ({"uscc": "{星河}", "list": "abnormal", "reason": NO_REPORT, "basis": " ", "listed_on": "2025-07-10"}, "basis"),
    ({"uscc": "{星河}", "list": "abnormal", "reason": NO_REPORT, "listed_on": "2025-13-01"}, "listed_on"),
    ({"uscc": "{星河}", "list": "abnormal", "reason": NO_REPORT, "listed_on": "2999-01-01"}, "listed_on"),
    ({"uscc": "{星河}", "list": "abnormal", "reason": NO_REPORT, "listed_on": "2025-07-10", "extra": 1}, "extra"),
    ({"uscc": "{星河}", "list": "abnormal", "reason": NO_REPORT, "listed_on": "2025-07-10"}, "reason_code"),
])
def test_a_bad_body_is_422_naming_the_field(client: FlaskClient, world: World, body: dict[str, Any],
                                            field: str) -> None:
    if body.get("uscc") == "{星河}":
        body = body | {"uscc": world.uscc["星河"]}
    response = post(client, LISTINGS, body, world.secret["深圳"])
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["field"] == field


def test_a_body_that_is_not_a_json_object_is_400(client: FlaskClient, world: World) -> None:
    headers = {"Authorization": f"Bearer {world.secret['深圳']}", "Content-Type": "application/json"}
    assert client.post(LISTINGS, data="{not json", headers=headers).status_code == 400
    assert client.post(LISTINGS, data="[1, 2]", headers=headers).status_code == 400


def test_an_unknown_entity_or_entry_is_404(client: FlaskClient, world: World) -> None:
    unknown = post(client, LISTINGS, unreported(new_uscc(77, "440305")), world.secret["深圳"])
    assert unknown.status_code == 404 and unknown.get_json()["error"]["code"] == "not_found"
    missing = post(client, f"{LISTINGS}/4242/removal", {"reason": "已补报", "removed_on": "2025-08-01"},
                   world.secret["深圳"])
    assert missing.status_code == 404
    no_list = post(client, LISTINGS, unreported(world.uscc["星河"]) | {"list": "no-such-list"}, world.secret["深圳"])
    assert no_list.status_code == 404 and no_list.get_json()["error"]["code"] == "unknown_list"


EARLY = {"penalty_fulfilled": True, "harm_corrected": True, "commitment_made": True}


def early_removal(client: FlaskClient, entry_id: int, secret: str | None, applied_on: str = "2025-03-01",
                  conditions: dict[str, Any] | None = None, **more: Any) -> TestResponse:
    """POST an early-removal application for an entry."""
    body = {"applied_on": applied_on, "conditions": EARLY if conditions is None else conditions, **more}
    return post(client, f"{LISTINGS}/{entry_id}/early-removal", body, secret)


def public_serious(client: FlaskClient) -> list[str]:
    """The USCCs the public sees on the serious list, removed entries included."""
    items = client.get("/api/v1/lists/serious-illegal", query_string={"status": "all"}).get_json()["items"]
    return [item["uscc"] for item in items]


def test_an_early_removal_is_201_hides_the_listing_and_audits_the_application(
        client: FlaskClient, world: World, app: Flask) -> None:
    flagged = post(client, LISTINGS, serious(world.uscc["鹏城"]), world.secret["深圳"]).get_json()
    assert public_serious(client) == [world.uscc["鹏城"]]
    response = early_removal(client, flagged["id"], world.secret["深圳"], note="已缴清罚款，提交信用承诺书")
    assert response.status_code == 201, response.get_json()
    assert response.headers["Location"].endswith(f"{LISTINGS}/{flagged['id']}")
    body = response.get_json()
    assert (body["status"], body["public"], body["removed_on"], body["removed_by"]) == (
        "removed", False, "2025-03-01", SZ_NAME)
    assert body["removal_reason"].startswith("提前移出")
    assert public_serious(client) == []
    assert client.get("/api/v1/lists/serious-illegal").get_json()["total"] == 0
    flag_event, remove_event, application = events(app, flagged["id"])
    assert (remove_event.action, application.action) == ("list.remove", "list.early_removal")
    assert application.before == flag_event.after
    assert application.after is not None and application.after["public"] is False
    assert application.after["application"]["conditions"] == EARLY
    assert application.after["application"]["note"] == "已缴清罚款，提交信用承诺书"


def test_an_early_removal_needs_a_token_in_scope(client: FlaskClient, world: World) -> None:
    flagged = post(client, LISTINGS, serious(world.uscc["鹏城"]), world.secret["深圳"]).get_json()
    no_token = early_removal(client, flagged["id"], None)
    assert no_token.status_code == 401 and no_token.get_json()["error"]["code"] == "unauthorized"
    other_list = early_removal(client, flagged["id"], world.secret["异常"])
    assert other_list.status_code == 403 and other_list.get_json()["error"]["code"] == "out_of_scope"
    assert early_removal(client, flagged["id"] + 100, world.secret["深圳"]).status_code == 404
    assert public_serious(client) == [world.uscc["鹏城"]]


@pytest.mark.parametrize("applied_on, conditions, more, field, message", [
    ("2025-02-28", None, {}, "applied_on", "列入满1年（2025-03-01）后方可申请提前移出"),
    ("2025-03-01", {"penalty_fulfilled": True, "commitment_made": True}, {}, "conditions", "已主动消除危害后果和不良影响"),
    ("2025-03-01", EARLY | {"harm_corrected": False}, {}, "conditions", "已主动消除危害后果和不良影响"),
    ("2999-01-01", None, {}, "applied_on", "不得晚于今天"),
    ("2025-03-01", EARLY | {"fine_paid": True}, {}, "conditions", "fine_paid"),
    ("2025-03-01", None, {"note": "说明" * 3000}, "note", ""),
])
def test_an_early_removal_refused_is_422_naming_the_field(
        client: FlaskClient, world: World, applied_on: str, conditions: dict[str, Any] | None,
        more: dict[str, Any], field: str, message: str) -> None:
    flagged = post(client, LISTINGS, serious(world.uscc["鹏城"]), world.secret["深圳"]).get_json()
    response = early_removal(client, flagged["id"], world.secret["深圳"], applied_on, conditions, **more)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["field"] == field and message in error["message"]
    assert public_serious(client) == [world.uscc["鹏城"]]


def test_a_rule_listing_with_a_later_heavier_penalty_is_refused_early_removal(
        client: FlaskClient, world: World, app: Flask) -> None:
    from blacklist.rules import apply_list_rules
    from credit.facts import apply_facts
    from tests.factories import penalty

    with app.app_context():
        session = store.session()
        entity_id = ensure_entities(session, [EntityIds(uscc=world.uscc["鹏城"])])[0].entity_id
        assert entity_id is not None
        food = {"violation_type": "生产经营超过保质期的食品", "basis": "《中华人民共和国食品安全法》第一百二十四条",
                "penalty_type": "吊销许可证", "content": "吊销食品经营许可证", "decision_no": "深市监食罚〔2024〕9号"}
        later = {"violation_type": "拒不执行停业整顿决定", "penalty_type": "责令停产停业", "content": "责令停产停业",
                 "decision_no": "深市监罚〔2024〕31号"}
        apply_facts(session, [penalty(entity_id, "F9", decided_on=date(2024, 3, 1), body=food),
                              penalty(entity_id, "F31", decided_on=date(2024, 10, 8), body=later)])
        session.commit()
        apply_list_rules(session, date(2024, 3, 1), entity_ids=[entity_id])
        entry_id = session.scalars(select(ListEntry.id).where(ListEntry.list_id == "serious-illegal")).one()
    assert public_serious(client) == [world.uscc["鹏城"]]
    response = early_removal(client, entry_id, world.secret["深圳"])
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "refused"
    assert "深市监罚〔2024〕31号" in response.get_json()["error"]["message"]
    assert public_serious(client) == [world.uscc["鹏城"]]
