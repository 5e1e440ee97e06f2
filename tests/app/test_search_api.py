"""``GET /api/v1/search`` and ``gongxin index rebuild | sync | check`` through the real app and CLI."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient

from app import store
from tests.factories import make_entity
from tests.search_index import data


@pytest.fixture
def known(app: Flask, cli: Callable[..., Result]) -> dict[int, data.Known]:
    """The search data set in the app's store, indexed with the CLI."""
    with app.app_context():
        entities = data.build(store.session())
    result = cli("index", "rebuild")
    assert result.exit_code == 0, result.output
    assert "10 documents written" in result.output
    return entities


def test_search_returns_ranked_items_with_the_total_and_highlights(client: FlaskClient, known: dict) -> None:
    body = client.get("/api/v1/search", query_string={"q": "華為", "per_page": 2}).get_json()
    assert body["total"] == 4 and body["total_exact"] is True and body["page"] == 1 and body["per_page"] == 2
    first = body["items"][0]
    assert first == {"uscc": known[3].uscc, "name": "华为", "status": "注销", "region": "440300",
                     "industry": None, "flags": [], "highlights": [[0, 2]]}
    assert len(body["items"]) == 2


def test_a_total_counted_only_in_part_is_marked_as_a_lower_bound(client: FlaskClient, known: dict,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("search_index.query.COUNT_TO", 2)
    monkeypatch.setattr("search_index.query.PAGES_AHEAD", 1)
    body = client.get("/api/v1/search", query_string={"q": "有限公司", "per_page": 1}).get_json()
    everything = client.get("/api/v1/search", query_string={"q": "有限公司", "per_page": 100}).get_json()
    assert everything["total_exact"] is True and everything["total"] > 2
    assert (body["total"], body["total_exact"]) in ((2, False), (everything["total"], True))  # Whoosh: 2, tantivy: all
    assert body["items"][0]["name"] in {item["name"] for item in everything["items"]}


def test_search_by_identifier_and_with_filters(client: FlaskClient, known: dict) -> None:
    body = client.get(f"/api/v1/search?q={known[5].uscc}").get_json()
    assert [i["name"] for i in body["items"]] == ["重庆银行股份有限公司"]
    body = client.get("/api/v1/search", query_string={"q": "有限公司", "region": "31"}).get_json()
    assert [i["name"] for i in body["items"]] == ["上海华为技术有限公司"]
    body = client.get("/api/v1/search", query_string={"q": "有限公司", "flag": "abnormal"}).get_json()
    assert body == {**body, "total": 0, "items": []}


@pytest.mark.parametrize("args, says", [
    ({"q": ""}, "请输入"), ({"q": "华"}, "两个字"), ({"q": "华为", "per_page": "1000"}, "per_page"),
    ({"q": "华为", "page": "x"}, "page"), ({"q": "华为", "region": "4x"}, "行政区划"),
])
def test_bad_queries_get_400_with_the_reason(client: FlaskClient, known: dict, args: dict, says: str) -> None:
    response = client.get("/api/v1/search", query_string=args)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_query" and says in error["message"]


def test_search_without_an_index_is_503_saying_so(client: FlaskClient) -> None:
    response = client.get("/api/v1/search?q=华为")
    assert response.status_code == 503
    assert "gongxin index rebuild" in response.get_json()["error"]["message"]


def test_cli_sync_and_check(app: Flask, cli: Callable[..., Result], client: FlaskClient, known: dict) -> None:
    assert cli("index", "check", "--seed", "1").exit_code == 0
    with app.app_context():
        make_entity(store.session(), 77, name="杭州阿里巴巴网络技术有限公司")
        store.session().commit()
    stale = cli("index", "check", "--seed", "1")
    assert stale.exit_code == 1 and "DIFFERENT" in stale.output and "gongxin index sync" in stale.output
    synced = cli("index", "sync")
    assert synced.exit_code == 0 and "1 documents written" in synced.output
    assert cli("index", "check", "--seed", "1").output.strip().endswith("OK")
    assert client.get("/api/v1/search?q=阿里巴巴").get_json()["total"] == 1


def test_cli_without_an_index_says_how_to_build_it(cli: Callable[..., Result]) -> None:
    result = cli("index", "check")
    assert result.exit_code == 1 and "gongxin index rebuild" in result.output


def test_index_help_explains_the_commands(cli: Callable[..., Result]) -> None:
    result = cli("index", "--help")
    assert all(word in result.output for word in ("rebuild", "sync", "check", "GONGXIN_INDEX_DIR"))


def test_healthz_shows_the_index_and_how_far_behind_it_is(app: Flask, client: FlaskClient, known: dict) -> None:
    index = client.get("/healthz").get_json()["index"]
    assert index["present"] and index["documents"] == 10 and index["behind"] == 0
    with app.app_context():
        make_entity(store.session(), 78, name="南京苏宁易购集团股份有限公司")
        store.session().commit()
    assert client.get("/healthz").get_json()["index"]["behind"] > 0
