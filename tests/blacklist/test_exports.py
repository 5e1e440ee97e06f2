"""CSV and XLSX exports: formula text is inert, encodings are right, cells are bounded."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
from typing import Any

import pytest
from openpyxl import load_workbook

from blacklist.exports import (
    ENTRY_HEADERS, MAX_CELL, ExportError, clean_text, iter_csv, neutralise, write_xlsx,
)

FORMULA_NAMES = ["=HYPERLINK(\"http://evil.example\",\"点击\")", "+1+cmd|' /C calc'!A0", "-2+3",
                 "@SUM(A1:A9)", "  =1+1", "\t=1+1", "\r=1+1", "　=深圳某某公司"]
SAFE_NAMES = ["深圳市腾讯计算机系统有限公司", "中铁十二局集团有限公司-第三分公司", "A=B 贸易商行"]


def rows_of(names: Sequence[str]) -> list[list[Any]]:
    return [["91440300MA5XXXXX0X", name, "未按规定报送年度报告", date(2025, 7, 10), "深圳市市场监督管理局", None, None]
            for name in names]


def read_csv(data: bytes, encoding: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode(encoding), newline="")))


@pytest.mark.parametrize("text", FORMULA_NAMES)
def test_text_that_would_start_a_formula_gets_a_leading_quote(text: str) -> None:
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("text", SAFE_NAMES + ["", "2025-07-10"])
def test_other_text_is_left_alone(text: str) -> None:
    assert neutralise(text) == text


def test_cells_are_bounded_and_lose_control_characters() -> None:
    assert len(clean_text("违" * 5000)) == MAX_CELL and clean_text("违" * 5000).endswith("…")
    assert clean_text("深圳\x00某\x1b公司") == "深圳某公司"
    assert clean_text("第一行\n第二行") == "第一行\n第二行"


def test_utf8_csv_starts_with_a_bom_and_holds_chinese_headers_and_neutralised_names() -> None:
    data = b"".join(iter_csv(ENTRY_HEADERS, rows_of(FORMULA_NAMES + SAFE_NAMES)))
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\xef\xbb\xbf") == 1
    table = read_csv(data, "utf-8-sig")
    assert table[0] == ["统一社会信用代码", "名称", "列入原因", "列入日期", "作出决定机关", "移出日期", "移出原因"]
    assert [r[1] for r in table[1:]] == ["'" + n for n in FORMULA_NAMES] + SAFE_NAMES
    assert table[1][3] == "2025-07-10" and table[1][5] == ""


def test_gb18030_csv_decodes_to_the_same_chinese_and_has_no_bom() -> None:
    names = ["广东省深圳市龍華區鑫達五金製品廠", "𠀀字号个体工商户"]  # traditional, and beyond the BMP
    data = b"".join(iter_csv(ENTRY_HEADERS, rows_of(names), encoding="gb18030"))
    assert not data.startswith(b"\xef\xbb\xbf")
    assert "深圳市市场监督管理局".encode("gb18030") in data
    table = read_csv(data, "gb18030")
    assert table[0][1] == "名称" and [r[1] for r in table[1:]] == names


def test_a_long_csv_comes_in_several_chunks_that_join_to_the_whole() -> None:
    chunks = list(iter_csv(ENTRY_HEADERS, rows_of([f"深圳第{i}号公司" for i in range(1200)])))
    assert len(chunks) >= 3
    table = read_csv(b"".join(chunks), "utf-8-sig")
    assert len(table) == 1201 and table[-1][1] == "深圳第1199号公司"


def test_an_unknown_encoding_is_refused() -> None:
    with pytest.raises(ExportError, match="big5"):
        list(iter_csv(ENTRY_HEADERS, [], encoding="big5"))


def test_xlsx_cells_are_strings_not_formulas_and_dates_stay_dates() -> None:
    out = io.BytesIO()
    count = write_xlsx(out, ENTRY_HEADERS, rows_of(FORMULA_NAMES + SAFE_NAMES), title="经营异常名录",
                       notes=["名单：经营异常名录（abnormal）"])
    assert count == len(FORMULA_NAMES) + len(SAFE_NAMES)
    out.seek(0)
    workbook = load_workbook(out)
    sheet = workbook["经营异常名录"]
    assert [c.value for c in sheet[1]] == list(ENTRY_HEADERS)
    names = [sheet.cell(row=r, column=2) for r in range(2, sheet.max_row + 1)]
    assert all(c.data_type == "s" for c in names)
    # XML reads a carriage return back as a line feed; the leading quote is what matters.
    expected = ["'" + n.replace("\r", "\n") for n in FORMULA_NAMES] + SAFE_NAMES
    assert [c.value for c in names] == expected
    assert sheet.cell(row=2, column=4).value.date() == date(2025, 7, 10)
    assert workbook["说明"]["A1"].value == "名单：经营异常名录（abnormal）"


def test_an_xlsx_sheet_title_drops_characters_excel_refuses() -> None:
    out = io.BytesIO()
    write_xlsx(out, ENTRY_HEADERS, [], title="食品/药品[黑名单]:严重违法失信*名单?" * 3)
    out.seek(0)
    title = load_workbook(out).sheetnames[0]
    assert len(title) <= 31 and not set(title) & set("[]:*?/\\") and title.startswith("食品药品黑名单")
