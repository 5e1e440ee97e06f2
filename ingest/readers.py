"""Read a regulator's file as text, in chunks, whatever its size (DESIGN.md, "Ingest").

Every chunk holds the file's columns, named by the file's header texts, as strings ("" when
empty), plus ``ROW``: the row number a spreadsheet user sees. For CSV it counts records, not
physical lines, so a quoted value spanning lines does not shift later numbers (header = 1, first
record = 2; blank lines are skipped and not counted). For XLSX it is the sheet's own row number
(blank rows skipped, still counted). For JSON lines it is the line number.

Encodings: a declared one wins (GBK and GB2312 are read as their superset GB18030); otherwise a
BOM means UTF-8, so does UTF-8 text decoding cleanly until its first bad byte (a damaged UTF-8
file then fails there, instead of being misread as GB18030), and anything else is GB18030.
A header cell left blank is named by its position, "(column 3)"; a header given twice fails.
A CSV row shorter than the header is padded with ""; a longer one fails the file.
"""

from __future__ import annotations

import codecs
import csv
import json
import os
from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from python_calamine import CalamineError, CalamineSheet, CalamineWorkbook

from ingest.errors import UnreadableFileError

ROW = "__row__"
FORMATS = ("csv", "xlsx", "jsonl")
SCAN_BLOCK = 1 << 20
UTF8_EVIDENCE = 4096  # bytes of multi-byte UTF-8 sequences that no GB18030 text produces by chance
ARROW_BLOCK = 4 << 20
UTF8 = ("utf-8", "utf-8-sig")


def read_chunks(path: Path, *, format: str, encoding: str | None = None, sheet: str | None = None,
                chunk_rows: int = 100_000) -> Iterator[pd.DataFrame]:
    """The file's rows as string frames of at most chunk_rows rows; opening problems raise at once."""
    path = _checked(path, format)
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    if format == "xlsx":
        records = _xlsx_records(path, _open_sheet(path, sheet))
        return _grouped(records, next(records)[1], chunk_rows)
    text_encoding = _text_encoding(path, encoding)
    if format == "csv":
        headers = _csv_header(path, text_encoding)
        return _csv_frames(path, text_encoding, headers, chunk_rows, _arrow_can_read(path, text_encoding))
    return _jsonl_chunks(path, text_encoding, chunk_rows)


def read_header(path: Path, *, format: str, encoding: str | None = None, sheet: str | None = None) -> list[str]:
    """The file's column names, as read_chunks names them (JSON lines: every key, first seen first)."""
    path = _checked(path, format)
    if format == "csv":
        return _csv_header(path, _text_encoding(path, encoding))
    if format == "xlsx":
        return next(_xlsx_records(path, _open_sheet(path, sheet)))[1]
    return _jsonl_header(path, _text_encoding(path, encoding))


def detect_encoding(path: Path) -> str:
    """Guess a text file's encoding: "utf-8-sig" (BOM), "utf-8" (decodes as UTF-8) or "gb18030"."""
    if _has_bom(Path(path)):
        return "utf-8-sig"
    return "utf-8" if _reads_as_utf8(Path(path)) else "gb18030"


def _checked(path: Path, format: str) -> Path:
    """The path, once it is known to be a readable file of a known format."""
    path = Path(path)
    if format not in FORMATS:
        raise UnreadableFileError(path, f"unknown format {format!r} (known: {', '.join(FORMATS)})")
    if not path.exists():
        raise UnreadableFileError(path, "no such file")
    if not path.is_file() or not os.access(path, os.R_OK):
        raise UnreadableFileError(path, "not a readable file")
    return path


def _text_encoding(path: Path, encoding: str | None) -> str:
    """The codec to read with: the declared one (GBK and GB2312 widened to their superset GB18030,
    UTF-8 minding a BOM) or the detected one."""
    if encoding is None:
        return detect_encoding(path)
    try:
        name = codecs.lookup(encoding).name
    except LookupError as exc:
        raise UnreadableFileError(path, f"unknown encoding {encoding!r}") from exc
    if name in ("gbk", "gb2312"):
        return "gb18030"
    if name == "utf-8" and _has_bom(path):
        return "utf-8-sig"
    return name


def _has_bom(path: Path) -> bool:
    """Whether the file starts with a UTF-8 byte order mark."""
    with path.open("rb") as f:
        return f.read(3) == codecs.BOM_UTF8


def _reads_as_utf8(path: Path) -> bool:
    """Whether the file is UTF-8: it decodes to the end, or decodes enough non-ASCII text first.

    Streams the file and stops at the evidence, so a large Chinese file costs one block.
    """
    carry, evidence = b"", 0
    with path.open("rb") as f:
        while True:
            block = f.read(SCAN_BLOCK)
            data = carry + block
            try:
                text, used = codecs.utf_8_decode(data, "strict", not block)
            except UnicodeDecodeError as exc:
                valid = data[:exc.start]
                return evidence + len(valid) - len(valid.decode("utf-8")) >= UTF8_EVIDENCE
            evidence += used - len(text)
            if not block or evidence >= UTF8_EVIDENCE:
                return True
            carry = data[used:]


def _decode_error(path: Path, encoding: str) -> tuple[int, str] | None:
    """Byte offset and reason of the first bytes that do not decode, streaming the file."""
    decoder = codecs.getincrementaldecoder("utf-8" if encoding in UTF8 else encoding)()
    offset = 0
    with path.open("rb") as f:
        while True:
            block = f.read(SCAN_BLOCK)
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                return offset - pending + exc.start, exc.reason
            if not block:
                return None
            offset += len(block)


def _decode_failure(path: Path, encoding: str, exc: Exception) -> UnreadableFileError:
    """The error for a file that does not decode, naming the first bad byte's offset."""
    found = _decode_error(path, encoding)
    where = f"at byte {found[0]}: {found[1]}" if found else f"({exc})"
    hint = "; the file is valid UTF-8" if encoding not in UTF8 and not _decode_error(path, "utf-8") else ""
    return UnreadableFileError(path, f"cannot be decoded as {encoding} {where}{hint}")


def _name_headers(path: Path, texts: list[str]) -> list[str]:
    """Header texts as column names: BOM stripped, blank ones named by position, no duplicates."""
    names = [text.lstrip("\ufeff") if i == 0 else text for i, text in enumerate(texts)]
    names = [name if name.strip() else f"(column {i})" for i, name in enumerate(names, start=1)]
    positions: dict[str, list[int]] = {}
    for i, name in enumerate(names, start=1):
        positions.setdefault(name, []).append(i)
    for name, where in positions.items():
        if len(where) > 1:
            raise UnreadableFileError(path, f"duplicated header {name!r} (columns {', '.join(map(str, where))})")
    if ROW in positions:
        raise UnreadableFileError(path, f"header {ROW!r} is reserved for row numbers")
    return names


def _frame(columns: dict[str, list[str]], rows: list[int]) -> pd.DataFrame:
    """A chunk from column lists of strings and their row numbers."""
    frame = pd.DataFrame(columns, dtype=str) if columns else pd.DataFrame(index=range(len(rows)))
    frame[ROW] = np.asarray(rows, dtype=np.int64)
    return frame


def _csv_header(path: Path, encoding: str) -> list[str]:
    """The first non-blank record of a CSV file, parsed as CSV (quoted newlines and all)."""
    try:
        with path.open(encoding=encoding, newline="") as f:
            for record in csv.reader(f):
                if record:
                    return _name_headers(path, record)
    except UnicodeDecodeError as exc:
        raise _decode_failure(path, encoding, exc) from exc
    except csv.Error as exc:
        raise UnreadableFileError(path, f"bad header row: {exc}") from exc
    raise UnreadableFileError(path, "empty file: no header row")


def _arrow_can_read(path: Path, encoding: str) -> bool:
    """Whether pyarrow reads this file right: an ASCII-compatible encoding, no quote left open.

    pyarrow silently ends an unterminated quoted value at the end of the file (swallowing every
    record after the stray quote); an odd count of quote bytes sends the file to pandas, which
    reports it. In ASCII-compatible encodings (UTF-8, GB18030, Big5) 0x22 is always a quote.
    """
    if '",\n'.encode(encoding) != b'",\n':
        return False
    quotes = 0
    with path.open("rb") as f:
        while block := f.read(SCAN_BLOCK):
            quotes += block.count(b'"')
    return quotes % 2 == 0


def _csv_frames(path: Path, encoding: str, headers: list[str], chunk_rows: int,
                fast: bool) -> Iterator[pd.DataFrame]:
    """CSV chunks from pyarrow's streaming reader; where it fails, pandas' C parser resumes after
    the chunks already given (reading what pyarrow refuses, such as short rows, or naming the problem)."""
    done = 0
    if fast:
        try:
            for frame in _arrow_frames(path, encoding, len(headers), chunk_rows):
                yield _named(frame, headers, done)
                done += len(frame)
            return
        except (pa.ArrowException, UnicodeDecodeError):
            pass
    for frame in _pandas_frames(path, encoding, len(headers), chunk_rows, skip=done // chunk_rows):
        yield _named(frame, headers, done)
        done += len(frame)


def _named(frame: pd.DataFrame, headers: list[str], done: int) -> pd.DataFrame:
    """A positional chunk with the header names and the ROW of records done+1... (header = row 1)."""
    frame.columns = headers
    frame.index = pd.RangeIndex(len(frame))
    frame[ROW] = np.arange(done + 2, done + 2 + len(frame), dtype=np.int64)
    return frame


def _arrow_frames(path: Path, encoding: str, width: int, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """pyarrow's streamed record batches, header record dropped, cut into chunk_rows frames."""
    names = [f"c{i}" for i in range(width)]
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(encoding="utf8" if encoding in UTF8 else encoding,
                                       column_names=names, block_size=ARROW_BLOCK),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                             strings_can_be_null=False, quoted_strings_can_be_null=False),
    )
    pending: list[pa.RecordBatch] = []
    count, header_left = 0, 1
    with reader:
        for batch in reader:
            dropped = min(header_left, batch.num_rows)
            batch, header_left = batch.slice(dropped), header_left - dropped
            pending.append(batch)
            count += batch.num_rows
            while count >= chunk_rows:
                table = pa.Table.from_batches(pending, reader.schema)
                yield table.slice(0, chunk_rows).to_pandas()
                rest = table.slice(chunk_rows)
                pending, count = rest.to_batches(), rest.num_rows
    if count:
        yield pa.Table.from_batches(pending, reader.schema).to_pandas()


def _pandas_frames(path: Path, encoding: str, width: int, chunk_rows: int, skip: int) -> Iterator[pd.DataFrame]:
    """pandas' C parser over the file, all text, the first `skip` chunks passed over."""
    try:
        reader = pd.read_csv(path, encoding=encoding, header=0, names=[f"c{i}" for i in range(width)],
                             index_col=False, dtype=str, keep_default_na=False, na_filter=False,
                             chunksize=chunk_rows, engine="c")
        with reader:
            for i, frame in enumerate(reader):
                if i >= skip:
                    yield frame
    except UnicodeDecodeError as exc:
        raise _decode_failure(path, encoding, exc) from exc
    except (pd.errors.ParserError, ValueError) as exc:
        raise UnreadableFileError(path, f"not readable as CSV: {exc}") from exc


def _open_sheet(path: Path, sheet: str | None) -> CalamineSheet:
    """The named sheet (the first one when unnamed), loaded by calamine."""
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        try:
            if sheet is None:
                return workbook.get_sheet_by_index(0)
            if sheet not in workbook.sheet_names:
                names = ", ".join(workbook.sheet_names)
                raise UnreadableFileError(path, f"no sheet {sheet!r}; the workbook has {names}")
            return workbook.get_sheet_by_name(sheet)
        finally:
            workbook.close()
    except CalamineError as exc:
        raise UnreadableFileError(path, f"not a readable xlsx workbook: {exc}") from exc


def _xlsx_records(path: Path, sheet: CalamineSheet) -> Iterator[tuple[int, list[str]]]:
    """(sheet row number, cell texts) of the non-blank rows, the header row first."""
    header = True
    for number, cells in enumerate(sheet.iter_rows(), start=1):  # calamine pads leading blank rows
        texts = [c if type(c) is str else _cell_text(c) for c in cells]
        if any(texts):
            yield number, (_name_headers(path, texts) if header else texts)
            header = False
    if header:
        raise UnreadableFileError(path, f"sheet {sheet.name!r} is empty: no header row")


def _grouped(records: Iterator[tuple[int, list[str]]], headers: list[str],
             chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Frames of chunk_rows records (row number, texts in header order)."""
    rows: list[int] = []
    values: list[list[str]] = []
    for number, texts in records:
        rows.append(number)
        values.append(texts)
        if len(rows) == chunk_rows:
            yield _frame(dict(zip(headers, map(list, zip(*values)))), rows)
            rows, values = [], []
    if rows:
        yield _frame(dict(zip(headers, map(list, zip(*values)))), rows)


def _cell_text(value: object) -> str:
    """A cell as the text a spreadsheet user means: dates ISO, whole numbers without ".0" or exponent."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return _number_text(repr(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)


def _number_text(text: str) -> str:
    """Plain digits for a number's text: "20240305.0" -> "20240305", "1e-07" -> "0.0000001"."""
    number = Decimal(text)
    if not number.is_finite():
        return text
    if number == number.to_integral_value():
        return str(int(number))
    return format(number, "f")


def _jsonl_objects(path: Path, encoding: str) -> Iterator[tuple[int, dict[str, object]]]:
    """(line number, parsed object) for every non-blank line; a bad line fails the file."""
    try:
        with path.open(encoding=encoding) as f:
            for number, line in enumerate(f, start=1):
                if line.strip():
                    yield number, _json_object(path, number, line)
    except UnicodeDecodeError as exc:
        raise _decode_failure(path, encoding, exc) from exc


def _json_object(path: Path, number: int, line: str) -> dict[str, object]:
    """One line parsed as a JSON object."""
    try:
        value = _JSON.decode(line)
    except ValueError as exc:
        raise UnreadableFileError(path, f"line {number}: not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise UnreadableFileError(path, f"line {number}: not a JSON object")
    return value


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """A JSON object, refusing a key given twice (which json would silently merge)."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        keys = [key for key, _ in pairs]
        duplicate = next(key for i, key in enumerate(keys) if key in keys[:i])
        raise ValueError(f"duplicated key {duplicate!r}")
    return obj


_JSON = json.JSONDecoder(object_pairs_hook=_unique_keys)


def _json_text(value: object) -> str:
    """A JSON value as text: strings as they are, null as "", numbers plain, the rest as JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _number_text(repr(value))
    return json.dumps(value, ensure_ascii=False)


def _jsonl_header(path: Path, encoding: str) -> list[str]:
    """Every key of the file, in order of first appearance (checking every line on the way)."""
    keys: dict[str, None] = {}
    count = 0
    for count, (_, obj) in enumerate(_jsonl_objects(path, encoding), start=1):
        keys.update(dict.fromkeys(obj))
    if not count:
        raise UnreadableFileError(path, "empty file: no JSON object")
    if ROW in keys:
        raise UnreadableFileError(path, f"key {ROW!r} is reserved for row numbers")
    return list(keys)


def _jsonl_chunks(path: Path, encoding: str, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Chunks of a JSON lines file, every chunk with every key of the file ("" where absent)."""
    headers = _jsonl_header(path, encoding)
    records = ((n, [v if type(v := obj.get(h, "")) is str else _json_text(v) for h in headers])
               for n, obj in _jsonl_objects(path, encoding))
    return _grouped(records, headers, chunk_rows)
