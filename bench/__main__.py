"""``python -m bench``: run the benchmarks and write docs/benchmarks.md."""

from __future__ import annotations

import argparse
import os

from bench import draw, ingest, risk, search, serving, store

BENCHMARKS = {"draw": draw.main, "ingest": ingest.main, "risk": risk.main, "search": search.main,
              "serving": serving.main, "store": store.main}


def main() -> None:
    """Parse the options and run the chosen benchmarks."""
    parser = argparse.ArgumentParser(prog="python -m bench", description="Gongxin benchmarks")
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append",
                        help="run only this benchmark (repeatable)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="fraction of the full size (1.0: store 100k entities, 1M claims/facts; ingest 1M entities;"
                             " search 300k and 1M entities; serving 1M; draw 1M; risk 1M)")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure; the median is reported")
    parser.add_argument("--pg-url", default=os.environ.get(
        "GONGXIN_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/gongxin_bench"),
        help="PostgreSQL to measure on ('' to skip); created if missing, its public schema is dropped")
    parser.add_argument("--skip-slow", action="store_true",
                        help="search: leave out Whoosh at 1,000,000 entities (its build alone takes over half an hour)")
    parser.add_argument("--search-engines", default="whoosh,tantivy",
                        help="search: the engines to measure, comma-separated (SQLite FTS5 is always measured)")
    ns = parser.parse_args()
    for name in ns.only or sorted(BENCHMARKS):
        extra: dict[str, object] = {}
        if name == "search":
            extra = {"skip_slow": ns.skip_slow, "engines": tuple(ns.search_engines.split(","))}
        BENCHMARKS[name](int(100_000 * ns.scale), ns.runs, ns.pg_url or None, **extra)


if __name__ == "__main__":
    main()
