"""Search end to end: a real store (SQLite and PostgreSQL), a real index on disk, both engines."""

from __future__ import annotations

import random
from datetime import date

import pytest
from sqlalchemy.orm import Session

from credit.entities import EntityIds, ensure_entities
from credit.identifiers import generate_uscc
from credit.listings import ListEntryIn, apply_list_entries
from credit.text import normalise_text
from search_index.analysis import PREFIX_MAX
from search_index.errors import IndexMissing, QueryError
from search_index.index import SearchIndex, SearchPage
from search_index.maintain import rebuild
from search_index.query import PREFIX_SCORE, SearchRequest
from tests.search_index import data


@pytest.fixture
def known(session: Session, index: SearchIndex) -> dict[int, data.Known]:
    """The data set in the store, and the index rebuilt from it."""
    entities = data.build(session)
    rebuild(session, index)
    return entities


def find(index: SearchIndex, q: str, **kw: object) -> SearchPage:
    """A page of up to 100 results."""
    return index.search(SearchRequest(q, per_page=100, **kw))  # type: ignore[arg-type]


def ids(page: SearchPage) -> list[int]:
    """The entity ids of a page, in rank order."""
    return [h.entity_id for h in page.hits]


def test_every_fragment_of_two_or_more_characters_finds_the_name(index: SearchIndex, known: dict) -> None:
    name = known[1].name
    fragments = {name[i:j] for i in range(len(name)) for j in range(i + 2, len(name) + 1)}
    missed = [f for f in sorted(fragments) if known[1].id not in ids(find(index, f))]
    assert missed == []


def test_a_fragment_finds_only_names_that_contain_it(index: SearchIndex, known: dict) -> None:
    # 华为 and 技术 both occur in 深圳市华为技术 and 上海华为技术, but "为技" crosses them.
    assert set(ids(find(index, "为技"))) == {known[1].id, known[7].id}
    assert ids(find(index, "字节跳动科技")) == [known[6].id]


def test_traditional_and_simplified_find_each_other(index: SearchIndex, known: dict) -> None:
    assert known[2].id in ids(find(index, "华为终端"))
    assert set(ids(find(index, "華為技術"))) == {known[1].id, known[7].id}


def test_full_width_and_half_width_find_each_other(index: SearchIndex, known: dict) -> None:
    assert ids(find(index, "tcl科技")) == [known[4].id]
    assert ids(find(index, "ＴＣＬ科技")) == [known[4].id]
    assert ids(find(index, "(深圳)")) == [known[2].id]
    assert ids(find(index, "（深圳）")) == [known[2].id]


@pytest.mark.parametrize("q, seed", [("hwjs", 1), ("huaweijishu", 1), ("cqyh", 5), ("chongqingyinhang", 5),
                                     ("zijietiaodong", 6), ("HWJS", 1), ("ｈｗｊｓ", 1)])
def test_pinyin_initials_and_full_pinyin(index: SearchIndex, known: dict, q: str, seed: int) -> None:
    assert known[seed].id in ids(find(index, q))


def test_former_names_legal_representative_and_address_are_searched(index: SearchIndex, known: dict) -> None:
    assert ids(find(index, "网络技术")) == [known[6].id]
    assert ids(find(index, "任正非")) == [known[1].id]
    assert ids(find(index, "坂田")) == [known[1].id]


def test_identifiers_in_any_spelling_go_straight_to_the_entity(index: SearchIndex, known: dict) -> None:
    uscc = known[1].uscc
    spaced = " ".join([uscc[:6].lower(), uscc[6:12], uscc[12:]])
    for q in (uscc, spaced, uscc[8:16] + "-" + uscc[16]):
        page = find(index, q)
        assert (page.route, ids(page)) == ("identifier", [known[1].id]), q
    assert ids(find(index, known[0].reg_no)) == [known[0].id]


def test_uscc_and_registration_number_prefixes(index: SearchIndex, known: dict) -> None:
    shenzhen = {k.id for s, k in known.items() if s in (1, 2, 3, 8, 9)}
    page = find(index, known[1].uscc[:8])  # authority, type and division 440300
    assert page.route == "identifier" and shenzhen <= set(ids(page))
    assert known[4].id not in ids(page)
    assert known[1].id in ids(find(index, known[1].uscc[:14]))
    assert known[0].id in ids(find(index, known[0].reg_no[:10]))


@pytest.mark.parametrize("q, seed", [('"测试"', 8), ("号*问号?", 9), ("(and)", 9), ("AND)贸易", 9)])
def test_query_syntax_characters_are_taken_literally(index: SearchIndex, known: dict, q: str, seed: int) -> None:
    assert ids(find(index, q)) == [known[seed].id]


@pytest.mark.parametrize("q", ["AND OR NOT", "name:华为", "华为~2", "[华为 TO 中兴]", "华为^10", "\\\\ //"])
def test_syntax_of_either_engine_never_errors(index: SearchIndex, known: dict, q: str) -> None:
    find(index, q)  # no exception: the words are searched as text (mostly finding nothing)
    assert find(index, "name:华为").total == 0


def test_several_words_must_all_match(index: SearchIndex, known: dict) -> None:
    assert set(ids(find(index, "华为 技术"))) == {known[1].id, known[7].id}
    assert ids(find(index, "华为 深圳 技术")) == [known[1].id]
    assert ids(find(index, "华为 重庆")) == []


def test_exact_name_then_prefix_then_relevance_operating_before_deregistered(index: SearchIndex,
                                                                              known: dict) -> None:
    order = ids(find(index, "华为"))
    assert order[0] == known[3].id  # the exact name wins although it is deregistered
    assert order[1] == known[2].id  # 華為終端… starts with the query
    assert order.index(known[1].id) < order.index(known[7].id)  # operating before revoked
    assert find(index, "华为").hits[0].highlights == ((0, 2),)


def test_the_prefix_tier_holds_for_queries_longer_than_the_indexed_prefixes(index: SearchIndex,
                                                                           known: dict) -> None:
    """Name prefixes are indexed up to PREFIX_MAX characters; a longer query's tier is the names
    that start with all of it, syntax characters included, and not those holding it elsewhere."""
    for q, seed in (("深圳市华为技术有限", 1), ("星号*问号?(AND)贸易", 9)):
        assert len(normalise_text(q)) > PREFIX_MAX
        (hit,) = find(index, q).hits
        assert (hit.entity_id, hit.score >= PREFIX_SCORE) == (known[seed].id, True), q
    (inside,) = find(index, "市华为技术有限公司").hits
    assert (inside.entity_id, inside.score < PREFIX_SCORE) == (known[1].id, True)


def test_operating_first_breaks_ties_but_never_outranks_relevance(index: SearchIndex, session: Session) -> None:
    rng = random.Random(3)
    made = {}
    # Equal names but for one character, the deregistered ones first (lower ids, earlier documents).
    for key, name, status, address in (("closed", "深圳市星河商贸有限公司", "注销", None),
                                       ("closed-2", "深圳市云河商贸有限公司", "注销", "深圳市福田区星河商贸大厦"),
                                       ("open", "深圳市月河商贸有限公司", "存续", None)):
        entity_id = ensure_entities(session, [EntityIds(uscc=generate_uscc(rng, division_code="440300"))])[0].entity_id
        attributes = {"name": name, "status": status} | ({"address": address} if address else {})
        data.claim(session, entity_id, **attributes)
        made[key] = entity_id
    session.commit()
    rebuild(session, index)
    page = find(index, "河商贸")
    # The deregistered one whose address matches too is more relevant: first, although deregistered.
    assert ids(page)[0] == made["closed-2"]
    # The other two score the same: the operating one comes first.
    assert ids(page)[1:] == [made["open"], made["closed"]]
    assert page.hits[1].score > page.hits[2].score


def test_filters_region_industry_status_and_flags(index: SearchIndex, known: dict, session: Session) -> None:
    assert ids(find(index, "有限公司", region="50")) == [known[5].id]
    assert ids(find(index, "有限公司", region="4403")) == ids(find(index, "有限公司", region="440300"))
    assert set(ids(find(index, "有限公司", industry="制造业"))) == {known[2].id, known[4].id}
    assert set(ids(find(index, "华为", status="inactive"))) == {known[3].id, known[7].id}
    assert ids(find(index, "华为", status="吊销")) == [known[7].id]
    assert ids(find(index, "有限公司", flags=("abnormal",))) == []
    apply_list_entries(session, [ListEntryIn(known[5].id, "abnormal", "samr-abnormal", "L1",
                                             listed_on=date(2025, 3, 1), reason="通过登记的住所无法联系")])
    session.commit()
    from search_index.maintain import sync

    sync(session, index)
    page = find(index, "有限公司", flags=("abnormal",))
    assert ids(page) == [known[5].id] and page.hits[0].flags == ("abnormal",)


def test_pages_cover_every_hit_once_with_the_same_total(index: SearchIndex, known: dict) -> None:
    everything = find(index, "有限公司")
    pages = [index.search(SearchRequest("有限公司", page=p, per_page=2)) for p in range(1, 6)]
    assert {p.total for p in pages} == {everything.total} and everything.total == 8
    assert [i for p in pages for i in ids(p)] == ids(everything)
    assert pages[-1].hits == []


def test_a_homophone_typo_finds_the_name_as_an_approximate_answer(index: SearchIndex, known: dict) -> None:
    page = find(index, "花为技术")
    assert page.approximate and known[1].id in ids(page)
    assert not find(index, "华为技术").approximate


def test_unsearchable_queries_raise_query_error_not_engine_errors(index: SearchIndex, known: dict) -> None:
    for q in ("", "华", "华" * 500):
        with pytest.raises(QueryError):
            find(index, q)


def test_searching_before_any_build_says_how_to_build(index: SearchIndex) -> None:
    with pytest.raises(IndexMissing, match="gongxin index rebuild"):
        find(index, "华为")
