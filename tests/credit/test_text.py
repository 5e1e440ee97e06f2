"""Tests for credit.text: the shared name and address normalisation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credit.text import normalise_text, normalise_texts

# Names of the kind real feeds carry, spelled in a mix of widths, scripts and brackets.
CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
TRADITIONAL = st.sampled_from(list("臺灣積體電路製造股份有限公司貿易電機國際薴苧發展銀行"))
NAMEISH = st.text(
    st.one_of(CJK, TRADITIONAL, st.sampled_from(list("（）【】〔〕[]() \u3000\u00a0ＡａA1１-\u0301")))
)
ANY_TEXT = st.one_of(st.text(), NAMEISH)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("臺灣積體電路製造股份有限公司", "台湾积体电路制造股份有限公司"),
        ("華為技術有限公司", "华为技术有限公司"),
        ("ＡＢＣ１２３", "abc123"),
        ("腾讯科技（深圳）有限公司", "腾讯科技(深圳)有限公司"),
        ("【深圳】〔南山〕[科技]（有限）(公司)［分］", "(深圳)(南山)(科技)(有限)(公司)(分)"),
        (" 比亚迪\u3000股份\u00a0有限\t公司\n", "比亚迪股份有限公司"),
        ("ABB(中国)有限公司", "abb(中国)有限公司"),
        ("\ufeff华为\u200b技术", "华为技术"),
        ("Äbc", "Äbc"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalise_text(raw: str | None, expected: str) -> None:
    assert normalise_text(raw) == expected


def test_conversion_chains_reach_a_fixed_point() -> None:
    # OpenCC's t2s maps 薴 to 苧 and 苧 to 苎: one pass would not be idempotent.
    assert normalise_text("薴") == normalise_text("苧") == "苎"


def test_removed_whitespace_does_not_leave_an_uncomposed_mark() -> None:
    assert normalise_text("cafe \u0301") == "café"


def test_batch_on_an_empty_list() -> None:
    assert normalise_texts([]) == []


@given(ANY_TEXT)
def test_normalise_text_is_idempotent(raw: str) -> None:
    once = normalise_text(raw)
    assert normalise_text(once) == once


@given(ANY_TEXT)
def test_output_has_no_whitespace_upper_ascii_or_foreign_brackets(raw: str) -> None:
    result = normalise_text(raw)
    assert not any(c.isspace() or c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ（）【】〔〕[]" for c in result)


@given(st.lists(st.one_of(st.none(), ANY_TEXT), max_size=20))
def test_batch_equals_one_by_one(values: list[str | None]) -> None:
    assert normalise_texts(values) == [normalise_text(value) for value in values]
