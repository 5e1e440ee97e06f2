"""Contract tests of the engine protocol (search_index.engine), run against each engine on disk.

Both engines must answer every query tree the same way, so each test runs once per engine on a
real index directory. Tokens are written as `search_index.analysis` would make them: names as
bigrams, prefixes as edge grams, keywords whole.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from search_index.engine import (
    AllOf, AnyOf, Const, Engine, EngineReader, IndexDoc, Node, Phrase, Prefix, Ranked, RawPage, Term,
)
from search_index.engines import get_engine

ENGINE_NAMES = ["whoosh", "tantivy"]


def grams(text: str) -> str:
    """The bigram tokens of ``text`` (the text itself when shorter than two characters)."""
    return " ".join(text[i:i + 2] for i in range(len(text) - 1)) if len(text) > 1 else text


def make_doc(entity_id: int, name: str, *, uscc: str = "", region: str = "44 4403", status: str = "存续",
             address: str = "", **extra: str) -> IndexDoc:
    """An entity's document with Chinese name grams, name prefixes and keyword fields."""
    fields = {"id": str(entity_id), "name_exact": name, "name": grams(name),
              "name_prefix": " ".join(name[:n] for n in range(1, len(name) + 1)), "region": region,
              "status": status, "active": "0" if status == "注销" else "1", "uscc": uscc,
              "other": grams(address), **extra}
    stored = {"id": entity_id, "name": name, "uscc": uscc or None, "status": status, "flags": []}
    return IndexDoc(entity_id, {k: v for k, v in fields.items() if v}, stored)


COMPANIES = [
    make_doc(1, "深圳市华为技术有限公司", uscc="914403001922038216", address="深圳市龙岗区坂田华为基地"),
    make_doc(2, "华为终端有限公司", uscc="91441900615346290T", region="44 4419"),
    make_doc(3, "北京小米科技有限责任公司", uscc="91110108551385082Q", region="11 1101", address="北京市海淀区"),
    make_doc(4, "深圳市腾讯计算机系统有限公司", uscc="91440300708461136T", status="注销", flags="blacklist"),
]


@pytest.fixture(params=ENGINE_NAMES)
def search_engine(request: pytest.FixtureRequest) -> Engine:
    """Each engine in turn (not called `engine`: tests/conftest.py has a database engine fixture)."""
    return get_engine(request.param)


@pytest.fixture
def index_dir(search_engine: Engine, tmp_path: Path) -> Path:
    """A new, empty index, in a directory whose parents did not exist."""
    path = tmp_path / "indexes" / "v1"
    search_engine.create(path)
    return path


@pytest.fixture
def filled(search_engine: Engine, index_dir: Path) -> Path:
    """The index holding the four companies, committed."""
    write(search_engine, index_dir, COMPANIES)
    return index_dir


def write(engine: Engine, path: Path, docs: list[IndexDoc], deletes: tuple[int, ...] = ()) -> None:
    """Upsert ``docs``, delete ``deletes`` and commit, with a writer dropped on return."""
    writer = engine.writer(path)
    writer.upsert(docs)
    writer.delete(list(deletes))
    writer.commit()


def search(reader: EngineReader, match: Node, boosts: tuple[Node, ...] = (), filters: tuple[Node, ...] = (),
           offset: int = 0, limit: int = 100) -> RawPage:
    """One page of a ranked search."""
    return reader.search(Ranked(match, boosts, filters), offset, limit)


def ids(reader: EngineReader, match: Node, **kwargs: Any) -> list[int]:
    """The entity ids of the hits, best first; checks the total agrees with the hits."""
    page = search(reader, match, **kwargs)
    assert page.total == len(page.hits)
    return [h.entity_id for h in page.hits]


@pytest.fixture
def reader(search_engine: Engine, filled: Path) -> Iterator[EngineReader]:
    """A reader on the four companies."""
    opened = search_engine.reader(filled)
    yield opened
    opened.close()


def test_empty_index_searches_to_nothing(search_engine: Engine, index_dir: Path) -> None:
    opened = search_engine.reader(index_dir)
    assert opened.count() == 0
    assert search(opened, Term("name", "华为")) == RawPage(0, [])
    opened.close()


def test_committed_documents_are_found_with_their_stored_json(reader: EngineReader) -> None:
    assert reader.count() == 4
    page = search(reader, Term("name_exact", "深圳市华为技术有限公司"))
    assert page.total == 1
    (hit,) = page.hits
    assert hit.entity_id == 1
    assert hit.stored == COMPANIES[0].stored


def test_keywords_match_whole_and_unchanged(reader: EngineReader) -> None:
    assert ids(reader, Term("uscc", "91440300708461136T")) == [4]
    assert ids(reader, Term("uscc", "91440300708461136t")) == []  # never lower-cased
    assert ids(reader, Term("uscc", "914403007084")) == []
    assert ids(reader, Term("name_exact", "华为终端")) == []
    assert sorted(ids(reader, Term("active", "1"))) == [1, 2, 3]
    assert ids(reader, Term("status", "注销")) == [4]
    assert ids(reader, Term("id", "3")) == [3]


def test_token_fields_match_each_token(reader: EngineReader) -> None:
    assert sorted(ids(reader, Term("name_prefix", "深圳市"))) == [1, 4]
    assert ids(reader, Term("name_prefix", "华为终")) == [2]
    assert sorted(ids(reader, Term("region", "44"))) == [1, 2, 4]
    assert ids(reader, Term("region", "4419")) == [2]
    assert ids(reader, Term("flags", "blacklist")) == [4]


def test_missing_fields_match_nothing(reader: EngineReader) -> None:
    assert ids(reader, Term("other", "北京")) == [3]
    assert ids(reader, Term("reg_no", "")) == []
    assert ids(reader, Term("flags", "")) == []


def test_phrase_matches_only_consecutive_grams(reader: EngineReader) -> None:
    assert ids(reader, Phrase("name", ("华为", "为技"))) == [1]
    assert ids(reader, Phrase("name", ("市华", "华为", "为技", "技术"))) == [1]
    # Long phrases: every gram present in name 1 and 4, but only name 1 holds them in a row.
    assert ids(reader, Phrase("name", ("深圳", "圳市", "市华", "华为"))) == [1]
    assert ids(reader, Phrase("name", ("深圳", "圳市", "市腾", "腾讯"))) == [4]
    assert ids(reader, Phrase("name", ("圳市", "市华", "华为", "为终"))) == []
    assert ids(reader, Phrase("name", ("有限", "限公", "公司"))) and ids(reader, Phrase("name", ("有限", "限公", "公华"))) == []
    assert ids(reader, Phrase("name", ("深圳", "市华", "为技"))) == []  # not one text's grams: no position fits
    assert ids(reader, Phrase("name", ("深圳", "华为"))) == []  # both present, not adjacent
    assert ids(reader, Phrase("name", ("为技", "华为"))) == []  # adjacent, wrong order
    assert ids(reader, AllOf((Term("name", "深圳"), Term("name", "华为")))) == [1]
    assert sorted(ids(reader, Phrase("name", ("华为",)))) == [1, 2]
    assert ids(reader, Phrase("other", ("华为", "为基"))) == [1]


def test_any_of_and_all_of(reader: EngineReader) -> None:
    assert sorted(ids(reader, AnyOf((Term("name", "小米"), Term("name", "腾讯"))))) == [3, 4]
    assert sorted(ids(reader, AllOf((Term("name", "有限"), Term("region", "4403"))))) == [1, 4]
    assert ids(reader, AllOf((Term("name", "小米"), Term("name", "腾讯")))) == []
    nested = AllOf((Term("region", "44"), AnyOf((Term("name", "终端"), Term("status", "注销")))))
    assert sorted(ids(reader, nested)) == [2, 4]


def test_const_scores_exactly_and_scores_add_up(reader: EngineReader) -> None:
    (hit,) = search(reader, Const(Term("name_exact", "华为终端有限公司"), 7.5)).hits
    assert (hit.entity_id, hit.score) == (2, 7.5)
    either = AnyOf((Const(Term("region", "44"), 2.0), Const(Term("active", "1"), 3.0)))
    assert {h.entity_id: h.score for h in search(reader, either).hits} == {1: 5.0, 2: 5.0, 3: 3.0, 4: 2.0}
    both = AllOf((Const(Term("region", "44"), 2.0), Const(Term("active", "1"), 3.0)))
    assert {h.entity_id: h.score for h in search(reader, both).hits} == {1: 5.0, 2: 5.0}


def test_term_boost_multiplies_the_score(reader: EngineReader) -> None:
    (plain,) = search(reader, Term("name", "小米")).hits
    (boosted,) = search(reader, Term("name", "小米", boost=2.0)).hits
    assert plain.score > 0
    assert boosted.score == pytest.approx(2 * plain.score, rel=1e-5)


def test_boosts_reorder_without_adding_hits(reader: EngineReader) -> None:
    everyone = Term("name", "有限")
    baseline = ids(reader, everyone)
    assert sorted(baseline) == [1, 2, 3, 4]
    last = baseline[-1]
    page = search(reader, everyone, boosts=(Const(Term("id", str(last)), 1e6), Term("name", "不存在")))
    assert page.total == 4
    assert [h.entity_id for h in page.hits] == [last] + baseline[:-1]
    assert page.hits[0].score >= 1e6
    assert [h.score for h in page.hits] == sorted((h.score for h in page.hits), reverse=True)
    assert sorted(ids(reader, Term("name", "华为"), boosts=(Term("name", "小米"),))) == [1, 2]


def test_filters_restrict_without_changing_scores(reader: EngineReader) -> None:
    everyone = Term("name", "有限")
    unfiltered = [(h.entity_id, h.score) for h in search(reader, everyone).hits]
    filtered = [(h.entity_id, h.score) for h in
                search(reader, everyone, filters=(Term("region", "4403"), Term("name", "有限"))).hits]
    assert filtered == [pair for pair in unfiltered if pair[0] in (1, 4)]
    (hit,) = search(reader, Const(Term("id", "1"), 7.5), filters=(Term("name", "华为"),)).hits
    assert hit.score == 7.5
    assert ids(reader, everyone, filters=(Term("region", "4403"), Term("active", "1"))) == [1]


def test_pages_and_exact_totals(search_engine: Engine, index_dir: Path) -> None:
    docs = [make_doc(i, f"测试{i:02d}号商贸有限公司") for i in range(1, 26)]
    write(search_engine, index_dir, docs)
    opened = search_engine.reader(index_dir)
    ranked = AnyOf(tuple(Const(Term("id", str(i)), float(i)) for i in range(1, 26)))
    pages = [search(opened, ranked, offset=offset, limit=10) for offset in (0, 10, 20, 30)]
    assert [p.total for p in pages] == [25, 25, 25, 25]
    assert [[h.entity_id for h in p.hits] for p in pages] == [
        list(range(25, 15, -1)), list(range(15, 5, -1)), list(range(5, 0, -1)), []]
    assert all(h.score == h.entity_id for p in pages for h in p.hits)
    assert search(opened, ranked, offset=0, limit=0) == RawPage(25, [])
    assert search(opened, Term("name", "商贸"), limit=3).total == 25
    opened.close()


def test_a_count_limit_may_bound_the_total_but_never_loses_a_tier(search_engine: Engine, index_dir: Path) -> None:
    """An engine may stop counting after ``count_to`` matches (Whoosh does); a document of a
    boost tier is found wherever it sits in the index, and a lower-bound total says so."""
    docs = [make_doc(i, f"测试{i:02d}号商贸有限公司") for i in range(1, 31)] + [make_doc(31, "商贸有限公司")]
    write(search_engine, index_dir, docs)
    opened = search_engine.reader(index_dir)
    match = Phrase("name", ("商贸", "贸有", "有限"))
    # The prefix tier as an indexed token, and as a search of the names longer than the indexed prefixes.
    for prefix in (Const(Term("name_prefix", "商贸有限公司"), 1e5),
                   Const(Prefix(("name_exact",), "name_prefix", 4, "商贸有限公司"), 1e5)):
        ranked = Ranked(match, (Const(Term("name_exact", "商贸有限公司"), 1e6), prefix))
        counted = opened.search(ranked, 0, 3, count_to=5)
        assert [h.entity_id for h in counted.hits][:1] == [31] and len(counted.hits) == 3
        assert (counted.total, counted.total_exact) in ((31, True), (5, False))
        full = opened.search(ranked, 0, 3)
        assert (full.total, full.total_exact, full.hits[0].entity_id) == (31, True, 31)
        prefix_only = opened.search(Ranked(match, (prefix,)), 0, 3, count_to=5)
        assert prefix_only.hits[0].entity_id == 31 and prefix_only.hits[0].score >= 1e5
    few = opened.search(ranked, 0, 3, count_to=31)
    assert (few.total, few.total_exact) == (31, True)  # all counted: exact, whatever the engine
    opened.close()


def test_upsert_replaces_the_document(search_engine: Engine, filled: Path) -> None:
    renamed = make_doc(1, "深圳市华为投资控股有限公司")
    write(search_engine, filled, [renamed])
    opened = search_engine.reader(filled)
    assert opened.count() == 4
    assert ids(opened, Term("name_exact", "深圳市华为投资控股有限公司")) == [1]
    assert ids(opened, Term("name_exact", "深圳市华为技术有限公司")) == []
    assert ids(opened, Phrase("name", ("华为", "为技"))) == []
    assert ids(opened, Term("uscc", "914403001922038216")) == []
    assert opened.stored_by_ids([1]) == {1: renamed.stored}
    opened.close()


def test_one_writer_takes_many_batches_and_repeated_ids(search_engine: Engine, index_dir: Path) -> None:
    for bulk in (True, False):
        writer = search_engine.writer(index_dir, bulk=bulk)
        writer.upsert([make_doc(i, f"批次{i}有限公司") for i in range(1, 101)])
        writer.upsert([make_doc(i, f"更新{i}有限公司") for i in range(90, 111)])
        writer.upsert([make_doc(200, "第一版公司"), make_doc(200, "第二版公司")])
        writer.commit()
        del writer
    opened = search_engine.reader(index_dir)
    assert opened.count() == 111
    assert search(opened, Term("name", "批次")).total == 89
    assert search(opened, Term("name", "更新")).total == 21
    assert ids(opened, Term("id", "200")) == [200]
    assert opened.stored_by_ids([200])[200]["name"] == "第二版公司"
    opened.close()


def test_add_writes_new_documents_for_a_bulk_build(search_engine: Engine, index_dir: Path) -> None:
    writer = search_engine.writer(index_dir, bulk=True)
    writer.add([make_doc(i, f"新建{i}有限公司") for i in range(1, 51)])
    writer.add([make_doc(i, f"第二批{i}有限公司") for i in range(51, 61)])
    writer.commit()
    writer.close()
    opened = search_engine.reader(index_dir)
    assert opened.count() == 60
    assert search(opened, Term("name", "新建")).total == 50 and search(opened, Term("name", "二批")).total == 10
    assert opened.stored_by_ids([7, 55]) == {7: make_doc(7, "新建7有限公司").stored,
                                               55: make_doc(55, "第二批55有限公司").stored}
    # Upserts after a bulk build still replace what the build added.
    writer = search_engine.writer(index_dir)
    writer.upsert([make_doc(7, "改名7有限公司")])
    writer.commit()
    writer.close()
    opened.close()
    opened = search_engine.reader(index_dir)
    assert opened.count() == 60 and ids(opened, Term("id", "7")) == [7]
    assert opened.stored_by_ids([7])[7]["name"] == "改名7有限公司"
    opened.close()


def test_delete_removes_and_ignores_absent_ids(search_engine: Engine, filled: Path) -> None:
    write(search_engine, filled, [], deletes=(2, 999))
    opened = search_engine.reader(filled)
    assert opened.count() == 3
    assert ids(opened, Term("name", "华为")) == [1]
    assert ids(opened, Phrase("name", ("华为", "为终", "终端"))) == []  # a long phrase too
    assert opened.stored_by_ids([2]) == {}
    opened.close()


def test_cancel_drops_uncommitted_changes(search_engine: Engine, filled: Path) -> None:
    writer = search_engine.writer(filled)
    writer.upsert([make_doc(10, "未提交有限公司"), make_doc(1, "改名有限公司")])
    writer.delete([3])
    writer.cancel()
    writer.upsert([make_doc(11, "取消后有限公司")])
    writer.commit()
    del writer
    opened = search_engine.reader(filled)
    assert opened.count() == 5
    assert ids(opened, Term("name_exact", "未提交有限公司")) == []
    assert ids(opened, Term("name_exact", "深圳市华为技术有限公司")) == [1]
    assert ids(opened, Term("id", "3")) == [3]
    assert ids(opened, Term("name_exact", "取消后有限公司")) == [11]
    opened.close()


def test_close_without_commit_drops_what_was_not_committed(search_engine: Engine, filled: Path) -> None:
    writer = search_engine.writer(filled)
    writer.upsert([make_doc(12, "关闭前未提交有限公司"), make_doc(1, "关闭前改名有限公司")])
    writer.delete([3])
    writer.close()
    opened = search_engine.reader(filled)
    assert opened.count() == 4
    assert ids(opened, Term("name_exact", "关闭前未提交有限公司")) == []
    assert ids(opened, Term("name_exact", "深圳市华为技术有限公司")) == [1]
    assert ids(opened, Term("id", "3")) == [3]
    opened.close()
    again = search_engine.writer(filled)  # the lock was released
    again.close()


def test_stored_by_ids(reader: EngineReader) -> None:
    assert reader.stored_by_ids(iter([3, 1, 999])) == {1: COMPANIES[0].stored, 3: COMPANIES[2].stored}
    assert reader.stored_by_ids([]) == {}


def test_reader_keeps_its_version_across_a_commit(search_engine: Engine, filled: Path) -> None:
    before = search_engine.reader(filled)
    write(search_engine, filled, [make_doc(5, "阿里巴巴网络技术有限公司")], deletes=(1,))
    assert before.count() == 4
    assert ids(before, Term("name", "阿里")) == []
    assert ids(before, Term("id", "1")) == [1]
    assert before.stored_by_ids([1, 5]) == {1: COMPANIES[0].stored}
    after = search_engine.reader(filled)
    assert after.count() == 4
    assert ids(after, Term("name", "阿里")) == [5]
    assert ids(after, Term("id", "1")) == []
    before.close()
    after.close()


def test_a_short_prefix_is_an_indexed_token_and_a_long_one_searches_the_values(search_engine: Engine,
                                                                               index_dir: Path) -> None:
    """Prefixes are indexed up to ``indexed`` characters (here 4, as documents index 8 and 12):
    longer ones must still find exactly the values that start with them, whatever characters
    they hold, in every field named, and never a value that holds them elsewhere."""
    names = ["深圳市华为技术有限公司", "深圳市华为终端有限公司", "深圳市华(为).*+?[技术]{1}|^$\\有限公司",
             "前海深圳市华为技术服务有限公司"]
    docs = [make_doc(i + 1, n, name_prefix=" ".join(n[:k] for k in range(1, 5))) for i, n in enumerate(names)]
    docs.append(make_doc(5, "华为终端（东莞）有限公司", uscc="91441900615346290T", reg_no="441900000123456",
                         id_prefix="914419 9144190 4419000 44190000"))
    write(search_engine, index_dir, docs)
    opened = search_engine.reader(index_dir)

    def starts(value: str, fields: tuple[str, ...] = ("name_exact",), edges: str = "name_prefix") -> list[int]:
        return sorted(ids(opened, Prefix(fields, edges, 4, value)))

    assert starts("深圳市华") == [1, 2, 3]  # an indexed token
    assert starts("深圳市华为技术") == [1]
    assert starts("深圳市华为") == [1, 2]
    assert starts("深圳市华(为).*+?[技术]{1}|^$\\") == [3]
    assert starts("深圳市华.") == starts("深圳市华为技术.*") == []  # metacharacters are literal
    assert starts("深圳市华为技术有限公司") == [1]
    assert starts("深圳市华为技术有限公司分") == []
    ids_fields = ("uscc", "reg_no")
    assert starts("9144190061534", ids_fields, "id_prefix") == starts("44190000012", ids_fields, "id_prefix") == [5]
    assert starts("914419", ids_fields, "id_prefix") == [5]
    assert starts("9144190061535", ids_fields, "id_prefix") == []
    tiered = search(opened, Term("name", "华为"), (Const(Prefix(("name_exact",), "name_prefix", 4, "深圳市华为"), 1e5),))
    assert sorted(h.entity_id for h in tiered.hits[:2]) == [1, 2] and tiered.hits[2].score < 1e5
    opened.close()


def test_unknown_tokens_match_nothing(reader: EngineReader) -> None:
    assert ids(reader, Term("name", "不存")) == []
    assert ids(reader, Phrase("name", ("不存", "存在"))) == []
    assert ids(reader, Phrase("name", ("华为", "不存"))) == []
    assert ids(reader, Term("uscc", "000000000000000000")) == []
    assert ids(reader, AnyOf((Term("name", "小米"), Term("name", "不存")))) == [3]
    assert ids(reader, Term("name", "华为"), filters=(Term("flags", "nosuchlist"),)) == []


def test_a_64_character_token_round_trips(search_engine: Engine, index_dir: Path) -> None:
    name = "深圳前海微众银行股份有限公司" * 4 + "数字科技广东分部"  # 64 characters
    spelled = ("shenzhenqianhaiweizhongyinhang" * 3)[:64]
    assert len(name) == len(spelled) == 64
    doc = make_doc(7, name, py_full=f"{spelled} fenbu")
    write(search_engine, index_dir, [doc])
    opened = search_engine.reader(index_dir)
    assert ids(opened, Term("name_exact", name)) == [7]
    assert ids(opened, Term("name_exact", name[:63])) == []
    assert ids(opened, Term("name_prefix", name)) == [7]
    assert ids(opened, Term("name_prefix", name[:63])) == [7]
    assert ids(opened, Phrase("py_full", (spelled, "fenbu"))) == [7]
    assert ids(opened, Term("py_full", spelled[:63])) == []
    opened.close()


def test_threads_share_one_reader(reader: EngineReader) -> None:
    queries = {Phrase("name", ("华为", "为技")): [1], Term("region", "1101"): [3], Term("status", "注销"): [4]}
    failures: list[str] = []

    def run() -> None:
        for _ in range(30):
            for query, expected in queries.items():
                got = ids(reader, query)
                if got != expected:
                    failures.append(f"{query}: {got}")
            if reader.stored_by_ids([2]) != {2: COMPANIES[1].stored}:
                failures.append("stored_by_ids")

    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_a_whoosh_bulk_write_never_forks_beside_other_threads(tmp_path: Path) -> None:
    # A fork copies only the calling thread; a lock another thread held stays locked in the
    # child. With another thread alive the bulk writer works alone, and its documents arrive.
    from whoosh.multiproc import MpWriter

    engine = get_engine("whoosh")
    engine.create(tmp_path / "idx")
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        writer = engine.writer(tmp_path / "idx", bulk=True)
        writer.upsert([make_doc(1, "深圳市线程测试科技有限公司")])
        assert not isinstance(writer._current(), MpWriter)
        writer.commit()
    finally:
        release.set()
        other.join()
    reader = engine.reader(tmp_path / "idx")
    try:
        assert reader.count() == 1
    finally:
        reader.close()
