"""Spreadsheet exports of list entries: CSV (UTF-8 with BOM, or GB18030) and XLSX.

Text in the lists comes from regulator files and is untrusted. A cell that a spreadsheet would
read as a formula is neutralised the way OWASP recommends (a leading single quote), control
characters that XLSX cannot hold are dropped, and every cell is bounded in length.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import IO, Any

from openpyxl import Workbook

from blacklist.errors import ExportError

ENCODINGS = {"utf-8": "utf-8-sig", "gb18030": "gb18030"}
# The store bounds text at 2000 characters; an export cell never needs more.
MAX_CELL = 2000
ELLIPSIS = "…"
FORMULA_STARTS = ("=", "+", "-", "@")
# Tab and carriage return start a formula in some spreadsheets even before any sign.
FORMULA_LEADERS = ("\t", "\r")
# XML 1.0 forbids these; openpyxl refuses them, and no list text needs them.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# Header names of the public entry columns (blacklist.queries.PUBLIC_COLUMNS), in that order.
ENTRY_HEADERS = ("统一社会信用代码", "名称", "列入原因", "列入日期", "作出决定机关", "移出日期", "移出原因")
FLUSH_ROWS = 500


def neutralise(text: str) -> str:
    """Prefix a quote to text a spreadsheet would run as a formula, even after leading spaces."""
    if text.startswith(FORMULA_LEADERS) or text.lstrip().startswith(FORMULA_STARTS):
        return "'" + text
    return text


def clean_text(text: str, limit: int = MAX_CELL) -> str:
    """Untrusted text made safe for a cell: no control characters, bounded, never a formula."""
    text = CONTROL_CHARS.sub("", text)
    if len(text) > limit:
        text = text[: limit - len(ELLIPSIS)] + ELLIPSIS
    return neutralise(text)


def csv_cell(value: Any) -> str:
    """One value as CSV text: dates in ISO form, nothing for None, text cleaned."""
    if value is None:
        return ""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return clean_text(str(value))


def xlsx_cell(value: Any) -> Any:
    """One value as an XLSX cell: dates and numbers keep their type, text is cleaned."""
    if value is None or isinstance(value, (date, datetime, int, float)):
        return value
    return clean_text(str(value))


def iter_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]], encoding: str = "utf-8") -> Iterator[bytes]:
    """Encode rows as CSV in chunks, headers first: UTF-8 with a BOM (for Excel) or GB18030."""
    if encoding not in ENCODINGS:
        raise ExportError(f"unknown encoding {encoding!r}; use one of {', '.join(ENCODINGS)}")
    # An incremental encoder writes utf-8-sig's BOM once, at the very start.
    encoder = codecs.getincrementalencoder(ENCODINGS[encoding])()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([clean_text(h) for h in headers])
    for number, row in enumerate(rows, start=1):
        writer.writerow([csv_cell(v) for v in row])
        if number % FLUSH_ROWS == 0:
            yield encoder.encode(_drain(buffer))
    yield encoder.encode(_drain(buffer), final=True)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def write_xlsx(out: IO[bytes], headers: Sequence[str], rows: Iterable[Sequence[Any]], *,
               title: str = "名单", notes: Sequence[str] = ()) -> int:
    """Write rows to one sheet of a write-only workbook (notes, if any, on a second sheet); returns the row count."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_sheet_title(title))
    sheet.append([clean_text(h) for h in headers])
    count = 0
    for row in rows:
        sheet.append([xlsx_cell(v) for v in row])
        count += 1
    if notes:
        notes_sheet = workbook.create_sheet("说明")
        for line in notes:
            notes_sheet.append([clean_text(line)])
    workbook.save(out)
    return count


def _sheet_title(title: str) -> str:
    # Excel allows 31 characters and none of []:*?/\ in a sheet title.
    return re.sub(r"[\[\]:*?/\\]", "", title)[:31] or "名单"
