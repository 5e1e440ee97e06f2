"""The scheduler: one job per source on its Beijing-time cron, a job never overlaps itself,
a failing source never stops the others, and only the lock holder runs jobs.

Every scheduler here is a real APScheduler; no test waits on the clock for more than a
fraction of a second. Lock tests run on SQLite (a file lock) and, when
GONGXIN_TEST_DATABASE_URL is set, on PostgreSQL (an advisory lock with a key of the test's
own, so parallel suites never meet). Nothing here creates, drops or truncates a table.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from apscheduler.events import (EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MAX_INSTANCES,
                                JobExecutionEvent)
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import text

import ingest.runs
from app import jobs
from app.scheduler import (DAILY_JOB, JOB_OPTIONS, LOCK_CHECK_JOB, MONTHLY_RISK_JOB, TIMEZONE, AdvisoryLock, FileLock,
                           SchedulerLock, build_scheduler, cron_trigger, run_scheduler, scheduler_lock,
                           start_background)
from config import Settings
from credit.db import make_engine
from credit.schema import upgrade
from ingest.registry import load_registry
from ingest.runs import RunReport
from tests.conftest import DIALECTS, PG_URL

ROOT = Path(__file__).resolve().parents[2]
WAIT = 5.0  # the most any test waits for an event that should come in milliseconds
POLL = 0.05

SOURCE = """\
[[source]]
id = "{id}"
agency = "某市市场监督管理局"
kind = "abnormal"
format = "csv"
encoding = "utf-8"
files = "drop/{id}/abnormal-*.csv"
schedule = "{schedule}"

[source.columns]
uscc = "统一社会信用代码"
name = "企业名称"
listed_on = "列入日期"
"""
SCHEDULES = {"samr-abnormal": "*/15 * * * *", "district-abnormal": "30 2 * * *",
             "weekday-abnormal": "0 9 * * 1-5"}
# Friday 2024-03-01 10:07 in Beijing, given in UTC.
FRIDAY_1007 = datetime(2024, 3, 1, 2, 7, tzinfo=timezone.utc)


def beijing(*args: int) -> datetime:
    """A Beijing wall-clock time."""
    return datetime(*args, tzinfo=TIMEZONE)  # type: ignore[misc]


@pytest.fixture
def registry_path(tmp_path: Path) -> Path:
    """A sources.toml with the three SCHEDULES sources and their (empty) drop folders."""
    blocks = [SOURCE.format(id=source_id, schedule=schedule) for source_id, schedule in SCHEDULES.items()]
    path = tmp_path / "sources.toml"
    path.write_text("\n".join(blocks), encoding="utf-8")
    for source_id in SCHEDULES:
        (tmp_path / "drop" / source_id).mkdir(parents=True)
    return path


@pytest.fixture
def settings(tmp_path: Path, registry_path: Path) -> Iterator[Settings]:
    """Settings on a SQLite file in tmp_path (no schema: these tests do not touch the store)."""
    yield Settings(database_url=f"sqlite:///{tmp_path / 'store.db'}", index_dir=tmp_path / "index",
                   sources=registry_path, testing=True)
    jobs.dispose_engines()


@pytest.fixture
def make_lock(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], SchedulerLock]]:
    """New locks on one shared lock: a file in tmp_path, or a fresh PostgreSQL advisory key."""
    made: list[SchedulerLock] = []
    key = secrets.randbelow(2**62)

    def make() -> SchedulerLock:
        lock: SchedulerLock = (AdvisoryLock(PG_URL, key=key) if request.param == "postgresql"
                               else FileLock(tmp_path / "scheduler.lock"))
        made.append(lock)
        return lock

    yield make
    for lock in made:
        lock.release()


with_each_lock = pytest.mark.parametrize("make_lock", DIALECTS, indirect=True)


def wait_until(condition: Callable[[], bool], timeout: float = WAIT) -> bool:
    """Poll ``condition`` every few milliseconds until it holds or the timeout passes."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


# --- jobs and triggers --------------------------------------------------------------------

def test_build_scheduler_has_one_job_per_source_with_its_beijing_cron(settings: Settings) -> None:
    calls: list[tuple[Settings, str]] = []
    scheduler = build_scheduler(settings, job=lambda s, source_id: calls.append((s, source_id)))

    jobs_by_id = {job.id: job for job in scheduler.get_jobs() if job.id not in (DAILY_JOB, MONTHLY_RISK_JOB)}
    assert sorted(jobs_by_id) == sorted(SCHEDULES)
    assert not scheduler.running
    expected = {
        "samr-abnormal": beijing(2024, 3, 1, 10, 15),
        "district-abnormal": beijing(2024, 3, 2, 2, 30),
        "weekday-abnormal": beijing(2024, 3, 4, 9, 0),  # Monday: cron counts Sunday as 0
    }
    for source_id, job in jobs_by_id.items():
        assert (job.max_instances, job.coalesce) == (1, True)
        assert job.misfire_grace_time == JOB_OPTIONS["misfire_grace_time"]
        assert job.args == (settings, source_id)
        fire = job.trigger.get_next_fire_time(None, FRIDAY_1007)
        assert fire == expected[source_id]
        assert fire.utcoffset() == timedelta(hours=8)
        job.func(*job.args)
    assert [source_id for _, source_id in calls] == list(jobs_by_id)


def test_build_scheduler_takes_a_registry_and_the_real_job_by_default(settings: Settings) -> None:
    registry = load_registry(settings.sources)
    scheduler = build_scheduler(settings.with_overrides(sources=Path("/nonexistent.toml")), registry=registry)

    assert {job.func for job in scheduler.get_jobs()} == {jobs.ingest_job, jobs.daily_job, jobs.monthly_risk_job}
    assert [job.id for job in scheduler.get_jobs()] == [s.id for s in registry.sources] + [DAILY_JOB, MONTHLY_RISK_JOB]


def test_the_daily_list_rules_run_at_half_past_one_beijing_time(settings: Settings) -> None:
    days: list[Settings] = []
    scheduler = build_scheduler(settings, job=lambda s, source_id: None, daily=days.append)
    daily = scheduler.get_job(DAILY_JOB)
    assert daily.trigger.get_next_fire_time(None, FRIDAY_1007) == beijing(2024, 3, 2, 1, 30)
    assert (daily.max_instances, daily.coalesce) == (1, True)
    daily.func(*daily.args)
    assert days == [settings]
    assert build_scheduler(settings, job=lambda s, source_id: None, daily=None).get_job(DAILY_JOB) is None


@pytest.mark.parametrize(("schedule", "after", "expected"), [
    ("0 5 * * 1", FRIDAY_1007, beijing(2024, 3, 4, 5, 0)),          # 1 is Monday, not Tuesday
    ("0 5 * * 0", FRIDAY_1007, beijing(2024, 3, 3, 5, 0)),          # 0 is Sunday
    ("0 5 * * 7", FRIDAY_1007, beijing(2024, 3, 3, 5, 0)),          # so is 7
    ("30 1 * * mon-fri", FRIDAY_1007, beijing(2024, 3, 4, 1, 30)),
    ("0 22 * * sat-sun", FRIDAY_1007, beijing(2024, 3, 2, 22, 0)),
    ("0 0 13 * 5", FRIDAY_1007, beijing(2024, 3, 8, 0, 0)),         # the 13th OR a Friday
    ("0 0 13 * 5", beijing(2024, 3, 9, 12, 0), beijing(2024, 3, 13, 0, 0)),
    ("0 0 */10 * 1", FRIDAY_1007, beijing(2024, 3, 11, 0, 0)),      # "*/…" day: AND, as cron does
    ("*/15 * * * *", beijing(2024, 3, 1, 23, 50), beijing(2024, 3, 2, 0, 0)),
])
def test_cron_trigger_fires_as_standard_cron_in_beijing_time(schedule: str, after: datetime,
                                                              expected: datetime) -> None:
    assert cron_trigger(schedule).get_next_fire_time(None, after) == expected


# --- the ingest job -------------------------------------------------------------------------

@pytest.fixture
def fake_runs(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Replace ingest.runs.run_source: record calls, raise for sources listed in ``raise_for``."""
    state: dict[str, Any] = {"calls": [], "raise_for": set(), "reports": {}}

    def run_source(factory: Any, spec: Any, *, progress: Any = None) -> list[RunReport]:
        state["calls"].append((factory, spec.id))
        if spec.id in state["raise_for"]:
            raise RuntimeError(f"boom in {spec.id}")
        return state["reports"].get(spec.id, [])

    monkeypatch.setattr(ingest.runs, "run_source", run_source)
    return state


def test_a_source_that_raises_is_logged_and_the_next_source_still_runs(
        settings: Settings, fake_runs: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    fake_runs["raise_for"] = {"district-abnormal"}
    caplog.set_level(logging.INFO, logger="app.jobs")

    for source_id in SCHEDULES:
        jobs.ingest_job(settings, source_id)

    assert [source_id for _, source_id in fake_runs["calls"]] == list(SCHEDULES)
    [failure] = [r for r in caplog.records if r.exc_info]
    assert "district-abnormal" in failure.getMessage() and failure.levelno == logging.ERROR
    assert "boom in district-abnormal" in caplog.text
    assert "ingest weekday-abnormal" not in caplog.text  # no files: nothing at info


def test_job_logs_a_line_per_file_and_hands_the_reports_on(
        settings: Settings, fake_runs: dict[str, Any], caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    reports = [
        RunReport("samr-abnormal", "drop/a-1.csv", "unchanged"),
        RunReport("samr-abnormal", "drop/a-2.csv", "applied", counts={"read": 3, "new": 2}, seconds=0.5),
        RunReport("samr-abnormal", "drop/a-3.csv", "failed", error="missing columns 列入日期"),
    ]
    fake_runs["reports"]["samr-abnormal"] = reports
    handed: list[Any] = []
    monkeypatch.setattr(jobs, "after_ingest", lambda s, r: handed.append((s, r)))
    caplog.set_level(logging.INFO, logger="app.jobs")

    jobs.ingest_job(settings, "samr-abnormal")

    lines = {r.getMessage(): r.levelno for r in caplog.records}
    assert lines == {
        "ingest samr-abnormal: drop/a-2.csv applied (read 3, new 2) in 0.5 s": logging.INFO,
        "ingest samr-abnormal: drop/a-3.csv failed: missing columns 列入日期": logging.ERROR,
        "ingest samr-abnormal: 1 applied, 1 unchanged, 1 failed": logging.INFO,
    }
    assert handed == [(settings, reports)]


def test_job_swallows_an_unknown_source_and_a_failing_follow_up_step(
        settings: Settings, fake_runs: dict[str, Any], caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_settings: Settings, _reports: Any) -> None:
        raise ValueError("index is gone")

    monkeypatch.setattr(jobs, "after_ingest", broken)

    jobs.ingest_job(settings, "removed-from-the-registry")
    jobs.ingest_job(settings, "samr-abnormal")

    assert [source_id for _, source_id in fake_runs["calls"]] == ["samr-abnormal"]
    messages = [r.getMessage() for r in caplog.records if r.exc_info]
    assert messages == ["ingest job for source removed-from-the-registry failed unexpectedly",
                        "steps after the ingest of source samr-abnormal failed"]


def test_jobs_share_one_session_factory_per_process(settings: Settings, fake_runs: dict[str, Any]) -> None:
    jobs.ingest_job(settings, "samr-abnormal")
    jobs.ingest_job(settings, "district-abnormal")

    first, second = (factory for factory, _ in fake_runs["calls"])
    assert first is second is jobs.session_factory_for(settings.database_url)


def test_the_real_run_reports_a_file_that_fails_and_the_job_logs_it(
        settings: Settings, caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    store = make_engine(settings.database_url)
    upgrade(store)
    store.dispose()
    (tmp_path / "drop" / "samr-abnormal" / "abnormal-1.csv").write_text("企业名称,备注\n某公司,\n", encoding="utf-8")
    caplog.set_level(logging.INFO, logger="app.jobs")

    jobs.ingest_job(settings, "samr-abnormal")

    [line] = [r for r in caplog.records if r.name == "app.jobs" and r.levelno == logging.ERROR]
    assert "abnormal-1.csv failed:" in line.getMessage() and "列入日期" in line.getMessage()


def test_every_source_runs_on_a_real_scheduler_even_when_one_raises(
        settings: Settings, fake_runs: dict[str, Any]) -> None:
    fake_runs["raise_for"] = {"samr-abnormal"}
    scheduler = build_scheduler(settings)
    done: list[JobExecutionEvent] = []
    scheduler.add_listener(done.append, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    scheduler.start()
    try:
        for source_id in SCHEDULES:
            scheduler.modify_job(source_id, next_run_time=datetime.now(TIMEZONE))
        assert wait_until(lambda: len(done) == len(SCHEDULES))
    finally:
        scheduler.shutdown(wait=True)

    assert sorted(source_id for _, source_id in fake_runs["calls"]) == sorted(SCHEDULES)
    assert all(event.code == EVENT_JOB_EXECUTED for event in done)


def test_a_job_never_runs_twice_at_once(settings: Settings) -> None:
    release, started = threading.Event(), threading.Event()
    running, peak, bodies = [0], [0], []
    guard = threading.Lock()

    def slow_job(_settings: Settings, source_id: str) -> None:
        with guard:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            bodies.append(source_id)
        started.set()
        release.wait(WAIT)
        with guard:
            running[0] -= 1

    scheduler = build_scheduler(settings, job=slow_job)
    skipped = threading.Event()
    scheduler.add_listener(lambda _event: skipped.set(), EVENT_JOB_MAX_INSTANCES)
    scheduler.start()
    try:
        scheduler.modify_job("samr-abnormal", next_run_time=datetime.now(TIMEZONE))
        assert started.wait(WAIT)
        scheduler.modify_job("samr-abnormal", next_run_time=datetime.now(TIMEZONE))
        assert skipped.wait(WAIT)
    finally:
        release.set()
        scheduler.shutdown(wait=True)

    assert bodies == ["samr-abnormal"] and peak[0] == 1


# --- the lock -------------------------------------------------------------------------------

@with_each_lock
def test_exactly_one_lock_holder_and_the_other_takes_over_on_release(
        make_lock: Callable[[], SchedulerLock]) -> None:
    first, second = make_lock(), make_lock()

    assert first.try_acquire() is True
    assert second.try_acquire() is False
    assert first.still_held() and not second.still_held()
    assert first.try_acquire() is True  # holding it already

    first.release()
    assert second.try_acquire() is True
    assert first.try_acquire() is False and not first.still_held()


@with_each_lock
def test_a_standby_takes_over_when_the_holder_process_dies(make_lock: Callable[[], SchedulerLock],
                                                           tmp_path: Path) -> None:
    lock = make_lock()
    build = (f"AdvisoryLock({PG_URL!r}, key={getattr(lock, 'key', 0)})" if isinstance(lock, AdvisoryLock)
             else f"FileLock({str(tmp_path / 'scheduler.lock')!r})")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom app.scheduler import AdvisoryLock, FileLock\n"
         f"lock = {build}\nprint(lock.try_acquire(), flush=True)\ntime.sleep(60)"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "True"
        assert lock.try_acquire() is False
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()  # type: ignore[union-attr]

    assert wait_until(lock.try_acquire)


@with_each_lock
def test_the_holder_notices_when_it_has_lost_the_lock(make_lock: Callable[[], SchedulerLock]) -> None:
    holder, standby = make_lock(), make_lock()
    assert holder.try_acquire()

    lose(holder)

    assert wait_until(standby.try_acquire)
    assert holder.still_held() is False


def lose(lock: SchedulerLock) -> None:
    """Take the lock away from its holder: end its PostgreSQL session, or delete its lock file."""
    if isinstance(lock, AdvisoryLock):
        admin = make_engine(PG_URL)
        with admin.connect() as conn:
            ended = conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND ((classid::bigint << 32) | objid::bigint) = :key"), {"key": lock.key}).scalars().all()
        assert ended == [True]
        admin.dispose()
    else:
        assert isinstance(lock, FileLock)
        lock.path.unlink()


def test_the_lock_follows_the_store(settings: Settings) -> None:
    lock = scheduler_lock(settings)
    assert isinstance(lock, FileLock) and lock.path == settings.sources.parent / "store.db.scheduler.lock"
    memory = scheduler_lock(settings.with_overrides(database_url="sqlite://"))
    assert isinstance(memory, FileLock) and memory.path == settings.index_dir.parent / "scheduler.lock"
    postgres = scheduler_lock(settings.with_overrides(database_url="postgresql+psycopg://u@h/db"))
    assert isinstance(postgres, AdvisoryLock)


# --- running the scheduler -----------------------------------------------------------------

def once_at(fire_at: datetime, record: list[str], node: str) -> Callable[[Settings], BaseScheduler]:
    """A scheduler builder with one job that fires once at ``fire_at`` and records ``node``."""
    def build(settings: Settings) -> BaseScheduler:
        scheduler = BackgroundScheduler(timezone=TIMEZONE)
        scheduler.add_job(record.append, "date", run_date=fire_at, args=(node,), id="once", **JOB_OPTIONS)
        return scheduler
    return build


def every_tick(record: list[str], node: str) -> Callable[[Settings], BaseScheduler]:
    """A scheduler builder with one job that records ``node`` every POLL seconds."""
    def build(settings: Settings) -> BaseScheduler:
        scheduler = BackgroundScheduler(timezone=TIMEZONE)
        scheduler.add_job(record.append, "interval", seconds=POLL, args=(node,), id="tick", **JOB_OPTIONS)
        return scheduler
    return build


def start_node(settings: Settings, build: Callable[[Settings], BaseScheduler], lock: SchedulerLock,
               stop: threading.Event) -> threading.Thread:
    """run_scheduler in a thread, polling the lock every POLL seconds."""
    thread = threading.Thread(target=run_scheduler, args=(settings,), daemon=True,
                              kwargs={"stop_event": stop, "poll_seconds": POLL, "build": build, "lock": lock})
    thread.start()
    return thread


@with_each_lock
def test_two_schedulers_on_one_store_run_a_job_once(settings: Settings,
                                                    make_lock: Callable[[], SchedulerLock]) -> None:
    ran: list[str] = []
    fire_at = datetime.now(TIMEZONE) + timedelta(seconds=0.3)
    stop = threading.Event()
    nodes = [start_node(settings, once_at(fire_at, ran, name), make_lock(), stop) for name in ("a", "b")]

    assert wait_until(lambda: bool(ran))
    time.sleep(0.2)  # long enough for a second, unlocked node to fire too
    stop.set()
    for node in nodes:
        node.join(WAIT)

    assert len(ran) == 1 and not any(node.is_alive() for node in nodes)


@with_each_lock
def test_a_standby_scheduler_takes_over_when_the_holder_stops(settings: Settings,
                                                              make_lock: Callable[[], SchedulerLock]) -> None:
    ran: list[str] = []
    stop_a, stop_b = threading.Event(), threading.Event()
    node_a = start_node(settings, every_tick(ran, "a"), make_lock(), stop_a)
    assert wait_until(lambda: "a" in ran)
    node_b = start_node(settings, every_tick(ran, "b"), make_lock(), stop_b)
    assert not wait_until(lambda: "b" in ran, timeout=0.2)

    stop_a.set()
    node_a.join(WAIT)
    assert wait_until(lambda: "b" in ran)
    stop_b.set()
    node_b.join(WAIT)

    first_b = ran.index("b")
    assert set(ran[:first_b]) == {"a"} and set(ran[first_b:]) == {"b"}


def test_sigterm_stops_the_foreground_scheduler_and_frees_the_lock(settings: Settings, tmp_path: Path) -> None:
    ran: list[str] = []
    lock, other = FileLock(tmp_path / "scheduler.lock"), FileLock(tmp_path / "scheduler.lock")
    fire_at = datetime.now(TIMEZONE) + timedelta(seconds=0.1)

    def terminate_after_the_job() -> None:
        if wait_until(lambda: bool(ran)):
            os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=terminate_after_the_job, daemon=True).start()
    run_scheduler(settings, poll_seconds=POLL, build=once_at(fire_at, ran, "main"), lock=lock)

    assert ran == ["main"]
    assert other.try_acquire()
    other.release()


# --- the scheduler beside the web server --------------------------------------------------

@with_each_lock
def test_start_background_runs_only_where_the_lock_is_free(settings: Settings,
                                                           make_lock: Callable[[], SchedulerLock]) -> None:
    first = start_background(settings, lock=make_lock(), poll_seconds=POLL)
    assert first is not None and first.running
    try:
        assert sorted(job.id for job in first.get_jobs()) == sorted([*SCHEDULES, LOCK_CHECK_JOB, DAILY_JOB, MONTHLY_RISK_JOB])
        assert start_background(settings, lock=make_lock()) is None
    finally:
        first.shutdown(wait=True)

    third = start_background(settings, lock=make_lock())
    assert third is not None
    third.shutdown(wait=True)


@with_each_lock
def test_start_background_stops_when_the_lock_is_lost(settings: Settings,
                                                      make_lock: Callable[[], SchedulerLock]) -> None:
    lock = make_lock()
    scheduler = start_background(settings, lock=lock, poll_seconds=POLL)
    assert scheduler is not None
    lose(lock)

    assert wait_until(lambda: not scheduler.running)


def test_start_background_without_a_registry_serves_on_without_jobs(
        settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    missing = settings.with_overrides(sources=tmp_path / "absent.toml")
    lock = FileLock(tmp_path / "scheduler.lock")

    assert start_background(missing, lock=lock) is None
    assert "scheduled jobs not started" in caplog.text and "absent.toml" in caplog.text
    assert not lock.still_held()
