"""Keeping the index in step: sync from the change log, rebuild beside the live index, check, one writer."""

from __future__ import annotations

import gc
import threading
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from search_index.errors import IndexBusy, IndexMismatch
from search_index.index import SearchIndex
from search_index.layout import SCHEMA_VERSION
from search_index.maintain import check, rebuild, sync
from search_index.producer import REBUILD_GC_THRESHOLD
from search_index.query import SearchRequest
from tests.factories import make_entity
from tests.search_index import data


def names(index: SearchIndex, q: str, **kw: object) -> list[str]:
    """Names found for ``q``."""
    return [h.name for h in index.search(SearchRequest(q, per_page=100, **kw)).hits]  # type: ignore[arg-type]


def test_sync_builds_a_missing_index_then_applies_creates(session: Session, index: SearchIndex) -> None:
    data.build(session)
    first = sync(session, index)
    assert first.rebuilt and index.reader().count() == len(data.ENTITIES) + 1
    make_entity(session, 50, name="深圳市腾讯计算机系统有限公司", status="存续")
    session.commit()
    assert names(index, "腾讯") == []  # not before the sync
    report = sync(session, index)
    assert not report.rebuilt and report.updated == 1 and report.deleted == 0
    assert names(index, "腾讯") == ["深圳市腾讯计算机系统有限公司"]
    assert sync(session, index).changes == 0  # nothing new: nothing done


def test_sync_applies_renames_and_deregistrations(session: Session, index: SearchIndex) -> None:
    known = data.build(session)
    rebuild(session, index)
    data.claim(session, known[1].id, _seen=60, name="深圳市华为数字技术有限公司", status="注销")
    session.commit()
    sync(session, index)
    assert names(index, "数字技术") == ["深圳市华为数字技术有限公司"]
    assert "深圳市华为技术有限公司" not in names(index, "华为技术")
    assert "深圳市华为数字技术有限公司" in names(index, "华为", status="inactive")
    assert check(session, index, seed=3).ok


def test_check_reports_an_index_behind_the_store(session: Session, index: SearchIndex) -> None:
    known = data.build(session)
    rebuild(session, index)
    data.claim(session, known[5].id, _seen=60, name="重庆农村商业银行股份有限公司")
    make_entity(session, 51, name="成都新希望集团有限公司")
    session.commit()
    report = check(session, index, sample=500, seed=1)
    assert not report.ok
    assert report.store_entities == report.index_documents + 1
    assert any("change log" in d for d in report.differences)
    assert any(f"entity {known[5].id} differs in name" in d for d in report.differences)
    assert any("成都新希望" in d and "missing" in d for d in report.differences)
    sync(session, index)
    assert check(session, index, sample=500, seed=1).ok


def test_rebuild_swaps_in_a_new_version_while_another_thread_searches(session: Session,
                                                                      index: SearchIndex) -> None:
    data.build(session)
    rebuild(session, index)
    first_version = index.layout.current()
    errors: list[BaseException] = []
    totals: set[int] = set()
    stop = threading.Event()

    def search_until_stopped() -> None:
        while not stop.is_set():
            try:
                totals.add(index.search(SearchRequest("华为")).total)
            except BaseException as exc:  # noqa: BLE001 - collected for the assertion below
                errors.append(exc)
                return

    thread = threading.Thread(target=search_until_stopped)
    thread.start()
    try:
        for _ in range(3):
            rebuild(session, index)
    finally:
        stop.set()
        thread.join()
    assert errors == [] and totals == {4}
    assert index.layout.current() != first_version
    versions = [p for p in index.layout.root.iterdir() if p.is_dir()]
    assert len(versions) == 2  # the live one and the one before; older ones removed


def test_a_second_writer_waits_then_fails_clearly(session: Session, index: SearchIndex) -> None:
    data.build(session)
    rebuild(session, index)
    with index.layout.writing():
        with pytest.raises(IndexBusy, match=r"being written by pid \d+"):
            sync(session, index, wait=0.3)


def test_an_index_built_by_the_other_engine_asks_for_a_rebuild(session: Session, index: SearchIndex,
                                                                tmp_path: Path) -> None:
    data.build(session)
    rebuild(session, index)
    other = "tantivy" if index.engine.name == "whoosh" else "whoosh"
    with pytest.raises(IndexMismatch, match="gongxin index rebuild"):
        SearchIndex(index.layout.root, other).search(SearchRequest("华为"))
    rebuilt = SearchIndex(index.layout.root, other)
    rebuild(session, rebuilt)
    assert rebuilt.search(SearchRequest("华为")).total == 4
    rebuilt.close()


def test_sync_rebuilds_an_index_of_an_older_schema(session: Session, index: SearchIndex) -> None:
    data.build(session)
    rebuild(session, index)
    meta = index.layout.current() / "meta.json"  # now as the previous release would have written it
    meta.write_text(meta.read_text().replace(f'"schema": {SCHEMA_VERSION}', f'"schema": {SCHEMA_VERSION - 1}'))
    index.close()
    with pytest.raises(IndexMismatch, match="gongxin index rebuild"):
        index.search(SearchRequest("华为"))
    report = sync(session, index)  # what `make run` and every ingest job call
    assert report.rebuilt and index.search(SearchRequest("华为")).total == 4


def test_a_failed_rebuild_leaves_the_live_index_serving(session: Session, index: SearchIndex,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    data.build(session)
    rebuild(session, index)
    live = index.layout.current()

    def broken(*_args: object, **_kw: object) -> object:
        raise RuntimeError("store went away")

    monkeypatch.setattr("search_index.maintain.iter_documents", broken)
    collector = gc.get_threshold()
    with pytest.raises(RuntimeError):
        rebuild(session, index)
    assert index.layout.current() == live
    assert gc.get_threshold() == collector
    assert index.search(SearchRequest("华为")).total == 4


def test_a_rebuild_runs_the_garbage_collector_less_often_then_restores_it(session: Session,
                                                                         index: SearchIndex) -> None:
    data.build(session)
    collector = gc.get_threshold()
    assert collector != REBUILD_GC_THRESHOLD
    during: list[tuple[int, ...]] = []
    rebuild(session, index, progress=lambda _n: during.append(gc.get_threshold()))
    assert during and set(during) == {REBUILD_GC_THRESHOLD}
    assert gc.get_threshold() == collector


def test_a_rebuild_with_documents_built_in_a_helper_process_finds_the_same(
        session: Session, index: SearchIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    data.build(session)
    rebuild(session, index)
    def scored(q: str) -> list[tuple[str, float]]:
        # Hits with equal scores come back in the order the engine's (multi-threaded) bulk
        # writer laid them out, which differs between any two rebuilds: compare scores, not ties.
        hits = index.search(SearchRequest(q, per_page=100)).hits
        return sorted((h.name, round(h.score, 4)) for h in hits)

    inline = {q: scored(q) for q in ("华为", "hwjs", "有限公司", "任正非")}
    monkeypatch.setattr("search_index.maintain.PARALLEL_ABOVE", 1)
    report = rebuild(session, index)
    assert report.updated == len(data.ENTITIES) + 1
    assert {q: scored(q) for q in inline} == inline


def test_a_helper_that_cannot_read_the_store_fails_the_rebuild_clearly(tmp_path: Path) -> None:
    from search_index.errors import SearchError
    from search_index.producer import documents_in_helper

    with pytest.raises(SearchError, match="document helper failed: .*no such table"):
        list(documents_in_helper(f"sqlite:///{tmp_path / 'empty.db'}", 10))
