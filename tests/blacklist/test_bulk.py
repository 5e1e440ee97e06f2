"""Bulk dumps: what the public may see, read from one snapshot, written whole or not at all, the newest kept."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.api.schemas import ProfileSchema, profile_view
from blacklist.bulk import (
    BulkError, Dump, count_rows, export_bulk, list_dumps, read_dump, read_snapshot,
)
from blacklist.visibility import public_profile
from credit.entities import EntityIds, ensure_entities
from credit.facts import apply_facts
from credit.listings import ListEntryIn, apply_list_entries
from credit.models import ChangeLog, Entity
from tests.app.test_lists_api import FORMULA_NAME, seed
from tests.factories import make_entity, penalty

DAY = date(2026, 3, 2)
KUNPENG = "深圳市鲲鹏精密制造有限公司"
FORMER = ["深圳市鲲鹏机械有限公司", "深圳鲲鹏五金厂"]
LEGACY_REG_NO = "440301000000018"
HIDDEN_NAMES = ("深圳市福田区撤回测试有限公司", "杭州市西湖区信用修复有限公司")  # withdrawn; hidden by repair
PROFILE_FIELDS = set(ProfileSchema().fields) - {"lists", "facts", "provenance"}


@dataclass(frozen=True)
class Store:
    """The seeded store: how many entities and public list entries it holds, and its change-log position."""

    entities: int
    list_entries: int
    seq: int
    identifiers: list[str]


def seed_store(session: Session) -> Store:
    """The public-list data set, a fully described company, a legacy entity, hidden penalties and risk classes."""
    seed(session)
    kunpeng = make_entity(session, 20, name=KUNPENG, entity_type="有限责任公司", status="存续", legal_rep="张伟",
                          registered_capital="1000.50", established_on="2018-03-15",
                          address="深圳市南山区粤海街道科苑路15号", industry="通用设备制造业",
                          reg_authority="深圳市市场监督管理局南山监管局",
                          former_names=json.dumps(FORMER, ensure_ascii=False))
    ensure_entities(session, [EntityIds(reg_no=LEGACY_REG_NO)])
    apply_facts(session, [penalty(kunpeng, "P-过期", publicity_until=DAY - timedelta(days=400)),
                          penalty(kunpeng, "P-撤回")])
    apply_facts(session, [penalty(kunpeng, "P-撤回", change="d")])
    session.execute(update(Entity).values(risk_class="D"))  # regulator-only: never in a dump
    session.commit()
    ids = [e.uscc or e.reg_no or "" for e in session.scalars(select(Entity).order_by(Entity.id))]
    seq = session.scalar(select(func.max(ChangeLog.seq)))
    # seed(): 6 public abnormal entries and 1 serious-illegal one (a withdrawn and a hidden one left out)
    return Store(len(ids), 7, int(seq or 0), ids)


@pytest.fixture
def store(session_factory: sessionmaker[Session]) -> Store:
    """The seeded store, committed."""
    with session_factory() as session:
        return seed_store(session)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """Where the dumps go (beside, not inside, the SQLite store's folder)."""
    return tmp_path / "bulk"


def export(db_url: str, out: Path, day: date = DAY, **options: Any) -> Dump:
    """One export from its own read snapshot, as the CLI and the daily job run it."""
    with read_snapshot(db_url) as session:
        return export_bulk(session, out, day, **options)


def gunzip(path: Path) -> str:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        return f.read()


def jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in gunzip(path).splitlines()]


def csv_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(gunzip(path).removeprefix("\ufeff"), newline="")))


def manifest(dump_dir: Path) -> dict[str, Any]:
    return json.loads((dump_dir / "manifest.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_the_dump_is_dated_with_four_gzip_files_and_a_manifest_that_describes_them(
        db_url: str, store: Store, out: Path) -> None:
    dump = export(db_url, out)
    folder = out / "2026-03-02"
    assert dump.path == folder
    assert sorted(p.name for p in folder.iterdir()) == [
        "entities.csv.gz", "entities.jsonl.gz", "lists.csv.gz", "lists.jsonl.gz", "manifest.json"]
    data = manifest(folder)
    assert data["date"] == "2026-03-02" and data["seq"] == store.seq
    assert data["generated_at"].endswith("+00:00")
    for item in data["files"]:
        raw = (folder / item["name"]).read_bytes()
        assert raw[:2] == b"\x1f\x8b"
        assert (item["bytes"], item["sha256"]) == (len(raw), hashlib.sha256(raw).hexdigest())
        expected = store.entities if item["name"].startswith("entities") else store.list_entries
        assert item["rows"] == expected
    assert read_dump(folder) == Dump(dump.date, dump.generated_at, dump.seq, dump.files, folder)


def test_entities_are_exactly_what_the_public_profile_shows(db_url: str, store: Store, out: Path,
                                                            session: Session) -> None:
    folder = export(db_url, out).path
    rows = jsonl(folder / "entities.jsonl.gz")
    profiles = [ProfileSchema().dump(profile_view(public_profile(session, ident, DAY))) for ident in store.identifiers]
    assert rows == [{name: p[name] for name in ProfileSchema().fields if name in PROFILE_FIELDS} for p in profiles]
    kunpeng = next(r for r in rows if r["name"] == KUNPENG)
    assert kunpeng["registered_capital"] == "1000.5" and kunpeng["established_on"] == "2018-03-15"
    assert kunpeng["former_names"] == FORMER
    legacy = next(r for r in rows if r["reg_no"] == LEGACY_REG_NO)
    assert legacy["uscc"] is None


def test_no_regulator_only_field_or_hidden_record_is_in_any_file(db_url: str, store: Store, out: Path) -> None:
    folder = export(db_url, out).path
    for item in manifest(folder)["files"]:
        assert set(item["columns"]) <= PROFILE_FIELDS | {"list_id", "reason", "listed_on", "listed_by", "removed_on",
                                                          "removal_reason"}
    assert set(jsonl(folder / "entities.jsonl.gz")[0]) == PROFILE_FIELDS
    text = "".join(gunzip(folder / name) for name in ("entities.csv.gz", "entities.jsonl.gz", "lists.csv.gz",
                                                       "lists.jsonl.gz"))
    text += (folder / "manifest.json").read_text(encoding="utf-8")
    for hidden in ("risk_class", "id_warnings", "entity_id", '"id"', "samr-penalty", "P-过期", "P-撤回",
                   "深市监罚", "samr-abnormal"):
        assert hidden not in text
    # The companies exist (their profiles are public); their withdrawn or hidden listings are not.
    listed = gunzip(folder / "lists.csv.gz") + gunzip(folder / "lists.jsonl.gz")
    assert not [name for name in HIDDEN_NAMES if name in listed]


def test_lists_hold_every_public_entry_with_its_list_id_and_the_same_fields_in_both_formats(
        db_url: str, store: Store, out: Path) -> None:
    folder = export(db_url, out).path
    rows = jsonl(folder / "lists.jsonl.gz")
    assert [r["list_id"] for r in rows] == ["abnormal"] * 6 + ["serious-illegal"]
    assert {r["name"] for r in rows}.isdisjoint(HIDDEN_NAMES)
    removed = [r for r in rows if r["removed_on"]]
    assert [(r["name"], r["removed_on"]) for r in removed] == [("广州市天河区岭南食品有限公司", "2025-01-15")]
    table = csv_rows(folder / "lists.csv.gz")
    assert table[0] == list(rows[0]) and len(table) == len(rows) + 1
    for line, row in zip(table[1:], rows):
        expected = ["" if v is None else v for v in row.values()]
        if row["name"] == FORMULA_NAME:
            expected[2] = "'" + FORMULA_NAME  # neutralised for spreadsheets, kept as sent in JSON
        assert line == expected


def test_formula_looking_text_is_neutralised_in_csv_only(db_url: str, store: Store, out: Path) -> None:
    folder = export(db_url, out).path
    csv_names = [line[3] for line in csv_rows(folder / "entities.csv.gz")[1:]]
    json_names = [row["name"] for row in jsonl(folder / "entities.jsonl.gz")]
    assert "'" + FORMULA_NAME in csv_names and FORMULA_NAME not in csv_names
    assert FORMULA_NAME in json_names
    kunpeng = next(line for line in csv_rows(folder / "entities.csv.gz") if line[3] == KUNPENG)
    assert json.loads(kunpeng[4]) == FORMER


def test_rows_come_in_chunks_and_the_progress_adds_up(db_url: str, store: Store, out: Path,
                                                      session: Session) -> None:
    steps: list[int] = []
    export(db_url, out, chunk=2, progress=steps.append)
    assert max(steps) <= 2 and sum(steps) == store.entities + store.list_entries == count_rows(session)


def test_the_dump_is_one_snapshot_even_when_writers_commit_during_it(
        db_url: str, store: Store, out: Path, session_factory: sessionmaker[Session]) -> None:
    """A company and a listing committed mid-export are in neither the rows nor the seq."""
    late = "深圳市迟到登记科技有限公司"

    def write_meanwhile(_rows: int) -> None:
        if late_ids:
            return
        with session_factory() as writer:
            late_ids.append(make_entity(writer, 99, name=late))
            apply_list_entries(writer, [ListEntryIn(late_ids[0], "abnormal", "samr-abnormal", "LATE",
                                                    listed_on=DAY, reason="通过登记的住所或者经营场所无法联系")])
            writer.commit()

    late_ids: list[int] = []
    dump = export(db_url, out, chunk=2, progress=write_meanwhile)
    assert late_ids, "the writer ran during the export"
    with session_factory() as check:
        assert int(check.scalar(select(func.max(ChangeLog.seq))) or 0) > store.seq
    assert dump.seq == store.seq
    rows = {f.name: f.rows for f in dump.files}
    assert (rows["entities.jsonl.gz"], rows["lists.jsonl.gz"]) == (store.entities, store.list_entries)
    assert late not in gunzip(dump.path / "entities.jsonl.gz") + gunzip(dump.path / "lists.jsonl.gz")


def test_a_failed_export_leaves_no_partial_directory_and_the_earlier_dump_intact(
        db_url: str, store: Store, out: Path) -> None:
    export(db_url, out, DAY - timedelta(days=1))
    before = {p.name: p.read_bytes() for p in (out / "2026-03-01").iterdir()}

    def fail(_rows: int) -> None:
        raise RuntimeError("磁盘已满")

    with pytest.raises(RuntimeError, match="磁盘已满"):
        export(db_url, out, DAY, chunk=2, progress=fail)
    assert [p.name for p in out.iterdir()] == ["2026-03-01"]
    assert {p.name: p.read_bytes() for p in (out / "2026-03-01").iterdir()} == before


def test_a_failed_rerun_of_the_same_day_keeps_the_dump_it_had(db_url: str, store: Store, out: Path) -> None:
    first = export(db_url, out)

    def fail(_rows: int) -> None:
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        export(db_url, out, progress=fail)
    assert [p.name for p in out.iterdir()] == ["2026-03-02"]
    assert list_dumps(out) == [first]


def test_an_unwritable_target_raises_a_bulk_error_and_writes_nothing(db_url: str, store: Store,
                                                                     out: Path) -> None:
    out.mkdir()
    blocker = out / "not-a-directory"
    blocker.write_text("占位", encoding="utf-8")
    with pytest.raises(BulkError, match="not-a-directory"):
        export(db_url, blocker / "bulk")
    assert [p.name for p in out.iterdir()] == ["not-a-directory"]


def test_a_rerun_of_the_same_day_replaces_its_dump(db_url: str, store: Store, out: Path,
                                                   session_factory: sessionmaker[Session]) -> None:
    export(db_url, out)
    with session_factory() as writer:
        make_entity(writer, 77, name="深圳市新设立贸易有限公司")
        writer.commit()
    again = export(db_url, out)
    assert [p.name for p in out.iterdir()] == ["2026-03-02"]
    assert manifest(again.path)["seq"] > store.seq
    assert "深圳市新设立贸易有限公司" in gunzip(again.path / "entities.jsonl.gz")


def test_only_the_newest_dumps_are_kept_and_dead_work_directories_go(db_url: str, store: Store,
                                                                     out: Path) -> None:
    dead, running = out / ".2026-02-01.tmp-dead", out / ".2026-03-05.tmp-running"
    for folder in (dead, running):
        folder.mkdir(parents=True)
    old = time.time() - 3 * 24 * 3600
    os.utime(dead, (old, old))
    days = [DAY + timedelta(days=n) for n in (0, 3, 1, 2)]
    for day in days:
        export(db_url, out, day, keep=2)
    assert sorted(p.name for p in out.iterdir()) == [".2026-03-05.tmp-running", "2026-03-04", "2026-03-05"]
    assert [d.date for d in list_dumps(out)] == [date(2026, 3, 5), date(2026, 3, 4)]


def test_directories_without_a_readable_manifest_are_not_dumps(db_url: str, store: Store, out: Path) -> None:
    export(db_url, out)
    (out / "2026-03-01").mkdir()
    (out / "2026-02-28").mkdir()
    (out / "2026-02-28" / "manifest.json").write_text("{半截", encoding="utf-8")
    assert [d.date for d in list_dumps(out)] == [DAY]
    assert list_dumps(out / "missing") == []


def test_bad_options_are_refused(db_url: str, store: Store, out: Path) -> None:
    with pytest.raises(BulkError, match="keep"):
        export(db_url, out, keep=0)
    assert not out.exists()
