"""Write benchmark figures into docs/benchmarks.md, one marked section per benchmark."""

from __future__ import annotations

import os
import platform
import re
import sqlite3
import statistics
from collections.abc import Sequence
from datetime import date
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
HEADER = (
    "# Benchmarks\n\n"
    "Written by `make bench` (`python -m bench`); each section is replaced when its benchmark\n"
    "runs again. Figures are medians of several runs on the machine named in the section.\n"
)


def machine() -> str:
    """One line naming the machine the figures come from."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{mem_kb / 1024 / 1024:.0f} GiB"
    except OSError:
        mem = "unknown memory"
    return (f"{cpu}, {os.cpu_count()} cores, {mem}; Python {platform.python_version()}, "
            f"SQLite {sqlite3.sqlite_version}; measured {date.today().isoformat()}")


def median(values: Sequence[float]) -> float:
    """The median of the runs."""
    return statistics.median(values)


def write_section(name: str, body: str) -> None:
    """Replace (or add) the section ``name`` of docs/benchmarks.md."""
    DOC.parent.mkdir(parents=True, exist_ok=True)
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else HEADER
    block = f"<!-- bench:{name} -->\n{body.rstrip()}\n<!-- /bench:{name} -->"
    pattern = re.compile(rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->", re.S)
    text = pattern.sub(lambda _m: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    DOC.write_text(text, encoding="utf-8")
