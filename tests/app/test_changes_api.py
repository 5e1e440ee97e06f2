"""``GET /api/v1/changes``: the change log in order, paged by ``after``, showing only what the public may see."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app import store
from blacklist.actions import flag_entity, remove_listing, withdraw_record
from blacklist.tokens import issue_token
from credit.entities import EntityIds, ensure_entities
from credit.facts import apply_facts
from credit.listings import ListEntryIn, apply_list_entries
from credit.models import ChangeLog, Entity
from tests.app.test_regulator_api import entity_in
from tests.factories import new_uscc, penalty

STAR, SEA = "深圳市星河数据科技有限公司", "深圳市海纳贸易有限公司"
LEGACY_REG_NO = "440301000000018"
UNREACHABLE = "通过登记的住所或者经营场所无法联系"
NO_REPORT = "未依照《企业信息公示暂行条例》第八条规定的期限公示年度报告"
WRONG = "未依照规定期限公示年度报告（误列）"
ITEM_KEYS = {"seq", "at", "uscc", "reg_no", "org_code", "kind", "op", "fields", "facts", "lists"}


@dataclass(frozen=True)
class Log:
    """The two companies' USCCs and how many entries the log holds."""

    star: str
    sea: str
    total: int


@pytest.fixture
def log(app: Flask) -> Log:
    """Two companies, a legacy entity, public and hidden penalties, and public, removed and withdrawn listings."""
    today = date.today()
    with app.app_context():
        session = store.session()
        star, sea = entity_in(session, 61, STAR, "440300"), entity_in(session, 62, SEA, "440300")
        star_id = session.scalars(select(Entity.id).where(Entity.uscc == star)).one()
        ensure_entities(session, [EntityIds(reg_no=LEGACY_REG_NO)])
        apply_facts(session, [penalty(star_id, "P-open", publicity_until=today + timedelta(days=30)),
                              penalty(star_id, "P-ended", publicity_until=today - timedelta(days=1))])
        apply_facts(session, [penalty(star_id, "P-gone")])
        apply_facts(session, [penalty(star_id, "P-gone", change="d")])
        apply_list_entries(session, [ListEntryIn(star_id, "abnormal", "samr-abnormal", "AB-1",
                                                 listed_on=date(2025, 5, 6), reason=UNREACHABLE, reason_code="4")])
        token = issue_token(session, "sz-samr", "深圳市市场监督管理局", ["abnormal"], "4403", "测试")[0]
        listed = flag_entity(session, token, sea, "abnormal", NO_REPORT, date(2025, 7, 10), reason_code="1", year=2024)
        remove_listing(session, token, listed.id, "已补报2024年度报告并公示", date(2025, 8, 1))
        wrong = flag_entity(session, token, star, "abnormal", WRONG, date(2025, 7, 11), reason_code="1", year=2024)
        withdraw_record(session, token, wrong.id, "列入依据有误，予以撤回")
        session.commit()
        total = session.scalar(select(func.count()).select_from(ChangeLog))
    return Log(star, sea, int(total or 0))


def feed(client: FlaskClient, query: str = "") -> dict[str, Any]:
    """The feed's JSON body for this query string (200 expected)."""
    response = client.get(f"/api/v1/changes{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()  # type: ignore[no-any-return]


def test_every_entry_appears_in_order_with_its_entity(client: FlaskClient, log: Log) -> None:
    body = feed(client, "?limit=1000")
    items = body["items"]
    assert [i["seq"] for i in items] == list(range(1, log.total + 1))
    assert body["next_after"] == body["last_seq"] == log.total
    assert all(set(i) == ITEM_KEYS for i in items)
    assert [(i["kind"], i["op"]) for i in items[:5]] == [("entity", "create"), ("entity", "update")] * 2 + [
        ("entity", "create")]
    assert items[0]["uscc"] == log.star and items[2]["uscc"] == log.sea
    assert (items[4]["uscc"], items[4]["reg_no"]) == (None, LEGACY_REG_NO)
    assert items[1]["fields"] == ["entity_type", "name", "status"]
    assert items[0]["at"] <= items[-1]["at"] and all(i["at"].endswith("+00:00") for i in items)  # RFC 3339


def test_entries_name_what_changed_but_never_internal_fields_or_values(client: FlaskClient, log: Log) -> None:
    text = json.dumps(feed(client, "?limit=1000"), ensure_ascii=False)
    for hidden in (STAR, SEA, "有限责任公司", "存续", "manual:", "regulator:", "entry", "entity_id", "detail", '"id"'):
        assert hidden not in text


def test_only_records_the_public_sees_are_described(client: FlaskClient, log: Log) -> None:
    items = feed(client, "?limit=1000")["items"]
    facts = [i for i in items if i["kind"] == "fact"]
    assert [f["facts"] for f in facts] == [[{"op": "insert", "kind": "penalty", "source": "samr-penalty",
                                             "key": "P-open"}]]  # P-ended, told in the same entry, is not
    lists = [(i["uscc"], i["lists"]) for i in items if i["kind"] == "list"]
    assert lists == [(log.star, [{"op": "insert", "list": "abnormal"}]),
                     (log.sea, [{"op": "insert", "list": "abnormal"}]),
                     (log.sea, [{"op": "remove", "list": "abnormal"}])]
    text = json.dumps(items, ensure_ascii=False)
    assert "P-ended" not in text and "P-gone" not in text and WRONG not in text


def test_changes_to_hidden_records_are_withheld_but_still_name_the_entity(client: FlaskClient, log: Log) -> None:
    withheld = [i for i in feed(client, "?limit=1000")["items"] if i["kind"] == "withheld"]
    # P-gone inserted then withdrawn; the wrong listing flagged then withdrawn: four entries, nothing of what.
    assert len(withheld) == 4
    assert all(i["uscc"] == log.star and i["op"] == "change" for i in withheld)
    assert all(i["fields"] == i["facts"] == i["lists"] == [] for i in withheld)


def test_pages_follow_on_from_next_after(client: FlaskClient, log: Log) -> None:
    seen: list[int] = []
    after = 0
    while True:
        body = feed(client, f"?after={after}&limit=4")
        assert len(body["items"]) <= 4 and body["last_seq"] == log.total
        seen += [i["seq"] for i in body["items"]]
        if body["next_after"] == after:
            break
        after = body["next_after"]
    assert seen == list(range(1, log.total + 1))
    assert feed(client, f"?after={log.total + 50}") == {"items": [], "next_after": log.total + 50,
                                                         "last_seq": log.total}
    assert [i["seq"] for i in feed(client, "?since=10&limit=2")["items"]] == [11, 12]  # DESIGN.md's name


def test_the_default_limit_is_100_and_1000_is_allowed(client: FlaskClient, app: Flask) -> None:
    with app.app_context():
        ensure_entities(store.session(), [EntityIds(uscc=new_uscc(5000 + n)) for n in range(120)])
        store.session().commit()
    body = feed(client)
    assert len(body["items"]) == 100 and body["next_after"] == 100 and body["last_seq"] == 120
    assert len(feed(client, "?limit=1000")["items"]) == 120


@pytest.mark.parametrize("query, argument", [
    ("?after=-1", "after"), ("?after=abc", "after"), ("?after=99999999999999999999", "after"),
    ("?since=1.5", "since"), ("?limit=0", "limit"), ("?limit=1001", "limit"), ("?limit=十", "limit"),
])
def test_a_bad_argument_is_400_naming_it(client: FlaskClient, query: str, argument: str) -> None:
    response = client.get(f"/api/v1/changes{query}")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_argument" and error["message"].startswith(f"参数 {argument} 无效：")


def test_an_empty_log(client: FlaskClient) -> None:
    assert feed(client) == {"items": [], "next_after": 0, "last_seq": 0}
