"""``/lists`` and ``/lists/<id>``: the catalogue, one list's entries, filters, pages and downloads."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient

from blacklist.catalogue import default_catalogue
from tests.pages import data
from tests.pages.html import parse


def test_catalogue_names_every_list_with_its_rules_and_size(client: FlaskClient, seeded: data.Seeded) -> None:
    response = client.get("/lists")
    assert response.status_code == 200
    page = parse(response.data)
    for spec in default_catalogue().lists:
        assert spec.name in page.text and spec.owner in page.text and f"/lists/{spec.id}" in page.hrefs()
    assert "经营异常名录 失信惩戒 在列记录 2 条" in page.text
    assert "纳税信用A级纳税人名单 守信激励 在列记录 1 条" in page.text


@pytest.mark.parametrize("args, names", [
    ({}, {data.MAIN_NAME, data.SERIOUS_NAME}),
    ({"status": "removed"}, {data.MAIN_NAME}),
    ({"status": "all"}, {data.MAIN_NAME, data.SERIOUS_NAME}),
    ({"status": "all", "region": "4403"}, {data.MAIN_NAME, data.SERIOUS_NAME}),
    ({"region": "11"}, set()),
])
def test_list_entries_with_filters(client: FlaskClient, seeded: data.Seeded, args: dict[str, str],
                                   names: set[str]) -> None:
    response = client.get("/lists/abnormal", query_string=args)
    assert response.status_code == 200
    page = parse(response.data)
    shown = {n for n in (data.MAIN_NAME, data.SERIOUS_NAME) if n in page.text}
    assert shown == names
    if not names:
        assert "没有符合条件的记录" in page.text
    if args.get("status") == "removed":
        assert "补报未报年份的年度报告并公示" in page.text and "2023-09-20" in page.text


def test_list_pages_and_downloads_keep_the_filters(client: FlaskClient, seeded: data.Seeded) -> None:
    page = parse(client.get("/lists/abnormal", query_string={"status": "all", "region": "44", "per_page": "2"}).data)
    assert "共 3 条，当前第 1–2 条" in page.text
    [next_url] = page.hrefs("next")
    assert parse_qs(urlsplit(next_url).query) == {"status": ["all"], "region": ["44"], "per_page": ["2"], "page": ["2"]}
    second = parse(client.get(next_url).data)
    assert "当前第 3–3 条" in second.text and data.MAIN_NAME in second.text
    downloads = [h for h in page.hrefs() if h.startswith("/api/v1/lists/abnormal?")]
    assert {parse_qs(urlsplit(h).query)["format"][0] for h in downloads} == {"csv", "xlsx"}
    csv_url = next(h for h in downloads if "format=csv" in h and "gb18030" not in h)
    csv_args = parse_qs(urlsplit(csv_url).query)
    assert csv_args["status"] == ["all"] and csv_args["region"] == ["44"]
    export = client.get(csv_url)
    assert export.status_code == 200 and export.headers["X-Total-Count"] == "3"
    assert data.MAIN_NAME in export.data.decode("utf-8-sig")


def test_bad_filters_are_named_on_the_list_page(client: FlaskClient, seeded: data.Seeded) -> None:
    response = client.get("/lists/abnormal", query_string={"region": "4x"})
    assert response.status_code == 400 and response.mimetype == "text/html"
    text = parse(response.data).text
    assert "行政区划参数无效" in text and "经营异常名录" in text
    response = client.get("/lists/abnormal", query_string={"status": "withdrawn"})
    assert response.status_code == 400 and "状态参数无效" in parse(response.data).text


def test_unknown_list_is_a_chinese_404_page(client: FlaskClient) -> None:
    response = client.get("/lists/no-such-list")
    assert response.status_code == 404 and "未知名单" in parse(response.data).text


def test_hostile_entries_are_escaped(client: FlaskClient, seeded: data.Seeded) -> None:
    body = client.get("/lists/court-defaulters").get_data(as_text=True)
    assert "<script" not in body
    text = parse(body).text
    assert data.SCRIPT_NAME in text and data.HOSTILE_REASON in text
