"""Tokens: bigrams, prefixes, pinyin — the same on both sides of the index."""

from __future__ import annotations

from search_index.analysis import VALUE_BREAK, edge_grams, gram_string, grams, pinyin_full, pinyin_initials


def test_grams_overlap_so_consecutive_grams_spell_the_text() -> None:
    assert grams("华为技术") == ["华为", "为技", "技术"]
    assert grams("华") == ["华"]
    assert grams("") == []


def test_gram_string_breaks_between_values_so_no_phrase_spans_two() -> None:
    tokens = gram_string(["华为", "荣耀终端"]).split()
    assert tokens == ["华为", VALUE_BREAK, "荣耀", "耀终", "终端"]
    assert "为荣" not in tokens


def test_edge_grams_are_prefixes_bounded_by_length() -> None:
    assert edge_grams("深圳华为", 1, 3) == ["深", "深圳", "深圳华"]
    assert edge_grams("440305", 2, 6)[::2] == ["44", "4403", "440305"]


def test_pinyin_full_and_initials_use_phrase_readings() -> None:
    assert pinyin_full("华为技术") == "huaweijishu"
    assert pinyin_initials("华为技术") == "hwjs"
    # 重庆 and 银行 are read by phrase (chong, hang), not by the characters' first readings.
    assert pinyin_full("重庆银行") == "chongqingyinhang"


def test_pinyin_keeps_latin_and_digit_runs_whole_and_drops_punctuation() -> None:
    assert pinyin_initials("tcl科技(深圳)") == "tclkjsz"
    assert pinyin_full("360安全") == "360anquan"


def test_characters_with_one_reading_and_heteronyms_in_one_name() -> None:
    # 长 and 行 each have two readings; the word they stand in decides (长沙 chang, 银行 hang), also
    # beside characters read one by one without segmenting.
    assert pinyin_full("长沙银行股份有限公司") == "changshayinhanggufenyouxiangongsi"
    assert pinyin_initials("长沙银行股份有限公司") == "csyhgfyxgs"
    assert pinyin_full("行长办公室") == "hangzhangbangongshi"
