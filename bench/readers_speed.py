"""Measure ingest.readers against plain pandas on generated regulator files (not a test).

Writes a 1,000,000-row, 12-column CSV in UTF-8 and in GB18030, a 100,000-row XLSX and a
200,000-line JSON lines file to a temporary directory, then prints rows per second for
read_chunks and for the pandas readers it replaces.

    .venv/bin/python bench/readers_speed.py [--rows N] [--xlsx-rows N] [--jsonl-rows N]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest.readers import read_chunks  # noqa: E402

HEADERS = ["统一社会信用代码", "企业名称", "行政相对人类别", "法定代表人", "行政处罚决定书文号", "违法行为类型",
           "处罚内容", "罚款金额（万元）", "处罚决定日期", "处罚机关", "数据来源单位", "备注"]
WORDS = ["华为", "腾讯", "比亚迪", "龙鑫浩瑞", "致尚云想", "宏达阳光", "我来我往", "警视传媒", "𠀀㐀", "鑫源"]


def fake_rows(count: int, seed: int = 7) -> Iterable[list[str]]:
    """Rows resembling a 双公示 penalty feed: ids, Chinese text, dates, amounts, quoted commas."""
    rng = random.Random(seed)
    start = date(2015, 1, 1)
    for i in range(count):
        name = f"{rng.choice(WORDS)}{rng.choice(WORDS)}（北京）科技有限公司"
        day = start + timedelta(days=rng.randrange(3650))
        yield [f"91110105{i:09d}X", name, "法人及非法人组织", "张三", f"京市监罚〔2024〕{i}号",
               "违反《广告法》", "罚款，没收违法所得", f"{rng.randrange(1, 9999) / 100:.2f}",
               day.isoformat(), "北京市朝阳区市场监督管理局", "北京市市场监督管理局",
               "" if i % 5 else "备注, 含逗号"]


def write_csv(path: Path, rows: int, encoding: str) -> None:
    """A CSV file of fake rows in the given encoding."""
    with path.open("w", encoding=encoding, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADERS)
        writer.writerows(fake_rows(rows))


def write_xlsx(path: Path, rows: int) -> None:
    """An XLSX file of fake rows, with real date and number cells."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("处罚")
    sheet.append(HEADERS)
    for row in fake_rows(rows):
        cells: list[object] = list(row)
        cells[7], cells[8] = float(row[7]), date.fromisoformat(row[8])
        sheet.append(cells)
    workbook.save(path)


def write_jsonl(path: Path, rows: int) -> None:
    """A JSON lines file of fake rows, one object a line."""
    with path.open("w", encoding="utf-8") as f:
        for row in fake_rows(rows):
            f.write(json.dumps(dict(zip(HEADERS, row)), ensure_ascii=False) + "\n")


def timed(label: str, read: Callable[[], int], repeat: int) -> None:
    """Run a reader `repeat` times and print its best rows per second (the machine may be shared)."""
    seconds, rows = float("inf"), 0
    for _ in range(repeat):
        started = time.perf_counter()
        rows = read()
        seconds = min(seconds, time.perf_counter() - started)
    print(f"  {label:<52} {rows:>9,} rows {seconds:7.2f} s {rows / seconds:>12,.0f} rows/s", flush=True)


def count(frames: Iterable[pd.DataFrame]) -> int:
    """Rows in a stream of frames."""
    return sum(len(frame) for frame in frames)


def bench_csv(folder: Path, rows: int, repeat: int) -> None:
    """CSV in UTF-8 and GB18030: read_chunks against pandas' C engine and its pyarrow engine."""
    for encoding in ("utf-8", "gb18030"):
        path = folder / f"penalties-{encoding}.csv"
        write_csv(path, rows, encoding)
        print(f"CSV {encoding}, {path.stat().st_size / 1e6:.0f} MB, best of {repeat}")
        timed("read_chunks (encoding detected)", lambda: count(read_chunks(path, format="csv")), repeat)
        timed("read_chunks (encoding declared)",
              lambda: count(read_chunks(path, format="csv", encoding=encoding)), repeat)
        timed("pandas C engine, chunksize=100000, dtype=str", lambda: count(pd.read_csv(
            path, encoding=encoding, dtype=str, keep_default_na=False, chunksize=100_000, engine="c")), repeat)
        timed("pandas pyarrow engine, whole file (no chunks)", lambda: len(pd.read_csv(
            path, encoding=encoding, dtype=str, keep_default_na=False, engine="pyarrow")), repeat)


def bench_xlsx(folder: Path, rows: int, repeat: int) -> None:
    """XLSX: read_chunks (calamine rows) against pandas' calamine and openpyxl engines."""
    path = folder / "penalties.xlsx"
    write_xlsx(path, rows)
    print(f"XLSX, {path.stat().st_size / 1e6:.0f} MB, best of {repeat}")
    timed("read_chunks (calamine iter_rows)", lambda: count(read_chunks(path, format="xlsx")), repeat)
    timed("pandas read_excel calamine, dtype=str",
          lambda: len(pd.read_excel(path, engine="calamine", dtype=str)), repeat)
    timed("pandas read_excel openpyxl, dtype=str (one run)",
          lambda: len(pd.read_excel(path, engine="openpyxl", dtype=str)), 1)


def bench_jsonl(folder: Path, rows: int, repeat: int) -> None:
    """JSON lines: read_chunks against pandas' read_json(lines=True, chunksize=)."""
    path = folder / "penalties.jsonl"
    write_jsonl(path, rows)
    print(f"JSON lines, {path.stat().st_size / 1e6:.0f} MB, best of {repeat}")
    timed("read_chunks", lambda: count(read_chunks(path, format="jsonl")), repeat)
    timed("pandas read_json lines, chunksize=100000, dtype=str", lambda: count(pd.read_json(
        path, lines=True, dtype=str, chunksize=100_000)), repeat)


def main() -> None:
    """Write the files, time the readers, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=100_000)
    parser.add_argument("--jsonl-rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per reader; the best is printed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench_csv(Path(tmp), args.rows, args.repeat)
        bench_xlsx(Path(tmp), args.xlsx_rows, args.repeat)
        bench_jsonl(Path(tmp), args.jsonl_rows, args.repeat)


if __name__ == "__main__":
    main()
