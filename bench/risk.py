"""Risk benchmark: a full classification of credit risk classes on a synthetic store.

The store (10 × size entities: 1,000,000 at scale 1.0) is written straight into the tables in
bulk: registration attributes, a status claim each (some with a recent change), annual reports
(some late or missing), penalties of every severity and age, inspections, list entries (active,
removed, withdrawn) and open objections. Each timed run starts from no assessment at all, so
every entity's class is written (the worst case); one more run with nothing changed is timed too.
Aim (issue: supervision): 1,000,000 entities in under 2 minutes on a 2-core machine.
"""

from __future__ import annotations

import random
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from bench import report
from bench.store import _fresh_engine
from credit.bulk import insert_rows
from credit.db import make_session_factory
from credit.models import Claim, Entity, Fact, ListEntry, Objection, RiskAssessment, RiskRun
from credit.risk import classify

AS_OF = date(2025, 9, 1)
T0 = datetime(2025, 1, 1)
BATCH = 50_000
SEED = 11
TYPES = ("有限责任公司（自然人投资或控股）", "有限责任公司", "股份有限公司", "个体工商户", "农民专业合作社", "外商独资企业")
STATUSES = (("存续", 0.78), ("在业", 0.12), ("吊销，未注销", 0.05), ("注销", 0.05))
RESULTS = ("未发现问题", "未发现问题", "未发现问题", "发现问题已责令改正", "通过登记的住所（经营场所）无法联系",
           "未按规定公示应当公示的信息", "其他情况")
SEVERITIES = ("minor", "ordinary", "ordinary", "serious", None)
LISTS = ("abnormal", "abnormal", "abnormal", "serious-illegal", "court-defaulters", "taxpayer-a-grade")


def build(session: Session, entities: int, seed: int = SEED) -> dict[str, int]:
    """Write the synthetic store in batches and commit; returns the rows written per table."""
    rng = random.Random(seed)
    counts = {"entities": 0, "claims": 0, "facts": 0, "list entries": 0, "objections": 0}
    for start in range(1, entities + 1, BATCH):
        ids = range(start, min(start + BATCH, entities + 1))
        tables = _batch(rng, ids)
        for name, (table, rows) in zip(counts, tables):
            insert_rows(session, table, rows)
            counts[name] += len(rows)
        session.commit()
    return counts


def _batch(rng: random.Random, ids: range) -> list[tuple[Any, list[dict[str, Any]]]]:
    entities, claims, facts, entries, objections = [], [], [], [], []
    statuses, weights = zip(*STATUSES)
    for i in ids:
        status = rng.choices(statuses, weights)[0]
        established = date(2000, 1, 1) + timedelta(days=rng.randrange(9300))
        entities.append({"id": i, "name": f"深圳市基准{i}号科技有限公司", "name_norm": f"深圳市基准{i}号科技有限公司",
                         "former_names": [], "entity_type": rng.choice(TYPES), "status": status,
                         "registered_capital": rng.choice((3, 50, 100, 500, 1000, 5000)),
                         "established_on": established, "id_warnings": [], "created_at": T0, "updated_at": T0})
        claims += _status_claims(rng, i, status)
        facts += list(_facts(rng, i, established))
        entries += list(_entries(rng, i))
        if rng.random() < 0.003:
            objections.append({"entity_id": i, "target_type": "fact", "text": "该处罚记录有误", "status": "open",
                               "submitted_at": datetime(2025, 8, 1)})
    return [(Entity.__table__, entities), (Claim.__table__, claims), (Fact.__table__, facts),
            (ListEntry.__table__, entries), (Objection.__table__, objections)]


def _status_claims(rng: random.Random, i: int, status: str) -> list[dict[str, Any]]:
    first = {"entity_id": i, "field": "status", "value": status, "source": "registry", "rank": 100,
             "first_seen": T0 - timedelta(days=900), "last_seen": T0}
    if rng.random() >= 0.05:
        return [first]
    return [first | {"value": "在业" if status != "在业" else "存续"},
            first | {"first_seen": T0 + timedelta(days=rng.randrange(200))}]


def _facts(rng: random.Random, i: int, established: date) -> Iterator[dict[str, Any]]:
    for year in (2022, 2023, 2024):
        if year >= established.year and rng.random() < 0.85:
            filed = date(year + 1, 1, 1) + timedelta(days=rng.randrange(200 if rng.random() < 0.9 else 400))
            yield _fact(i, "annual-report", f"{i}-{year}", "annual_report", filed, None, {"year": year})
    for k in range(rng.choices((0, 1, 2, 4), (0.85, 0.1, 0.04, 0.01))[0]):
        yield _fact(i, "penalty", f"{i}-{k}", "penalty", AS_OF - timedelta(days=rng.randrange(2000)),
                    rng.choice(SEVERITIES), {"decision_no": f"深市监罚〔2024〕{i}-{k}号", "penalty_type": "罚款"})
    if rng.random() < 0.3:
        yield _fact(i, "inspection", f"{i}", "inspection", AS_OF - timedelta(days=rng.randrange(1500)), None,
                    {"result": rng.choice(RESULTS), "item": "企业公示信息情况"})


def _fact(i: int, source: str, key: str, kind: str, decided: date, severity: str | None,
          body: dict[str, Any]) -> dict[str, Any]:
    return {"entity_id": i, "source": source, "source_key": key, "kind": kind, "authority": "深圳市市场监督管理局",
            "decided_on": decided, "severity": severity, "body": body, "content_hash": f"{i:032x}"[-32:],
            "status": "active", "first_seen": T0, "updated_at": T0}


def _entries(rng: random.Random, i: int) -> Iterator[dict[str, Any]]:
    if rng.random() >= 0.06:
        return
    listed = AS_OF - timedelta(days=rng.randrange(2000))
    removed = listed + timedelta(days=rng.randrange(900)) if rng.random() < 0.4 else None
    removed = removed if removed is None or removed <= AS_OF else None
    yield {"entity_id": i, "list_id": rng.choice(LISTS), "reason": "基准测试列入事由", "listed_on": listed,
           "removed_on": removed, "status": "removed" if removed else ("withdrawn" if rng.random() < 0.02 else "active"),
           "public": True, "source": "lists", "source_key": f"{i}", "created_at": T0, "updated_at": T0}


def _clear(session: Session) -> None:
    session.execute(delete(RiskAssessment))
    session.execute(delete(RiskRun))
    session.execute(update(Entity).values(risk_class=None))
    session.commit()


def measure(url: str, entities: int, runs: int) -> dict[str, Any]:
    """Build the store at ``url``, then time ``runs`` full classifications from scratch and one unchanged."""
    engine = _fresh_engine(url)
    factory = make_session_factory(engine)
    started = time.perf_counter()
    with factory() as session:
        rows = build(session, entities)
    built = time.perf_counter() - started
    times, counts = [], {}
    for run in range(runs):
        with factory() as session:
            _clear(session)
            started = time.perf_counter()
            done = classify(session, AS_OF)
            session.commit()
            times.append(time.perf_counter() - started)
            counts = dict(sorted(done.counts.items()))
        print(f"risk bench: run {run + 1}/{runs}: {times[-1]:.1f} s", file=sys.stderr, flush=True)
    with factory() as session:
        started = time.perf_counter()
        unchanged = classify(session, AS_OF)
        session.commit()
        again = time.perf_counter() - started
    engine.dispose()
    assert unchanged.changed == 0
    return {"rows": rows, "build_s": built, "times": times, "unchanged_s": again, "counts": counts,
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main(size: int, runs: int, pg_url: str | None) -> None:
    """Run the benchmark on 10 × ``size`` entities (SQLite, and PostgreSQL when given); write the section."""
    entities = size * 10
    targets = [("SQLite", f"sqlite:///{tempfile.gettempdir()}/gongxin-bench-risk.db")]
    if pg_url:
        targets.append(("PostgreSQL", pg_url))
    results = {}
    for label, url in targets:
        print(f"risk bench: {label}, {entities:,} entities", file=sys.stderr, flush=True)
        results[label] = measure(url, entities, runs)
    report.write_section("risk", _render(entities, runs, results))


def _render(entities: int, runs: int, results: dict[str, dict[str, Any]]) -> str:
    lines = [
        "## Risk: full classification of credit risk classes",
        "",
        f"Machine: {report.machine()}.",
        f"Data: {entities:,} synthetic entities with status claims, annual reports, penalties, inspections,"
        " list entries and objections, as of " + AS_OF.isoformat() + f"; median of {runs} runs, each from no"
        " assessment at all (every class written).",
        "",
        "| database | rows in the store | full classification | per 1M entities | unchanged re-run | classes |",
        "| --- | --- | ---: | ---: | ---: | --- |",
    ]
    for label, r in results.items():
        seconds = report.median(r["times"])
        stored = ", ".join(f"{n} {v:,}" for n, v in r["rows"].items())
        classes = ", ".join(f"{k} {v:,}" for k, v in r["counts"].items())
        lines.append(f"| {label} | {stored} | {seconds:,.1f} s | {seconds * 1_000_000 / entities:,.0f} s |"
                     f" {r['unchanged_s']:,.1f} s | {classes} |")
    lines += ["", "Aim (issue: supervision): 1,000,000 entities classified in under 2 minutes on a 2-core machine."]
    return "\n".join(lines)
