"""Draw benchmark: a 双随机 draw of about 5% over a synthetic register, in memory (no database).

The snapshot is built in memory (``size × 10`` entities: 1,000,000 at scale 1.0; 1,000 inspectors
in 20 agencies; declared ties, recent inspections and complaints) and drawn ``runs`` times with
fresh seeds, without and with the local-inspector rule. The draw time excludes the snapshot hash,
which the plan computes once when it takes the snapshot (timed on its own).
"""

from __future__ import annotations

import os
import random
import sys
import time
from datetime import date, timedelta
from typing import Any

from bench import report
from credit.inspection_rules import load_inspection_policy
from credit.inspections import (
    Complaint,
    DrawRules,
    EntityRow,
    InspectionItem,
    Inspector,
    RecentInspection,
    Snapshot,
    draw,
    new_seed,
    snapshot_hash,
)

INSPECTORS = 1_000
AGENCIES = 20
# Class shares and the plan's ratios: about 5% of the register is drawn.
SHARES = (("A", 0.62), ("B", 0.25), ("C", 0.04), ("D", 0.01), (None, 0.08))
RATIOS = {"A": "0.03", "B": "0.05", "C": "0.21", "D": "0.61"}
CITIES = ("330100", "330200", "330300", "330400", "330500")
TAKEN_ON = date(2025, 6, 30)
AIM_S = 5.0


def build_snapshot(entities: int, seed: int = 1) -> Snapshot:
    """A synthetic province-like register of ``entities`` entities and 1,000 inspectors."""
    rng = random.Random(seed)
    counties = [city[:4] + f"{n:02d}" for city in CITIES for n in range(2, 22)]
    classes = rng.choices([c for c, _ in SHARES], weights=[w for _, w in SHARES], k=entities)
    rows = tuple(EntityRow(i, None, classes[i - 1], counties[i % len(counties)], "批发和零售业", "有限责任公司",
                           f"测试企业{i}") for i in range(1, entities + 1))
    regions = ["330000"] + list(CITIES) + counties
    inspectors = tuple(Inspector(f"ZJ{j:05d}", f"执法人员{j}", f"agency-{j % AGENCIES}", regions[j % len(regions)],
                                 frozenset(rng.randrange(1, entities + 1) for _ in range(3)))
                       for j in range(INSPECTORS))
    recent = tuple(RecentInspection(rng.randrange(1, entities + 1), f"ZJ{rng.randrange(INSPECTORS):05d}",
                                    TAKEN_ON - timedelta(days=rng.randrange(730))) for _ in range(entities // 20))
    complaints = tuple(Complaint(rng.randrange(1, entities + 1), f"agency-{rng.randrange(AGENCIES)}")
                       for _ in range(entities // 50))
    items = tuple(InspectionItem(f"ZJ-{n:03d}", f"抽查事项{n}") for n in range(10))
    return Snapshot(rows, inspectors, recent, complaints, items, TAKEN_ON)


def measure(snapshot: Snapshot, rules: DrawRules, runs: int) -> dict[str, Any]:
    """Median draw time over ``runs`` fresh seeds, with the last run's counts."""
    times, result = [], None
    for _ in range(runs):
        seed = new_seed()
        start = time.perf_counter()
        result = draw(seed, snapshot, rules)
        times.append(time.perf_counter() - start)
    assert result is not None
    return {"median_s": report.median(times), "times": times, "targets": len(result.targets),
            "unassigned": len(result.unassigned)}


def main(size: int, runs: int, _pg_url: str | None) -> None:
    """Build the snapshot (``size × 10`` entities), time the draws, write the section."""
    entities = size * 10
    _log(f"building a snapshot of {entities:,} entities")
    start = time.perf_counter()
    snapshot = build_snapshot(entities)
    built_s = time.perf_counter() - start
    start = time.perf_counter()
    snapshot_hash(snapshot)
    hash_s = time.perf_counter() - start
    policy = load_inspection_policy()
    load = os.getloadavg()[0]
    figures = {}
    for local in (False, True):
        _log(f"drawing ({'local inspectors only' if local else 'any inspector'}), {runs} runs")
        figures[local] = measure(snapshot, policy.rules(RATIOS, require_local=local), runs)
    report.write_section("draw", render(entities, runs, built_s, hash_s, figures, load))


def render(entities: int, runs: int, built_s: float, hash_s: float, figures: dict[bool, dict[str, Any]],
           load: float) -> str:
    """The markdown section."""
    lines = ["## Inspection draw: 双随机 targets and inspectors", "",
             f"Machine: {report.machine()}.",
             f"Data: a synthetic snapshot in memory (`bench/draw.py`): {entities:,} entities (A 62%, B 25%, C 4%,"
             f" D 1%, unclassified 8%), {INSPECTORS:,} inspectors in {AGENCIES} agencies (province, city and county"
             " regions), 3 declared ties each, one recent inspection per 20 entities, one complaint per 50."
             f" Ratios A {RATIOS['A']}, B {RATIOS['B']}, C {RATIOS['C']}, D {RATIOS['D']}; 2 inspectors per target."
             f" Median of {runs} draws with fresh seeds; the snapshot took {built_s:.1f} s to build and its hash"
             f" (canonical JSON + sha256, once per plan, not in the draw time) {hash_s:.1f} s. Load average"
             f" when the draws began: {load:.1f}{' (other work shared the cores)' if load >= 1 else ''}.", "",
             "| inspectors | draw time (median) | runs | targets | unassigned | aim |",
             "| --- | ---: | ---: | ---: | ---: | --- |"]
    for local, f in figures.items():
        lines.append(f"| {'local only' if local else 'any'} | {f['median_s']:.2f} s |"
                     f" {', '.join(f'{t:.2f}' for t in f['times'])} | {f['targets']:,} | {f['unassigned']:,} |"
                     f" < {AIM_S:.0f} s {'met' if f['median_s'] < AIM_S else 'MISSED'} |")
    lines += ["", "Aim (issue): a 5% draw over 1,000,000 entities under 5 seconds."]
    return "\n".join(lines)


def _log(message: str) -> None:
    print(f"draw bench: {message}", file=sys.stderr, flush=True)
