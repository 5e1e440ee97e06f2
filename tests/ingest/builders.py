"""Write small regulator files and a registry for them, as regulators would send them."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from openpyxl import Workbook

REGISTRATION = {
    "uscc": "统一社会信用代码", "name": "企业名称", "entity_type": "企业类型", "status": "登记状态",
    "legal_rep": "法定代表人", "registered_capital": "注册资本(万元)", "established_on": "成立日期",
    "address": "住所",
}
PENALTY = {
    "record_key": "数据ID", "change": "操作标识", "name": "行政相对人名称",
    "uscc": "行政相对人代码_1(统一社会信用代码)", "decision_no": "行政处罚决定书文号",
    "penalty_type": "处罚类别", "fine_amount": "罚款金额（万元）", "decided_on": "处罚决定日期",
    "publicity_until": "公示截止期", "authority": "处罚机关",
}
ABNORMAL = {
    "uscc": "统一社会信用代码", "name": "企业名称", "reason": "列入经营异常名录原因", "listed_on": "列入日期",
    "listed_by": "作出决定机关(列入)", "removal_reason": "移出经营异常名录原因", "removed_on": "移出日期",
    "removed_by": "作出决定机关(移出)",
}


def write_rows(path: Path, headers: Sequence[str], rows: Sequence[Sequence[str]], *, fmt: str = "csv",
               encoding: str = "utf-8") -> Path:
    """A CSV (in ``encoding``), XLSX or JSON-lines file with these headers and rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "xlsx":
        book = Workbook(write_only=True)
        sheet = book.create_sheet("Sheet1")
        sheet.append(list(headers))
        for row in rows:
            sheet.append(list(row))
        book.save(path)
    elif fmt == "jsonl":
        with open(path, "w", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(dict(zip(headers, row)), ensure_ascii=False) + "\n")
    else:
        with open(path, "w", encoding=encoding, newline="") as out:
            writer = csv.writer(out)
            writer.writerow(headers)
            writer.writerows(rows)
    return path


def write_registry(directory: Path, sources: Sequence[Mapping[str, object]]) -> Path:
    """A sources.toml with one block per source; ``columns`` maps canonical field → header."""
    lines = []
    for source in sources:
        lines.append("[[source]]")
        for key, value in source.items():
            if key not in ("columns", "bounds"):
                lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
        for table in ("bounds", "columns"):
            if table in source:
                lines.append(f"[source.{table}]")
                for field, header in source[table].items():  # type: ignore[attr-defined]
                    lines.append(f"{field} = {json.dumps(header, ensure_ascii=False)}")
        lines.append("")
    path = directory / "sources.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def source(source_id: str, kind: str, files: str, columns: Mapping[str, str], **extra: object) -> dict[str, object]:
    """One registry block with the usual defaults."""
    block: dict[str, object] = {"id": source_id, "agency": "深圳市市场监督管理局", "kind": kind,
                                "format": "csv", "files": files, "schedule": "*/15 * * * *"}
    block.update(extra)
    block["columns"] = dict(columns)
    return block
