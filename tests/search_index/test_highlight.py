"""Highlights map a normalised match back onto the name as displayed."""

from __future__ import annotations

from search_index.highlight import highlight_spans


def test_spans_of_a_simplified_word_in_a_traditional_name() -> None:
    name = "華為終端（深圳）有限公司"
    assert highlight_spans(name, ["华为"]) == [(0, 2)]
    assert [name[a:b] for a, b in highlight_spans(name, ["(深圳)"])] == ["（深圳）"]


def test_overlapping_and_repeated_matches_merge() -> None:
    name = "深圳市深圳湾科技有限公司"
    assert highlight_spans(name, ["深圳", "圳湾"]) == [(0, 2), (3, 6)]


def test_full_width_letters_match_a_lower_case_query() -> None:
    name = "ＴＣＬ科技集团股份有限公司"
    assert highlight_spans(name, ["tcl科技"]) == [(0, 5)]


def test_no_words_no_spans() -> None:
    assert highlight_spans("华为技术有限公司", []) == []
