"""The scheduler: one ingest job per source on its cron schedule, run by one lock holder only.

Nothing here starts at import. ``gongxin scheduler`` calls ``run_scheduler`` (foreground, waits
as a standby while another process holds the lock, takes over when the holder dies);
``make run`` calls ``start_background`` beside the web server (tries the lock once).

The lock: on PostgreSQL a session-level advisory lock held on a dedicated connection for the
life of the scheduler, so it is freed the moment the holder's session ends, on any node; on
SQLite (one machine) an ``flock`` on a file beside the database, freed when the process dies.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import socket
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from apscheduler.events import EVENT_SCHEDULER_SHUTDOWN, SchedulerEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from app import jobs
from config import Settings
from credit.db import make_engine
from ingest.errors import RegistryError
from ingest.registry import Registry, load_registry
from ingest.schedule import TIMEZONE, cron_trigger

log = logging.getLogger(__name__)

# Regulators publish their drop times in Beijing time, whatever the server's clock says.

# Late runs still run within this window (a daily source queued behind a long load must not
# wait a whole day); coalesce and max_instances keep a late source from running twice.
MISFIRE_GRACE_SECONDS = 3600
JOB_OPTIONS: dict[str, Any] = {"max_instances": 1, "coalesce": True, "replace_existing": True,
                               "misfire_grace_time": MISFIRE_GRACE_SECONDS}
# SQLite has one writer at a time: sources run one after another instead of queueing on locks.
WORKERS = {"sqlite": 1, "postgresql": 4}
# PostgreSQL advisory lock key: the bytes of "gongxin" (0x676F6E6778696E).
LOCK_KEY = int.from_bytes(b"gongxin", "big")
LOCK_CHECK_JOB = "_scheduler-lock-check"
DAILY_JOB = "_daily-list-rules"
DAILY_SCHEDULE = "30 1 * * *"  # 01:30 Beijing: after midnight, so "today" is the new day
MONTHLY_RISK_JOB = "_monthly-risk-classes"
MONTHLY_RISK_SCHEDULE = "0 3 1 * *"  # 03:00 Beijing on the 1st: after the daily list rules have run
DEFAULT_POLL_SECONDS = 15.0

Job = Callable[[Settings, str], None]
Build = Callable[[Settings], BaseScheduler]


def build_scheduler(settings: Settings, *, registry: Registry | None = None, job: Job = jobs.ingest_job,
                    scheduler_cls: type[BaseScheduler] = BackgroundScheduler,
                    daily: Callable[[Settings], None] | None = jobs.daily_job,
                    monthly: Callable[[Settings], None] | None = jobs.monthly_risk_job) -> BaseScheduler:
    """An unstarted scheduler: one job per source (id = source id, on its cron), the daily list rules
    and the monthly full classification of credit risk classes."""
    registry = registry if registry is not None else load_registry(settings.sources)
    workers = WORKERS.get(make_url(settings.database_url).get_backend_name(), 4)
    scheduler = scheduler_cls(timezone=TIMEZONE, executors={"default": ThreadPoolExecutor(workers)})
    for spec in registry.sources:
        scheduler.add_job(job, cron_trigger(spec.schedule), args=(settings, spec.id), id=spec.id,
                          name=f"ingest {spec.id}", **JOB_OPTIONS)
    if daily is not None:
        scheduler.add_job(daily, cron_trigger(DAILY_SCHEDULE), args=(settings,), id=DAILY_JOB,
                          name="list rules and index sync", **JOB_OPTIONS)
    if monthly is not None:
        scheduler.add_job(monthly, cron_trigger(MONTHLY_RISK_SCHEDULE), args=(settings,), id=MONTHLY_RISK_JOB,
                          name="credit risk classes, all entities", **JOB_OPTIONS)
    return scheduler


class SchedulerLock(ABC):
    """The right to run scheduled jobs: one holder at a time across processes (and nodes).

    Thread-safe: a lock-check job and a shutdown may use it at the same time.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()

    def try_acquire(self) -> bool:
        """Take the lock if it is free, without waiting; True when this object now holds it."""
        with self._mutex:
            return self._check() if self._holding() else self._acquire()

    def still_held(self) -> bool:
        """True while the lock is verifiably this object's (its connection or file is intact)."""
        with self._mutex:
            return self._holding() and self._check()

    def release(self) -> None:
        """Give the lock up; safe to call when not holding it."""
        with self._mutex:
            if self._holding():
                self._release()

    @abstractmethod
    def _holding(self) -> bool: ...

    @abstractmethod
    def _acquire(self) -> bool: ...

    @abstractmethod
    def _check(self) -> bool: ...

    @abstractmethod
    def _release(self) -> None: ...


class AdvisoryLock(SchedulerLock):
    """A PostgreSQL session-level advisory lock on a dedicated connection of its own."""

    def __init__(self, database_url: str, key: int = LOCK_KEY) -> None:
        super().__init__()
        self.key = key
        # NullPool: closing the connection ends the session, which frees the lock for sure.
        self._engine = make_engine(database_url, poolclass=NullPool, isolation_level="AUTOCOMMIT",
                                   connect_args={"application_name": "gongxin-scheduler"})
        self._conn: Connection | None = None

    def _holding(self) -> bool:
        return self._conn is not None

    def _acquire(self) -> bool:
        try:
            conn = self._engine.connect()
        except DBAPIError as exc:
            log.warning("cannot reach the store to take the scheduler lock: %s", exc.orig)
            return False
        try:
            taken = conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}).scalar_one()
        except DBAPIError as exc:
            log.warning("cannot take the scheduler lock: %s", exc.orig)
            taken = False
        if taken:
            self._conn = conn
        else:
            conn.close()
        return bool(taken)

    def _check(self) -> bool:
        assert self._conn is not None
        try:
            return bool(self._conn.execute(_HELD, {"key": self.key}).scalar_one())
        except DBAPIError as exc:
            log.error("the scheduler lock's connection failed: %s", exc.orig)
            self._drop()
            return False

    def _release(self) -> None:
        assert self._conn is not None
        try:
            self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
        except DBAPIError:
            pass  # the session is gone, and the lock with it
        self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except DBAPIError:
                conn.invalidate()


_HELD = text(
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND pid = pg_backend_pid() AND objsubid = 1"
    " AND ((classid::bigint << 32) | objid::bigint) = :key)"
)


class FileLock(SchedulerLock):
    """An exclusive ``flock`` on a file, for processes of one machine sharing a SQLite store."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = Path(path)
        self._fd: int | None = None

    def _holding(self) -> bool:
        return self._fd is not None

    def _acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {socket.gethostname()}\n".encode())
        self._fd = fd
        return True

    def _check(self) -> bool:
        assert self._fd is not None
        try:
            mine, current = os.fstat(self._fd), os.stat(self.path)
        except FileNotFoundError:
            return False  # deleted: another process could lock a new file of the same name
        return (mine.st_dev, mine.st_ino) == (current.st_dev, current.st_ino)

    def _release(self) -> None:
        fd, self._fd = self._fd, None
        assert fd is not None
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)  # the file stays: deleting it would let two processes lock two files


def scheduler_lock(settings: Settings) -> SchedulerLock:
    """The lock for this store: advisory on PostgreSQL, a file beside the SQLite database."""
    url = make_url(settings.database_url)
    backend = url.get_backend_name()
    if backend == "postgresql":
        return AdvisoryLock(settings.database_url)
    if backend == "sqlite":
        if url.database and url.database != ":memory:":
            return FileLock(Path(url.database).with_name(Path(url.database).name + ".scheduler.lock"))
        return FileLock(settings.index_dir.parent / "scheduler.lock")
    raise ValueError(f"no scheduler lock for a {backend} store")


def run_scheduler(settings: Settings, *, stop_event: threading.Event | None = None,
                  poll_seconds: float = DEFAULT_POLL_SECONDS, build: Build = build_scheduler,
                  lock: SchedulerLock | None = None) -> None:
    """Run the jobs in the foreground while holding the lock; stand by while another holds it.

    Returns when ``stop_event`` is set, on SIGTERM or Ctrl-C, after running jobs have finished.
    """
    stop = stop_event or threading.Event()
    lock = lock or scheduler_lock(settings)
    scheduler = build(settings)  # a broken registry fails now, not when this node takes over
    with _stop_on_sigterm(stop):
        try:
            while _wait_for_lock(lock, stop, poll_seconds):
                try:
                    _run_while_held(scheduler, lock, stop, poll_seconds)
                finally:
                    lock.release()
                if stop.is_set():
                    break
                scheduler = build(settings)
        except KeyboardInterrupt:
            log.info("interrupted")
    log.info("scheduler stopped")


def _wait_for_lock(lock: SchedulerLock, stop: threading.Event, poll_seconds: float) -> bool:
    """Take the lock, retrying every poll; False when told to stop first."""
    announced = False
    while not stop.is_set():
        if lock.try_acquire():
            if stop.is_set():
                lock.release()
                return False
            return True
        if not announced:
            log.info("standby: another process holds the scheduler lock; retrying every %g s", poll_seconds)
            announced = True
        stop.wait(poll_seconds)
    return False


def _run_while_held(scheduler: BaseScheduler, lock: SchedulerLock, stop: threading.Event,
                    poll_seconds: float) -> None:
    """Run the scheduler until stopped or the lock is lost; wait for running jobs on the way out."""
    scheduler.start()
    log.info("scheduler lock taken; running %d job(s): %s", len(scheduler.get_jobs()),
             ", ".join(job.id for job in scheduler.get_jobs()))
    try:
        while not stop.wait(poll_seconds):
            if not lock.still_held():
                log.error("lost the scheduler lock; stopping jobs and standing by")
                return
    finally:
        log.info("stopping the scheduler; waiting for running jobs")
        scheduler.shutdown(wait=True)


@contextmanager
def _stop_on_sigterm(stop: threading.Event) -> Iterator[None]:
    """In the main thread, let SIGTERM set ``stop`` for a clean shutdown; elsewhere do nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(_signum: int, _frame: FrameType | None) -> None:
        log.info("SIGTERM received")
        stop.set()

    previous = signal.signal(signal.SIGTERM, handle)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def start_background(settings: Settings, *, build: Build = build_scheduler, lock: SchedulerLock | None = None,
                     poll_seconds: float = DEFAULT_POLL_SECONDS) -> BackgroundScheduler | None:
    """Start the jobs in this process's background if the lock is free now; None otherwise."""
    lock = lock or scheduler_lock(settings)
    if not lock.try_acquire():
        log.info("another process holds the scheduler lock; this one runs no scheduled jobs")
        return None
    try:
        scheduler = build(settings)
    except RegistryError as exc:
        lock.release()
        log.error("scheduled jobs not started: %s", exc)
        return None
    if not isinstance(scheduler, BackgroundScheduler):
        lock.release()
        raise TypeError("start_background needs a BackgroundScheduler")
    _hold_while_running(scheduler, lock, poll_seconds)
    scheduler.start()
    log.info("scheduled jobs running in the background: %s", ", ".join(j.id for j in scheduler.get_jobs()))
    return scheduler


def _hold_while_running(scheduler: BackgroundScheduler, lock: SchedulerLock, poll_seconds: float) -> None:
    """Release the lock when the scheduler shuts down; shut it down if the lock is lost."""

    def on_shutdown(_event: SchedulerEvent) -> None:
        lock.release()

    def check() -> None:
        if not lock.still_held():
            log.error("lost the scheduler lock; stopping the background jobs")
            scheduler.shutdown(wait=False)

    scheduler.add_listener(on_shutdown, EVENT_SCHEDULER_SHUTDOWN)
    scheduler.add_job(check, "interval", seconds=poll_seconds, id=LOCK_CHECK_JOB, **JOB_OPTIONS)
