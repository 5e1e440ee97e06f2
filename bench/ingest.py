"""Ingest benchmark: the sample regulators' files end to end, beside a raw read and a raw store rate.

The sample set (`ingest.sample.write_sample_data`, seed 1, a fixed day) is written once per
invocation, untimed. Its size is ten times the `--scale` unit of `python -m bench`: scale 1.0
means 1,000,000 entities. Each run happens in a fresh child process, so its peak memory is its
own, against a fresh SQLite file and, when given, PostgreSQL. A run:

- loads every source in registry order with `run_source` (end to end: rows read / wall time),
  timing every call of `merge_records` on the way (raw store: rows merged / seconds inside it);
- reads every file again with `read_chunks` alone (raw read: rows / seconds);
- runs every source again (unchanged re-run: every file hash already applied);
- runs every source from a copy of the set in which every tenth data row of the register
  (法定代表人), licence (许可内容) and penalty (处罚内容) files was changed (10%-changed re-run).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from python_calamine import CalamineWorkbook

import ingest.runs
import ingest.unresolved
from bench import report
from bench.store import _fresh_engine
from credit.db import make_session_factory
from ingest.kinds import KINDS
from ingest.readers import detect_encoding, read_chunks
from ingest.registry import Registry, SourceSpec, load_registry
from ingest.runs import CHUNK_ROWS, RunReport, run_source
from ingest.sample import SampleSummary, write_sample_data

ENTITY_FACTOR = 10  # the --scale unit is 100,000 entities; this benchmark's full size is 1,000,000
SEED = 1
TODAY = date(2025, 6, 30)
CHANGE_EVERY = 10
FULL_ENTITIES = 1_000_000
AIM_RATIO, AIM_UNCHANGED_S, AIM_PEAK_MIB = 0.30, 10.0, 2048.0
PEOPLE = ("王建国", "李秀英", "张志强")


def _new_person(value: str, i: int) -> str:
    """Another legal representative, never the same one."""
    return next(p for k in range(len(PEOPLE)) if (p := PEOPLE[(i + k) % len(PEOPLE)]) != value)


def _amended(value: str, _i: int) -> str:
    """The same text, amended."""
    return f"{value}（变更）"


# kind -> (the canonical field changed in every tenth data row, how it changes)
CHANGES: dict[str, tuple[str, Callable[[str, int], str]]] = {
    "registration": ("legal_rep", _new_person), "licence": ("content", _amended), "penalty": ("content", _amended),
}


# --- the parent: data, changed copies, runs, the section ----------------------------------------

def main(entities: int, runs: int, pg_url: str | None) -> None:
    """Ingest ``entities`` × 10 sample entities ``runs`` times per database and write the section."""
    with tempfile.TemporaryDirectory(prefix="gongxin-bench-ingest-") as tmp:
        print(f"ingest bench: writing sample data for {entities * ENTITY_FACTOR:,} entities", file=sys.stderr,
              flush=True)
        summary = write_sample_data(Path(tmp) / "sample", entities=entities * ENTITY_FACTOR, seed=SEED, today=TODAY)
        registry = load_registry(summary.registry)
        targets = [("SQLite", f"sqlite:///{tmp}/ingest.db")] + ([("PostgreSQL", pg_url)] if pg_url else [])
        results: dict[str, list[dict[str, Any]]] = {}
        for run in range(runs):
            changed = write_changed_copy(summary.directory, Path(tmp) / "changed")
            for label, url in targets:
                print(f"ingest bench: {label} run {run + 1}/{runs}", file=sys.stderr, flush=True)
                results.setdefault(label, []).append(_spawn(url, str(summary.registry), str(changed)))
            shutil.rmtree(changed.parent)
            # A full-size run takes half an hour: the section is rewritten after each one, so an
            # interrupted benchmark keeps the medians of the runs it finished.
            report.write_section("ingest", _render(summary, registry, results))


def write_changed_copy(source: Path, target: Path) -> Path:
    """Copy the sample set and change every tenth data row of the CHANGES sources; the copy's registry."""
    shutil.copytree(source, target)
    registry = load_registry(target / "sources.toml")
    for spec in registry.sources:
        if spec.kind in CHANGES:
            field, change = CHANGES[spec.kind]
            for path in spec.paths():
                _REWRITERS[spec.format](path, spec, spec.columns[field], change)
    return registry.path


def _rewrite_csv(path: Path, spec: SourceSpec, header: str, change: Callable[[str, int], str]) -> None:
    """The CSV in its own encoding (a BOM stays a BOM), every tenth data row changed in ``header``."""
    encoding = spec.encoding or detect_encoding(path)
    temp = path.with_name(path.name + ".tmp")
    with path.open(encoding=encoding, newline="") as src, temp.open("w", encoding=encoding, newline="") as out:
        reader, writer = csv.reader(src), csv.writer(out)
        headers = next(reader)
        writer.writerow(headers)
        column = headers.index(header)
        for i, row in enumerate(reader):
            if i % CHANGE_EVERY == 0:
                row[column] = change(row[column], i)
            writer.writerow(row)
    temp.replace(path)


def _rewrite_xlsx(path: Path, spec: SourceSpec, header: str, change: Callable[[str, int], str]) -> None:
    """The workbook's sheet again in openpyxl's write-only mode, every tenth data row changed."""
    book = CalamineWorkbook.from_path(str(path))
    sheet = book.get_sheet_by_name(spec.sheet) if spec.sheet else book.get_sheet_by_index(0)
    book.close()
    rows = sheet.iter_rows()
    headers = [str(h) for h in next(rows)]
    column = headers.index(header)
    out = Workbook(write_only=True)
    target = out.create_sheet(sheet.name)
    target.append(headers)
    for i, cells in enumerate(rows):
        values = [None if c == "" else c for c in cells]
        if i % CHANGE_EVERY == 0:
            values[column] = change("" if values[column] is None else str(values[column]), i)
        target.append(values)
    temp = path.with_name(path.name + ".tmp")
    out.save(temp)
    temp.replace(path)


_REWRITERS = {"csv": _rewrite_csv, "xlsx": _rewrite_xlsx}


def _spawn(*args: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-m", "bench.ingest", "child", *args], check=True,
                         stdout=subprocess.PIPE, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


# --- the child: one run against one database ----------------------------------------------------

class MergeClock:
    """Seconds and records inside `merge_records`, per source: the store's share of a run."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.rows: dict[str, int] = defaultdict(int)

    def install(self) -> None:
        """Route the ingest modules' calls of merge_records through the clock (this process only)."""
        original = ingest.runs.merge_records

        def timed(session: Any, spec: SourceSpec, records: Any, observed: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(session, spec, records, observed)
            finally:
                self.seconds[spec.id] += time.perf_counter() - start
                self.rows[spec.id] += len(records)

        ingest.runs.merge_records = timed  # type: ignore[assignment]
        ingest.unresolved.merge_records = timed  # type: ignore[assignment]

    def take(self) -> dict[str, tuple[int, float]]:
        """(records, seconds) per source since the last take."""
        taken = {k: (self.rows[k], self.seconds[k]) for k in self.seconds}
        self.seconds.clear()
        self.rows.clear()
        return taken


def child(url: str, registry_path: str, changed_path: str) -> dict[str, Any]:
    """One run against ``url``: first load, raw read, unchanged re-run, 10%-changed re-run."""
    engine = _fresh_engine(url)
    factory = make_session_factory(engine)
    clock = MergeClock()
    clock.install()
    registry = load_registry(Path(registry_path))
    start_mib = _MEMORY.start().peak_mib()
    first_s, first = _run_all(factory, registry, {"applied"}, "first load")
    merged = clock.take()
    peak = _peak_mib()
    reads = _read_all(registry)
    unchanged_s, _ = _run_all(factory, registry, {"unchanged"}, "unchanged re-run")
    changed_s, changed = _run_all(factory, load_registry(Path(changed_path)), {"applied", "unchanged"},
                                  "10%-changed re-run")
    engine.dispose()
    _MEMORY.stop()
    rows = sum(_counts(r)["read"] for _s, r, _m in first.values())
    if rows != sum(n for n, _s in reads.values()):
        raise RuntimeError(f"end to end read {rows} rows, read_chunks {sum(n for n, _s in reads.values())}")
    sources = {sid: {"rows": _counts(r)["read"], "load_s": s, "read_s": reads[sid][1], "peak_mib": m,
                     "merge_rows": merged.get(sid, (0, 0.0))[0], "merge_s": merged.get(sid, (0, 0.0))[1]}
               for sid, (s, r, m) in first.items()}
    return {"rows": rows, "first_s": first_s, "peak_mib": peak, "start_mib": start_mib, "unchanged_s": unchanged_s,
            "changed_s": changed_s, "first_counts": _counts(r for _s, rs, _m in first.values() for r in rs),
            "changed_counts": _counts(r for _s, rs, _m in changed.values() for r in rs), "sources": sources,
            "e2e_rows_s": rows / first_s,
            "read_rows_s": rows / sum(s for _n, s in reads.values()),
            "store_rows_s": sum(n for n, _s in merged.values()) / sum(s for _n, s in merged.values())}


def _run_all(factory: Any, registry: Registry, allowed: set[str],
             phase: str) -> tuple[float, dict[str, tuple[float, list[RunReport], float]]]:
    """Run every source in registry order: total seconds, and per source (seconds, reports, peak MiB so far)."""
    start = time.perf_counter()
    done = {}
    for spec in registry.sources:
        began = time.perf_counter()
        reports = run_source(factory, spec)
        done[spec.id] = (time.perf_counter() - began, reports, _peak_mib())
    total = time.perf_counter() - start
    wrong = [f"{r.source_id} {r.path}: {r.status} {r.error or ''}"
             for _s, reports, _m in done.values() for r in reports if r.status not in allowed]
    if wrong:
        raise RuntimeError(f"{phase}: expected {sorted(allowed)}, got\n" + "\n".join(wrong))
    return total, done


class MemorySampler:
    """Peak resident memory of this process plus its helper processes, sampled every 0.1 s.

    Neither ``ru_maxrss`` (Linux carries the parent's high-water mark across fork and exec, so a
    child spawned by the process that wrote the sample data started at its 2 GB) nor ``VmHWM``
    alone (it misses the `ingest.prepare` helper that runs beside the load) gives the figure a
    deployment cares about: the memory the whole ingest holds at its peak.
    """

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> MemorySampler:
        self.peak_kib = self.sample()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def peak_mib(self) -> float:
        """The highest sum so far (including a sample taken now), in MiB."""
        self.peak_kib = max(self.peak_kib, self.sample())
        return self.peak_kib / 1024

    @staticmethod
    def sample() -> int:
        """Resident KiB of this process and its children now (a child that just ended counts 0)."""
        total = _rss_kib(os.getpid())
        for task in Path("/proc/self/task").iterdir():
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            total += sum(_rss_kib(int(pid)) for pid in children)
        return total

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak_kib = max(self.peak_kib, self.sample())


def _rss_kib(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)


_MEMORY = MemorySampler()


def _peak_mib() -> float:
    """Peak resident memory of this run (process + helpers) so far, in MiB."""
    return _MEMORY.peak_mib()


def _read_all(registry: Registry) -> dict[str, tuple[int, float]]:
    """Rows and seconds of read_chunks over every file of every source (no mapping, no store)."""
    out = {}
    for spec in registry.sources:
        start = time.perf_counter()
        rows = sum(len(chunk) for path in spec.paths()
                   for chunk in read_chunks(path, format=spec.format, encoding=spec.encoding, sheet=spec.sheet,
                                            chunk_rows=CHUNK_ROWS))
        out[spec.id] = (rows, time.perf_counter() - start)
    return out


def _counts(reports: Iterable[RunReport]) -> dict[str, int]:
    """The runs' counts added up (read, new, updated, unchanged, rejected, ...)."""
    total: Counter[str] = Counter()
    for r in reports:
        total.update(r.counts)
    return dict(total)


# --- the section --------------------------------------------------------------------------------

def _render(summary: SampleSummary, registry: Registry, results: dict[str, list[dict[str, Any]]]) -> str:
    kinds = {s.id: s.kind for s in registry.sources}
    by_kind: Counter[str] = Counter()
    for f in summary.files:
        kind = KINDS[kinds[f.source]]
        by_kind["registration" if kind.name == "registration" else "list" if kind.is_list else "fact"] += f.rows
    runs = len(next(iter(results.values())))
    changed = ", ".join(f"{s.id} ({s.columns[CHANGES[s.kind][0]]})" for s in registry.sources if s.kind in CHANGES)
    lines = [
        "## Ingest: sample regulator files end to end", "",
        f"Machine: {report.machine()}.",
        f"Data: `write_sample_data(entities={summary.entities:,}, seed={SEED}, today={TODAY})`"
        f"{'' if summary.entities == FULL_ENTITIES else f' (full size: {FULL_ENTITIES:,} entities)'}:"
        f" {by_kind['registration']:,} registration rows, {by_kind['fact']:,} fact rows,"
        f" {by_kind['list']:,} list rows; {summary.total_rows:,} rows in {len(summary.files)} files of"
        f" {len(registry.sources)} sources. Median of {runs} run{'s' * (runs != 1)}, each in a fresh process.",
        "",
        "End to end: `run_source` over every source in registry order, rows read / wall time. Raw read:"
        " `read_chunks` over the same files, same run. Raw store: rows passed to `merge_records` / seconds"
        " inside it during the first load (identity, claims, facts, list entries; not the commit)."
        f" 10%-changed re-run: every {CHANGE_EVERY}th data row changed in {changed}.",
    ]
    for label, rows in results.items():
        lines += ["", f"### {label}", ""] + _figures(rows) + ["", "First load per source (median):", ""]
        lines += _per_source(rows, kinds)
        lines += ["", "Read: `read_chunks` alone, measured in its own pass; rest: load − read − merge (mapping,"
                      " normalising, validating, duplicate keys, file hash, run records, commit)."]
    lines += ["", f"Aims (issue): end to end ≥ {AIM_RATIO:.0%} of the raw store rate; unchanged re-run under"
              f" {AIM_UNCHANGED_S:.0f} s; peak memory under {AIM_PEAK_MIB / 1024:.0f} GB — at"
              f" {FULL_ENTITIES:,} entities."]
    return "\n".join(lines)


def _figures(runs: list[dict[str, Any]]) -> list[str]:
    med = {k: report.median([r[k] for r in runs])
           for k in ("e2e_rows_s", "read_rows_s", "store_rows_s", "peak_mib", "start_mib", "unchanged_s",
                     "changed_s", "first_s")}
    ratio = report.median([r["e2e_rows_s"] / r["store_rows_s"] for r in runs])
    counts = runs[0]["changed_counts"]
    met = lambda ok: "yes" if ok else "**no**"  # noqa: E731
    return [
        "| figure | value | aim | met |", "| --- | ---: | --- | --- |",
        f"| end to end, first load | {med['e2e_rows_s']:,.0f} rows/s ({med['first_s']:,.1f} s) | | |",
        f"| raw read (`read_chunks`) | {med['read_rows_s']:,.0f} rows/s | | |",
        f"| raw store (inside `merge_records`) | {med['store_rows_s']:,.0f} rows/s | | |",
        f"| end to end / raw store | {ratio:.0%} | ≥ {AIM_RATIO:.0%} | {met(ratio >= AIM_RATIO)} |",
        f"| end to end / raw read | {med['e2e_rows_s'] / med['read_rows_s']:.0%} | | |",
        f"| peak memory after the first load | {med['peak_mib']:,.0f} MiB | < {AIM_PEAK_MIB:,.0f} MiB"
        f" | {met(med['peak_mib'] < AIM_PEAK_MIB)} |",
        f"| resident memory before the load (imports, schema) | {med['start_mib']:,.0f} MiB | | |",
        f"| unchanged re-run | {med['unchanged_s']:,.2f} s | < {AIM_UNCHANGED_S:.0f} s"
        f" | {met(med['unchanged_s'] < AIM_UNCHANGED_S)} |",
        f"| 10%-changed re-run | {med['changed_s']:,.1f} s ({counts.get('read', 0):,} rows read,"
        f" {counts.get('updated', 0):,} updated, {counts.get('new', 0):,} new) | | |",
    ]


def _per_source(runs: list[dict[str, Any]], kinds: dict[str, str]) -> list[str]:
    lines = ["| source | kind | rows | load s | µs/row | read s | merge s | rest s | peak MiB so far |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for sid in runs[0]["sources"]:
        med = {k: report.median([r["sources"][sid][k] for r in runs])
               for k in ("rows", "load_s", "read_s", "merge_s", "peak_mib")}
        rest = med["load_s"] - med["read_s"] - med["merge_s"]
        lines.append(f"| {sid} | {kinds[sid]} | {med['rows']:,.0f} | {med['load_s']:,.2f} |"
                     f" {1e6 * med['load_s'] / max(med['rows'], 1):,.0f} | {med['read_s']:,.2f} |"
                     f" {med['merge_s']:,.2f} | {rest:,.2f} | {med['peak_mib']:,.0f} |")
    return lines


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", choices=("child",))
    parser.add_argument("args", nargs=3, metavar="URL REGISTRY CHANGED_REGISTRY")
    ns = parser.parse_args()
    print(json.dumps(child(*ns.args)))
