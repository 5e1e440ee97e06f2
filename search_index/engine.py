"""What an engine must do, and the engine-neutral query tree it executes.

Analysis happens in Python (`search_index.analysis`), so both engines index the same tokens:
every indexed field arrives as one string of whitespace-separated tokens, and every query is a
small tree of `Term`, `Phrase`, `Prefix`, `Const`, `AllOf` and `AnyOf` over those tokens. No user text ever
reaches an engine's query parser.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

# Fields whose tokens are exact values (one token each): compared whole, never analysed.
KEYWORD_FIELDS = ("id", "uscc", "reg_no", "org_code", "name_exact", "industry", "status", "active")
# Fields of whitespace-separated tokens without positions (term lookups only).
TOKEN_FIELDS = ("id_prefix", "name_prefix", "region", "flags")
# Fields of whitespace-separated grams with positions (phrase queries).
# "other" holds former names, legal representative and address, with breaks between them: one
# phrase per word instead of one per field keeps Whoosh's cost per query down.
GRAM_FIELDS = ("name", "other", "py_initials", "py_full")
# The stored JSON of a hit: what a result list shows without touching the store.
STORED_FIELD = "stored"
ALL_FIELDS = KEYWORD_FIELDS + TOKEN_FIELDS + GRAM_FIELDS + (STORED_FIELD,)


@dataclass(frozen=True)
class Term:
    """Documents whose ``field`` holds the token ``value``."""

    field: str
    value: str
    boost: float = 1.0


@dataclass(frozen=True)
class Phrase:
    """Documents whose ``field`` holds ``tokens`` at consecutive positions (one token: a Term)."""

    field: str
    tokens: tuple[str, ...]
    boost: float = 1.0


@dataclass(frozen=True)
class Const:
    """The documents of ``query``, each scored exactly ``score``."""

    query: Node
    score: float


@dataclass(frozen=True)
class AllOf:
    """Documents matching every clause; scores add up."""

    clauses: tuple[Node, ...]


@dataclass(frozen=True)
class AnyOf:
    """Documents matching at least one clause; scores of the matching clauses add up."""

    clauses: tuple[Node, ...]


@dataclass(frozen=True)
class Prefix:
    """Documents whose value of one of the keyword ``fields`` starts with ``value``.

    The prefixes of those values up to ``indexed`` characters are tokens of the field ``edges``:
    a prefix that short is one term lookup. A longer one is a search of the keyword fields' terms
    that start with it: few values share a prefix that long, and indexing it would add a term per
    value and character (see `search_index.analysis.PREFIX_MAX`).
    """

    fields: tuple[str, ...]
    edges: str
    indexed: int
    value: str

    def edge_term(self) -> Term | None:
        """The term lookup of a prefix short enough to be indexed; None for a longer one."""
        return Term(self.edges, self.value) if len(self.value) <= self.indexed else None


Node = Term | Phrase | Prefix | Const | AllOf | AnyOf


@dataclass(frozen=True)
class Ranked:
    """A search: documents must match ``match`` and every filter; ``boosts`` only add to the score.

    ``prefer_active``: among hits of equal score, operating entities (``active`` = 1) come first.
    A tie-break, not a tier: it never lifts an operating entity above a more relevant one.
    """

    match: Node
    boosts: tuple[Node, ...] = ()
    filters: tuple[Node, ...] = ()
    prefer_active: bool = False


@dataclass(frozen=True)
class IndexDoc:
    """One entity as the index holds it: field name → token string (see the field tuples).

    ``stored`` comes back with every hit. Its ``name`` and ``former_names`` are also what the
    ``name`` and pinyin fields were cut from (after normalisation): Whoosh confirms long phrases
    on those fields against them.
    """

    entity_id: int
    fields: dict[str, str]
    stored: dict[str, Any] = field(default_factory=dict)

    def __reduce__(self) -> tuple[type[IndexDoc], tuple[int, dict[str, str], dict[str, Any]]]:
        # Rebuild helpers pickle a million of these: through the constructor, unpickling takes
        # half the time of the default for frozen dataclasses (object.__setattr__ per field).
        return (IndexDoc, (self.entity_id, self.fields, self.stored))


@dataclass(frozen=True)
class RawHit:
    """One hit as an engine returns it."""

    entity_id: int
    score: float
    stored: dict[str, Any]


@dataclass(frozen=True)
class RawPage:
    """The hits of one page, and how many documents matched in all.

    ``total_exact`` False: the engine stopped counting, and ``total`` is a lower bound.
    """

    total: int
    hits: list[RawHit]
    total_exact: bool = True


class EngineReader(Protocol):
    """A point-in-time view of one index version: commits after it opened are not seen.

    Safe to share between threads; open a new reader to see later commits.
    """

    def search(self, search: Ranked, offset: int, limit: int, count_to: int | None = None) -> RawPage:
        """Hits ``offset``..``offset + limit`` by descending score, with the total.

        ``count_to``: the engine may stop looking after that many matches, where going on would
        cost more than a page is worth. It then ranks the matches it saw together with every match
        of the boost tiers (exact name, prefix) up to that many of those, and says the total is a
        lower bound. None: every match counted and ranked.
        """

    def count(self) -> int:
        """Number of documents."""

    def stored_by_ids(self, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        """The stored JSON of each of ``ids`` that the index holds."""

    def close(self) -> None:
        """Release files and memory."""


class EngineWriter(Protocol):
    """Changes to one index version, visible to readers opened after `commit`."""

    def upsert(self, docs: Sequence[IndexDoc]) -> None:
        """Add the documents, replacing any document with the same entity id."""

    def add(self, docs: Sequence[IndexDoc]) -> None:
        """Add documents the index does not hold (a rebuild, each entity once): no delete first."""

    def delete(self, entity_ids: Sequence[int]) -> None:
        """Remove the documents of these entities (absent ones are ignored)."""

    def commit(self) -> None:
        """Make everything since the last commit durable and visible."""

    def cancel(self) -> None:
        """Drop everything since the last commit."""

    def close(self) -> None:
        """Drop anything uncommitted, finish background work and release the directory."""


class Engine(Protocol):
    """One full-text engine: creates, opens and writes index directories."""

    name: str

    def create(self, path: Path) -> None:
        """Create an empty index in the new directory ``path``."""

    def reader(self, path: Path) -> EngineReader:
        """Open the index at ``path`` for searching."""

    def writer(self, path: Path, bulk: bool = False) -> EngineWriter:
        """Open the index at ``path`` for writing (``bulk``: a rebuild, tune for throughput)."""
