"""``/entities/<id>``, its credit report page and PDF, and the Chinese 400/404 pages."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader

from app import store
from credit.profile import get_profile
from tests.factories import new_uscc
from tests.pages import data
from tests.pages.html import parse

SECTIONS = ["基本信息", "行政许可", "行政处罚", "经营异常名录", "严重违法失信名单", "其他名单", "抽查检查结果",
            "年报", "守信激励", "数据来源"]


def test_profile_shows_every_section_in_order(client: FlaskClient, seeded: data.Seeded) -> None:
    response = client.get(f"/entities/{seeded.main}")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = parse(response.data)
    ids = [s["id"] for s in page.tags("section")]
    assert ids == ["basic", "licences", "penalties", "abnormal", "serious", "other-lists", "inspections",
                   "annual-reports", "commendations", "sources"]
    text = page.text
    assert [t for t in SECTIONS if f" {t} " in text] == SECTIONS
    assert f"曾用名 {data.FORMER_NAME}" in text and "注册资本 1000 万元" in text and "法定代表人 李明" in text
    assert "食品经营许可证" in text and "有效期 2024-03-05 至 长期" in text
    assert "未被列入严重违法失信名单" in text
    assert "企业公示信息抽查 未发现问题" in text
    assert text.index("2025 年度报告") < text.index("2024 年度报告")
    assert "广东省守合同重信用企业" in text and "2024年度纳税信用评价为A级" in text
    assert "失信被执行人名单 已移出" in text and "移出原因 已全部履行" in text


def test_profile_hides_the_penalty_whose_publicity_period_ended(app: Flask, client: FlaskClient,
                                                               seeded: data.Seeded) -> None:
    text = parse(client.get(f"/entities/{seeded.main}").data).text
    assert data.OPEN_DECISION in text and "罚款金额 2.5 万元" in text
    assert data.EXPIRED_DECISION not in text  # its source's publicity period ended
    assert data.MINOR_DECISION not in text  # the publicity policy does not publish minor penalties
    with app.app_context():  # both still in the store, for regulators: hidden by the rules, not missing
        held = [f.body.get("decision_no") for f in get_profile(store.session(), seeded.main).facts]
        assert data.EXPIRED_DECISION in held and data.MINOR_DECISION in held


def test_abnormal_list_shows_listings_and_removals(client: FlaskClient, seeded: data.Seeded) -> None:
    text = parse(client.get(f"/entities/{seeded.main}").data).text
    current = text.index("列入日期 2026-07-08")
    removed = text.index("列入日期 2023-07-10")
    assert current < removed < text.index("移出日期 2023-09-20") < text.index(" 严重违法失信名单 ", removed)
    assert "移出原因 补报未报年份的年度报告并公示" in text and "决定书文号 深市监异〔2026〕77号" in text


def test_data_sources_say_which_department_said_what(client: FlaskClient, seeded: data.Seeded) -> None:
    body = client.get(f"/entities/{seeded.main}").get_data(as_text=True)
    text = parse(body).text
    assert "住所（采用） 深圳市南山区粤海街道科技中一路 1 号 深圳市市场监督管理局（samr-registration）" in text
    assert f"住所 深圳市南山区科技园南区 8 栋 {data.TAX_AGENCY}（tax-sz） 2025-01-31 16:00" in text
    assert "行政处罚 " + data.OPEN_DECISION + " samr-penalty" in text
    assert data.EXPIRED_DECISION not in body


@pytest.mark.parametrize("spelling", [str.lower, lambda u: u[8:17]])
def test_profile_by_any_identifier(client: FlaskClient, seeded: data.Seeded, spelling: Callable[[str], str]) -> None:
    response = client.get(f"/entities/{spelling(seeded.main)}")
    assert response.status_code == 200 and data.MAIN_NAME in parse(response.data).text


def test_profile_by_registration_number(client: FlaskClient, seeded: data.Seeded) -> None:
    text = parse(client.get(f"/entities/{seeded.legacy_reg_no}").data).text
    assert data.LEGACY_NAME in text and f"注册号 {seeded.legacy_reg_no}" in text


def test_everything_from_the_store_is_escaped(client: FlaskClient, seeded: data.Seeded) -> None:
    body = client.get(f"/entities/{seeded.script}").get_data(as_text=True)
    for raw in ("<script", "<b>赵六", "<img", "<i>某局", "<b>9</b>"):
        assert raw not in body
    text = parse(body).text
    for shown in (data.SCRIPT_NAME, "<b>赵六</b>", data.HOSTILE_FACTS, data.HOSTILE_REASON, "<i>某局</i>"):
        assert shown in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;测试贸易有限公司" in body
    img = client.get(f"/entities/{seeded.img}").get_data(as_text=True)
    assert "<img" not in img and data.IMG_NAME in parse(img).text


def test_unknown_identifier_is_a_chinese_404_page(client: FlaskClient, seeded: data.Seeded) -> None:
    unknown = new_uscc(99999)
    for path in (f"/entities/{unknown}", f"/entities/{unknown}/report", f"/entities/{unknown}/report.pdf"):
        response = client.get(path)
        assert response.status_code == 404 and response.mimetype == "text/html"
        assert "未找到该主体" in parse(response.data).text and unknown in parse(response.data).text


@pytest.mark.parametrize("identifier, says", [
    ("9144030019220382I6", "统一社会信用代码“9144030019220382I6”的第 17 位字符“I”不合规"),
    ("12345", "而输入的是 5 位"),
    ("华为", "“华为”不是有效的标识符"),
])
def test_malformed_identifier_is_a_400_page_naming_the_problem(client: FlaskClient, identifier: str,
                                                               says: str) -> None:
    response = client.get(f"/entities/{identifier}")
    assert response.status_code == 400 and response.mimetype == "text/html"
    page = parse(response.data)
    assert "标识符格式错误" in page.text and says in page.text
    assert any(i.get("name") == "q" for i in page.tags("input"))  # a search box to go on from there


def test_unknown_pages_are_chinese_but_the_api_stays_json(client: FlaskClient) -> None:
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html" and "页面不存在" in parse(page.data).text
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.get_json()["error"]["code"] == "not_found"


def test_report_page_is_the_profile_to_print(client: FlaskClient, seeded: data.Seeded) -> None:
    response = client.get(f"/entities/{seeded.main}/report")
    assert response.status_code == 200
    text = parse(response.data).text
    assert "企业信用报告" in text and data.MAIN_NAME in text
    assert re.search(rf"报告编号 GX-{seeded.main}-\d{{12}} 生成时间 \d{{4}}-\d\d-\d\d \d\d:\d\d（北京时间）", text)
    assert "一、基本信息" in text and "三、行政处罚" in text and "十、数据来源" in text
    assert data.OPEN_DECISION in text and data.EXPIRED_DECISION not in text and data.MINOR_DECISION not in text
    assert "当前所在名单 经营异常名录、纳税信用A级纳税人名单" in text


def _pdf_text(body: bytes) -> tuple[str, PdfReader]:
    reader = PdfReader(io.BytesIO(body))
    return "".join("".join((p.extract_text() or "").split()) for p in reader.pages), reader


def _squash(text: str) -> str:
    return "".join(text.split())


def test_report_pdf_has_the_profile_in_a_standard_cjk_font(client: FlaskClient, seeded: data.Seeded) -> None:
    response = client.get(f"/entities/{seeded.main}/report.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    text, reader = _pdf_text(response.data)
    for wanted in ("企业信用报告", data.MAIN_NAME, data.FORMER_NAME, data.OPEN_DECISION, "经营异常名录",
                   "通过登记的住所或者经营场所无法联系", "广东省守合同重信用企业", "国家税务总局深圳市税务局（tax-sz）"):
        assert _squash(wanted) in text, wanted
    assert data.EXPIRED_DECISION not in text and _squash(data.MINOR_DECISION) not in text
    fonts = {str(f.get_object()["/BaseFont"]): f.get_object()
             for p in reader.pages for f in p["/Resources"]["/Font"].values()}
    assert "/STSong-Light" in fonts and fonts["/STSong-Light"]["/Encoding"] == "/UniGB-UCS2-H"
    descriptor = fonts["/STSong-Light"]["/DescendantFonts"][0].get_object()["/FontDescriptor"]
    assert not {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor.keys())  # named, not embedded
    assert reader.metadata is not None and reader.metadata.title == f"{data.MAIN_NAME} 企业信用报告"


def test_report_pdf_writes_hostile_text_as_text(client: FlaskClient, seeded: data.Seeded) -> None:
    text, _ = _pdf_text(client.get(f"/entities/{seeded.script}/report.pdf").data)
    for wanted in (data.SCRIPT_NAME, data.HOSTILE_REASON, data.HOSTILE_FACTS, "<b>赵六</b>"):
        assert _squash(wanted) in text, wanted
