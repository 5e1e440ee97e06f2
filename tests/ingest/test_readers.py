"""Readers: every format and encoding gives the same strings, in chunks, with the right row numbers."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from ingest import readers
from ingest.errors import UnreadableFileError
from ingest.readers import ROW, detect_encoding, read_chunks, read_header

FIXTURES = Path(__file__).parent / "fixtures"
HEADER = ["统一社会信用代码", "企业名称", "列入经营异常名录原因", "列入日期", "作出决定机关（列入）", "移出日期", "备注"]
ROWS = [
    ["914403001922038216", "华为技术有限公司", "通过登记的住所或者经营场所无法联系的", "2024-03-05", "深圳市市场监督管理局", "", ""],
    ["9144030071526726XG", "腾讯科技(深圳)有限公司", "未依照《企业信息公示暂行条例》第八条规定的期限公示年度报告的",
     "20240305", "深圳市市场监督管理局", "2024-06-30", "补报年度报告, 已公示"],
    ["91440300192317458F", "𠀀㐀贸易有限公司", "公示企业信息隐瞒真实情况、弄虚作假的\n（多行）", "2023年7月1日",
     "深圳市市场监督管理局", "", '他说"已更正"'],
    ["", "北京宏达阳光门窗有限公司", "通过登记的住所或者经营场所无法联系的", "2016/7/5", "北京市工商行政管理局朝阳分局", "", ""],
]
EXPECTED = [dict(zip(HEADER, row), **{ROW: n}) for n, row in enumerate(ROWS, start=2)]


def records(path: Path, **options: object) -> list[dict[str, object]]:
    """Every row of the file as a dict, read in small chunks."""
    chunks = list(read_chunks(path, chunk_rows=options.pop("chunk_rows", 2), **options))  # type: ignore[arg-type]
    return [row for chunk in chunks for row in chunk.to_dict("records")]


def write_xlsx(path: Path, rows: list[list[object]], title: str = "Sheet") -> Path:
    """A workbook with one sheet holding these rows from A1."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    """A CSV file of these rows, quoted as Python's csv module quotes."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


@pytest.fixture
def abnormal_xlsx(tmp_path: Path) -> Path:
    """The fixture rows as a spreadsheet: a date cell, a number cell, an empty cell, text USCCs."""
    rows: list[list[object]] = [list(HEADER)] + [list(r) for r in ROWS]
    rows[1][3] = date(2024, 3, 5)
    rows[2][3] = 20240305
    rows[2][5] = datetime(2024, 6, 30)
    rows[4][0] = None
    return write_xlsx(tmp_path / "abnormal.xlsx", rows)


@pytest.mark.parametrize(("name", "encoding"), [
    ("reader_abnormal_utf8.csv", "utf-8"),
    ("reader_abnormal_utf8_bom.csv", "utf-8-sig"),
    ("reader_abnormal_gb18030.csv", "gb18030"),
])
def test_csv_in_every_encoding_reads_the_same_strings(name: str, encoding: str) -> None:
    path = FIXTURES / name

    assert detect_encoding(path) == encoding
    assert read_header(path, format="csv") == HEADER
    assert records(path, format="csv") == EXPECTED
    assert records(path, format="csv", encoding=encoding) == EXPECTED


def test_declared_utf8_on_a_file_with_bom_strips_the_bom() -> None:
    assert read_header(FIXTURES / "reader_abnormal_utf8_bom.csv", format="csv", encoding="UTF8") == HEADER


def test_declared_gbk_reads_characters_outside_gbk_as_gb18030() -> None:
    rows = records(FIXTURES / "reader_abnormal_gb18030.csv", format="csv", encoding="gbk")

    assert rows[2]["企业名称"] == "𠀀㐀贸易有限公司"


def test_xlsx_reads_the_same_strings(abnormal_xlsx: Path) -> None:
    assert read_header(abnormal_xlsx, format="xlsx") == HEADER
    assert records(abnormal_xlsx, format="xlsx") == EXPECTED


def test_jsonl_reads_the_same_strings() -> None:
    path = FIXTURES / "reader_abnormal.jsonl"
    rows = records(path, format="jsonl")

    assert set(read_header(path, format="jsonl")) == set(HEADER)
    assert [{k: r[k] for k in HEADER} for r in rows] == [{k: e[k] for k in HEADER} for e in EXPECTED]
    assert [r[ROW] for r in rows] == [1, 2, 3, 4]


def test_chunks_are_strings_with_integer_row_numbers() -> None:
    chunk = next(read_chunks(FIXTURES / "reader_abnormal_gb18030.csv", format="csv"))

    assert list(chunk.columns) == HEADER + [ROW]
    assert all(pd.api.types.is_string_dtype(chunk[h]) for h in HEADER)
    assert chunk[ROW].dtype == "int64"
    assert all(type(v) is str for h in HEADER for v in chunk[h])


def test_explicit_wrong_encoding_fails_naming_the_byte() -> None:
    path = FIXTURES / "reader_abnormal_gb18030.csv"
    with pytest.raises(UnicodeDecodeError) as python:
        path.read_bytes().decode("utf-8")

    with pytest.raises(UnreadableFileError, match=f"cannot be decoded as utf-8 at byte {python.value.start}:"):
        list(read_chunks(path, format="csv", encoding="utf-8"))


def test_bad_bytes_in_a_declared_gb18030_file_are_located(tmp_path: Path) -> None:
    good = "企业名称,备注\n华为技术有限公司,x\n".encode("gb18030")
    path = tmp_path / "bad.csv"
    path.write_bytes(good + b"\xff\xff,y\n")

    with pytest.raises(UnreadableFileError, match=f"cannot be decoded as gb18030 at byte {len(good)}"):
        list(read_chunks(path, format="csv", encoding="gb18030"))


def test_a_damaged_utf8_file_fails_where_it_breaks_instead_of_reading_as_gb18030(tmp_path: Path) -> None:
    good = ("名称,备注\n" + "".join(f"华为技术有限公司{i},深圳\n" for i in range(2000))).encode()
    path = tmp_path / "damaged.csv"
    path.write_bytes(good + b"\xe5\x8d,x\n" + "腾讯,y\n".encode())

    assert detect_encoding(path) == "utf-8"
    with pytest.raises(UnreadableFileError, match=f"cannot be decoded as utf-8 at byte {len(good)}:"):
        list(read_chunks(path, format="csv"))


def test_ascii_only_file_is_utf8(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "ascii.csv", [["uscc", "name"], ["914403001922038216", "HUAWEI"]])

    assert detect_encoding(path) == "utf-8"


def test_declaring_gb18030_for_a_utf8_file_says_so() -> None:
    with pytest.raises(UnreadableFileError, match="the file is valid UTF-8"):
        list(read_chunks(FIXTURES / "reader_abnormal_utf8.csv", format="csv", encoding="gb18030"))


def test_bad_bytes_in_a_jsonl_file_are_located(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    good = '{"名称": "华为"}\n{"a": "'.encode()
    path.write_bytes(good + b'\xff"}\n')

    with pytest.raises(UnreadableFileError, match=f"cannot be decoded as utf-8 at byte {len(good)}"):
        list(read_chunks(path, format="jsonl", encoding="utf-8"))


TEN = [["编号", "名称"]] + [[str(i), f"企业{i}"] for i in range(10)]


@pytest.mark.parametrize("format", ["csv", "xlsx", "jsonl"])
def test_chunking_keeps_row_numbers(tmp_path: Path, format: str) -> None:
    if format == "csv":
        path = write_csv(tmp_path / "ten.csv", TEN)
    elif format == "xlsx":
        path = write_xlsx(tmp_path / "ten.xlsx", TEN)
    else:
        path = tmp_path / "ten.jsonl"
        path.write_text("".join(json.dumps(dict(zip(TEN[0], r))) + "\n" for r in TEN[1:]), encoding="utf-8")
    first_row = 1 if format == "jsonl" else 2

    chunks = list(read_chunks(path, format=format, chunk_rows=3))

    assert [len(c) for c in chunks] == [3, 3, 3, 1]
    assert [list(c[ROW]) for c in chunks][1] == [first_row + 3, first_row + 4, first_row + 5]
    assert [v for c in chunks for v in c["编号"]] == [str(i) for i in range(10)]
    assert all(list(c.index) == list(range(len(c))) for c in chunks)


def test_row_numbers_count_records_not_lines(tmp_path: Path) -> None:
    rows = [["名称", "备注"], ["甲", "第一行\n第二行\n第三行"], ["乙", "a, b"], ["丙", ""]]
    path = write_csv(tmp_path / "multi.csv", rows)

    read = records(path, format="csv", chunk_rows=1)

    assert [(r["名称"], r["备注"], r[ROW]) for r in read] == [
        ("甲", "第一行\n第二行\n第三行", 2), ("乙", "a, b", 3), ("丙", "", 4)]


def test_quoted_newline_in_the_header(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "h.csv", [["名称", "列入\n日期"], ["甲", "2024-03-05"]])

    assert read_header(path, format="csv") == ["名称", "列入\n日期"]
    assert records(path, format="csv") == [{"名称": "甲", "列入\n日期": "2024-03-05", ROW: 2}]


def test_blank_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    path.write_text("\n名称,备注\n\n甲,x\n\n乙,y\n", encoding="utf-8")

    assert [(r["名称"], r[ROW]) for r in records(path, format="csv")] == [("甲", 2), ("乙", 3)]


def test_large_csv_with_multiline_values_crosses_reader_blocks_intact(tmp_path: Path) -> None:
    rows = [["编号", "名称", "备注"]] + [
        [str(i), f"企业{i}有限公司", f"第{i}行\n续行, 含逗号 \"引号\"" if i % 3 else ""] for i in range(120_000)]
    path = write_csv(tmp_path / "large.csv", rows, encoding="gb18030")
    assert path.stat().st_size > 5_000_000

    chunks = list(read_chunks(path, format="csv", chunk_rows=50_000))

    assert [len(c) for c in chunks] == [50_000, 50_000, 20_000]
    frame = pd.concat(chunks, ignore_index=True)
    assert frame["备注"].tolist() == [r[2] for r in rows[1:]]
    assert frame[ROW].tolist() == list(range(2, 120_002))


def test_a_short_row_late_in_a_large_file_resumes_after_the_chunks_given(tmp_path: Path) -> None:
    rows = [["编号", "名称", "备注"]] + [[str(i), f"企业{i}有限公司", "备注" * 20] for i in range(60_000)]
    path = write_csv(tmp_path / "late.csv", rows)
    with path.open("a", encoding="utf-8") as f:
        f.write("60000\n60001,最后,x\n")
    assert path.stat().st_size > 2 * readers.ARROW_BLOCK

    chunks = list(read_chunks(path, format="csv", chunk_rows=25_000))

    assert [len(c) for c in chunks] == [25_000, 25_000, 10_002]
    frame = pd.concat(chunks, ignore_index=True)
    assert frame[ROW].tolist() == list(range(2, 60_004))
    assert frame.iloc[-2:][["编号", "名称", "备注"]].values.tolist() == [["60000", "", ""], ["60001", "最后", "x"]]


def test_well_formed_files_take_the_pyarrow_path() -> None:
    path = FIXTURES / "reader_abnormal_gb18030.csv"

    assert readers._arrow_can_read(path, "gb18030")
    frames = list(readers._arrow_frames(path, "gb18030", len(HEADER), 3))
    assert [f.values.tolist() for f in frames] == [ROWS[:3], ROWS[3:]]


def test_short_rows_are_padded_with_empty_strings(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text("名称,备注,日期\n甲,x,1\n乙\n丙,z,3\n", encoding="utf-8")

    assert [(r["名称"], r["备注"], r["日期"], r[ROW]) for r in records(path, format="csv")] == [
        ("甲", "x", "1", 2), ("乙", "", "", 3), ("丙", "z", "3", 4)]


def test_a_row_with_too_many_fields_fails_the_file(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text("名称,备注\n甲,x\n乙,y,多余\n", encoding="utf-8")

    with pytest.raises(UnreadableFileError, match="Expected 2 fields in line 3, saw 3"):
        list(read_chunks(path, format="csv"))


def test_an_unterminated_quote_fails_instead_of_swallowing_rows(tmp_path: Path) -> None:
    path = tmp_path / "open-quote.csv"
    path.write_text('名称,备注\n甲,"开始\n乙,y\n丙,z\n', encoding="utf-8")

    with pytest.raises(UnreadableFileError, match="EOF inside string"):
        list(read_chunks(path, format="csv"))


def test_a_stray_quote_inside_a_value_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "stray.csv"
    path.write_text('名称,规格\n甲,5" 屏幕\n', encoding="utf-8")

    assert records(path, format="csv") == [{"名称": "甲", "规格": '5" 屏幕', ROW: 2}]


@pytest.mark.parametrize(("text", "header"), [
    ("名称,备注,名称\n甲,x,乙\n", "名称"),
    ('"名称",备注," 名称"\n甲,x,乙\n', None),
])
def test_duplicate_csv_headers_fail(tmp_path: Path, text: str, header: str | None) -> None:
    path = tmp_path / "dup.csv"
    path.write_text(text, encoding="utf-8")

    if header is None:  # differing by a space is not a duplicate for the reader (mapping decides)
        assert read_header(path, format="csv") == ["名称", "备注", " 名称"]
        return
    with pytest.raises(UnreadableFileError, match=r"duplicated header '名称' \(columns 1, 3\)"):
        read_chunks(path, format="csv")


def test_duplicate_xlsx_headers_fail(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "dup.xlsx", [["名称", "名称"], ["甲", "乙"]])

    with pytest.raises(UnreadableFileError, match="duplicated header '名称'"):
        read_chunks(path, format="xlsx")


def test_duplicate_jsonl_keys_fail_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "dup.jsonl"
    path.write_text('{"名称": "甲"}\n{"名称": "乙", "名称": "丙"}\n', encoding="utf-8")

    with pytest.raises(UnreadableFileError, match="line 2: .*duplicated key '名称'"):
        read_chunks(path, format="jsonl")


def test_blank_headers_are_named_by_position(tmp_path: Path) -> None:
    path = tmp_path / "blank-header.csv"
    path.write_text("名称,,备注,\n甲,,x,\n", encoding="utf-8")

    assert read_header(path, format="csv") == ["名称", "(column 2)", "备注", "(column 4)"]


def test_header_text_is_kept_as_written(tmp_path: Path) -> None:
    path = tmp_path / "spaces.csv"
    path.write_text(" 企业名称 ,作出决定机关(列入)\n甲,乙\n", encoding="utf-8")

    assert read_header(path, format="csv") == [" 企业名称 ", "作出决定机关(列入)"]


@pytest.mark.parametrize(("content", "format", "fragment"), [
    (b"", "csv", "empty file: no header row"),
    (b"\xef\xbb\xbf", "csv", "empty file: no header row"),
    (b"\n\n", "csv", "empty file: no header row"),
    (b"", "jsonl", "empty file: no JSON object"),
    (b"", "xlsx", "not a readable xlsx workbook"),
    ("名称,备注\n甲,乙\n".encode(), "xlsx", "not a readable xlsx workbook"),
])
def test_empty_and_wrong_files_fail(tmp_path: Path, content: bytes, format: str, fragment: str) -> None:
    path = tmp_path / f"file.{format}"
    path.write_bytes(content)

    with pytest.raises(UnreadableFileError, match=fragment) as caught:
        read_chunks(path, format=format)
    assert caught.value.path == str(path)


def test_empty_sheet_fails(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "empty.xlsx", [])

    with pytest.raises(UnreadableFileError, match="sheet 'Sheet' is empty: no header row"):
        read_header(path, format="xlsx")


@pytest.mark.parametrize("format", ["csv", "xlsx", "jsonl"])
def test_missing_file_fails_at_once(tmp_path: Path, format: str) -> None:
    with pytest.raises(UnreadableFileError, match="no such file"):
        read_chunks(tmp_path / f"missing.{format}", format=format)


def test_header_only_file_gives_no_chunks(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text("名称,备注\n", encoding="utf-8")

    assert list(read_chunks(path, format="csv")) == []


def test_xlsx_cells_become_the_text_a_user_sees(tmp_path: Path) -> None:
    cells = [date(2024, 3, 5), datetime(2024, 3, 5, 14, 30), 20240305, 20240305.0, 440301103125646,
             1.5, 1e20, 0.0000001, "914403001922038216", None, True]
    path = write_xlsx(tmp_path / "cells.xlsx", [[f"c{i}" for i in range(len(cells))], cells])

    row = records(path, format="xlsx")[0]

    assert [row[f"c{i}"] for i in range(len(cells))] == [
        "2024-03-05", "2024-03-05 14:30:00", "20240305", "20240305", "440301103125646",
        "1.5", "100000000000000000000", "0.0000001", "914403001922038216", "", "TRUE"]


def test_xlsx_row_numbers_are_the_sheets_own(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet["B3"], sheet["C3"] = "名称", "备注"
    sheet["B4"], sheet["C4"] = "甲", "x"
    sheet["B6"], sheet["C6"] = "乙", ""
    workbook.save(tmp_path / "offset.xlsx")

    read = records(tmp_path / "offset.xlsx", format="xlsx")

    assert read == [{"名称": "甲", "备注": "x", ROW: 4}, {"名称": "乙", "备注": "", ROW: 6}]


def test_xlsx_named_sheet_and_unknown_sheet(tmp_path: Path) -> None:
    workbook = Workbook()
    workbook.active.title = "说明"
    workbook.active.append(["这是说明页"])
    workbook.create_sheet("名录").append(["名称"])
    workbook["名录"].append(["甲"])
    workbook.save(tmp_path / "sheets.xlsx")

    assert records(tmp_path / "sheets.xlsx", format="xlsx", sheet="名录") == [{"名称": "甲", ROW: 2}]
    assert read_header(tmp_path / "sheets.xlsx", format="xlsx") == ["这是说明页"]
    with pytest.raises(UnreadableFileError, match="no sheet '处罚'; the workbook has 说明, 名录"):
        read_chunks(tmp_path / "sheets.xlsx", format="xlsx", sheet="处罚")


def test_jsonl_values_become_text(tmp_path: Path) -> None:
    path = tmp_path / "values.jsonl"
    path.write_text(
        '{"id": 914403001922038216, "amount": 1.50, "day": 20240305.0, "ok": true, "none": null,'
        ' "nested": {"a": [1, "乙"]}}\n\n{"id": "x", "extra": "y"}\n', encoding="utf-8")

    read = records(path, format="jsonl")

    assert read == [
        {"id": "914403001922038216", "amount": "1.5", "day": "20240305", "ok": "true", "none": "",
         "nested": '{"a": [1, "乙"]}', "extra": "", ROW: 1},
        {"id": "x", "amount": "", "day": "", "ok": "", "none": "", "nested": "", "extra": "y", ROW: 3}]


@pytest.mark.parametrize(("line", "fragment"), [
    ('{"名称": "甲"', "line 2: not valid JSON"),
    ('["甲", "乙"]', "line 2: not a JSON object"),
])
def test_broken_jsonl_line_fails_naming_the_line(tmp_path: Path, line: str, fragment: str) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_text(f'{{"名称": "甲"}}\n{line}\n{{"名称": "乙"}}\n', encoding="utf-8")

    with pytest.raises(UnreadableFileError, match=fragment):
        read_chunks(path, format="jsonl")


def test_unknown_format_fails(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFileError, match="unknown format 'xml'"):
        read_chunks(tmp_path / "a.xml", format="xml")


TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"), max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(TEXT, min_size=3, max_size=3), max_size=8),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]), chunk_rows=st.integers(1, 4))
def test_any_csv_written_by_python_reads_back(tmp_path: Path, rows: list[list[str]], encoding: str,
                                              chunk_rows: int) -> None:
    rows = [r for r in rows if r != ["", "", ""]]  # an all-empty record is written as a blank line
    path = write_csv(tmp_path / "any.csv", [["甲", "乙", "丙"]] + rows, encoding=encoding)

    read = records(path, format="csv", chunk_rows=chunk_rows)

    assert [[r["甲"], r["乙"], r["丙"]] for r in read] == rows
    assert [r[ROW] for r in read] == list(range(2, len(rows) + 2))
