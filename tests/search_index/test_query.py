"""Query planning: routes, literal syntax characters, clear refusals."""

from __future__ import annotations

import pytest

from search_index.analysis import ID_PREFIX_MAX
from search_index.engine import AllOf, AnyOf, Node, Phrase, Prefix, Term
from search_index.errors import QueryError
from search_index.query import MAX_DEPTH, MAX_QUERY_CHARS, SearchRequest, plan_search
from tests.factories import new_uscc


def _tokens(node: Node) -> set[str]:
    """Every token the tree searches for."""
    if isinstance(node, Term):
        return {node.value}
    if isinstance(node, Phrase):
        return set(node.tokens)
    if isinstance(node, Prefix):
        return {node.value}
    if isinstance(node, (AllOf, AnyOf)):
        return set().union(*(_tokens(c) for c in node.clauses))
    return _tokens(node.query)


def test_a_uscc_goes_to_the_identifier_fields() -> None:
    uscc = new_uscc(7)
    plan = plan_search(SearchRequest(uscc.lower()))
    assert plan.route == "identifier"
    assert uscc in _tokens(plan.main.match)


def test_a_uscc_prefix_with_spaces_and_full_width_digits_is_an_identifier_prefix() -> None:
    plan = plan_search(SearchRequest("９１４４ 0300"))
    assert plan.route == "identifier"
    assert Prefix(("uscc", "reg_no"), "id_prefix", ID_PREFIX_MAX, "91440300") in plan.main.match.clauses  # type: ignore[union-attr]


def test_query_syntax_characters_are_literal_tokens() -> None:
    plan = plan_search(SearchRequest('华为 AND (技术) OR "公司" * ?'))
    tokens = _tokens(plan.main.match)
    assert {"an", "nd", "(技", "技术", "术)", "\"公", "公司", "司\""} <= tokens
    assert plan.words == ("华为", "and", "(技术)", "or", "\"公司\"")
    assert plan.ignored == ("*", "?")


def test_words_must_all_match() -> None:
    plan = plan_search(SearchRequest("深圳 华为"))
    assert isinstance(plan.main.match, AllOf) and len(plan.main.match.clauses) == 2


def test_traditional_and_full_width_queries_plan_like_their_plain_forms() -> None:
    assert plan_search(SearchRequest("華為（深圳）")).main == plan_search(SearchRequest("华为(深圳)")).main


@pytest.mark.parametrize("q, says", [
    ("", "请输入"), ("   ", "请输入"), ("华", "至少输入两个字"), ("* ?", "至少输入两个字"),
    ("华" * (MAX_QUERY_CHARS + 1), "查询过长"), ("公司" * 1000, "查询过长"),
])
def test_unsearchable_queries_get_a_clear_reason(q: str, says: str) -> None:
    with pytest.raises(QueryError, match=says):
        plan_search(SearchRequest(q))


@pytest.mark.parametrize("request_, says", [
    (SearchRequest("华为", page=0), "页码"), (SearchRequest("华为", per_page=101), "每页"),
    (SearchRequest("华为", page=MAX_DEPTH, per_page=20), "最多翻到"),
    (SearchRequest("华为", region="44a"), "行政区划代码"), (SearchRequest("华为", region="440"), "行政区划代码"),
])
def test_bad_pages_and_filters_are_refused_with_the_reason(request_: SearchRequest, says: str) -> None:
    with pytest.raises(QueryError, match=says):
        plan_search(request_)


def test_a_chinese_query_has_a_sounds_alike_fallback_and_a_latin_one_searches_pinyin() -> None:
    assert plan_search(SearchRequest("花为")).fallback is not None
    latin = plan_search(SearchRequest("hwjs"))
    fields = {c.field for c in latin.main.match.clauses}  # type: ignore[union-attr]
    assert {"py_initials", "py_full", "name"} <= fields
