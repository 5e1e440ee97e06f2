"""Working days as the law counts them: Monday to Friday, less public holidays, plus make-up days.

The holidays and make-up working days (调休) come from credit/workdays.toml, one block per year
with the State Council notice it was copied from. A year the file does not cover counts Monday to
Friday only; ``WorkCalendar.covers`` lets a caller say so.
"""

from __future__ import annotations

import functools
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from credit.errors import CreditError
from credit.policyfile import read_policy_file

CALENDAR_FILE = Path(__file__).with_name("workdays.toml")
_DAY = timedelta(days=1)


class CalendarError(CreditError):
    """The working-day calendar file is wrong; the message names the year and the entry."""


@dataclass(frozen=True)
class WorkCalendar:
    """Public holidays and make-up working days of the years it covers."""

    holidays: frozenset[date]
    workdays: frozenset[date]
    years: frozenset[int]
    bases: dict[int, str]

    def covers(self, day: date) -> bool:
        """Whether the year of ``day`` has its official arrangement in the calendar."""
        return day.year in self.years

    def is_working_day(self, day: date) -> bool:
        """A make-up working day, or a weekday that is not a public holiday."""
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def add_working_days(self, day: date, count: int) -> date:
        """The day ``count`` working days after ``day`` (``day`` itself not counted)."""
        if count < 0:
            raise ValueError("count must not be negative")
        while count > 0:
            day += _DAY
            if self.is_working_day(day):
                count -= 1
        return day


@functools.cache
def load_calendar(path: Path = CALENDAR_FILE) -> WorkCalendar:
    """Read and check the calendar; any wrong entry raises CalendarError naming it."""
    blocks = read_policy_file(path, CalendarError).get("year")
    if not isinstance(blocks, list):
        raise CalendarError(f"{path}: no [[year]] table")
    holidays: set[date] = set()
    workdays: set[date] = set()
    bases: dict[int, str] = {}
    for block in blocks:
        year, basis, off, on = _year_block(block, path)
        if year in bases:
            raise CalendarError(f"{path}: year {year} is given twice")
        bases[year] = basis
        holidays |= off
        workdays |= on
    return WorkCalendar(frozenset(holidays), frozenset(workdays), frozenset(bases), bases)


def add_working_days(day: date, count: int) -> date:
    """The day ``count`` official working days after ``day``."""
    return load_calendar().add_working_days(day, count)


def _year_block(block: Any, path: Path) -> tuple[int, str, set[date], set[date]]:
    if not isinstance(block, dict) or set(block) != {"year", "basis", "holidays", "workdays"}:
        raise CalendarError(f"{path}: each [[year]] needs exactly year, basis, holidays and workdays")
    year, where = block["year"], f"{path}: year {block['year']}"
    if not isinstance(year, int) or not isinstance(block["basis"], str) or not block["basis"].strip():
        raise CalendarError(f"{where}: year must be a number and basis a citation")
    off = set()
    for pair in block["holidays"]:
        if not (isinstance(pair, list) and len(pair) == 2 and all(_is_day(d) for d in pair) and pair[0] <= pair[1]):
            raise CalendarError(f"{where}: holiday range {_shown(pair)} must be [first, last] dates, first <= last")
        off |= {pair[0] + _DAY * i for i in range((pair[1] - pair[0]).days + 1)}
    on = set()
    for day in block["workdays"]:
        if not _is_day(day) or day.weekday() < 5:
            raise CalendarError(f"{where}: make-up working day {_shown(day)} must be a Saturday or Sunday date")
        on.add(day)
    # A notice may reach a day or two into the years beside it (元旦 from 31 December), no further.
    stray = sorted(d.isoformat() for d in off | on if abs(d - date(year, 7, 1)).days > 200)
    clash = sorted(d.isoformat() for d in off & on)
    if stray:
        raise CalendarError(f"{where}: dates far outside the year: {', '.join(stray)}")
    if clash:
        raise CalendarError(f"{where}: both a holiday and a working day: {', '.join(clash)}")
    return year, block["basis"], off, on


def _is_day(value: Any) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def _shown(value: Any) -> str:
    """A calendar value as written in the file: dates in ISO form."""
    if isinstance(value, list):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    return value.isoformat() if isinstance(value, date) else repr(value)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (earlier when negative), clamped to the end of a shorter month
    (31 May − 3 months → 28 or 29 February)."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))
