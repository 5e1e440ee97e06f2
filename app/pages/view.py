"""What a page or a report shows, as plain data: sections of records and tables of text.

The profile page, the printable report and the PDF are all drawn from the same ``ProfileView``,
so the three can never disagree about what the public may see.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Item:
    """One labelled value of a record."""

    label: str
    value: str


@dataclass(frozen=True)
class Record:
    """One credit record, list entry or registration: a title, a tag and its values."""

    title: str
    items: tuple[Item, ...]
    tag: str = ""
    tone: str = ""  # "bad", "good" or "" (neutral): how the tag is coloured


@dataclass(frozen=True)
class Table:
    """A table of text: headers and rows of the same length."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Section:
    """A titled part of a profile: records, or a table, or the words for "nothing here"."""

    key: str
    title: str
    records: tuple[Record, ...] = ()
    table: Table | None = None
    empty: str = "暂无记录"
    note: str = ""

    @property
    def count(self) -> int:
        """How many records (or table rows) the section holds."""
        return len(self.table.rows) if self.table is not None else len(self.records)


@dataclass(frozen=True)
class Badge:
    """A list the entity is on now, as a coloured label."""

    list_id: str
    name: str
    tone: str


@dataclass(frozen=True)
class ProfileView:
    """An entity's public profile, ready to draw."""

    identifier: str
    name: str
    uscc: str
    status: str
    region: str
    badges: tuple[Badge, ...]
    sections: tuple[Section, ...] = field(default_factory=tuple)


def items(*pairs: tuple[str, str]) -> tuple[Item, ...]:
    """The pairs whose value is not empty, as items."""
    return tuple(Item(label, value) for label, value in pairs if value)
