"""Risk distribution for the console: counts by class per region or industry, drawn as stacked bars.

The query groups in the database (one GROUP BY over the entity table); the bars are plain
geometry for an SVG in the template: no script, no inline style, colours from the stylesheet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from credit.models import Entity

CLASSES = ("A", "B", "C", "D")
UNCLASSIFIED = "-"
CLASS_NAMES = {"A": "A 类（低风险）", "B": "B 类（一般风险）", "C": "C 类（较高风险）", "D": "D 类（高风险）",
               UNCLASSIFIED: "未分类"}
MAX_ROWS = 15  # more groups than this are summed into one 其他 row
OTHER = "其他"
NO_VALUE = "（未填）"


@dataclass(frozen=True)
class Segment:
    """One class's part of a bar: where it starts and how wide it is, out of 100."""

    risk_class: str
    count: int
    x: float
    width: float


@dataclass(frozen=True)
class Bar:
    """One group (a region or an industry): its label, total and segments."""

    key: str
    label: str
    total: int
    segments: tuple[Segment, ...]

    def count(self, risk_class: str) -> int:
        """How many of the group are in this class."""
        return next((s.count for s in self.segments if s.risk_class == risk_class), 0)


def region_level(prefix: str) -> int:
    """How many division-code digits the groups under ``prefix`` use: province, city, then county."""
    return {0: 2, 2: 4}.get(len(prefix), 6)


def distribution(session: Session, by: str, region_prefix: str = "") -> list[tuple[str, str | None, int]]:
    """(group, class, count) for the entities under ``region_prefix``, grouped by region or industry."""
    if by == "region":
        group = func.substr(Entity.division_code, 1, region_level(region_prefix))
    elif by == "industry":
        group = Entity.industry
    else:
        raise ValueError(f"unknown grouping {by!r}: region or industry")
    query = select(group, Entity.risk_class, func.count()).group_by(group, Entity.risk_class)
    if region_prefix:
        query = query.where(Entity.division_code.like(region_prefix + "%"))
    return [(key or "", cls, int(n)) for key, cls, n in session.execute(query).tuples()]


def bars(rows: Iterable[tuple[str, str | None, int]], label: Callable[[str], str] = str) -> list[Bar]:
    """Stacked bars, largest group first; groups past MAX_ROWS summed into one 其他 bar."""
    groups: dict[str, dict[str, int]] = {}
    for key, cls, n in rows:
        cls = cls if cls in CLASSES else UNCLASSIFIED
        per = groups.setdefault(key, {})
        per[cls] = per.get(cls, 0) + n
    ordered = sorted(groups.items(), key=lambda item: (-sum(item[1].values()), item[0]))
    if len(ordered) > MAX_ROWS:
        rest: dict[str, int] = {}
        for _key, per in ordered[MAX_ROWS - 1:]:
            for cls, n in per.items():
                rest[cls] = rest.get(cls, 0) + n
        ordered = ordered[:MAX_ROWS - 1] + [(OTHER, rest)]
    return [_bar(key, OTHER if key == OTHER else (label(key) if key else NO_VALUE), per) for key, per in ordered]


def totals(bars_: Iterable[Bar]) -> Bar:
    """One bar of everything."""
    per: dict[str, int] = {}
    for bar in bars_:
        for segment in bar.segments:
            per[segment.risk_class] = per.get(segment.risk_class, 0) + segment.count
    return _bar("", "合计", per)


def _bar(key: str, label: str, per: dict[str, int]) -> Bar:
    total = sum(per.values())
    segments, x = [], 0.0
    for cls in (*CLASSES, UNCLASSIFIED):
        n = per.get(cls, 0)
        if n:
            width = 100.0 * n / total
            segments.append(Segment(cls, n, round(x, 3), round(width, 3)))
            x += width
    return Bar(key, label, total, tuple(segments))
