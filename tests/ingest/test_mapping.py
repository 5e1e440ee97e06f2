"""Mapping headers to canonical fields: folded matching, loud failures, unmapped values kept in raw."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.errors import FileFailedError, MissingColumnsError
from ingest.mapping import RAW, ColumnMap, apply_mapping, header_key, map_columns
from ingest.readers import ROW, read_chunks, read_header
from ingest.registry import load_registry

FIXTURES = Path(__file__).parent / "fixtures"
ABNORMAL = {"uscc": "统一社会信用代码", "name": "企业名称", "listed_on": "列入日期", "listed_by": "作出决定机关(列入)"}


def chunk(columns: dict[str, list[str]]) -> pd.DataFrame:
    """A chunk as the readers give it: string columns and row numbers from 2."""
    frame = pd.DataFrame(columns, dtype=str)
    frame[ROW] = range(2, len(frame) + 2)
    return frame


@pytest.mark.parametrize(("a", "b"), [
    ("  作出决定机关（列入） ", "作出决定机关(列入)"),
    ("统一社会\n信用代码", "统一社会信用代码"),
    ("罚款金额　（万元）", "罚款金额(万元)"),
    ("\ufeff企业名称", "企业名称"),
    ("ＵＳＣＣ", "USCC"),
])
def test_header_key_folds_width_and_space(a: str, b: str) -> None:
    assert header_key(a) == header_key(b)


def test_header_key_keeps_distinct_headers_apart() -> None:
    assert header_key("列入日期") != header_key("移出日期")
    assert header_key("USCC") != header_key("uscc")


@given(st.text())
def test_header_key_is_idempotent(text: str) -> None:
    assert header_key(header_key(text)) == header_key(text)


def test_full_width_and_spaced_headers_map() -> None:
    headers = ["统一社会信用代码 ", "企业名称", "列入日期", "作出决定机关（列入）", "备注"]

    colmap = map_columns("f.csv", headers, ABNORMAL)

    assert dict(colmap.by_field) == {"uscc": "统一社会信用代码 ", "name": "企业名称", "listed_on": "列入日期",
                                     "listed_by": "作出决定机关（列入）"}
    assert colmap.extra == ("备注",)
    assert colmap.by_header["作出决定机关（列入）"] == ("listed_by",)


def test_a_renamed_column_fails_listing_missing_and_available_headers() -> None:
    headers = ["统一社会信用代码", "企业名称", "列入时间", "作出决定机关(列入)"]

    with pytest.raises(MissingColumnsError) as caught:
        map_columns("drop/abnormal-0301.csv", headers, ABNORMAL)

    assert caught.value.missing == ["列入日期"]
    assert caught.value.available == headers
    assert str(caught.value) == ("drop/abnormal-0301.csv: missing columns 列入日期; the file has "
                                 "统一社会信用代码, 企业名称, 列入时间, 作出决定机关(列入)")


def test_the_exact_header_wins_over_a_folded_twin() -> None:
    colmap = map_columns("f.csv", ["企业名称", " 企业名称"], {"name": "企业名称"})

    assert dict(colmap.by_field) == {"name": "企业名称"} and colmap.extra == (" 企业名称",)


def test_two_folded_twins_without_an_exact_match_are_ambiguous() -> None:
    with pytest.raises(FileFailedError, match="ambiguous"):
        map_columns("f.csv", ["企业名称 ", " 企业名称"], {"name": "企业名称"})


def test_two_fields_may_share_one_header() -> None:
    frame = chunk({"企业名称": ["华为技术有限公司"]})

    colmap = map_columns("f.csv", ["企业名称"], {"name": "企业名称", "legal_rep": "企业名称"})
    mapped = apply_mapping(frame, colmap)

    assert colmap.by_header == {"企业名称": ("name", "legal_rep")}
    assert mapped.loc[0, "name"] == mapped.loc[0, "legal_rep"] == "华为技术有限公司"


def test_apply_mapping_renames_keeps_rows_and_collects_unmapped_values_in_raw() -> None:
    frame = chunk({"统一社会信用代码": ["914403001922038216", ""], "企业名称": ["华为技术有限公司", "甲"],
                   "备注": ["", "补报"], "数据来源单位": ["深圳市市场监督管理局", "深圳市市场监督管理局"]})
    colmap = map_columns("f.csv", list(frame.columns[:-1]), {"uscc": "统一社会信用代码", "name": "企业名称"})

    mapped = apply_mapping(frame, colmap)

    assert list(mapped.columns) == [ROW, "uscc", "name", RAW]
    assert mapped[ROW].tolist() == [2, 3]
    assert mapped["uscc"].tolist() == ["914403001922038216", ""]
    assert mapped[RAW].tolist() == [{"数据来源单位": "深圳市市场监督管理局"},
                                    {"备注": "补报", "数据来源单位": "深圳市市场监督管理局"}]


def test_apply_mapping_with_nothing_unmapped_gives_empty_raw() -> None:
    frame = chunk({"企业名称": ["甲", "乙"]})

    mapped = apply_mapping(frame, map_columns("f.csv", ["企业名称"], {"name": "企业名称"}))

    assert mapped[RAW].tolist() == [{}, {}]


def test_apply_mapping_keeps_the_chunk_index() -> None:
    frame = chunk({"企业名称": ["甲", "乙", "丙"]}).iloc[1:]

    mapped = apply_mapping(frame, ColumnMap(by_field={"name": "企业名称"}, extra=()))

    assert list(mapped.index) == [1, 2] and mapped["name"].tolist() == ["乙", "丙"]


@pytest.mark.parametrize("name", ["reader_abnormal_gb18030.csv", "reader_abnormal_utf8_bom.csv"])
def test_a_registry_source_maps_its_fixture_files(name: str) -> None:
    source = load_registry(FIXTURES / "registry_sources.toml").get("samr-abnormal")
    path = FIXTURES / name

    colmap = map_columns(path, read_header(path, format="csv"), source.columns)
    mapped = pd.concat([apply_mapping(c, colmap) for c in read_chunks(path, format="csv", chunk_rows=3)],
                       ignore_index=True)

    assert colmap.extra == ("备注",)
    assert mapped["listed_by"].tolist()[0] == "深圳市市场监督管理局"
    assert mapped["removed_on"].tolist() == ["", "2024-06-30", "", ""]
    assert mapped[RAW].tolist() == [{}, {"备注": "补报年度报告, 已公示"}, {"备注": '他说"已更正"'}, {}]
    assert mapped[ROW].tolist() == [2, 3, 4, 5]
