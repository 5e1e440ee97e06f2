"""The official working-day calendar: holidays, make-up working days, uncovered years, bad files."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from credit.workdays import CalendarError, add_working_days, load_calendar

# Expected days are counted by hand from the State Council's notices (see credit/workdays.toml).
NOTICE_CASES = [
    (date(2026, 9, 18), 1, date(2026, 9, 20)),   # Sunday 20 Sep 2026 is a make-up working day
    (date(2026, 9, 24), 1, date(2026, 9, 28)),   # Friday 25 Sep is the Mid-Autumn holiday
    (date(2026, 9, 30), 1, date(2026, 10, 8)),   # 1–7 Oct off
    (date(2026, 10, 9), 1, date(2026, 10, 10)),  # Saturday 10 Oct worked
    (date(2025, 9, 30), 5, date(2025, 10, 14)),  # 1–8 Oct off; 9, 10, Sat 11, 13, 14
    (date(2024, 2, 8), 3, date(2024, 2, 19)),    # 9 Feb; 10–17 off; Sun 18 worked; Mon 19
    (date(2026, 2, 13), 1, date(2026, 2, 14)),   # Saturday 14 Feb 2026 worked before the Spring Festival
    (date(2026, 2, 14), 1, date(2026, 2, 24)),   # 15–23 Feb off
]


@pytest.mark.parametrize("day, count, expected", NOTICE_CASES)
def test_deadlines_follow_the_official_arrangement(day: date, count: int, expected: date) -> None:
    assert add_working_days(day, count) == expected


def test_the_sunday_after_new_year_2026_is_worked() -> None:
    calendar = load_calendar()
    assert not calendar.is_working_day(date(2026, 1, 2))  # Friday, holiday
    assert calendar.is_working_day(date(2026, 1, 4))      # Sunday, make-up working day
    assert add_working_days(date(2025, 12, 31), 1) == date(2026, 1, 4)


def test_a_year_without_its_notice_counts_monday_to_friday() -> None:
    calendar = load_calendar()
    assert calendar.covers(date(2026, 12, 31)) and not calendar.covers(date(2027, 1, 4))
    start = date(2027, 3, 1)
    for offset in range(60):
        day = start + timedelta(days=offset)
        for count in (1, 5, 20):
            # numpy rolls a weekend start back to Friday, then counts business days: plain weekdays.
            expected = np.busday_offset(np.datetime64(day), count, roll="backward").item()
            assert add_working_days(day, count) == expected, (day, count)


def test_zero_days_is_the_same_day_and_negative_counts_are_refused() -> None:
    assert add_working_days(date(2026, 10, 3), 0) == date(2026, 10, 3)
    with pytest.raises(ValueError):
        add_working_days(date(2026, 10, 3), -1)


@pytest.mark.parametrize("body, named", [
    ('[[year]]\nyear = 2027\nbasis = "通知"\nholidays = [[2027-01-03, 2027-01-01]]\nworkdays = []\n', "first <= last"),
    ('[[year]]\nyear = 2027\nbasis = "通知"\nholidays = []\nworkdays = [2027-01-04]\n', "2027-01-04"),
    ('[[year]]\nyear = 2027\nbasis = "通知"\nholidays = [[2027-10-01, 2027-10-07]]\nworkdays = [2027-10-02]\n',
     "both a holiday and a working day: 2027-10-02"),
    ('[[year]]\nyear = 2027\nbasis = "通知"\nholidays = [[2028-10-01, 2028-10-07]]\nworkdays = []\n',
     "far outside the year: 2028-10-01"),
    ('[[year]]\nyear = 2027\nbasis = ""\nholidays = []\nworkdays = []\n', "basis a citation"),
    ('[[year]]\nyear = 2027\nholidays = []\nworkdays = []\n', "exactly year, basis"),
    ('[[year]]\nyear = 2027\nbasis = "通知"\nholidays = []\nworkdays = []\n' * 2, "year 2027 is given twice"),
    ("[[year]\n", "2027.toml"),
])
def test_a_wrong_calendar_names_what_is_wrong(tmp_path: Path, body: str, named: str) -> None:
    path = tmp_path / "2027.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(CalendarError, match=named.replace("(", r"\(")):
        load_calendar(path)


def test_the_shipped_calendar_loads_with_a_citation_per_year() -> None:
    calendar = load_calendar()
    assert calendar.years == {2024, 2025, 2026}
    assert all("国务院办公厅" in basis for basis in calendar.bases.values())
    # Every make-up day is a weekend day and no holiday is also a working day.
    assert all(d.weekday() >= 5 for d in calendar.workdays) and not calendar.holidays & calendar.workdays
