"""Tests for ingest.schemas: load schemas per kind and validate_frame's records and rejections."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credit.identifiers import USCC_ALPHABET, generate_org_code
from ingest.errors import IngestError
from ingest.kinds import KINDS
from ingest.normalise import normalise_frame
from ingest.schemas import SCHEMAS, Rejection, validate_frame
from tests.factories import new_uscc

USCC = new_uscc(1)
NAME = "深圳市腾讯计算机系统有限公司"
# A code with a wrong check character: a real-world warning, not an error (DOMAIN.md §1).
USCC_MISMATCH = USCC[:17] + next(c for c in USCC_ALPHABET if c != USCC[17])
ORG_CODE = generate_org_code(random.Random(7))
ORG_MISMATCH = ORG_CODE[:8] + next(c for c in "0123456789X" if c != ORG_CODE[8])

GOOD: dict[str, dict[str, str]] = {
    "registration": {
        "entity_type": "有限责任公司", "status": "存续", "legal_rep": "马化腾",
        "registered_capital": "6,500万元", "established_on": "1998年11月11日",
        "address": "深圳市南山区粤海街道麻岭社区科技中一路腾讯大厦35层",
        "reg_authority": "深圳市市场监督管理局", "industry": "软件和信息技术服务业",
        "former_names": "深圳市腾讯计算机系统有限责任公司",
    },
    "licence": {
        "decision_no": "粤食药监许〔2023〕118号", "licence_type": "普通", "licence_name": "食品经营许可证",
        "licence_no": "JY14403050123456", "content": "预包装食品销售", "decided_on": "2023/6/1",
        "valid_from": "2023/6/1", "valid_to": "2099-12-31", "authority": "深圳市市场监督管理局",
        "authority_code": "11440300MB2C9226X3", "status": "有效", "legal_rep": "张三",
    },
    "penalty": {
        "decision_no": "深市监罚〔2024〕12号", "violation_type": "经营超过保质期的食品",
        "facts": "当事人于2023年10月经营超过保质期的食品，货值金额300元。",
        "basis": "《中华人民共和国食品安全法》第一百二十四条第一款", "penalty_type": "罚款、没收违法所得",
        "content": "罚款5万元，没收违法所得300元", "fine_amount": "50000元", "confiscated_amount": "300元",
        "decided_on": "20240305", "valid_until": "", "publicity_until": "2027-03-05",
        "authority": "深圳市市场监督管理局", "authority_code": "11440300MB2C9226X3", "legal_rep": "张三",
    },
    "abnormal": {
        "reason": "未按照《企业信息公示暂行条例》第八条规定的期限公示年度报告的", "listed_on": "2023-07-15",
        "listed_by": "深圳市市场监督管理局", "decision_no": "深市监异〔2023〕1号",
        "removal_reason": "", "removed_on": "-", "removed_by": "",
    },
    "serious_illegal": {
        "category": "食品安全", "reason": "被处以吊销许可证件的行政处罚", "listed_on": "45356",
        "listed_by": "深圳市市场监督管理局", "decision_no": "深市监严〔2024〕3号",
    },
    "sector_list": {
        "reason": "重大税收违法失信主体", "listed_on": "2024.3.5", "listed_by": "国家税务总局深圳市税务局",
        "expires_on": "长期",
    },
    "inspection": {
        "plan": "2024年度食品经营双随机抽查计划", "task": "第一批次", "inspection_type": "双随机抽查",
        "authority": "深圳市市场监督管理局", "inspected_on": "2024-03-05", "item": "食品经营许可情况",
        "result": "未发现问题",
    },
    "annual_report": {"year": "2023", "filed_on": "2024-05-20"},
    "commendation": {
        "title": "2023年度守合同重信用企业", "listed_on": "2024-03-05", "listed_by": "广东省市场监督管理局",
        "expires_on": "2026-03-04",
    },
}


def rows_frame(kind: str, rows: list[dict[str, str]], first_row: int = 2) -> pd.DataFrame:
    """A mapped frame of one kind: every field of the kind ("" where a row has none), plus bookkeeping."""
    names = KINDS[kind].all_fields
    data: dict[str, object] = {
        "__row__": list(range(first_row, first_row + len(rows))),
        "raw": [{"备注": f"第{i}行"} for i in range(len(rows))],
    }
    data.update({name: [row.get(name, "") for row in rows] for name in names})
    return pd.DataFrame(data)


def good_row(kind: str, **overrides: str) -> dict[str, str]:
    """A valid row of a kind, identified by USCC and name, with the given fields changed."""
    return {"uscc": USCC, "name": NAME, **GOOD[kind], **overrides}


def check(kind: str, **overrides: str) -> tuple[list[dict[str, object]], list[Rejection]]:
    """Normalise and validate one row of a kind (at spreadsheet row 7)."""
    source = rows_frame(kind, [good_row(kind, **overrides)], first_row=7)
    checked = validate_frame(normalise_frame(source, kind), kind, original=source)
    return checked.records, checked.rejected


def rejected(kind: str, **overrides: str) -> Rejection:
    """The one rejection of a one-row frame."""
    records, rejections = check(kind, **overrides)
    assert not records
    (rejection,) = rejections
    assert rejection.row == 7
    return rejection


# --- schemas mirror the kinds -----------------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(KINDS))
def test_schema_fields_are_the_kinds_fields(kind: str) -> None:
    schema = SCHEMAS[kind]()
    assert set(schema.fields) == set(KINDS[kind].all_fields)
    assert {n for n, f in schema.fields.items() if f.required} == set(KINDS[kind].required)


# --- a good row of every kind -----------------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_good_row_of_every_kind_loads(kind: str) -> None:
    records, rejections = check(kind)
    assert rejections == []
    (record,) = records
    assert record["__row__"] == 7
    assert record["raw"] == {"备注": "第0行"}
    assert record["uscc"] == USCC and record["name"] == NAME
    assert record["name_norm"] == NAME and record["warnings"] == []
    assert record["change"] == "i"
    assert set(KINDS[kind].all_fields) <= set(record)


def test_loaded_values_are_typed() -> None:
    (record,), _ = check("penalty")
    assert record["decided_on"] == date(2024, 3, 5)
    assert record["fine_amount"] == Decimal("5") and record["confiscated_amount"] == Decimal("0.03")
    assert record["valid_until"] is None and record["severity"] == "ordinary"
    (abnormal,), _ = check("abnormal")
    assert abnormal["reason_code"] == "1" and abnormal["removed_on"] is None
    (report,), _ = check("annual_report")
    assert report["year"] == 2023
    (listing,), _ = check("sector_list")
    assert listing["listed_on"] == date(2024, 3, 5) and listing["expires_on"] is None


# --- one bad row of each defect class ---------------------------------------------------------

def test_uscc_of_the_wrong_length() -> None:
    rejection = rejected("penalty", uscc="91440300192203821")
    assert rejection.field == "uscc"
    assert "'91440300192203821'" in rejection.reason and "expected 18 characters, got 17" in rejection.reason


def test_uscc_with_a_character_outside_the_alphabet() -> None:
    bad = "91440300I922038216"  # I is not in the GB 32100 alphabet
    rejection = rejected("licence", uscc=bad)
    assert rejection.field == "uscc"
    assert rejection.reason.startswith(f"uscc: '{bad}' is not a USCC: character 9 'I'")


def test_uscc_check_mismatch_is_accepted_with_a_warning() -> None:
    (record,), rejections = check("penalty", uscc=USCC_MISMATCH.lower())
    assert rejections == []
    assert record["uscc"] == USCC_MISMATCH
    (warning,) = record["warnings"]
    assert warning.startswith("uscc: check character is") and USCC_MISMATCH in warning


def test_org_code_malformed_is_an_error_and_mismatch_a_warning() -> None:
    assert rejected("penalty", uscc="", org_code="1922038").field == "org_code"
    (record,), _ = check("penalty", uscc="", org_code=ORG_MISMATCH[:8] + "-" + ORG_MISMATCH[8])
    assert record["org_code"] == ORG_MISMATCH
    assert [w.split(":")[0] for w in record["warnings"]] == ["org_code"]


@pytest.mark.parametrize("reg_no", ["44030012345678", "440300A23456789", "440300123456780"])
def test_odd_registration_numbers_are_kept_with_a_warning(reg_no: str) -> None:
    (record,), rejections = check("registration", uscc="", reg_no=reg_no)
    assert rejections == [] and record["reg_no"] == reg_no
    assert record["warnings"][0].startswith("reg_no: ")


@pytest.mark.parametrize("bad", ["2024-02-30", "2024年2月30日", "２０２４年１３月１日", "2024", "下周一"])
def test_a_bad_date_is_rejected_with_the_original_text(bad: str) -> None:
    rejection = rejected("penalty", decided_on=bad)
    assert rejection.field == "decided_on"
    assert rejection.reason == f"decided_on: not a date: {bad!r}"
    assert rejection.raw["decided_on"] == bad


def test_no_name_and_no_identifier() -> None:
    rejection = rejected("penalty", uscc="无", name="", reg_no="-", org_code="")
    assert rejection.field == "uscc"
    assert "no identifier" in rejection.reason


def test_registration_requires_a_name_even_with_a_uscc() -> None:
    rejection = rejected("registration", name=" ")
    assert (rejection.field, rejection.reason) == ("name", "name: required, but empty")


@pytest.mark.parametrize(
    ("field", "limit"), [("name", 200), ("address", 500), ("former_names", 4000), ("record_key", 200)]
)
def test_over_long_text(field: str, limit: int) -> None:
    rejection = rejected("registration", **{field: "长" * (limit + 1)})
    assert rejection.field == field
    assert f"longer than {limit} characters ({limit + 1})" in rejection.reason


def test_text_at_its_limit_loads() -> None:
    (record,), _ = check("penalty", facts="事" * 4000, decision_no="号" * 200)
    assert len(record["facts"]) == 4000


def test_bad_change_flag() -> None:
    rejection = rejected("abnormal", change="作废")
    assert (rejection.field, rejection.reason) == ("change", "change: '作废' is not one of i, u, d")


@pytest.mark.parametrize(
    ("change", "expected"), [("D", "d"), ("删除", "d"), ("修改", "u"), ("insert", "i")]
)
def test_change_flags_load(change: str, expected: str) -> None:
    (record,), _ = check("licence", change=change)
    assert record["change"] == expected


@pytest.mark.parametrize("amount", ["-5", "-5万元", "-0.01"])
def test_negative_amount(amount: str) -> None:
    rejection = rejected("penalty", fine_amount=amount)
    assert rejection.field == "fine_amount"
    assert repr(amount) in rejection.reason


def test_unreadable_amount_quotes_the_original() -> None:
    rejection = rejected("registration", registered_capital="100万美元")
    assert (rejection.field, rejection.raw["registered_capital"]) == ("registered_capital", "100万美元")
    assert "'100万美元'" in rejection.reason


@pytest.mark.parametrize("year", ["1989", "2999", "0", "二〇二三", "2023.5"])
def test_year_out_of_range_or_not_a_year(year: str) -> None:
    rejection = rejected("annual_report", year=year)
    assert rejection.field == "year"
    assert year in rejection.reason


def test_next_year_is_plausible() -> None:
    next_year = str(date.today().year + 1)
    (record,), _ = check("annual_report", year=next_year)
    assert record["year"] == int(next_year)


def test_bad_enumerations() -> None:
    assert rejected("penalty", severity="很重").field == "severity"
    assert rejected("abnormal", reason_code="5").reason == "reason_code: '5' is not one of 1, 2, 3, 4"


def test_required_field_missing() -> None:
    rejection = rejected("penalty", decision_no="")
    assert (rejection.field, rejection.reason) == ("decision_no", "decision_no: required, but empty")


# --- rejections: first field in kind order, every message, the raw row ----------------------

def test_a_row_with_several_defects_names_them_all_in_field_order() -> None:
    rejection = rejected("penalty", decided_on="2024-02-30", change="X", fine_amount="-1",
                         uscc="91440300192203821")
    assert rejection.field == "change"
    fields = [part.split(":")[0] for part in rejection.reason.split("; ")]
    assert fields == ["change", "uscc", "fine_amount", "decided_on"]


def test_rejection_raw_shows_what_the_regulator_sent_plus_unmapped_columns() -> None:
    rejection = rejected("penalty", uscc=" 9144030019220382１ ", decided_on="2024年2月30日")
    assert rejection.raw["uscc"] == " 9144030019220382１ "
    assert rejection.raw["decided_on"] == "2024年2月30日"
    assert rejection.raw["备注"] == "第0行"
    assert set(KINDS["penalty"].all_fields) <= set(rejection.raw)


def test_rows_keep_their_numbers_and_order() -> None:
    kind = "penalty"
    rows = [good_row(kind), good_row(kind, decided_on="坏"), good_row(kind, decision_no="深市监罚〔2024〕13号")]
    source = rows_frame(kind, rows, first_row=10)
    checked = validate_frame(normalise_frame(source, kind), kind, original=source)
    assert [r["__row__"] for r in checked.records] == [10, 12]
    assert [r.row for r in checked.rejected] == [11]


def test_original_aligned_by_index() -> None:
    kind = "abnormal"
    source = rows_frame(kind, [good_row(kind), good_row(kind, listed_on="无效日期")]).set_axis([5, 9])
    normalised = normalise_frame(source, kind).iloc[::-1]
    (rejection,) = validate_frame(normalised, kind, original=source).rejected
    assert (rejection.row, rejection.raw["listed_on"]) == (3, "无效日期")


def test_validate_without_original_or_name_norm() -> None:
    source = rows_frame("penalty", [good_row("penalty", name="臺灣積體電路製造股份有限公司")])
    (record,) = validate_frame(normalise_frame(source, "penalty").drop(columns="name_norm"), "penalty").records
    assert record["name_norm"] == "台湾积体电路制造股份有限公司"


def test_a_frame_with_only_some_fields() -> None:
    source = pd.DataFrame({"__row__": [2], "raw": [{}], "name": [NAME], "listed_on": ["2024-03-05"]})
    (record,) = validate_frame(source, "abnormal").records
    assert record["listed_on"] == date(2024, 3, 5) and record["change"] == "i"
    assert "reason_code" not in record


def test_undeclared_columns_and_unknown_kinds_fail_loudly() -> None:
    source = pd.DataFrame({"__row__": [2], "raw": [{}], "name": [NAME], "罚款金额": ["1"]})
    with pytest.raises(IngestError, match="罚款金额"):
        validate_frame(source, "penalty")
    with pytest.raises(IngestError, match="unknown record kind"):
        validate_frame(source, "lottery")


# --- property: never raises, every row accounted for exactly once ---------------------------

TEXT = st.one_of(
    st.just(""),
    st.text(max_size=30),
    st.sampled_from(["2024/3/5", "45356", "-5", "1,000元", "９１４４０３００１９２２０３８２１６", "无",
                     "2099-12-31", "D", "罚款", "无法联系", "2023", "长" * 201, "1e400", "NaN"]),
)


@st.composite
def any_frame(draw: st.DrawFn) -> tuple[str, pd.DataFrame]:
    """A kind and a frame of arbitrary text in a random subset of its fields."""
    kind = draw(st.sampled_from(sorted(KINDS)))
    names = draw(st.lists(st.sampled_from(KINDS[kind].all_fields), unique=True))
    size = draw(st.integers(0, 6))
    data: dict[str, object] = {"__row__": list(range(2, size + 2)),
                               "raw": [draw(st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2))
                                       for _ in range(size)]}
    data.update({name: draw(st.lists(TEXT, min_size=size, max_size=size)) for name in names})
    return kind, pd.DataFrame(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(any_frame())
def test_validate_frame_never_raises_and_keeps_every_row_once(case: tuple[str, pd.DataFrame]) -> None:
    kind, source = case
    for frame, original in ((normalise_frame(source, kind), source), (source, None)):
        checked = validate_frame(frame, kind, original=original)
        seen = [r["__row__"] for r in checked.records] + [r.row for r in checked.rejected]
        assert sorted(seen) == source["__row__"].tolist()
        for rejection in checked.rejected:
            assert rejection.reason.startswith(f"{rejection.field}: ")
