"""``GET /api/v1/lists`` and ``GET /api/v1/lists/<id>`` through the real app and store."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import update
from sqlalchemy.orm import Session
from werkzeug.http import parse_options_header

from app import store
from credit.claims import ClaimIn, apply_claims
from credit.entities import EntityIds, ensure_entities
from credit.listings import ListEntryIn, apply_list_entries
from credit.models import Entity, ListEntry
from tests.factories import REGISTRY, REGISTRY_RANK, T0, make_entity, new_uscc

SZ_BUREAU = "深圳市市场监督管理局"
GZ_BUREAU = "广州市天河区市场监督管理局"
NO_REPORT = "未依照《企业信息公示暂行条例》第八条规定的期限公示年度报告"
UNREACHABLE = "通过登记的住所或者经营场所无法联系"
FILED = "已补报未报年份的年度报告并公示"
FORMULA_NAME = '=HYPERLINK("http://evil.example","点击领取")'


@dataclass(frozen=True)
class Seeded:
    """The USCCs of the seeded entities, by short name."""

    uscc: dict[str, str]


def entity_in(session: Session, seed: int, name: str, division: str) -> int:
    """An entity registered in this administrative division (make_entity always uses 440300)."""
    entity_id = ensure_entities(session, [EntityIds(uscc=new_uscc(seed, division))])[0].entity_id
    assert entity_id is not None
    apply_claims(session, [ClaimIn(entity_id, "name", name, REGISTRY, REGISTRY_RANK, T0)])
    return entity_id


def listing(entity_id: int, key: str, listed_on: date, reason: str = NO_REPORT, *, list_id: str = "abnormal",
            listed_by: str = SZ_BUREAU, **more: object) -> ListEntryIn:
    """A list entry as a market-regulation bureau's file would send it."""
    return ListEntryIn(entity_id, list_id, "samr-abnormal", key, listed_on=listed_on, reason=reason,
                       listed_by=listed_by, **more)  # type: ignore[arg-type]


def seed(session: Session) -> Seeded:
    """Abnormal-list entries in Shenzhen, Guangzhou, Shanghai and Hangzhou, some removed, withdrawn or hidden."""
    ids = {
        "微众": make_entity(session, 1, name="深圳市前海微众科技有限公司"),
        "公式": make_entity(session, 2, name=FORMULA_NAME),
        "华强": entity_in(session, 3, "深圳市南山区华强贸易有限公司", "440305"),
        "岭南": entity_in(session, 4, "广州市天河区岭南食品有限公司", "440106"),
        "申江": entity_in(session, 5, "上海市黄浦区申江商贸有限公司", "310101"),
        "撤回": entity_in(session, 6, "深圳市福田区撤回测试有限公司", "440304"),
        "修复": entity_in(session, 7, "杭州市西湖区信用修复有限公司", "330106"),
        "鹏城": entity_in(session, 8, "深圳市宝安区鹏城五金厂", "440306"),
    }
    apply_list_entries(session, [
        listing(ids["微众"], "A1", date(2025, 7, 10)),
        listing(ids["鹏城"], "A2", date(2025, 7, 10)),
        listing(ids["公式"], "A3", date(2025, 6, 1)),
        listing(ids["华强"], "A4", date(2025, 3, 1), UNREACHABLE),
        listing(ids["岭南"], "A5", date(2024, 7, 5), listed_by=GZ_BUREAU, removed_on=date(2025, 1, 15),
                removal_reason=FILED, removed_by=GZ_BUREAU),
        listing(ids["申江"], "A6", date(2025, 8, 1), listed_by="上海市黄浦区市场监督管理局"),
        listing(ids["撤回"], "A7", date(2025, 9, 1)),
        listing(ids["修复"], "A8", date(2025, 2, 1), removed_on=date(2025, 5, 1), removal_reason=FILED),
        listing(ids["微众"], "S1", date(2025, 8, 8), "提供虚假材料取得登记", list_id="serious-illegal"),
    ])
    # A regulator withdraws A7: it stays in the store, hidden from the public.
    apply_list_entries(session, [listing(ids["撤回"], "A7", date(2025, 9, 1), change="d")])
    # A repaired listing is hidden from the public (the publicity rules set this flag).
    session.execute(update(ListEntry).where(ListEntry.source_key == "A8").values(public=False))
    session.commit()
    return Seeded({short: session.get_one(Entity, entity_id).uscc or "" for short, entity_id in ids.items()})


@pytest.fixture
def seeded(app: Flask) -> Seeded:
    """The abnormal list seeded in the app's store."""
    with app.app_context():
        return seed(store.session())


def names(client: FlaskClient, **args: object) -> list[str]:
    body = client.get("/api/v1/lists/abnormal", query_string=args).get_json()
    return [item["name"] for item in body["items"]]


def test_the_catalogue_lists_every_list_with_its_rules(client: FlaskClient) -> None:
    body = client.get("/api/v1/lists").get_json()
    by_id = {item["id"]: item for item in body["items"]}
    assert {"abnormal", "serious-illegal", "court-defaulters", "major-tax-violators"} <= by_id.keys()
    abnormal = by_id["abnormal"]
    assert abnormal["name"] == "经营异常名录" and abnormal["kind"] == "blacklist"
    assert abnormal["entity_types"] == ["enterprise", "cooperative"]
    assert abnormal["marked_entity_types"] == ["individual"] and abnormal["term_months"] is None
    assert by_id["serious-illegal"]["term_months"] == 36
    assert all(item["measures"] and item["legal_basis"] and item["owner"] for item in body["items"])


def test_active_entries_newest_first_with_public_fields_only(client: FlaskClient, seeded: Seeded) -> None:
    body = client.get("/api/v1/lists/abnormal").get_json()
    assert body["list"]["id"] == "abnormal" and body["list"]["name"] == "经营异常名录"
    assert (body["total"], body["page"], body["per_page"]) == (5, 1, 20)
    # Newest listing first; the two listed on 2025-07-10 keep the order they were stored in.
    assert [i["name"] for i in body["items"]] == [
        "上海市黄浦区申江商贸有限公司", "深圳市前海微众科技有限公司", "深圳市宝安区鹏城五金厂", FORMULA_NAME,
        "深圳市南山区华强贸易有限公司"]
    assert body["items"][1] == {
        "uscc": seeded.uscc["微众"], "name": "深圳市前海微众科技有限公司", "reason": NO_REPORT,
        "listed_on": "2025-07-10", "listed_by": SZ_BUREAU, "removed_on": None, "removal_reason": None}


def test_removed_and_all_never_show_withdrawn_or_hidden_entries(client: FlaskClient, seeded: Seeded) -> None:
    removed = client.get("/api/v1/lists/abnormal?status=removed").get_json()
    assert removed["total"] == 1
    assert removed["items"] == [{
        "uscc": seeded.uscc["岭南"], "name": "广州市天河区岭南食品有限公司", "reason": NO_REPORT,
        "listed_on": "2024-07-05", "listed_by": GZ_BUREAU, "removed_on": "2025-01-15", "removal_reason": FILED}]
    everything = names(client, status="all", per_page=100)
    assert len(everything) == 6 and everything[-1] == "广州市天河区岭南食品有限公司"
    assert not {"深圳市福田区撤回测试有限公司", "杭州市西湖区信用修复有限公司"} & set(everything)
    # The serious-illegal listing of 微众 belongs to the other list only.
    assert names(client, status="all", per_page=100).count("深圳市前海微众科技有限公司") == 1
    assert client.get("/api/v1/lists/serious-illegal").get_json()["total"] == 1


@pytest.mark.parametrize("region, status, expected", [
    ("44", "active", ["深圳市前海微众科技有限公司", "深圳市宝安区鹏城五金厂", FORMULA_NAME, "深圳市南山区华强贸易有限公司"]),
    ("44", "all", ["深圳市前海微众科技有限公司", "深圳市宝安区鹏城五金厂", FORMULA_NAME, "深圳市南山区华强贸易有限公司",
                   "广州市天河区岭南食品有限公司"]),
    ("4401", "all", ["广州市天河区岭南食品有限公司"]),
    ("440305", "active", ["深圳市南山区华强贸易有限公司"]),
    ("31", "active", ["上海市黄浦区申江商贸有限公司"]),
    ("33", "all", []),
])
def test_region_filters_by_division_prefix(client: FlaskClient, seeded: Seeded, region: str, status: str,
                                           expected: list[str]) -> None:
    assert names(client, region=region, status=status) == expected


def test_pages_carry_the_total(client: FlaskClient, seeded: Seeded) -> None:
    pages = [client.get(f"/api/v1/lists/abnormal?per_page=2&page={p}").get_json() for p in (1, 2, 3, 4)]
    assert [p["total"] for p in pages] == [5, 5, 5, 5]
    assert [len(p["items"]) for p in pages] == [2, 2, 1, 0]
    assert pages[2]["items"][0]["name"] == "深圳市南山区华强贸易有限公司"


def test_csv_download_has_a_bom_chinese_headers_and_inert_formula_names(client: FlaskClient, seeded: Seeded) -> None:
    response = client.get("/api/v1/lists/abnormal?format=csv&region=4403")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    filename = f"abnormal-active-4403-{date.today().isoformat()}.csv"
    assert parse_options_header(response.headers["Content-Disposition"]) == ("attachment", {"filename": filename})
    assert response.headers["X-Total-Count"] == "4" and response.headers["X-Export-Truncated"] == "false"
    assert response.data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))
    assert table[0] == ["统一社会信用代码", "名称", "列入原因", "列入日期", "作出决定机关", "移出日期", "移出原因"]
    assert [r[1] for r in table[1:]] == ["深圳市前海微众科技有限公司", "深圳市宝安区鹏城五金厂", "'" + FORMULA_NAME,
                                         "深圳市南山区华强贸易有限公司"]
    assert table[1] == [seeded.uscc["微众"], "深圳市前海微众科技有限公司", NO_REPORT, "2025-07-10", SZ_BUREAU, "", ""]


def test_csv_in_gb18030_on_request(client: FlaskClient, seeded: Seeded) -> None:
    response = client.get("/api/v1/lists/abnormal?format=csv&status=removed&encoding=gb18030")
    assert response.headers["Content-Type"] == "text/csv; charset=gb18030"
    assert not response.data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(response.data.decode("gb18030"), newline="")))
    assert table[1][1:] == ["广州市天河区岭南食品有限公司", NO_REPORT, "2024-07-05", GZ_BUREAU, "2025-01-15", FILED]


def test_xlsx_download_holds_strings_not_formulas(client: FlaskClient, seeded: Seeded) -> None:
    response = client.get("/api/v1/lists/abnormal?format=xlsx&status=all")
    assert response.status_code == 200
    disposition = parse_options_header(response.headers["Content-Disposition"])
    assert disposition == ("attachment", {"filename": f"abnormal-all-{date.today().isoformat()}.xlsx"})
    workbook = load_workbook(io.BytesIO(response.data))
    sheet = workbook["经营异常名录"]
    cells = {sheet.cell(row=r, column=2).value: sheet.cell(row=r, column=2) for r in range(2, sheet.max_row + 1)}
    assert len(cells) == 6
    formula_cell = cells["'" + FORMULA_NAME]
    assert formula_cell.data_type == "s"
    assert "符合条件的记录共 6 条" in [row[0] for row in workbook["说明"].iter_rows(values_only=True)]


def test_exports_stop_at_the_limit_and_say_so(app: Flask, client: FlaskClient, seeded: Seeded) -> None:
    app.config["GONGXIN_EXPORT_LIMIT"] = 2
    response = client.get("/api/v1/lists/abnormal?format=csv")
    assert response.headers["X-Export-Truncated"] == "true" and response.headers["X-Total-Count"] == "5"
    assert len(response.data.decode("utf-8-sig").strip().split("\r\n")) == 3
    workbook = load_workbook(io.BytesIO(client.get("/api/v1/lists/abnormal?format=xlsx").data))
    assert workbook["经营异常名录"].max_row == 3
    assert any("导出上限为 2 条" in (row[0] or "") for row in workbook["说明"].iter_rows(values_only=True))


def test_an_unknown_list_is_404_naming_the_known_ones(client: FlaskClient) -> None:
    response = client.get("/api/v1/lists/no-such-list")
    assert response.status_code == 404
    error = response.get_json()["error"]
    assert error["code"] == "unknown_list" and "no-such-list" in error["message"] and "abnormal" in error["message"]


@pytest.mark.parametrize("args, argument", [
    ({"status": "withdrawn"}, "status"), ({"region": "4x"}, "region"), ({"region": "440"}, "region"),
    ({"region": "4403x"}, "region"), ({"region": "４４"}, "region"), ({"region": "44\n"}, "region"),
    ({"per_page": "101"}, "per_page"), ({"page": "0"}, "page"), ({"page": "第一页"}, "page"),
    ({"format": "pdf"}, "format"), ({"format": "csv", "encoding": "big5"}, "encoding"),
])
def test_bad_arguments_are_400_naming_the_argument(client: FlaskClient, args: dict[str, str], argument: str) -> None:
    response = client.get("/api/v1/lists/abnormal", query_string=args)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_argument" and f"参数 {argument} 无效" in error["message"]
