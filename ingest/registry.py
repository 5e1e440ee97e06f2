"""The source registry: one TOML file declaring every regulator source (DESIGN.md, "Source registry").

Loading checks the whole file and reports every problem at once, one line each, naming the
registry file, the source and the offending key, so that a broken registry never half-loads.
"""

from __future__ import annotations

import codecs
import glob
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any


from ingest.errors import RegistryError, UnknownSourceError
from ingest.schedule import cron_trigger
from ingest.kinds import IDENTITY_FIELDS, KINDS

FORMATS = ("csv", "xlsx", "jsonl")
MODES = ("changes", "snapshot")
REQUIRED_KEYS = ("id", "agency", "kind", "format", "files", "schedule", "columns")
OPTIONAL_KEYS = ("encoding", "mode", "list", "rank", "sheet", "bounds")
BOUND_KEYS = ("min_rows", "max_rows", "max_rejected_share")
STRING_KEYS = ("id", "agency", "kind", "format", "files", "schedule", "encoding", "mode", "list", "sheet")
REGISTRATION_RANK = 100
DEFAULT_RANK = 50


@dataclass(frozen=True)
class Bounds:
    """Counts a file of a source must respect, or it fails as a whole."""

    min_rows: int | None = None
    max_rows: int | None = None
    max_rejected_share: float | None = None


@dataclass(frozen=True)
class SourceSpec:
    """One declared source: what it sends, where its files land, how its headers map."""

    id: str
    agency: str
    kind: str
    format: str
    encoding: str | None
    files: str
    base_dir: Path
    schedule: str
    mode: str
    list_id: str | None
    columns: Mapping[str, str] = field(hash=False)
    sheet: str | None
    rank: int
    bounds: Bounds

    def paths(self) -> list[Path]:
        """The files now matching the source's glob (relative to the registry), sorted by name."""
        matches = glob.glob(self.files, root_dir=self.base_dir, recursive=True)
        found = (self.base_dir / m for m in matches)
        return sorted((p for p in found if p.is_file()), key=lambda p: (p.name, str(p)))


@dataclass(frozen=True)
class Registry:
    """The loaded registry: its file and its sources in declaration order."""

    path: Path
    sources: tuple[SourceSpec, ...]

    def get(self, source_id: str) -> SourceSpec:
        """The source with this id; UnknownSourceError names the known ids otherwise."""
        for source in self.sources:
            if source.id == source_id:
                return source
        known = ", ".join(s.id for s in self.sources) or "none"
        raise UnknownSourceError(f"unknown source {source_id!r}; known sources: {known}")


def load_registry(path: Path) -> Registry:
    """Read and check the registry file; RegistryError lists every problem found."""
    path = Path(path)
    blocks, problems = _source_blocks(path, _read_toml(path))
    sources = []
    seen: dict[str, int] = {}
    for position, block in enumerate(blocks, start=1):
        found = _block_problems(path, block, position, seen)
        problems.extend(found)
        if not found:
            sources.append(_build_spec(block, path.resolve().parent))
    if problems:
        raise RegistryError("\n".join(problems))
    return Registry(path=path, sources=tuple(sources))


def _source_blocks(path: Path, data: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """The [[source]] blocks of the document, and the problems of its top level."""
    blocks = data.get("source", [])
    if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
        raise RegistryError(f"{path}: key 'source': must be [[source]] blocks")
    problems = [f"{path}: key {key!r}: unknown top-level key (expected [[source]] blocks)"
                for key in data if key != "source"]
    if not blocks:
        problems.append(f"{path}: key 'source': no [[source]] block declared")
    return blocks, problems


def _block_problems(path: Path, block: dict[str, Any], position: int, seen: dict[str, int]) -> list[str]:
    """One line per problem of a [[source]] block, naming the file, the source and the key."""
    label = f"source {block['id']!r}" if isinstance(block.get("id"), str) else f"source #{position} (no id)"
    found: list[str] = []
    _check_source(block, position, seen, lambda key, msg: found.append(f"{path}: {label}: key {key!r}: {msg}"))
    return found


def _read_toml(path: Path) -> dict[str, Any]:
    """The parsed TOML document, or RegistryError naming the file and the line."""
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except OSError as exc:
        raise RegistryError(f"{path}: cannot read the registry: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError(f"{path}: not valid TOML: {exc}") from exc


Report = Callable[[str, str], None]


def _check_source(block: dict[str, Any], position: int, seen: dict[str, int], report: Report) -> None:
    """Report every problem of one [[source]] block."""
    for key in REQUIRED_KEYS:
        if key not in block:
            report(key, "required key is missing")
    for key in block:
        if key not in REQUIRED_KEYS and key not in OPTIONAL_KEYS:
            report(key, f"unknown key (known: {', '.join(REQUIRED_KEYS + OPTIONAL_KEYS)})")
    for key in STRING_KEYS:
        if key in block and (not isinstance(block[key], str) or not block[key].strip()):
            report(key, "must be a non-empty string")
    source_id = block.get("id")
    if isinstance(source_id, str):
        if source_id in seen:
            report("id", f"duplicate id {source_id!r} (first declared as source #{seen[source_id]})")
        seen.setdefault(source_id, position)
    _check_choices(block, report)
    _check_kind(block, report)
    _check_schedule(block, report)
    _check_encoding(block, report)
    _check_rank_and_bounds(block, report)


def _check_choices(block: dict[str, Any], report: Report) -> None:
    """Format and mode are one of their known values; sheet only for xlsx."""
    fmt = block.get("format")
    if isinstance(fmt, str) and fmt not in FORMATS:
        report("format", f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    mode = block.get("mode", "changes")
    if isinstance(mode, str) and mode not in MODES:
        report("mode", f"unknown mode {mode!r} (known: {', '.join(MODES)})")
    if "sheet" in block and isinstance(fmt, str) and fmt in FORMATS and fmt != "xlsx":
        report("sheet", f"a sheet applies to xlsx only, not {fmt}")


def _check_kind(block: dict[str, Any], report: Report) -> None:
    """The kind is known, its list key fits, and the columns map its fields."""
    kind_name = block.get("kind")
    if not isinstance(kind_name, str):
        return
    kind = KINDS.get(kind_name)
    if kind is None:
        report("kind", f"unknown kind {kind_name!r} (known: {', '.join(KINDS)})")
        return
    if kind_name == "sector_list" and "list" not in block:
        report("list", "required for kind 'sector_list' (the id of the sector list)")
    if kind_name != "sector_list" and "list" in block:
        report("list", f"only kind 'sector_list' takes a list, not {kind_name!r}")
    columns = block.get("columns")
    if columns is None:
        return
    if not isinstance(columns, dict):
        report("columns", "must be a table [source.columns] of canonical field = source header")
        return
    for name, header in columns.items():
        if name not in kind.all_fields:
            report(f"columns.{name}", f"not a field of kind {kind_name!r} (known: {', '.join(kind.all_fields)})")
        if not isinstance(header, str) or not header.strip():
            report(f"columns.{name}", "the source header must be a non-empty string")
    for name in kind.required:
        if name not in columns:
            report(f"columns.{name}", f"kind {kind_name!r} requires a column for {name!r}")
    if not any(name in columns for name in IDENTITY_FIELDS):
        report("columns", f"no identity column: map at least one of {', '.join(IDENTITY_FIELDS)}")


def _check_schedule(block: dict[str, Any], report: Report) -> None:
    """The schedule is a five-field standard cron expression (Sunday = 0 or 7)."""
    schedule = block.get("schedule")
    if not isinstance(schedule, str):
        return
    try:
        cron_trigger(schedule)
    except ValueError as exc:
        report("schedule", f"bad cron expression {schedule!r}: {exc}")


def _check_encoding(block: dict[str, Any], report: Report) -> None:
    """The encoding is a text encoding Python knows, declared for a text format."""
    encoding = block.get("encoding")
    if not isinstance(encoding, str):
        return
    try:
        codecs.lookup(encoding)
        "a".encode(encoding)  # refuses codecs that are not text encodings (rot13, base64)
    except LookupError:
        report("encoding", f"unknown encoding {encoding!r}")
    if block.get("format") == "xlsx":
        report("encoding", "an encoding applies to csv and jsonl only, not xlsx")


def _check_rank_and_bounds(block: dict[str, Any], report: Report) -> None:
    """The rank is an integer; the bounds are counts and a share between 0 and 1."""
    rank = block.get("rank", 0)
    if not isinstance(rank, int) or isinstance(rank, bool):
        report("rank", "must be an integer")
    bounds = block.get("bounds", {})
    if not isinstance(bounds, dict):
        report("bounds", "must be a table [source.bounds]")
        return
    for key, value in bounds.items():
        if key not in BOUND_KEYS:
            report(f"bounds.{key}", f"unknown bound (known: {', '.join(BOUND_KEYS)})")
        elif key == "max_rejected_share":
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1:
                report(f"bounds.{key}", "must be a number between 0 and 1")
        elif not isinstance(value, int) or isinstance(value, bool) or value < 0:
            report(f"bounds.{key}", "must be a non-negative integer")
    low, high = bounds.get("min_rows"), bounds.get("max_rows")
    if isinstance(low, int) and isinstance(high, int) and low > high:
        report("bounds.min_rows", f"min_rows {low} is above max_rows {high}")


def _build_spec(block: dict[str, Any], base_dir: Path) -> SourceSpec:
    """A SourceSpec from a block already checked."""
    bounds = block.get("bounds", {})
    share = bounds.get("max_rejected_share")
    default_rank = REGISTRATION_RANK if block["kind"] == "registration" else DEFAULT_RANK
    return SourceSpec(
        id=block["id"],
        agency=block["agency"],
        kind=block["kind"],
        format=block["format"],
        encoding=block.get("encoding"),
        files=block["files"],
        base_dir=base_dir,
        schedule=block["schedule"],
        mode=block.get("mode", "changes"),
        list_id=block.get("list"),
        columns=MappingProxyType(dict(block["columns"])),
        sheet=block.get("sheet"),
        rank=block.get("rank", default_rank),
        bounds=Bounds(bounds.get("min_rows"), bounds.get("max_rows"), None if share is None else float(share)),
    )
