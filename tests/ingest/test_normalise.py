"""Tests for ingest.normalise: the column-wise steps that turn regulators' text into canonical form."""

from __future__ import annotations

import pandas as pd
import pytest

from ingest.enums import (
    ABNORMAL_REASON_CODES,
    ABNORMAL_REASON_PHRASES,
    CHANGE_CODES,
    CHANGE_FLAGS,
    SEVERITIES,
    SEVERITY_BY_PENALTY_PHRASE,
    SEVERITY_WORDS,
)
from ingest.normalise import (
    add_match_keys,
    map_enumerations,
    normalise_change_flags,
    normalise_frame,
    normalise_identifiers,
    parse_amounts,
    parse_dates,
    parse_years,
    strip_text,
)

ISO = "2024-03-05"


def frame(**columns: list[str]) -> pd.DataFrame:
    """A mapped frame with the given canonical columns, row numbers from 2 and empty raw dicts."""
    size = len(next(iter(columns.values())))
    return pd.DataFrame({"__row__": range(2, size + 2), "raw": [{} for _ in range(size)], **columns})


def one(step_output: pd.DataFrame, name: str) -> str:
    """The single value of a one-row frame's column."""
    (value,) = step_output[name].tolist()
    return str(value)


# --- strip_text -------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  腾讯科技（深圳）有限公司\u3000", "腾讯科技（深圳）有限公司"),
        ("华为\u3000\u3000技术  有限公司", "华为 技术 有限公司"),
        ("当事人\t经营\r\n超过保质期的食品", "当事人 经营 超过保质期的食品"),
        ("\ufeff比亚迪\u200b股份有限公司", "比亚迪股份有限公司"),
        ("臺灣積體電路製造股份有限公司", "臺灣積體電路製造股份有限公司"),  # display form kept
        ("ＡＢＣ贸易有限公司", "ＡＢＣ贸易有限公司"),
        ("\u00a0", ""),
    ],
)
def test_strip_text(raw: str, expected: str) -> None:
    assert one(strip_text(frame(name=[raw])), "name") == expected


def test_strip_text_leaves_row_numbers_and_raw_alone() -> None:
    source = frame(name=[" 甲 "], address=["深圳市  南山区"])
    source.at[0, "raw"] = {"备注": "  原样  "}
    out = strip_text(source)
    assert out["__row__"].tolist() == [2]
    assert out.at[0, "raw"] == {"备注": "  原样  "}
    assert out.at[0, "address"] == "深圳市 南山区"


# --- normalise_identifiers --------------------------------------------------------------------

@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("9144030071526726xg", "9144030071526726XG"),
        ("９１４４０３００１９２２０３８２１６", "914403001922038216"),
        (" 9144 0300 1922 0382 16 ", "914403001922038216"),
        ("-", ""),
        ("——", ""),
        ("无", ""),
        ("/", ""),
        ("／", ""),
        ("null", ""),
        ("NULL", ""),
        ("N/A", ""),
        ("", ""),
    ],
)
def test_normalise_identifiers_uscc(raw: str, expected: str) -> None:
    assert one(normalise_identifiers(frame(uscc=[raw])), "uscc") == expected


def test_normalise_identifiers_org_code_and_reg_no() -> None:
    out = normalise_identifiers(frame(org_code=["19220382-1", "ｍａ５ｇ１ｈ３ｐ－ｘ"],
                                      reg_no=["４４０３００ １２３４５６７８９", "无"]))
    assert out["org_code"].tolist() == ["192203821", "MA5G1H3PX"]
    assert out["reg_no"].tolist() == ["440300123456789", ""]


def test_normalise_identifiers_keeps_odd_values_for_validation() -> None:
    assert one(normalise_identifiers(frame(uscc=["统一代码待补"])), "uscc") == "统一代码待补"


# --- parse_dates ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "raw",
    [
        "2024-03-05",
        "2024/3/5",
        "2024/03/05",
        "2024.3.5",
        "2024年3月5日",
        "2024年03月05日",
        "20240305",
        "2024-03-05 00:00:00",
        "2024-03-05T08:30:00",
        "2024/3/5 8:30",
        "2024-03-05 00:00:00.000",
        "45356",  # Excel serial
        "45356.0",
        "45356.75",  # serial with a time of day
        "２０２４年３月５日",  # full-width digits
        "２０２４－０３－０５",
        "２０２４０３０５",
        "４５３５６",
        " 2024 - 3 - 5 ",
    ],
)
def test_parse_dates_accepts_every_form(raw: str) -> None:
    assert one(parse_dates(frame(decided_on=[raw])), "decided_on") == ISO


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", "1"),  # a serial outside the 5-digit rule is not a date
        ("2024", "2024"),  # a bare year is not a date (and not serial 2024)
        ("202403", "202403"),
        ("20240230", "20240230"),  # YYYYMMDD that is not a calendar day
        ("2024-02-30", "2024-02-30"),
        ("2024年2月30日", "2024年2月30日"),  # kept as given, full-width and all
        ("2023-02-29", "2023-02-29"),
        ("2024-13-01", "2024-13-01"),
        ("0000-01-01", "0000-01-01"),
        ("5/3/2024", "5/3/2024"),  # day-first or month-first: ambiguous, not guessed
        ("二〇二四年三月五日", "二〇二四年三月五日"),
        ("待定", "待定"),
    ],
)
def test_parse_dates_leaves_what_it_cannot_read(raw: str, expected: str) -> None:
    assert one(parse_dates(frame(decided_on=[raw])), "decided_on") == expected


def test_parse_dates_leap_day_and_eight_digits_are_dates_not_serials() -> None:
    out = parse_dates(frame(decided_on=["2024-02-29", "20240229", "10000", "99999"]))
    assert out["decided_on"].tolist() == ["2024-02-29", "2024-02-29", "1927-05-18", "2173-10-13"]


@pytest.mark.parametrize("raw", ["2099-12-31", "9999-12-31", "2099/12/31", "2099年12月31日", "长期", "长期有效"])
@pytest.mark.parametrize("name", ["valid_to", "valid_until", "expires_on"])
def test_parse_dates_open_ended_end_dates_become_empty(raw: str, name: str) -> None:
    assert one(parse_dates(frame(**{name: [raw]})), name) == ""


def test_parse_dates_open_ended_only_in_end_date_fields() -> None:
    out = parse_dates(frame(decided_on=["2099-12-31"], listed_on=["长期"]))
    assert (out.at[0, "decided_on"], out.at[0, "listed_on"]) == ("2099-12-31", "长期")


@pytest.mark.parametrize("raw", ["", "-", "—", "/", "无", "null"])
def test_parse_dates_placeholders_become_empty(raw: str) -> None:
    assert one(parse_dates(frame(removed_on=[raw])), "removed_on") == ""


def test_parse_dates_repeats_map_to_the_same_value() -> None:
    out = parse_dates(frame(listed_on=["2024/3/5", "45356", "2024/3/5", "坏日期", "2024/3/5"]))
    assert out["listed_on"].tolist() == [ISO, ISO, ISO, "坏日期", ISO]


def test_parse_dates_object_column_with_a_lone_surrogate() -> None:
    source = frame(decided_on=["x"])
    source["decided_on"] = pd.Series(["2024/3/5\udcff"], dtype=object)
    assert one(parse_dates(source), "decided_on") == "2024/3/5\udcff"


# --- parse_amounts ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1.5", "1.5"),
        ("1,234.5", "1234.5"),
        ("12,345,678", "12345678"),
        ("１２，３４５．６７万元", "12345.67"),
        ("１２３４５", "12345"),
        ("100万", "100"),
        ("100 万元", "100"),
        ("人民币100万元", "100"),
        ("100万元人民币", "100"),
        ("￥5000元", "0.5"),
        ("15000元", "1.5"),
        ("1元", "0.0001"),
        ("12,000.50元", "1.20005"),
        ("0", "0"),
        ("", ""),
        ("无", ""),
        ("-", ""),
    ],
)
def test_parse_amounts(raw: str, expected: str) -> None:
    assert one(parse_amounts(frame(fine_amount=[raw])), "fine_amount") == expected


@pytest.mark.parametrize("raw", ["-5", "-5万元", "壹万元", "1,2", "100万美元", "约10万元", "1e5"])
def test_parse_amounts_leaves_negative_and_unreadable_as_given(raw: str) -> None:
    assert one(parse_amounts(frame(registered_capital=[raw])), "registered_capital") == raw


def test_parse_years() -> None:
    out = parse_years(frame(year=["2023", "2023.0", "２０２３年度", "2023年", "二〇二三", ""]))
    assert out["year"].tolist() == ["2023", "2023", "2023", "2023", "二〇二三", ""]


# --- map_enumerations -------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("reason", "code"),
    [
        ("未按照《企业信息公示暂行条例》第八条规定的期限公示年度报告的", "1"),
        ("未依照《企业信息公示暂行条例》第八条规定的期限公示年度报告", "1"),
        ("未按规定报送年报", "1"),
        ("未在工商行政管理部门依照《企业信息公示暂行条例》第十条规定责令的期限内公示有关企业信息的", "2"),
        ("未在市场监督管理部门依照《企业信息公示暂行条例》第十条规定责令的期限内公示有关企业信息的", "2"),
        ("公示企业信息隐瞒真实情况、弄虚作假的", "3"),
        ("公示年度报告隐瞒真实情况、弄虚作假", "3"),  # mentions 年度报告, is still reason 3
        ("通过登记的住所或者经营场所无法联系的", "4"),
        ("通过登记的住所或者经营场所无法取得联系", "4"),
        ("通過登記的住所或者經營場所無法聯繫的", "4"),  # traditional characters
        ("其他原因", ""),
        ("", ""),
    ],
)
def test_abnormal_reason_to_code(reason: str, code: str) -> None:
    assert one(map_enumerations(frame(reason=[reason]), "abnormal"), "reason_code") == code


def test_abnormal_reason_code_given_is_kept() -> None:
    out = map_enumerations(frame(reason_code=["2", ""], reason=["无法联系", "无法联系"]), "abnormal")
    assert out["reason_code"].tolist() == ["2", "4"]


def test_other_kinds_get_no_reason_code() -> None:
    source = frame(reason=["无法联系"])
    assert "reason_code" not in map_enumerations(source, "serious_illegal").columns


@pytest.mark.parametrize(
    ("penalty_type", "severity"),
    [
        ("警告", "minor"),
        ("通报批评", "minor"),
        ("罚款", "ordinary"),
        ("没收违法所得", "ordinary"),
        ("没收非法财物", "ordinary"),
        ("暂扣许可证件", "serious"),
        ("吊销许可证件", "serious"),
        ("吊销营业执照", "serious"),
        ("责令停产停业", "serious"),
        ("责令关闭", "serious"),
        ("限制开展生产经营活动", "serious"),
        ("限制从业", "serious"),
        ("降低资质等级", "serious"),
        ("警告;罚款", "ordinary"),
        ("罚款、没收违法所得、没收非法财物", "ordinary"),
        ("警告，罚款，吊销许可证件", "serious"),
        ("罰款", "ordinary"),  # traditional characters
        ("不予行政处罚", ""),
        ("", ""),
    ],
)
def test_penalty_type_to_severity(penalty_type: str, severity: str) -> None:
    out = map_enumerations(frame(penalty_type=[penalty_type], severity=[""]), "penalty")
    assert one(out, "severity") == severity


def test_stated_severity_wins_and_is_translated() -> None:
    out = map_enumerations(frame(penalty_type=["警告"] * 4, severity=["严重", "一般", "Minor", "很重"]),
                           "penalty")
    assert out["severity"].tolist() == ["serious", "ordinary", "minor", "很重"]


def test_severity_column_is_added_when_the_source_has_none() -> None:
    assert one(map_enumerations(frame(penalty_type=["罚款"]), "penalty"), "severity") == "ordinary"


def test_policy_tables_use_only_known_codes() -> None:
    assert {code for code, _ in ABNORMAL_REASON_PHRASES} == set(ABNORMAL_REASON_CODES)
    assert {code for code, _ in SEVERITY_BY_PENALTY_PHRASE} == set(SEVERITIES)
    assert set(SEVERITY_WORDS.values()) == set(SEVERITIES)
    assert set(CHANGE_FLAGS.values()) == set(CHANGE_CODES)


# --- normalise_change_flags -------------------------------------------------------------------

@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("I", "i"), ("i", "i"), ("insert", "i"), ("INSERT", "i"), ("新增", "i"), ("", "i"),
        ("U", "u"), ("update", "u"), ("修改", "u"), ("更新", "u"),
        ("D", "d"), ("delete", "d"), ("删除", "d"), ("刪除", "d"), ("撤销", "d"), ("Ｄ", "d"),
        ("X", "X"), ("作废?", "作废?"),
    ],
)
def test_normalise_change_flags(raw: str, expected: str) -> None:
    assert one(normalise_change_flags(frame(change=[raw])), "change") == expected


# --- add_match_keys and the whole line --------------------------------------------------------

def test_add_match_keys_folds_for_matching_but_keeps_the_display_name() -> None:
    out = add_match_keys(frame(name=["臺灣積體電路製造（南京）有限公司", ""]))
    assert out["name_norm"].tolist() == ["台湾积体电路制造(南京)有限公司", ""]
    assert out.at[0, "name"] == "臺灣積體電路製造（南京）有限公司"


def test_add_match_keys_without_a_name_column() -> None:
    assert add_match_keys(frame(uscc=["914403001922038216"]))["name_norm"].tolist() == [""]


def test_normalise_frame_runs_every_step_and_leaves_its_input_alone() -> None:
    source = frame(
        change=["新增"], uscc=[" 9144030071526726xg "], name=["腾讯科技（深圳）有限公司\u3000"],
        decision_no=["深市监罚〔2024〕12号"], penalty_type=["罚款、没收违法所得"],
        fine_amount=["50,000元"], decided_on=["2024年3月5日"], valid_until=["2099-12-31"],
    )
    before = source.copy()
    out = normalise_frame(source, "penalty")
    pd.testing.assert_frame_equal(source, before)
    row = out.iloc[0]
    assert (row["change"], row["uscc"], row["name"]) == ("i", "9144030071526726XG", "腾讯科技（深圳）有限公司")
    assert (row["fine_amount"], row["decided_on"], row["valid_until"]) == ("5", ISO, "")
    assert (row["severity"], row["name_norm"]) == ("ordinary", "腾讯科技(深圳)有限公司")
    assert list(out.index) == list(source.index)


def test_normalise_frame_on_an_empty_frame() -> None:
    empty = frame(name=["x"], decided_on=["x"]).iloc[:0]
    out = normalise_frame(empty, "penalty")
    assert len(out) == 0 and "name_norm" in out.columns


def test_normalise_frame_with_a_duplicated_index() -> None:
    source = frame(name=[" 甲 ", "乙"], penalty_type=["罚款", "警告"], severity=["", "严重"],
                   decided_on=["2024/3/5", "x"]).set_axis([0, 0])
    out = normalise_frame(source, "penalty")
    assert out["name"].tolist() == ["甲", "乙"]
    assert out["severity"].tolist() == ["ordinary", "serious"]


def test_normalise_frame_keeps_a_non_default_index() -> None:
    source = frame(decided_on=["2024/3/5", "2024/3/6"], name=["甲", "乙"]).set_axis([10, 20])
    out = normalise_frame(source, "penalty")
    assert out.loc[20, "decided_on"] == "2024-03-06"
