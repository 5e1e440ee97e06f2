"""Store benchmark: bulk claims and facts on SQLite and PostgreSQL against raw sqlite3.

Each run happens in a fresh child process so that its peak memory is its own. A run creates
the entities, applies 1,000,000 claims and 1,000,000 facts (at full scale), re-applies them
unchanged, then with 10% changed. The raw rate is sqlite3's own executemany upsert of the same
rows into the same schema, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench import report, store_data
from credit.claims import ClaimIn, apply_claims
from credit.db import chunked, make_engine, make_session_factory
from credit.entities import EntityIds, ensure_entities
from credit.facts import FactIn, apply_facts
from credit.schema import upgrade

BATCH = 10_000
PHASES = ("claims first load", "claims unchanged", "claims 10% changed",
          "facts first load", "facts unchanged", "facts 10% changed")


def _fresh_engine(url: str) -> Any:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1]
        for suffix in ("", "-wal", "-shm"):
            Path(path + suffix).unlink(missing_ok=True)
    else:
        ensure_database(url)
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    engine = make_engine(url)
    upgrade(engine)
    return engine


def ensure_database(url: str) -> None:
    """Create the benchmark's own PostgreSQL database, so it never touches the test database."""
    target = make_url(url)
    admin = make_engine(target.set(database="postgres").render_as_string(hide_password=False),
                        isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": target.database}).scalar()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def _timed(factory: Any, apply: Callable[[Any, Sequence[Any]], Any], rows: Sequence[Any]) -> float:
    """Rows per second of applying ``rows`` in batches, in one unit of work."""
    start = time.perf_counter()
    with factory() as session:
        for part in chunked(rows, BATCH):
            apply(session, part)
        session.commit()
    return len(rows) / (time.perf_counter() - start)


def child(url: str, entities: int) -> dict[str, Any]:
    """One full run against ``url``; returns rows/s per phase and peak memory."""
    engine = _fresh_engine(url)
    factory = make_session_factory(engine)
    codes = store_data.usccs(entities)
    start = time.perf_counter()
    with factory() as session:
        ids: list[int] = []
        for part in chunked(codes, BATCH):
            ids += [r.entity_id for r in ensure_entities(session, [EntityIds(uscc=c) for c in part])]  # type: ignore[misc]
        session.commit()
    figures: dict[str, Any] = {"entities/s": entities / (time.perf_counter() - start)}
    claims: list[ClaimIn] = list(store_data.claims(ids))
    facts: list[FactIn] = list(store_data.facts(ids))
    changed_claims = list(store_data.claims(ids, changed_every=10, version=1))
    changed_facts = list(store_data.facts(ids, changed_every=10, version=1))
    plan = [(apply_claims, claims), (apply_claims, claims), (apply_claims, changed_claims),
            (apply_facts, facts), (apply_facts, facts), (apply_facts, changed_facts)]
    for phase, (apply, rows) in zip(PHASES, plan):
        figures[phase] = _timed(factory, apply, rows)
    figures["rows"] = {"claims": len(claims), "facts": len(facts)}
    figures["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    engine.dispose()
    return figures


def raw_child(entities: int) -> dict[str, Any]:
    """sqlite3 executemany upserts of the same rows into the same schema, no SQLAlchemy."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/raw.db"
        _fresh_engine(url).dispose()
        conn = sqlite3.connect(f"{tmp}/raw.db", isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        ids = list(range(1, entities + 1))
        conn.executemany("INSERT INTO entity (id, name, name_norm, former_names, id_warnings, created_at, updated_at)"
                         " VALUES (?, '', '', '[]', '[]', '', '')", [(i,) for i in ids])
        return {"claims": _raw_claims(conn, ids), "facts": _raw_facts(conn, ids)}


def _raw_claims(conn: sqlite3.Connection, ids: list[int]) -> float:
    start = time.perf_counter()
    rows = [(c.entity_id, c.field, c.value, c.source, c.rank, str(c.observed_at), str(c.observed_at))
            for c in store_data.claims(ids)]
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO claim (entity_id, field, value, source, rank, first_seen, last_seen)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (entity_id, field, source, value)"
        " DO UPDATE SET last_seen = excluded.last_seen", rows)
    conn.execute("COMMIT")
    return len(rows) / (time.perf_counter() - start)


def _raw_facts(conn: sqlite3.Connection, ids: list[int]) -> float:
    start = time.perf_counter()
    rows = [(f.entity_id, f.source, f.source_key, f.kind, f.authority, str(f.decided_on), f.severity,
             json.dumps(f.body, ensure_ascii=False), f.content_hash, "active", "", "")
            for f in store_data.facts(ids)]
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO fact (entity_id, source, source_key, kind, authority, decided_on, severity, body,"
        " content_hash, status, first_seen, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (source, source_key) DO UPDATE SET body = excluded.body,"
        " content_hash = excluded.content_hash", rows)
    conn.execute("COMMIT")
    return len(rows) / (time.perf_counter() - start)


def _spawn(*args: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-m", "bench.store", *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"store bench child {args[:2]} failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main(entities: int, runs: int, pg_url: str | None) -> None:
    """Run the benchmark ``runs`` times per database and write the section."""
    targets = [("SQLite", f"sqlite:///{tempfile.gettempdir()}/gongxin-bench-store.db")]
    if pg_url:
        targets.append(("PostgreSQL", pg_url))
    results: dict[str, list[dict[str, Any]]] = {}
    raws = []
    for run in range(runs):
        raws.append(_spawn("raw", str(entities)))
        for label, url in targets:
            print(f"store bench: {label} run {run + 1}/{runs}", file=sys.stderr, flush=True)
            results.setdefault(label, []).append(_spawn("child", url, str(entities)))
    report.write_section("store", _render(entities, results, raws))


def _render(entities: int, results: dict[str, list[dict[str, Any]]], raws: list[dict[str, Any]]) -> str:
    raw = {k: report.median([r[k] for r in raws]) for k in ("claims", "facts")}
    sample = next(iter(results.values()))[0]["rows"]
    lines = [
        "## Store: bulk claims and facts",
        "",
        f"Machine: {report.machine()}.",
        f"Data: {entities:,} entities, {sample['claims']:,} claims (7 registry + 3 tax per entity),"
        f" {sample['facts']:,} facts; batches of {BATCH:,}, one transaction per phase;"
        f" median of {len(raws)} runs, each in a fresh process.",
        "",
        f"Raw `sqlite3` executemany upsert of the same rows into the same schema (same run):"
        f" claims {raw['claims']:,.0f} rows/s, facts {raw['facts']:,.0f} rows/s.",
        "",
        "| database | phase | rows/s | vs raw sqlite3 | vs first load |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for label, runs in results.items():
        med = {p: report.median([r[p] for r in runs]) for p in PHASES}
        for phase in PHASES:
            kind = phase.split()[0]
            first = med[f"{kind} first load"]
            lines.append(f"| {label} | {phase} | {med[phase]:,.0f} | {med[phase] / raw[kind]:.0%} |"
                         f" {med[phase] / first:.1f}× |")
        entities_rate = report.median([r["entities/s"] for r in runs])
        peak = report.median([r["peak_mib"] for r in runs])
        lines.append(f"| {label} | entities created | {entities_rate:,.0f} | | |")
        lines.append(f"| {label} | peak memory of the run | {peak:,.0f} MiB | | |")
    lines += ["", "Aims (issue 2): first load ≥ 40% of the raw rate; unchanged re-apply ≥ 3× the first load."]
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", choices=("child", "raw"))
    parser.add_argument("args", nargs="*")
    ns = parser.parse_args()
    if ns.mode == "child":
        print(json.dumps(child(ns.args[0], int(ns.args[1]))))
    else:
        print(json.dumps(raw_child(int(ns.args[0]))))
