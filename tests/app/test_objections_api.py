"""Objections through the real app and store: the public submits and reads, the regulator lists and answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from app import store
from blacklist.actions import flag_entity
from blacklist.tokens import issue_token
from config import Settings
from credit.facts import FactIn, apply_facts
from credit.models import AuditEvent, Entity, Fact, Objection
from tests.app.test_regulator_api import entity_in
from tests.factories import new_uscc

SZ_NAME = "深圳市市场监督管理局"
NO_REPORT = "未依照《企业信息公示暂行条例》第八条规定的期限公示年度报告"
PLEA = "我司已于2025年6月20日补报2024年度报告并公示，请予核实并移出经营异常名录。"
PHONE = "0755-86001234 王女士"
REFUSAL = "经核实，该企业于列入之后方才补报，列入依据充分；补报后可另行申请移出。"
REGULATOR = "/api/v1/regulator/objections"


@dataclass(frozen=True)
class World:
    """USCCs, record ids and token secrets, by short name."""

    uscc: dict[str, str]
    record: dict[str, int]
    secret: dict[str, str]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The test settings with the objection rate limit off: these tests submit many (test_ratelimit tests it)."""
    return settings.with_overrides(objection_rate_limit="off")


@pytest.fixture
def world(app: Flask) -> World:
    """星河 (Shenzhen) with a listing flagged by the city bureau and a licence; 申江 (Shanghai) with a licence."""
    with app.app_context():
        session = store.session()
        uscc = {"星河": entity_in(session, 1, "深圳市南山区星河电子有限公司", "440305"),
                "申江": entity_in(session, 3, "上海市黄浦区申江商贸有限公司", "310101")}
        sz, sz_secret = issue_token(session, "sz-samr", SZ_NAME, ["abnormal"], "4403", "企业监管处")
        sh_secret = issue_token(session, "sh-samr", "上海市市场监督管理局", ["abnormal"], "31", "上海")[1]
        entry = flag_entity(session, sz, uscc["星河"], "abnormal", NO_REPORT, date(2025, 7, 10), reason_code="1",
                            year=2024)
        records = {"listing": entry.id}
        for name, key in (("星河", "XK-0001"), ("申江", "XK-0002")):
            entity_id = session.scalars(select(Entity.id).where(Entity.uscc == uscc[name])).one()
            apply_facts(session, [FactIn(entity_id, "credit-licence", key, "licence", {"licence_name": "食品经营许可证"},
                                         authority=SZ_NAME, decided_on=date(2025, 3, 1))])
            records[f"{name}许可"] = session.scalars(select(Fact.id).where(Fact.source_key == key)).one()
        session.commit()
    return World(uscc, records, {"深圳": sz_secret, "上海": sh_secret})


def objections_path(uscc: str) -> str:
    """The public objections of an entity."""
    return f"/api/v1/entities/{uscc}/objections"


def plea(world: World, target: str = "listing", **more: Any) -> dict[str, Any]:
    """A valid objection body against one of 星河's records."""
    kind = "list_entry" if target == "listing" else "fact"
    return {"target_type": kind, "target_id": world.record[target], "text": PLEA, "contact": PHONE, **more}


def as_regulator(client: FlaskClient, method: str, path: str, secret: str | None, body: Any = None,
                 **headers: str) -> TestResponse:
    """A regulator request with this token (none when ``secret`` is None)."""
    if secret is not None:
        headers["Authorization"] = f"Bearer {secret}"
    return client.open(path, method=method, json=body, headers=headers)


def working_days_after(day: date, count: int) -> date:
    """``count`` Monday–Friday days after ``day``, by numpy's business-day arithmetic (not ours)."""
    due = np.busday_offset(np.datetime64(day), count, roll="backward").item()
    assert isinstance(due, date)
    return due


def test_an_objection_is_201_without_the_contact(client: FlaskClient, world: World, app: Flask) -> None:
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    response = client.post(objections_path(world.uscc["星河"]), json=plea(world))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert "contact" not in body and PHONE not in response.get_data(as_text=True)
    assert {k: body[k] for k in ("target_type", "target_id", "status", "text", "answered_at", "answer", "overdue")} == {
        "target_type": "list_entry", "target_id": world.record["listing"], "status": "open", "text": PLEA,
        "answered_at": None, "answer": None, "overdue": False}
    assert body["answer_due"] == working_days_after(today, 5).isoformat()
    assert body["check_due"] == working_days_after(today, 20).isoformat()
    assert response.headers["Location"].endswith(objections_path(world.uscc["星河"]))
    with app.app_context():
        stored = store.session().get(Objection, body["id"])
        assert stored is not None and (stored.contact, stored.agency_id) == (PHONE, "sz-samr")


def test_the_public_list_shows_progress_but_neither_text_nor_contact(client: FlaskClient, world: World) -> None:
    path = objections_path(world.uscc["星河"])
    first = client.post(path, json=plea(world)).get_json()
    second = client.post(path, json=plea(world, "星河许可", contact=None)).get_json()
    listed = client.get(path)
    assert listed.status_code == 200
    body = listed.get_json()
    assert body["total"] == 2 and [item["id"] for item in body["items"]] == [second["id"], first["id"]]
    assert all(set(item) == {"id", "target_type", "target_id", "status", "submitted_at", "answer_due", "check_due",
                             "overdue", "answered_at", "answer"} for item in body["items"])
    assert PHONE not in listed.get_data(as_text=True) and PLEA not in listed.get_data(as_text=True)
    assert client.get(objections_path(world.uscc["申江"])).get_json() == {"total": 0, "items": []}


@pytest.mark.parametrize("change, field", [
    ({"target_type": None}, "target_type"),
    ({"target_type": "penalty"}, "target_type"),
    ({"target_id": "12"}, "target_id"),
    ({"target_id": 0}, "target_id"),
    ({"target_id": 2**70}, "target_id"),
    ({"text": ""}, "text"),
    ({"text": "异" * 2001}, "text"),
    ({"text": "  \n "}, "text"),
    ({"text": "含\x00空字符"}, "text"),
    ({"contact": "电" * 201}, "contact"),
    ({"email": "a@example.cn"}, "email"),
    ({"target_id": "{申江许可}"}, "target_id"),  # a record of another entity
    ({"target_id": 987654}, "target_id"),  # no such record
])
def test_a_bad_objection_is_422_naming_the_field(client: FlaskClient, world: World, app: Flask,
                                                 change: dict[str, Any], field: str) -> None:
    body = plea(world) | change
    if body["target_id"] == "{申江许可}":
        body |= {"target_type": "fact", "target_id": world.record["申江许可"]}
    body = {k: v for k, v in body.items() if v is not None or k == "contact"}
    response = client.post(objections_path(world.uscc["星河"]), json=body)
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["field"] == field
    assert set(response.get_json()["error"]) == {"code", "message", "field"}
    with app.app_context():
        assert store.session().scalars(select(Objection)).first() is None


def test_unknown_malformed_and_non_json_are_404_and_400(client: FlaskClient, world: World) -> None:
    unknown = new_uscc(77, "440305")
    for response in (client.post(objections_path(unknown), json=plea(world)), client.get(objections_path(unknown))):
        assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
    assert client.get(objections_path("91440300ABC")).status_code == 400
    not_json = client.post(objections_path(world.uscc["星河"]), data="{oops", content_type="application/json")
    assert not_json.status_code == 400 and "error" in not_json.get_json()


def test_the_regulator_lists_what_its_token_may_answer(client: FlaskClient, world: World) -> None:
    submitted = client.post(objections_path(world.uscc["星河"]), json=plea(world)).get_json()
    mine = as_regulator(client, "GET", f"{REGULATOR}?status=open", world.secret["深圳"])
    assert mine.status_code == 200
    (item,) = mine.get_json()["items"]
    assert (item["id"], item["uscc"], item["name"], item["contact"], item["text"], item["status"]) == (
        submitted["id"], world.uscc["星河"], "深圳市南山区星河电子有限公司", PHONE, PLEA, "open")
    assert as_regulator(client, "GET", REGULATOR, world.secret["上海"]).get_json() == {"total": 0, "items": []}
    assert as_regulator(client, "GET", REGULATOR, None).status_code == 401
    bad = as_regulator(client, "GET", f"{REGULATOR}?status=closed", world.secret["深圳"])
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_argument"


def test_the_owner_answers_200_and_the_public_sees_it(client: FlaskClient, world: World, app: Flask) -> None:
    submitted = client.post(objections_path(world.uscc["星河"]), json=plea(world)).get_json()
    path = f"{REGULATOR}/{submitted['id']}/answer"
    response = as_regulator(client, "POST", path, world.secret["深圳"], {"decision": "refused", "answer": REFUSAL},
                            **{"X-Request-Id": "sz-req-0042"})
    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["status"], response.get_json()["answer"]) == ("refused", REFUSAL)
    assert response.get_json()["answered_at"] is not None and response.headers["X-Request-Id"] == "sz-req-0042"
    (public,) = client.get(objections_path(world.uscc["星河"])).get_json()["items"]
    assert (public["status"], public["answer"], public["check_due"]) == ("refused", REFUSAL, None)
    with app.app_context():
        event = store.session().scalars(select(AuditEvent).where(AuditEvent.action == "objection.answer")).one()
        assert (event.target_id, event.request_id, event.agency_id) == (str(submitted["id"]), "sz-req-0042", "sz-samr")
    again = as_regulator(client, "POST", path, world.secret["深圳"], {"decision": "accepted"})
    assert again.status_code == 422 and again.get_json()["error"]["code"] == "refused"


def test_an_accepted_objection_leaves_the_listing_public(client: FlaskClient, world: World) -> None:
    submitted = client.post(objections_path(world.uscc["星河"]), json=plea(world)).get_json()
    response = as_regulator(client, "POST", f"{REGULATOR}/{submitted['id']}/answer", world.secret["深圳"],
                            {"decision": "accepted", "answer": "已受理，将于20个工作日内核实。"})
    assert response.status_code == 200 and response.get_json()["status"] == "accepted"
    profile = client.get(f"/api/v1/entities/{world.uscc['星河']}").get_json()
    assert [(e["list_id"], e["status"]) for e in profile["lists"]] == [("abnormal", "active")]


def test_answers_out_of_scope_unauthenticated_unknown_or_incomplete_are_refused(
        client: FlaskClient, world: World, app: Flask) -> None:
    submitted = client.post(objections_path(world.uscc["星河"]), json=plea(world)).get_json()
    path = f"{REGULATOR}/{submitted['id']}/answer"
    outside = as_regulator(client, "POST", path, world.secret["上海"], {"decision": "refused", "answer": REFUSAL})
    assert outside.status_code == 403 and outside.get_json()["error"]["code"] == "out_of_scope"
    assert as_regulator(client, "POST", path, None, {"decision": "refused", "answer": REFUSAL}).status_code == 401
    missing = as_regulator(client, "POST", f"{REGULATOR}/4242/answer", world.secret["深圳"], {"decision": "accepted"})
    assert missing.status_code == 404
    no_reason = as_regulator(client, "POST", path, world.secret["深圳"], {"decision": "refused"})
    assert no_reason.status_code == 422 and no_reason.get_json()["error"]["field"] == "answer"
    bad = as_regulator(client, "POST", path, world.secret["深圳"], {"decision": "驳回", "answer": REFUSAL})
    assert bad.status_code == 422 and bad.get_json()["error"]["field"] == "decision"
    with app.app_context():
        stored = store.session().get(Objection, submitted["id"])
        assert stored is not None and (stored.status, stored.answer) == ("open", None)
