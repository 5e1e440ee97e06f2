"""The pages' plain helpers: highlighted names, page links, dates, amounts and identifier problems."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from app.pages.formatting import (
    age, beijing, file_name, highlighted, identifier_problem, region, run_error, validity, wan,
)
from app.pages.paging import make_pager
from credit.identifiers import validate_identifier


@pytest.mark.parametrize("name, spans, markup", [
    ("深圳市腾云数据科技有限公司", [(3, 5)], "深圳市<mark>腾云</mark>数据科技有限公司"),
    ("腾云腾云", [(2, 4), (0, 2)], "<mark>腾云</mark><mark>腾云</mark>"),
    ("<b>腾云</b>", [(3, 5)], "&lt;b&gt;<mark>腾云</mark>&lt;/b&gt;"),
    ("A&B腾云", [(3, 5), (4, 9)], "A&amp;B<mark>腾云</mark>"),  # overlapping and out of range: left plain
    ("<script>", [(0, 8)], "<mark>&lt;script&gt;</mark>"),
    ("华为", [(1, 1)], "华为"),
])
def test_highlighted_escapes_every_piece(name: str, spans: list[tuple[int, int]], markup: str) -> None:
    assert str(highlighted(name, spans)) == markup


def test_pager_shows_the_ends_and_a_window_around_the_page() -> None:
    pager = make_pager(total=200, page=6, per_page=10, url_for_page=lambda n: f"?page={n}")
    assert [link.label for link in pager.links] == ["1", "…", "4", "5", "6", "7", "8", "…", "20"]
    assert [link.url for link in pager.links if link.current] == [None]
    assert (pager.prev_url, pager.next_url, pager.first_item, pager.last_item) == ("?page=5", "?page=7", 51, 60)


def test_pager_edges() -> None:
    one = make_pager(total=5, page=1, per_page=20, url_for_page=str)
    assert one.links == () and one.prev_url is None and one.next_url is None
    empty = make_pager(total=0, page=1, per_page=20, url_for_page=str)
    assert (empty.first_item, empty.last_item) == (0, 0)
    capped = make_pager(total=10**6, page=500, per_page=20, url_for_page=str, max_pages=500)
    assert capped.pages == 500 and capped.next_url is None and capped.links[-1].label == "500"
    beyond = make_pager(total=30, page=9, per_page=20, url_for_page=str)
    assert beyond.prev_url == "2" and beyond.next_url is None  # a page past the end leads back to the last


def test_dates_times_and_amounts() -> None:
    assert validity(date(2024, 3, 5), date(2099, 12, 31)) == "2024-03-05 至 长期"
    assert validity(None, date(2030, 1, 1)) == "— 至 2030-01-01" and validity(None, None) == ""
    assert beijing(datetime(2026, 11, 28, 20, 30)) == "2026-11-29 04:30"
    assert age(datetime(2026, 11, 25, 0, 0), datetime(2026, 11, 28, 1, 0)) == "3 天前"
    assert age(datetime(2026, 11, 28, 0, 0), datetime(2026, 11, 28, 0, 0, 30)) == "刚刚"
    assert wan("1.50") == "1.5 万元" and wan("100") == "100 万元" and wan("约一万") == "约一万" and wan(None) == ""
    assert region("440300") == "广东省 440300" and region("990000") == "990000" and region(None) == ""


def test_identifier_problems_in_chinese() -> None:
    assert "第 18 位字符“I”不合规（统一社会信用代码不使用字母 I、O、Z、S、V）" in identifier_problem(
        validate_identifier("91440300192203821I"))
    assert "输入的是 3 位" in identifier_problem(validate_identifier("abc"))


def test_run_errors_never_show_server_paths() -> None:
    path = "/srv/gongxin/drop/samr/abnormal-2026-11-28.csv"
    assert file_name(path) == "abnormal-2026-11-28.csv"
    assert run_error(f"{path}: missing columns 列入日期", path) == "abnormal-2026-11-28.csv: missing columns 列入日期"
    assert run_error("x" * 400, None).endswith("…") and len(run_error("x" * 400, None)) == 301
