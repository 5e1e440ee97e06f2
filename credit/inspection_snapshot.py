"""The registers a draw runs on, frozen as a snapshot, and their canonical published form.

The canonical JSON sorts every register by its key (entities by id, inspectors by id, the other
rows as wholes, duplicates of those removed), sorts object keys, uses the separators ``,`` and
``:`` and writes UTF-8 without ASCII escaping; each register is ``{"fields": [...], "rows": [...]}``.
Its sha256 is the snapshot hash, so the order the registers were read in never matters.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from credit.inspection_rules import DrawError

SNAPSHOT_FORMAT = "gongxin-inspection-snapshot/1"
FIELDS = {
    "entities": ["entity_id", "uscc", "risk_class", "division_code", "industry", "entity_type", "name"],
    "inspectors": ["id", "name", "agency", "division_code", "declared_ties"],
    "recent": ["entity_id", "inspector_id", "inspected_on"],
    "complainants": ["entity_id", "agency"],
    "items": ["code", "name", "basis"],
}


@dataclass(frozen=True)
class EntityRow:
    """An entity of the register as the draw sees it."""

    entity_id: int
    uscc: str | None
    risk_class: str | None
    division_code: str | None
    industry: str | None
    entity_type: str | None
    name: str = ""


@dataclass(frozen=True)
class Inspector:
    """An officer of the register: agency, region, and the entities they declared ties with."""

    id: str
    name: str
    agency: str
    division_code: str | None
    declared_ties: frozenset[int] = frozenset()


@dataclass(frozen=True)
class RecentInspection:
    """An inspection of an entity by an officer, on a day (only those within the period conflict)."""

    entity_id: int
    inspector_id: str
    inspected_on: date


@dataclass(frozen=True)
class Complaint:
    """An agency that complained about (or objected to a record of) an entity."""

    entity_id: int
    agency: str


@dataclass(frozen=True)
class InspectionItem:
    """An item of the published inspection list (抽查事项清单)."""

    code: str
    name: str
    basis: str = ""


@dataclass(frozen=True)
class Snapshot:
    """The registers of one draw, as they stood on ``taken_on``."""

    entities: tuple[EntityRow, ...]
    inspectors: tuple[Inspector, ...]
    recent: tuple[RecentInspection, ...]
    complainants: tuple[Complaint, ...]
    items: tuple[InspectionItem, ...]
    taken_on: date

    @functools.cached_property
    def hash(self) -> str:
        """sha256 (hex) of the canonical JSON; computed once per snapshot."""
        return hashlib.sha256(snapshot_json(self).encode("utf-8")).hexdigest()


def canonical_json(value: Any) -> str:
    """JSON with sorted keys, fixed separators and no ASCII escaping: one text per value."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def snapshot_hash(snapshot: Snapshot) -> str:
    """The published hash of the snapshot: sha256 (hex) of its canonical JSON in UTF-8."""
    return snapshot.hash


def snapshot_json(snapshot: Snapshot) -> str:
    """The snapshot in its canonical published form."""
    return canonical_json(snapshot_dict(snapshot))


def snapshot_dict(snapshot: Snapshot) -> dict[str, Any]:
    """The snapshot as JSON values, every register sorted."""
    entities = _unique(snapshot.entities, lambda r: r.entity_id, "entity")
    inspectors = _unique(snapshot.inspectors, lambda r: r.id, "inspector")
    registers = {
        "entities": [[r.entity_id, r.uscc, r.risk_class, r.division_code, r.industry, r.entity_type, r.name]
                     for r in entities],
        "inspectors": [[i.id, i.name, i.agency, i.division_code, sorted(i.declared_ties)] for i in inspectors],
        "recent": [[e, i, d.isoformat()] for e, i, d in sorted(
            {(r.entity_id, r.inspector_id, r.inspected_on) for r in snapshot.recent})],
        "complainants": [list(pair) for pair in sorted({(c.entity_id, c.agency) for c in snapshot.complainants})],
        "items": [list(item) for item in sorted({(i.code, i.name, i.basis) for i in snapshot.items})],
    }
    return {"format": SNAPSHOT_FORMAT, "taken_on": snapshot.taken_on.isoformat(),
            **{name: {"fields": FIELDS[name], "rows": rows} for name, rows in registers.items()}}


def snapshot_from_dict(data: Any) -> Snapshot:
    """A published snapshot read back from its JSON (as ``json.loads`` gives it)."""
    try:
        if data["format"] != SNAPSHOT_FORMAT:
            raise ValueError(f"format {data['format']!r} is not {SNAPSHOT_FORMAT!r}")
        rows = {name: _register(data, name) for name in FIELDS}
        return Snapshot(
            tuple(EntityRow(int(e), _opt(u), _opt(r), _opt(d), _opt(i), _opt(t), str(n))
                  for e, u, r, d, i, t, n in rows["entities"]),
            tuple(Inspector(str(i), str(n), str(a), _opt(d), frozenset(map(int, t)))
                  for i, n, a, d, t in rows["inspectors"]),
            tuple(RecentInspection(int(e), str(i), date.fromisoformat(d)) for e, i, d in rows["recent"]),
            tuple(Complaint(int(e), str(a)) for e, a in rows["complainants"]),
            tuple(InspectionItem(str(c), str(n), str(b)) for c, n, b in rows["items"]),
            date.fromisoformat(data["taken_on"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise DrawError(f"snapshot is malformed: {exc}") from exc


def _register(data: Any, name: str) -> list[list[Any]]:
    block = data[name]
    if block["fields"] != FIELDS[name]:
        raise ValueError(f"{name} fields {block['fields']!r} are not {FIELDS[name]!r}")
    rows = block["rows"]
    if not isinstance(rows, list) or not all(isinstance(r, list) and len(r) == len(FIELDS[name]) for r in rows):
        raise ValueError(f"{name} rows must be lists of {len(FIELDS[name])} values")
    return rows


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


def _unique(rows: Any, key: Any, what: str) -> list[Any]:
    ordered = sorted(rows, key=key)
    for before, after in zip(ordered, ordered[1:], strict=False):
        if key(before) == key(after):
            raise DrawError(f"the {what} register holds {key(after)!r} twice")
    return ordered
