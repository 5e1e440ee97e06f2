"""Map a source file's headers to canonical fields (DESIGN.md, "Source registry" → columns).

Headers are matched by a folded key, so that full-width brackets, stray spaces and line breaks
inside a header do not break a mapping; a header the mapping names but the file lacks fails the
file with the missing and the available headers; columns the mapping does not name are kept,
per row, in ``raw``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from ingest.errors import FileFailedError, MissingColumnsError
from ingest.readers import ROW

RAW = "raw"


def header_key(text: str) -> str:
    """The matching key of a header: NFKC-folded, without any whitespace or invisible format marks."""
    folded = unicodedata.normalize("NFKC", text)
    bare = "".join(ch for ch in "".join(folded.split()) if unicodedata.category(ch) != "Cf")
    return unicodedata.normalize("NFKC", bare)  # removing a space can leave marks that compose


@dataclass(frozen=True)
class ColumnMap:
    """How one file's headers map: canonical field -> file header, and the headers left over."""

    by_field: Mapping[str, str] = field(hash=False)
    extra: tuple[str, ...]

    @property
    def by_header(self) -> Mapping[str, tuple[str, ...]]:
        """File header -> the canonical fields it feeds (several fields may share one header)."""
        grouped: dict[str, tuple[str, ...]] = {}
        for name, header in self.by_field.items():
            grouped[header] = grouped.get(header, ()) + (name,)
        return MappingProxyType(grouped)


def map_columns(path: Path | str, headers: Sequence[str], columns: Mapping[str, str]) -> ColumnMap:
    """Match the source's mapping (canonical field -> header) against a file's headers."""
    by_key: dict[str, list[str]] = {}
    for header in headers:
        by_key.setdefault(header_key(header), []).append(header)
    by_field: dict[str, str] = {}
    missing: list[str] = []
    for name, wanted in columns.items():
        found = _match_header(path, wanted, by_key.get(header_key(wanted), []))
        if found is None:
            missing.append(wanted)
        else:
            by_field[name] = found
    if missing:
        raise MissingColumnsError(path, list(dict.fromkeys(missing)), list(headers))
    used = set(by_field.values())
    return ColumnMap(MappingProxyType(by_field), tuple(h for h in headers if h not in used))


def _match_header(path: Path | str, wanted: str, candidates: list[str]) -> str | None:
    """The one file header a mapped header designates: the exact text first, else the only fold."""
    if wanted in candidates:
        return wanted
    if len(candidates) > 1:
        shown = ", ".join(repr(c) for c in candidates)
        raise FileFailedError(path, f"mapped column {wanted!r} is ambiguous: the file has {shown}")
    return candidates[0] if candidates else None


def apply_mapping(chunk: pd.DataFrame, colmap: ColumnMap) -> pd.DataFrame:
    """The chunk with canonical columns, its row numbers, and the unmapped values per row in ``raw``."""
    data: dict[str, Any] = {ROW: chunk[ROW]} if ROW in chunk.columns else {}
    for name, header in colmap.by_field.items():
        data[name] = chunk[header]
    mapped = set(colmap.by_field.values()) | {ROW}
    data[RAW] = pd.Series(_raw_values(chunk, [c for c in chunk.columns if c not in mapped]),
                          index=chunk.index, dtype=object)
    return pd.DataFrame(data, index=chunk.index)


def _raw_values(chunk: pd.DataFrame, headers: list[str]) -> list[dict[str, str]]:
    """Per row, the non-empty values of the given columns (header -> value), built column by column."""
    raw: list[dict[str, str]] = [{} for _ in range(len(chunk))]
    for header in headers:
        values = chunk[header].to_numpy(dtype=object, na_value="")
        for i in np.flatnonzero(values != ""):
            raw[i][header] = values[i]
    return raw
