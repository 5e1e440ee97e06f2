"""A real ``kill -9`` of an ingest process midway leaves the store as before; a re-run completes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from credit.models import Entity, IngestRun
from tests.factories import new_uscc
from tests.ingest.builders import REGISTRATION, source, write_registry, write_rows

ROWS = 12_000


def _children(pid: int) -> list[int]:
    """Every descendant of ``pid``: the fork server and the preparing helper, when there are any."""
    parents: dict[int, int] = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
        except OSError:
            continue
        parents[int(status.parent.name)] = int(fields.get("PPid", "0").strip() or 0)
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        kids = [p for p, parent in parents.items() if parent == current]
        found += kids
        frontier += kids
    return found


def _assert_gone(pids: list[int]) -> None:
    """No helper outlives its killed parent for long."""
    deadline = time.monotonic() + 10
    while any(_running(p) for p in pids):
        assert time.monotonic() < deadline, f"helper processes {pids} outlived their parent"
        time.sleep(0.1)


def _running(pid: int) -> bool:
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def _midway(engine: Engine, db_path: Path | None, child: subprocess.Popen[bytes]) -> bool:
    """True once the child's transaction has written to the store (and not committed)."""
    if db_path is not None:
        wal = Path(f"{db_path}-wal")
        return wal.exists() and wal.stat().st_size > 200_000
    with engine.connect() as conn:
        waiting = conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND state IN ('active', 'idle in transaction') AND backend_xid IS NOT NULL"
        )).scalar_one()
    return bool(waiting)


@pytest.mark.parametrize("parallel_above", ["100000000", "0"], ids=["in-process", "helper-process"])
def test_kill_9_midway_changes_nothing_and_a_rerun_completes(
    engine: Engine, db_url: str, tmp_path: Path, parallel_above: str
) -> None:
    rows = [[new_uscc(50_000 + i), f"深圳市测试{i}号科技有限公司", "有限责任公司", "存续", "张三", "100", "2020-01-01",
             "深圳市南山区"] for i in range(ROWS)]
    path = write_rows(tmp_path / "drop/registration.csv", list(REGISTRATION.values()), rows, encoding="gb18030")
    registry = write_registry(tmp_path, [source("samr-reg", "registration", "drop/*.csv", REGISTRATION, encoding="gb18030")])
    # The ingest syncs the search index after it commits: give it this test's own directory, never
    # the checkout's instance/index.
    env = {**os.environ, "GONGXIN_DATABASE_URL": db_url, "GONGXIN_SOURCES": str(registry),
           "GONGXIN_INDEX_DIR": str(tmp_path / "index")}
    command = [sys.executable, "-m", "app.cli", "ingest", "file", "samr-reg", str(path), "--chunk-rows", "500",
               "--parallel-above", parallel_above]
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db_path = Path(db_url.split("///", 1)[1]) if db_url.startswith("sqlite") else None
    deadline = time.monotonic() + 120
    while not _midway(engine, db_path, child):
        assert child.poll() is None, "the ingest finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.3)
    helpers = _children(child.pid)
    if parallel_above == "0":
        assert helpers, "the helper process should be running"
    child.send_signal(signal.SIGKILL)
    child.wait()
    time.sleep(0.5)  # PostgreSQL notices the dropped connection and aborts its transaction
    _assert_gone(helpers)
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Entity)) == 0
        assert s.scalar(select(func.count()).select_from(IngestRun)) == 0
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Entity)) == ROWS
