"""Daily bulk dumps of what the public may see, so that others can mirror Gongxin without scraping it.

One dump is one directory ``out_dir/YYYY-MM-DD/``: every entity's public attributes and every
public list entry, each as gzipped CSV (UTF-8 with a BOM, cells cleaned as in list exports, former
names as a JSON array) and gzipped JSON lines (values as sent), and ``manifest.json`` with the change-log ``seq`` the dump reflects, so a
mirror loads the dump and then follows ``/api/v1/changes?after=seq``.

All of it is read in one snapshot (REPEATABLE READ on PostgreSQL; one deferred transaction on
SQLite, whose WAL keeps its view fixed), so the rows and ``seq`` agree. Rows are read in
id-ordered chunks (keyset pagination) and streamed into the files, so memory does not grow with
the store. The dump is written into a hidden directory beside the target and renamed into
place: a reader sees a whole dump or none.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from blacklist.catalogue import default_catalogue
from blacklist.errors import BlacklistError
from blacklist.exports import iter_csv
from blacklist.queries import PUBLIC_COLUMNS, count_query, entries_query
from credit.changelog import last_seq
from credit.db import is_postgres, make_engine, make_session_factory
from credit.models import Entity, ListEntry

# The public profile's attributes (app/api/schemas.py ProfileSchema), in its order; never
# risk_class, id_warnings or internal ids. ``region`` is the entity's division code.
ENTITY_COLUMNS = ("uscc", "reg_no", "org_code", "name", "former_names", "entity_type", "status", "legal_rep",
                  "registered_capital", "established_on", "address", "region", "industry", "reg_authority")
LIST_COLUMNS = ("list_id",) + PUBLIC_COLUMNS
TABLES = {"entities": ENTITY_COLUMNS, "lists": LIST_COLUMNS}
FORMATS = ("csv", "jsonl")
FILE_NAMES = tuple(f"{table}.{fmt}.gz" for table in TABLES for fmt in FORMATS)
MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
CHUNK = 5000
DEFAULT_KEEP = 7
DAY_NAME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
STALE_SECONDS = 24 * 3600  # a hidden work directory this old belongs to an export that died
Progress = Callable[[int], None]  # called with the number of rows just written


class BulkError(BlacklistError):
    """A dump that cannot be written or read: names the directory and what went wrong."""


@dataclass(frozen=True)
class BulkFile:
    """One file of a dump as the manifest describes it."""

    name: str
    table: str
    format: str
    rows: int
    bytes: int
    sha256: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Dump:
    """A finished dump: its day, when it was made, the change-log seq it reflects, and its files."""

    date: date
    generated_at: datetime
    seq: int
    files: tuple[BulkFile, ...]
    path: Path

    def manifest(self) -> dict[str, Any]:
        """The manifest as written to ``manifest.json``."""
        files = [{"name": f.name, "table": f.table, "format": f.format, "rows": f.rows, "bytes": f.bytes,
                  "sha256": f.sha256, "columns": list(f.columns)} for f in self.files]
        return {"version": MANIFEST_VERSION, "date": self.date.isoformat(),
                "generated_at": self.generated_at.isoformat(), "seq": self.seq, "files": files}


@contextmanager
def read_snapshot(database_url: str) -> Iterator[Session]:
    """A session on its own read-only engine: on SQLite its long read never holds the write lock."""
    engine = make_engine(database_url, read_only=True)
    try:
        with make_session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def export_bulk(session: Session, out_dir: Path, today: date, *, keep: int = DEFAULT_KEEP, chunk: int = CHUNK,
                progress: Progress | None = None) -> Dump:
    """Write the dump of ``today`` into ``out_dir`` (replacing one of the same day), then keep the newest ``keep``."""
    if keep < 1 or chunk < 1:
        raise BulkError(f"keep and chunk must be at least 1 (got keep={keep}, chunk={chunk})")
    began = _begin_snapshot(session)
    try:
        dump = _write_atomically(session, out_dir, today, chunk, progress or (lambda _rows: None))
    except OSError as exc:
        raise BulkError(f"cannot write the dump of {today} into {out_dir}: {exc}") from exc
    finally:
        if began:
            session.rollback()  # only read: ends the snapshot
    prune_dumps(out_dir, keep)
    return dump


def _write_atomically(session: Session, out_dir: Path, today: date, chunk: int, progress: Progress) -> Dump:
    """Write into a hidden directory beside the target, then rename it into place; on any failure remove it."""
    work = _work_dir(out_dir, today)
    target = out_dir / today.isoformat()
    try:
        dump = _write_dump(session, work, today, chunk, progress)
        _swap_in(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return replace(dump, path=target)


def count_rows(session: Session) -> int:
    """How many rows a dump would hold now (entities and public list entries), for a progress bar."""
    entities = int(session.execute(select(func.count()).select_from(Entity)).scalar_one())
    return entities + sum(int(session.execute(count_query(list_id, "all")).scalar_one())
                          for list_id in default_catalogue().ids)


def _begin_snapshot(session: Session) -> bool:
    """Begin the read transaction (REPEATABLE READ on PostgreSQL); False when the caller's is already open."""
    if session.in_transaction():
        if is_postgres(session):
            raise BulkError("export_bulk needs a session with no transaction begun (to set REPEATABLE READ)")
        return False
    if is_postgres(session):
        session.connection(execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True})
    return True


def _work_dir(out_dir: Path, today: date) -> Path:
    """A new hidden directory beside the target (same file system, so the final rename is atomic)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{today.isoformat()}.tmp-", dir=out_dir))
    work.chmod(0o755)  # mkdtemp's 0700 would hide the dump from a web server running as another user
    return work


def _write_dump(session: Session, work: Path, today: date, chunk: int, progress: Progress) -> Dump:
    """Read the snapshot's seq first, then every table into its two files, then the manifest."""
    seq = last_seq(session)
    generated_at = datetime.now(UTC).replace(microsecond=0)
    files: list[BulkFile] = []
    for table, rows in (("entities", entity_rows(session, chunk)), ("lists", list_rows(session, chunk))):
        files.extend(_write_table(work, table, rows, progress))
    dump = Dump(today, generated_at, seq, tuple(files), work)
    _write_json(work / MANIFEST, dump.manifest())
    _fsync_dir(work)
    return dump


def entity_rows(session: Session, chunk: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    """Every entity's public attributes, in id order, one chunk at a time."""
    columns = [Entity.division_code if name == "region" else getattr(Entity, name) for name in ENTITY_COLUMNS]
    query = select(Entity.id, *columns).order_by(Entity.id)
    for batch in _keyset(session, query, Entity.id, chunk):
        yield [dict(zip(ENTITY_COLUMNS, map(_json_value, row[1:]))) for row in batch]


def list_rows(session: Session, chunk: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    """Every list entry the public may see (the public list query), list by list in entry id order."""
    for list_id in default_catalogue().ids:
        query = entries_query(list_id, "all").add_columns(ListEntry.id).order_by(None).order_by(ListEntry.id)
        for batch in _keyset(session, query, ListEntry.id, chunk, key_at=-1):
            yield [{"list_id": list_id, **dict(zip(PUBLIC_COLUMNS, map(_json_value, row[:-1])))} for row in batch]


def _keyset(session: Session, query: Select[Any], key: Any, chunk: int, key_at: int = 0) -> Iterator[Sequence[Any]]:
    """The query's rows in chunks, each starting after the last key seen (no OFFSET, no open cursor)."""
    after = None
    while True:
        page = query if after is None else query.where(key > after)
        batch = session.execute(page.limit(chunk)).all()
        if not batch:
            return
        yield batch
        if len(batch) < chunk:
            return
        after = batch[-1][key_at]


def _json_value(value: Any) -> Any:
    """A store value as JSON can hold it: dates in ISO form, amounts as plain decimals (as the profile shows)."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value


def _csv_value(value: Any) -> Any:
    """A JSON-ready value as one CSV cell: a list (former names) as its JSON text."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, list) else value


def _write_table(work: Path, table: str, chunks: Iterable[list[dict[str, Any]]], progress: Progress) -> list[BulkFile]:
    """Stream the table's rows into its CSV and JSON lines files at once; each file's rows, size and hash."""
    columns = TABLES[table]
    rows = 0
    with _gzip_file(work / f"{table}.csv.gz") as (csv_out, csv_sink), \
            _gzip_file(work / f"{table}.jsonl.gz") as (jsonl_out, jsonl_sink):
        def csv_rows() -> Iterator[list[Any]]:
            nonlocal rows
            for batch in chunks:
                for row in batch:
                    jsonl_out.write(json.dumps(row, ensure_ascii=False).encode("utf-8") + b"\n")
                    yield [_csv_value(row[name]) for name in columns]
                rows += len(batch)
                progress(len(batch))

        csv_out.writelines(iter_csv(columns, csv_rows()))
    return [BulkFile(f"{table}.{fmt}.gz", table, fmt, rows, sink.size, sink.hash.hexdigest(), columns)
            for fmt, sink in (("csv", csv_sink), ("jsonl", jsonl_sink))]


class _Sink:
    """A file that counts and hashes the (compressed) bytes written to it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw, self.size, self.hash = raw, 0, hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        self.size += len(data)
        return self.raw.write(data)

    def flush(self) -> None:
        self.raw.flush()


@contextmanager
def _gzip_file(path: Path) -> Iterator[tuple[gzip.GzipFile, _Sink]]:
    """A new gzip file (mtime 0: the same rows give the same bytes), synced to disk when closed."""
    with open(path, "xb") as raw:
        sink = _Sink(raw)
        with gzip.GzipFile(filename="", mode="wb", fileobj=sink, mtime=0, compresslevel=6) as out:  # type: ignore[arg-type]
            yield out, sink
        raw.flush()
        os.fsync(raw.fileno())


def _write_json(path: Path, data: dict[str, Any]) -> None:
    with open(path, "x", encoding="utf-8") as out:
        json.dump(data, out, ensure_ascii=False, indent=2)
        out.write("\n")
        out.flush()
        os.fsync(out.fileno())


def _fsync_dir(path: Path) -> None:
    """Make a directory's entries (new files, a rename) durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _swap_in(work: Path, target: Path) -> None:
    """Rename the finished dump into place; one of the same day is first moved aside, then removed."""
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        target.rename(old / target.name)
    try:
        work.rename(target)
    except OSError:
        if old is not None:
            (old / target.name).rename(target)  # the day's earlier dump stays served
        raise
    _fsync_dir(target.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def prune_dumps(out_dir: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` dumps, and work directories of exports that died; what was deleted."""
    days = sorted((p for p in _children(out_dir) if DAY_NAME.match(p.name) and p.is_dir()), reverse=True)
    stale = [p for p in _children(out_dir) if p.name.startswith(".") and p.is_dir() and _age(p) > STALE_SECONDS]
    for path in days[keep:] + stale:
        shutil.rmtree(path, ignore_errors=True)
    return days[keep:] + stale


def _age(path: Path) -> float:
    """Seconds since the path last changed; 0 when it has just gone (another export removed it)."""
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


def _children(out_dir: Path) -> list[Path]:
    return list(out_dir.iterdir()) if out_dir.is_dir() else []


def list_dumps(out_dir: Path) -> list[Dump]:
    """The finished dumps in ``out_dir``, newest first; a directory without a readable manifest is left out."""
    found = (read_dump(p) for p in _children(out_dir) if DAY_NAME.match(p.name))
    return sorted((d for d in found if d is not None), key=lambda d: d.date, reverse=True)


def read_dump(path: Path) -> Dump | None:
    """The dump in this directory from its manifest, or None when it has no readable one."""
    try:
        data = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        files = tuple(BulkFile(f["name"], f["table"], f["format"], int(f["rows"]), int(f["bytes"]), f["sha256"],
                               tuple(f["columns"])) for f in data["files"])
        return Dump(date.fromisoformat(data["date"]), datetime.fromisoformat(data["generated_at"]),
                    int(data["seq"]), files, path)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def dump_file(out_dir: Path, day: str, name: str) -> tuple[Path, BulkFile] | None:
    """The directory and manifest entry of one file of the dump of ``day``; None unless the manifest names it."""
    if not DAY_NAME.match(day):
        return None
    dump = read_dump(out_dir / day)
    found = next((f for f in dump.files if f.name == name), None) if dump is not None else None
    return (dump.path, found) if dump is not None and found is not None and (dump.path / name).is_file() else None
