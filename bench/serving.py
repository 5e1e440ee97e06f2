"""HTTP benchmark: the lookup served by gunicorn (2 workers), loaded over loopback from another process.

One SQLite store of sample entities (`bench.search_data.fill_store`, 1,000,000 at full scale),
a tantivy index of it (the engine for deployments of that size), and on top, for the entities
whose profiles are requested, what a busy profile holds: claims from two sources, penalties,
licences and list entries. gunicorn serves `wsgi:app` with the rate limiter off; a load process
(its own interpreter, started with `spawn`) keeps CLIENTS keep-alive connections busy per kind of
request and records each request's wall time. Kinds:

- profile (API): `GET /api/v1/entities/{uscc}`; profile (page): `GET /entities/{uscc}`;
- search (API): `GET /api/v1/search?q=…`; search (page): `GET /search?q=…` — over the mixed query
  set of the search benchmark (exact names, fragments, traditional and full-width forms, pinyin
  initials, typos, USCCs and USCC prefixes).

Per kind and run: requests/s and p50/p95/p99; the section reports the median of the runs.
"""

from __future__ import annotations

import http.client
import multiprocessing
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench import report
from bench.search_data import fill_store, query_sets
from bench.store import _fresh_engine
from credit.bulk import insert_rows
from credit.claims import ClaimIn, apply_claims
from credit.db import make_session_factory
from credit.facts import FactIn, apply_facts
from credit.models import Entity, ListEntry
from search_index.index import SearchIndex
from search_index.maintain import rebuild

SIZE_FACTOR = 10  # scale 1.0 → 1,000,000 entities
WORKERS = 2
CLIENTS = 4  # concurrent keep-alive connections per kind (two per worker: a worker is never idle)
REQUESTS = 2_000  # per kind and run
PROFILED = 2_000  # entities whose profiles are requested, each given a busy profile
ENGINE = "tantivy"
AIMS = {"profile (API)": "p95 ≤ 30 ms", "search (API)": "p95 ≤ 50 ms"}
T0 = datetime(2025, 1, 1)


def main(unit: int, runs: int, _pg_url: str | None) -> None:
    """Fill, index, serve, load; write the section of docs/benchmarks.md."""
    entities = unit * SIZE_FACTOR
    with tempfile.TemporaryDirectory(prefix="gongxin-bench-serving-") as tmp:
        root = Path(tmp)
        url = f"sqlite:///{root / 'store.db'}"
        setup = prepare(url, root / "index", entities)
        with serve(url, root / "index") as base:
            results = {kind: [] for kind in KINDS}
            _log("warming up")
            load(base, setup, 200, CLIENTS)
            for run in range(runs):
                _log(f"load run {run + 1}/{runs}")
                for kind, figures in load(base, setup, REQUESTS, CLIENTS).items():
                    results[kind].append(figures)
    report.write_section("serving", render(entities, setup, results, runs))


def _log(message: str) -> None:
    print(f"serving bench: {message}", file=sys.stderr, flush=True)


def prepare(url: str, index_dir: Path, entities: int) -> dict[str, Any]:
    """The store, the busy profiles, the index; what the load asks for."""
    engine = _fresh_engine(url)
    factory = make_session_factory(engine)
    started = time.perf_counter()
    _log(f"filling the store with {entities:,} entities")
    with factory() as session:
        names = fill_store(session, entities)
        queries = [q.text for q in query_sets(session, names)]
        rng = random.Random(11)
        rows = session.execute(select(Entity.id, Entity.uscc, Entity.name, Entity.legal_rep, Entity.address)
                               .where(Entity.uscc.is_not(None))).all()
        profiled = rng.sample(rows, min(PROFILED, len(rows)))
        _log(f"giving {len(profiled):,} entities busy profiles")
        busy_profiles(session, profiled)
        session.commit()
    fill_s = time.perf_counter() - started
    _log(f"building the {ENGINE} index")
    index = SearchIndex(index_dir, ENGINE)
    started = time.perf_counter()
    with factory() as session:
        rebuild(session, index)
    index.close()
    build_s = time.perf_counter() - started
    engine.dispose()
    return {"entities": entities, "usccs": [r.uscc for r in profiled], "queries": queries,
            "fill_s": fill_s, "build_s": build_s}


def busy_profiles(session: Any, rows: list[Any]) -> None:
    """Claims from the registry and tax (the same values), 3 penalties, 2 licences, 1 list entry each."""
    claims, facts, entries = [], [], []
    today = date.today()
    for n, row in enumerate(rows):
        for source, rank in (("registry", 100), ("tax", 50)):
            for field in ("name", "legal_rep", "address"):
                value = getattr(row, field)
                if value:
                    claims.append(ClaimIn(row.id, field, value, source, rank, T0))
        for k in range(3):
            facts.append(FactIn(
                entity_id=row.id, source="penalty", source_key=f"{row.uscc}-p{k}", kind="penalty",
                authority="深圳市市场监督管理局", decided_on=today - timedelta(days=90 * (k + 1)),
                publicity_until=today + timedelta(days=365 * 3), severity="ordinary",
                body={"decision_no": f"深市监罚〔2025〕{n}-{k}号", "fine_amount": str(1000 * (k + 1)),
                      "facts": "未按规定公示年度报告", "kind": "罚款"}))
        for k in range(2):
            facts.append(FactIn(
                entity_id=row.id, source="licence", source_key=f"{row.uscc}-l{k}", kind="licence",
                authority="深圳市市场监督管理局", decided_on=today - timedelta(days=400 * (k + 1)),
                valid_from=today - timedelta(days=400 * (k + 1)), valid_to=today + timedelta(days=700),
                body={"licence_no": f"JY{n:08d}{k}", "licence_name": "食品经营许可证"}))
        entries.append({"entity_id": row.id, "list_id": "abnormal", "reason": "通过登记的住所或者经营场所无法联系",
                        "reason_code": "2", "listed_on": today - timedelta(days=100), "listed_by": "深圳市市场监督管理局",
                        "due_expiry": None, "status": "active", "public": True, "source": "bench",
                        "source_key": f"{row.uscc}-a", "created_at": T0, "updated_at": T0})
    for start in range(0, len(claims), 10_000):
        apply_claims(session, claims[start:start + 10_000])
    for start in range(0, len(facts), 10_000):
        apply_facts(session, facts[start:start + 10_000])
    insert_rows(session, ListEntry.__table__, entries)


class serve:
    """gunicorn with WORKERS sync workers on a free loopback port, stopped on exit."""

    def __init__(self, url: str, index_dir: Path) -> None:
        self.url, self.index_dir = url, index_dir
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> str:
        port = _free_port()
        env = dict(os.environ, GONGXIN_DATABASE_URL=self.url, GONGXIN_INDEX_DIR=str(self.index_dir),
                   GONGXIN_SEARCH_ENGINE=ENGINE, GONGXIN_RATE_LIMIT="off", GONGXIN_SCHEDULER="off")
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.process = subprocess.Popen(
            [str(gunicorn), "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
             "--keep-alive", "30", "wsgi:app"],
            env=env, cwd=Path(__file__).resolve().parent.parent)
        base = f"127.0.0.1:{port}"
        _wait_ready(base, self.process)
        return base

    def __exit__(self, *_exc: object) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(base: str, process: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn stopped with exit code {process.returncode}")
        try:
            conn = http.client.HTTPConnection(base, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status in (200, 503):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer on {base} within {timeout:.0f} s")


KINDS = ("profile (API)", "profile (page)", "search (API)", "search (page)")


def paths(setup: dict[str, Any], kind: str, count: int) -> list[str]:
    """``count`` request paths of one kind, drawn with a fixed seed."""
    rng = random.Random(kind)
    if kind.startswith("profile"):
        prefix = "/api/v1/entities/" if "API" in kind else "/entities/"
        return [prefix + rng.choice(setup["usccs"]) for _ in range(count)]
    prefix = "/api/v1/search?q=" if "API" in kind else "/search?q="
    return [prefix + urllib.parse.quote(rng.choice(setup["queries"])) for _ in range(count)]


def load(base: str, setup: dict[str, Any], count: int, clients: int) -> dict[str, dict[str, float]]:
    """Each kind in turn, ``count`` requests over ``clients`` connections, from a separate process."""
    jobs = {kind: paths(setup, kind, count) for kind in KINDS}
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(_load_process, (base, jobs, clients))


def _load_process(base: str, jobs: dict[str, list[str]], clients: int) -> dict[str, dict[str, float]]:
    return {kind: _load_kind(base, urls, clients) for kind, urls in jobs.items()}


def _load_kind(base: str, urls: list[str], clients: int) -> dict[str, float]:
    times: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    shares = [urls[i::clients] for i in range(clients)]

    def client(share: list[str]) -> None:
        conn = http.client.HTTPConnection(base, timeout=60)
        mine = []
        for url in share:
            start = time.perf_counter()
            conn.request("GET", url)
            response = conn.getresponse()
            response.read()
            mine.append((time.perf_counter() - start) * 1000)
            if response.status != 200:
                with lock:
                    failures.append(f"{response.status} {url}")
        conn.close()
        with lock:
            times.extend(mine)

    threads = [threading.Thread(target=client, args=(share,)) for share in shares]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} requests failed, e.g. {failures[:3]}")
    times.sort()
    at = {p: times[min(len(times) - 1, int(len(times) * p / 100))] for p in (50, 95, 99)}
    return {"rps": len(times) / wall, "p50": at[50], "p95": at[95], "p99": at[99]}


def render(entities: int, setup: dict[str, Any], results: dict[str, list[dict[str, float]]], runs: int) -> str:
    """The section: the set-up, then one row per kind of request."""
    lines = [
        "## HTTP: gunicorn serving the lookup",
        "",
        f"Machine: {report.machine()}.",
        "",
        f"Data: {entities:,} sample entities in a SQLite store (`bench.search_data.fill_store`), a {ENGINE} index"
        f" of them; {len(setup['usccs']):,} of them, whose profiles are requested, each with 6 claims from two"
        " sources, 3 penalties in their publicity period, 2 licences and an abnormal-list entry. Set-up:"
        f" store {setup['fill_s']:.0f} s, index rebuild {setup['build_s']:.0f} s.",
        f"Server: gunicorn, {WORKERS} sync workers, `wsgi:app`, rate limiter off. Load: a separate process on the"
        f" same machine (so it shares the 2 cores), {CLIENTS} keep-alive connections per kind, {REQUESTS:,}"
        f" requests per kind and run, after a warm-up; median of {runs} runs. Searches draw from the search"
        " benchmark's mixed query set (every kind, USCC prefixes included); profiles from the busy entities.",
        "",
        "| request | requests/s | p50 | p95 | p99 | aim |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for kind in KINDS:
        runs_of = results[kind]
        med = {key: report.median([r[key] for r in runs_of]) for key in ("rps", "p50", "p95", "p99")}
        aim = AIMS.get(kind, "")
        if aim:
            limit = float(aim.split("≤")[1].split()[0])
            aim += " — met" if med["p95"] <= limit else " — not met"
        lines.append(f"| {kind} | {med['rps']:.0f} | {med['p50']:.1f} ms | {med['p95']:.1f} ms"
                     f" | {med['p99']:.1f} ms | {aim} |")
    return "\n".join(lines)
