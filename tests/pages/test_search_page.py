"""``/search`` through the Flask client: highlights, escaping, filters, pagination and messages."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient

from tests.pages import data
from tests.pages.html import parse


def test_results_highlight_the_match_and_link_to_the_profile(client: FlaskClient, seeded: data.Seeded) -> None:
    response = client.get("/search", query_string={"q": "腾云"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    assert "深圳市<mark>腾云</mark>数据科技有限公司" in body
    page = parse(body)
    assert f"/entities/{seeded.main}" in page.hrefs()
    assert "共找到 1 家企业" in page.text
    assert f"统一社会信用代码 {seeded.main}" in page.text and "存续" in page.text and "广东省 440300" in page.text
    assert _badges(body) == {"经营异常名录", "纳税信用A级纳税人名单"}


def _badges(body: str) -> set[str]:
    """The names on the badge links of a page."""
    return set(re.findall(r'<a class="badge [a-z]*" href="/lists/[a-z-]+">([^<]+)</a>', body))


def _hits(body: bytes) -> list[tuple[str, str]]:
    """(link, name as read) of each result line."""
    found = re.findall(r'<li class="hit">\s*<h2><a href="([^"]+)">(.*?)</a></h2>', body.decode())
    return [(href, html.unescape(re.sub(r"<[^>]+>", "", name))) for href, name in found]


@pytest.mark.parametrize("query, name, mark", [
    ("测试贸易", data.SCRIPT_NAME, "测试贸易"),
    ("恶意名称", data.IMG_NAME, "恶意名称"),
])
def test_hostile_names_are_escaped_around_the_highlight(client: FlaskClient, seeded: data.Seeded,
                                                        query: str, name: str, mark: str) -> None:
    body = client.get("/search", query_string={"q": query}).get_data(as_text=True)
    before, after = name.split(mark)
    escaped = before.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert f"{escaped}<mark>{mark}</mark>{after}" in body
    assert "<script" not in body and "<img" not in body
    assert name in parse(body).text  # the reader sees the name as it was sent, as text


def test_a_total_counted_only_in_part_reads_as_a_lower_bound(client: FlaskClient, seeded: data.Seeded,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Whoosh (the default engine) stops counting past the pages the pager needs: "N 家以上"."""
    monkeypatch.setattr("search_index.query.COUNT_TO", 5)
    monkeypatch.setattr("search_index.query.PAGES_AHEAD", 1)
    args = {"q": "科技", "region": "44", "status": "active"}
    first = parse(client.get("/search", query_string=args).data)
    assert "共找到 20 家以上企业，当前第 1–20 家" in first.text
    [next_url] = first.hrefs("next")
    second = parse(client.get(next_url).data)  # counting reaches further for a later page
    assert "共找到 26 家企业，当前第 21–26 家" in second.text and not second.hrefs("next")


def test_pagination_keeps_the_query_and_every_filter(client: FlaskClient, seeded: data.Seeded) -> None:
    args = {"q": "科技", "region": "44", "status": "active"}
    first_body = client.get("/search", query_string=args).data
    first = parse(first_body)
    assert "共找到 26 家企业，当前第 1–20 家" in first.text  # 24 + 腾云 + the <img> company; Beijing left out
    [next_url] = first.hrefs("next")
    assert parse_qs(urlsplit(next_url).query) == {"q": ["科技"], "region": ["44"], "status": ["active"], "page": ["2"]}
    assert all(parse_qs(urlsplit(h).query).get("region") == ["44"] for h in first.hrefs() if "page=" in h)
    second_body = client.get(next_url).data
    second = parse(second_body)
    assert "当前第 21–26 家" in second.text and not second.hrefs("next")
    [prev_url] = second.hrefs("prev")
    assert parse_qs(urlsplit(prev_url).query) == {**parse_qs(urlsplit(next_url).query), "page": ["1"]}
    hits = _hits(first_body) + _hits(second_body)
    assert len(hits) == len(set(hits)) == 26
    names = {name for _, name in hits}
    assert data.IMG_NAME in names and data.MAIN_NAME in names and not [n for n in names if n.startswith("北京")]


def test_filters_by_list_and_refills_the_form(client: FlaskClient, seeded: data.Seeded) -> None:
    body = client.get("/search", query_string={"q": "有限公司", "flag": "serious-illegal", "region": "4403"}).data
    page = parse(body)
    assert "共找到 1 家企业" in page.text and data.SERIOUS_NAME in page.text
    assert any(o.get("value") == "serious-illegal" and "selected" in o for o in page.tags("option"))
    assert any(i.get("name") == "region" and i.get("value") == "4403" for i in page.tags("input"))


@pytest.mark.parametrize("args, status, says", [
    ({}, 200, "请输入企业名称、统一社会信用代码或注册号"),
    ({"q": "   "}, 200, "请输入企业名称、统一社会信用代码或注册号"),
    ({"q": "华"}, 400, "请至少输入两个字"),
    ({"q": "有限公司" * 20}, 400, "查询过长"),
    ({"q": "腾云", "region": "4x"}, 400, "地区应为 2、4 或 6 位行政区划代码"),
    ({"q": "腾云", "page": "0"}, 400, "参数 page 无效"),
    ({"q": "腾云", "per_page": "1000"}, 400, "参数 per_page 无效"),
    ({"q": "火星移民局"}, 200, "没有找到与“火星移民局”相关的企业"),
])
def test_queries_without_results_say_why_on_the_search_page(client: FlaskClient, seeded: data.Seeded,
                                                            args: dict[str, str], status: int, says: str) -> None:
    response = client.get("/search", query_string=args)
    assert response.status_code == status and response.mimetype == "text/html"
    page = parse(response.data)
    assert says in page.text
    assert any(f.get("action") == "/search" for f in page.tags("form"))  # the search page, not an error page
    assert "页面不存在" not in page.text and not page.tags("ol")


def test_sound_alike_results_are_marked_approximate(client: FlaskClient, seeded: data.Seeded) -> None:
    page = parse(client.get("/search", query_string={"q": "腾运"}).data)
    assert "读音相近" in page.text and data.MAIN_NAME in page.text


def test_one_character_words_beside_longer_ones_are_named(client: FlaskClient, seeded: data.Seeded) -> None:
    page = parse(client.get("/search", query_string={"q": "腾云 市"}).data)
    assert "已忽略单字：市" in page.text and data.MAIN_NAME in page.text


def test_entities_without_a_uscc_link_by_registration_number(client: FlaskClient, seeded: data.Seeded) -> None:
    page = parse(client.get("/search", query_string={"q": "老字号"}).data)
    assert f"/entities/{seeded.legacy_reg_no}" in page.hrefs() and f"注册号 {seeded.legacy_reg_no}" in page.text


def test_search_without_an_index_is_a_chinese_503_page(client: FlaskClient) -> None:
    response = client.get("/search", query_string={"q": "华为"})
    assert response.status_code == 503 and response.mimetype == "text/html"
    assert "搜索暂不可用" in parse(response.data).text
