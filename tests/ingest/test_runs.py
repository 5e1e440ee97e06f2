"""Files into the store end to end: rejected rows, failed files, idempotence, flags, unresolved."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from credit.models import Base, Entity, Fact, IngestRun, ListEntry, RejectedRow, UnresolvedRecord
from ingest.registry import Registry, load_registry
from ingest.runs import run_file, run_source
from tests.factories import new_uscc
from tests.ingest.builders import ABNORMAL, PENALTY, REGISTRATION, source, write_registry, write_rows

A, B, C, UNKNOWN = new_uscc(101), new_uscc(102), new_uscc(103), new_uscc(104)
MISMATCH = C[:17] + ("0" if C[17] != "0" else "1")


def reg_rows() -> list[list[str]]:
    """Registrations with one row of every defect class; row numbers as a spreadsheet counts."""
    return [
        [A, "深圳市甲乙科技有限公司", "有限责任公司", "存续", "张三", "1,000", "2015/3/5", "深圳市南山区"],   # 2
        [B.lower(), "深圳市（丙丁）贸易有限公司", "有限责任公司", "在业", "李四", "500万元", "2018年6月1日", "深圳市福田区"],  # 3
        [MISMATCH, "深圳市戊己餐饮管理有限公司", "个人独资企业", "存续", "王五", "10", "20200101", "深圳市宝安区"],  # 4 warning only
        [A[:17], "深圳市坏码有限公司", "", "存续", "", "", "", ""],                      # 5 malformed: length
        [A[:4] + "I" + A[5:], "深圳市坏字有限公司", "", "存续", "", "", "", ""],          # 6 malformed: alphabet
        [new_uscc(105), "深圳市坏日期有限公司", "", "存续", "", "", "2023-02-30", ""],    # 7 bad date
        ["", "", "", "存续", "", "", "", ""],                                            # 8 no identity, no name
        [A, "深圳市甲乙科技有限公司", "有限责任公司", "存续", "张三", "1,000", "2015/3/5", "深圳市南山区"],   # 9 duplicate
    ]


def penalty_rows() -> list[list[str]]:
    return [
        ["P1", "I", "深圳市甲乙科技有限公司", A, "深市监罚〔2024〕1号", "罚款", "1.5", "2024-03-05", "2027-03-05", "深圳市市场监督管理局"],
        ["P2", "I", "深圳市丙丁贸易有限公司", B, "深市监罚〔2024〕2号", "警告", "", "2024/3/6", "", "深圳市市场监督管理局"],
        ["P3", "I", "深圳市未知有限公司", UNKNOWN, "深市监罚〔2024〕3号", "罚款", "2", "2024-03-07", "", "深圳市市场监督管理局"],
        ["P4", "X", "深圳市甲乙科技有限公司", A, "深市监罚〔2024〕4号", "罚款", "2", "2024-03-07", "", "深圳市市场监督管理局"],
        ["P5", "I", "深圳市甲乙科技有限公司", A, "深市监罚〔2024〕5号", "罚款", "-3", "2024-13-01", "", "深圳市市场监督管理局"],
        ["P1", "I", "深圳市甲乙科技有限公司", A, "深市监罚〔2024〕1号", "罚款", "1.5", "2024-03-05", "2027-03-05", "深圳市市场监督管理局"],
    ]


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    """Registration (GB18030 CSV), penalties (XLSX) and abnormal listings (UTF-8 with BOM)."""
    write_rows(tmp_path / "drop/reg/registration.csv", list(REGISTRATION.values()), reg_rows(), encoding="gb18030")
    write_rows(tmp_path / "drop/pen/penalty-1.xlsx", list(PENALTY.values()), penalty_rows(), fmt="xlsx")
    write_rows(tmp_path / "drop/abn/abnormal.csv", list(ABNORMAL.values()), [
        [A, "深圳市甲乙科技有限公司", "未依照《企业信息公示暂行条例》第八条规定的期限公示年度报告的", "2024年7月10日",
         "深圳市市场监督管理局", "", "-", ""],
        [B, "深圳市丙丁贸易有限公司", "通过登记的住所或者经营场所无法联系的", "2023-05-06", "深圳市市场监督管理局",
         "依法办理住所变更登记", "2024-01-02", "深圳市市场监督管理局"],
    ], encoding="utf-8-sig")
    path = write_registry(tmp_path, [
        source("samr-reg", "registration", "drop/reg/*.csv", REGISTRATION, encoding="gb18030", rank=100),
        source("samr-pen", "penalty", "drop/pen/*.xlsx", PENALTY, format="xlsx"),
        source("samr-abn", "abnormal", "drop/abn/*.csv", ABNORMAL),
    ])
    return load_registry(path)


def counts(session: Session) -> dict[str, int]:
    """Rows in every table but the run history: the store's state for before/after checks."""
    skip = {"ingest_run", "rejected_row", "alembic_version"}
    return {t.name: session.scalar(select(func.count()).select_from(t)) or 0
            for t in Base.metadata.sorted_tables if t.name not in skip}


def rejected(session: Session, run_id: int | None) -> list[tuple[int, str]]:
    rows = session.scalars(select(RejectedRow).where(RejectedRow.run_id == run_id).order_by(RejectedRow.row_number))
    return [(r.row_number, r.field or "") for r in rows]


def test_every_defect_gives_the_right_rejected_row(session_factory: sessionmaker[Session], registry: Registry) -> None:
    reports = [r for spec in registry.sources for r in run_source(session_factory, spec)]
    assert [r.status for r in reports] == ["applied"] * 3, [r.error for r in reports]
    reg, pen, abn = reports
    with session_factory() as s:
        assert rejected(s, reg.run_id) == [(5, "uscc"), (6, "uscc"), (7, "established_on"), (8, "uscc"), (9, "record_key")]
        reasons = {r.row_number: r.reason for r in s.scalars(select(RejectedRow).where(RejectedRow.run_id == reg.run_id))}
        assert "18 characters" in reasons[5] and "'I'" in reasons[6] and "2023-02-30" in reasons[7]
        assert "row 2" in reasons[9]
        assert rejected(s, pen.run_id) == [(5, "change"), (6, "fine_amount"), (7, "record_key")]
        assert reg.counts["new"] == 3 and pen.counts["new"] == 2 and pen.counts["unresolved"] == 1
        entity = s.scalars(select(Entity).where(Entity.uscc == C[:17] + MISMATCH[17])).one()
        assert entity.name == "深圳市戊己餐饮管理有限公司"  # a check-character mismatch is only a warning
        b = s.scalars(select(Entity).where(Entity.uscc == B)).one()
        assert (b.registered_capital, b.established_on, b.name_norm) == (500, date(2018, 6, 1), "深圳市(丙丁)贸易有限公司")
        fine = s.scalars(select(Fact).where(Fact.source_key == "P1")).one()
        assert fine.body["fine_amount"] == "1.5" and fine.severity == "ordinary" and fine.decided_on == date(2024, 3, 5)
        held = s.scalars(select(UnresolvedRecord)).one()
        assert held.identity["uscc"] == UNKNOWN and held.row_number == 4
        listings = {e.reason_code: e for e in s.scalars(select(ListEntry))}
        assert listings["1"].status == "active" and listings["4"].status == "removed"
        assert listings["4"].removed_on == date(2024, 1, 2)


def test_renamed_column_fails_the_file_and_changes_nothing(
    session_factory: sessionmaker[Session], registry: Registry, tmp_path: Path
) -> None:
    run_source(session_factory, registry.get("samr-reg"))
    with session_factory() as s:
        before = counts(s)
    headers = [h if h != "处罚决定日期" else "决定日期" for h in PENALTY.values()]
    write_rows(tmp_path / "drop/pen/penalty-1.xlsx", headers, penalty_rows(), fmt="xlsx")
    [report] = run_source(session_factory, registry.get("samr-pen"))
    assert report.status == "failed"
    assert "处罚决定日期" in (report.error or "") and "决定日期" in (report.error or "")
    with session_factory() as s:
        assert counts(s) == before
        run = s.get(IngestRun, report.run_id)
        assert run is not None and run.status == "failed" and "处罚决定日期" in (run.error or "")


def test_unchanged_file_is_a_no_op_and_a_copy_changes_nothing(
    session_factory: sessionmaker[Session], registry: Registry, tmp_path: Path
) -> None:
    first = [run_source(session_factory, spec)[0] for spec in registry.sources]
    again = [run_source(session_factory, spec)[0] for spec in registry.sources]
    assert [r.status for r in again] == ["unchanged"] * 3
    assert [r.run_id for r in again] == [r.run_id for r in first]
    with session_factory() as s:
        before = counts(s)
    copy = tmp_path / "drop/pen/penalty-2.xlsx"
    copy.write_bytes((tmp_path / "drop/pen/penalty-1.xlsx").read_bytes())
    report = run_file(session_factory, registry.get("samr-pen"), copy, force=True)
    assert report.status == "applied" and report.counts["new"] == 0 and report.counts["updated"] == 0
    with session_factory() as s:
        assert counts(s) == before


def test_change_flags_update_and_withdraw(session_factory: sessionmaker[Session], registry: Registry, tmp_path: Path) -> None:
    for spec in registry.sources[:2]:
        run_source(session_factory, spec)
    rows = [
        ["P1", "U", "深圳市甲乙科技有限公司", A, "深市监罚〔2024〕1号", "吊销许可证件", "", "2024-03-05", "", "深圳市市场监督管理局"],
        ["P2", "D", "", B, "", "", "", "", "", ""],
    ]
    path = write_rows(tmp_path / "drop/pen/penalty-2.xlsx", list(PENALTY.values()), rows, fmt="xlsx")
    report = run_file(session_factory, registry.get("samr-pen"), path)
    assert (report.counts["updated"], report.counts["withdrawn"]) == (1, 1), report
    with session_factory() as s:
        facts = {f.source_key: f for f in s.scalars(select(Fact))}
        assert facts["P1"].severity == "serious" and facts["P2"].status == "withdrawn"


def test_held_record_resolves_when_its_entity_arrives(
    session_factory: sessionmaker[Session], registry: Registry, tmp_path: Path
) -> None:
    for spec in registry.sources[:2]:
        run_source(session_factory, spec)
    write_rows(tmp_path / "drop/reg/registration-2.csv", list(REGISTRATION.values()),
               [[UNKNOWN, "深圳市未知有限公司", "有限责任公司", "存续", "赵六", "", "", ""]], encoding="gb18030")
    run_source(session_factory, registry.get("samr-reg"))
    write_rows(tmp_path / "drop/pen/penalty-2.xlsx", list(PENALTY.values()), [], fmt="xlsx")
    report = run_file(session_factory, registry.get("samr-pen"), tmp_path / "drop/pen/penalty-2.xlsx")
    assert report.counts["resolved"] == 1
    with session_factory() as s:
        fact = s.scalars(select(Fact).where(Fact.source_key == "P3")).one()
        entity = s.get(Entity, fact.entity_id)
        assert entity is not None and entity.uscc == UNKNOWN
        assert s.scalars(select(UnresolvedRecord)).one().resolved_at is not None


def test_interrupted_ingest_leaves_the_store_as_before(
    session_factory: sessionmaker[Session], registry: Registry, tmp_path: Path
) -> None:
    rows = [[new_uscc(1000 + i), f"深圳市测试{i}号科技有限公司", "有限责任公司", "存续", "张三", "", "", ""] for i in range(50)]
    path = write_rows(tmp_path / "drop/reg/registration.csv", list(REGISTRATION.values()), rows, encoding="gb18030")
    seen: list[int] = []

    def interrupt(rows_done: int) -> None:
        seen.append(rows_done)
        if len(seen) == 2:
            raise RuntimeError("injected failure after two chunks")

    report = run_file(session_factory, registry.get("samr-reg"), path, progress=interrupt, chunk_rows=10)
    assert report.status == "failed" and "injected failure" in (report.error or "")
    with session_factory() as s:
        assert all(v == 0 for v in counts(s).values())
    again = run_file(session_factory, registry.get("samr-reg"), path, chunk_rows=10)
    assert again.status == "applied" and again.counts["new"] == 50


def test_bounds_fail_the_file_loudly(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    write_rows(tmp_path / "drop/reg/registration.csv", list(REGISTRATION.values()), reg_rows(), encoding="gb18030")
    registry = load_registry(write_registry(tmp_path, [
        source("strict", "registration", "drop/reg/*.csv", REGISTRATION, encoding="gb18030",
               bounds={"max_rejected_share": 0.2}),
        source("big", "registration", "drop/reg/*.csv", REGISTRATION, encoding="gb18030", bounds={"min_rows": 100}),
    ]))
    for spec, words in ((registry.get("strict"), "max_rejected_share"), (registry.get("big"), "min_rows")):
        [report] = run_source(session_factory, spec)
        assert report.status == "failed" and words in (report.error or "")
    with session_factory() as s:
        assert all(v == 0 for v in counts(s).values())


def test_snapshot_source_withdraws_what_it_no_longer_sends(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    write_rows(tmp_path / "drop/reg/registration.csv", list(REGISTRATION.values()), reg_rows()[:2], encoding="gb18030")
    write_rows(tmp_path / "drop/abn/abnormal.csv", list(ABNORMAL.values()), [
        [A, "深圳市甲乙科技有限公司", "无法联系", "2024-07-10", "深圳市市场监督管理局", "", "", ""],
        [B, "深圳市丙丁贸易有限公司", "无法联系", "2024-07-11", "深圳市市场监督管理局", "", "", ""],
    ])
    registry = load_registry(write_registry(tmp_path, [
        source("reg", "registration", "drop/reg/*.csv", REGISTRATION, encoding="gb18030"),
        source("abn", "abnormal", "drop/abn/*.csv", ABNORMAL, mode="snapshot"),
    ]))
    for spec in registry.sources:
        run_source(session_factory, spec)
    path = write_rows(tmp_path / "drop/abn/abnormal.csv", list(ABNORMAL.values()), [
        [A, "深圳市甲乙科技有限公司", "无法联系", "2024-07-10", "深圳市市场监督管理局", "", "", ""],
    ])
    report = run_file(session_factory, registry.get("abn"), path)
    assert report.counts["withdrawn"] == 1
    with session_factory() as s:
        statuses = sorted(e.status for e in s.scalars(select(ListEntry)))
        assert statuses == ["active", "withdrawn"]


def test_the_same_file_run_twice_at_once_is_applied_once(
    session_factory: sessionmaker[Session], registry: Registry, tmp_path: Path
) -> None:
    """The scheduler and a CLI call running one source together must not apply a file twice."""
    import threading

    spec = registry.get("samr-reg")
    [path] = spec.paths()
    barrier = threading.Barrier(2)
    reports = []

    def run() -> None:
        barrier.wait(timeout=10)
        reports.append(run_file(session_factory, spec, path))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(r.status for r in reports) == ["applied", "unchanged"], [r.error for r in reports]
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(IngestRun).where(IngestRun.status == "applied")) == 1
        assert s.scalar(select(func.count()).select_from(Entity)) == 3


def test_a_helper_process_prepares_large_files_with_the_same_outcome(
    session_factory: sessionmaker[Session], registry: Registry, tmp_path: Path
) -> None:
    """Preparing in a helper process changes nothing but speed: same counts, same rejections."""
    reports = [run_file(session_factory, spec, spec.paths()[0], parallel_bytes=0) for spec in registry.sources]
    assert [r.status for r in reports] == ["applied"] * 3, [r.error for r in reports]
    with session_factory() as s:
        assert rejected(s, reports[0].run_id) == [(5, "uscc"), (6, "uscc"), (7, "established_on"), (8, "uscc"), (9, "record_key")]
    assert reports[1].counts["unresolved"] == 1 and reports[1].counts["new"] == 2


def test_errors_in_the_helper_fail_the_file_and_an_interrupt_stops_it(
    session_factory: sessionmaker[Session], registry: Registry, tmp_path: Path
) -> None:
    headers = [h if h != "处罚决定日期" else "决定日期" for h in PENALTY.values()]
    write_rows(tmp_path / "drop/pen/penalty-1.xlsx", headers, penalty_rows(), fmt="xlsx")
    [report] = [run_file(session_factory, registry.get("samr-pen"), p, parallel_bytes=0)
                for p in registry.get("samr-pen").paths()]
    assert report.status == "failed" and "处罚决定日期" in (report.error or "")
    rows = [[new_uscc(2000 + i), f"深圳市测试{i}号科技有限公司", "有限责任公司", "存续", "张三", "", "", ""] for i in range(60)]
    path = write_rows(tmp_path / "drop/reg/registration.csv", list(REGISTRATION.values()), rows, encoding="gb18030")

    def interrupt(rows_done: int) -> None:
        raise RuntimeError("injected failure after the first chunk")

    failed = run_file(session_factory, registry.get("samr-reg"), path, progress=interrupt, chunk_rows=10, parallel_bytes=0)
    assert failed.status == "failed" and "injected" in (failed.error or "")
    with session_factory() as s:
        assert all(v == 0 for v in counts(s).values())
