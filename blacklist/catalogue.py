"""The list catalogue as data: each list's owner, legal basis, term, removal and measures.

The lists live in ``catalogue.toml`` beside this module, so that a new sector list is a new
block of data, not new code. Loading checks every block and names the list and field at fault.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from blacklist.errors import CatalogueError, UnknownListError

# Beside the module, so that it also works in an editable install before package data is declared.
DEFAULT_PATH = Path(__file__).with_name("catalogue.toml")
KINDS = ("blacklist", "commendation")
ENTITY_TYPES = ("enterprise", "cooperative", "individual", "any")
# list_entry.list_id is 40 characters; ids appear in URLs and file names, so keep them plain.
ID_PATTERN = re.compile(r"[a-z][a-z0-9-]{1,39}")


@dataclass(frozen=True)
class ListSpec:
    """One list of the catalogue."""

    id: str
    name: str
    owner: str
    legal_basis: tuple[str, ...]
    kind: str
    entity_types: tuple[str, ...]
    removal: str
    early_repair: str
    measures: tuple[str, ...]
    marked_entity_types: tuple[str, ...] = ()
    term_months: int | None = None
    term_note: str | None = None


@dataclass(frozen=True)
class Catalogue:
    """Every list, in the file's order."""

    lists: tuple[ListSpec, ...]

    @property
    def ids(self) -> tuple[str, ...]:
        """The ids of all lists."""
        return tuple(spec.id for spec in self.lists)

    def by_id(self, list_id: str) -> ListSpec:
        """The list with this id; UnknownListError naming the known ids otherwise."""
        for spec in self.lists:
            if spec.id == list_id:
                return spec
        raise UnknownListError(list_id, self.ids)


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be non-empty text")
    return value.strip()


def _texts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ValueError("must be a non-empty array of text")
    return tuple(_text(item) for item in value)


def _list_id(value: Any) -> str:
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        raise ValueError("must be 2–40 characters of a-z, 0-9 and '-', starting with a letter")
    return value


def _kind(value: Any) -> str:
    if value not in KINDS:
        raise ValueError(f"must be one of {', '.join(KINDS)}")
    return str(value)


def _entity_types(value: Any) -> tuple[str, ...]:
    types = _texts(value)
    if unknown := [t for t in types if t not in ENTITY_TYPES]:
        raise ValueError(f"unknown entity type(s) {', '.join(unknown)}; known: {', '.join(ENTITY_TYPES)}")
    if "any" in types and len(types) > 1:
        raise ValueError("'any' stands alone")
    if len(set(types)) != len(types):
        raise ValueError("repeats an entity type")
    return types


def _months(value: Any) -> int:
    # bool is an int in Python; a TOML `true` is not a term.
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1200:
        raise ValueError("must be a whole number of months from 1 to 1200")
    return value


Check = Callable[[Any], Any]
REQUIRED: dict[str, Check] = {
    "id": _list_id, "name": _text, "owner": _text, "legal_basis": _texts, "kind": _kind,
    "entity_types": _entity_types, "removal": _text, "early_repair": _text, "measures": _texts,
}
OPTIONAL: dict[str, Check] = {"marked_entity_types": _entity_types, "term_months": _months, "term_note": _text}


def _label(block: Mapping[str, Any], number: int) -> str:
    """How errors name a block: its id when it has a usable one, else its position."""
    raw = block.get("id")
    return raw if isinstance(raw, str) and raw else f"#{number}"


def _parse_block(path: Path, block: Any, number: int) -> ListSpec:
    """One [[list]] block as a ListSpec; CatalogueError names the list and the field at fault."""
    if not isinstance(block, dict):
        raise CatalogueError(path, "each [[list]] must be a table", list_id=f"#{number}")
    label = _label(block, number)
    if unknown := sorted(block.keys() - REQUIRED.keys() - OPTIONAL.keys()):
        raise CatalogueError(path, "unknown key", list_id=label, field=unknown[0])
    if missing := [name for name in REQUIRED if name not in block]:
        raise CatalogueError(path, "missing", list_id=label, field=missing[0])
    values: dict[str, Any] = {}
    for name, check in (REQUIRED | OPTIONAL).items():
        try:
            values[name] = check(block[name]) if name in block else None
        except ValueError as exc:
            raise CatalogueError(path, str(exc), list_id=label, field=name) from exc
    return _checked(path, ListSpec(**{k: v for k, v in values.items() if v is not None}))


def _checked(path: Path, spec: ListSpec) -> ListSpec:
    """Rules across fields of one list: a type is either listed or marked, never both."""
    listed, marked = set(spec.entity_types), set(spec.marked_entity_types)
    if marked and ("any" in listed | marked or listed & marked):
        raise CatalogueError(path, "an entity type cannot be both listed and marked",
                             list_id=spec.id, field="marked_entity_types")
    return spec


def parse_catalogue(data: Mapping[str, Any], path: Path) -> Catalogue:
    """A Catalogue from parsed TOML; ``path`` is only used to name the file in errors."""
    if unknown := sorted(data.keys() - {"list"}):
        raise CatalogueError(path, f"unknown top-level key(s) {', '.join(unknown)}; expected [[list]] blocks")
    blocks = data.get("list")
    if not isinstance(blocks, list) or not blocks:
        raise CatalogueError(path, "no [[list]] blocks")
    specs = tuple(_parse_block(path, block, n) for n, block in enumerate(blocks, start=1))
    seen: set[str] = set()
    for spec in specs:
        if spec.id in seen:
            raise CatalogueError(path, "duplicate id", list_id=spec.id, field="id")
        seen.add(spec.id)
    return Catalogue(specs)


def load_catalogue(path: Path) -> Catalogue:
    """Read and check a catalogue file; CatalogueError names the file, list and field at fault."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise CatalogueError(path, f"cannot be read: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(path, f"is not valid TOML: {exc}") from exc
    return parse_catalogue(data, path)


@cache
def default_catalogue() -> Catalogue:
    """The packaged catalogue, read once per process."""
    return load_catalogue(DEFAULT_PATH)


def list_by_id(list_id: str) -> ListSpec:
    """The packaged catalogue's list with this id; UnknownListError naming the known ids otherwise."""
    return default_catalogue().by_id(list_id)
