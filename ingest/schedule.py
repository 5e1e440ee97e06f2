"""Source schedules: standard five-field cron, in Beijing time, as APScheduler triggers."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

from credit.clock import BEIJING

# Regulators' cron times are Beijing time, whatever the server's clock zone.
TIMEZONE = BEIJING
_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def cron_trigger(schedule: str, timezone: ZoneInfo = TIMEZONE) -> BaseTrigger:
    """A trigger that fires as standard cron does, in Beijing time by default.

    APScheduler 3 counts weekdays from Monday = 0 (``from_crontab("0 5 * * 1")`` fires on
    Tuesdays) and ANDs a restricted day of month with a restricted day of week; cron counts
    from Sunday = 0 (or 7) and ORs them. Both are translated here.
    """
    fields = schedule.split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 fields (minute hour day month weekday), got {len(fields)}")
    minute, hour, day, month, weekday = fields

    def cron(day_field: str, weekday_field: str) -> CronTrigger:
        return CronTrigger(minute=minute, hour=hour, day=day_field, month=month,
                           day_of_week=_weekdays(weekday_field), timezone=timezone)

    if day.startswith("*") or weekday.startswith("*"):
        return cron(day, weekday)
    return OrTrigger([cron(day, "*"), cron("*", weekday)])


def _weekdays(field: str) -> str:
    """A cron day-of-week field as an APScheduler list of days (Monday = 0)."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for part in field.lower().split(","):
        span, _, step = part.partition("/")
        first, _, last = ("0-6" if span == "*" else span).partition("-")
        start = _cron_day(first)
        end = (7 if last == "7" else _cron_day(last)) if last else (6 if step else start)
        if end < start:  # a range through Sunday, such as sat-sun
            end += 7
        days.update(day % 7 for day in range(start, end + 1, int(step or 1)))
    return ",".join(str(day) for day in sorted((d - 1) % 7 for d in days))


def _cron_day(token: str) -> int:
    """A cron weekday (0-7 or a name) as 0-6 counted from Sunday."""
    if token in _CRON_DAYS:
        return _CRON_DAYS.index(token)
    if token.isdigit() and int(token) <= 7:
        return int(token) % 7
    raise ValueError(f"bad day of week {token!r} in a cron expression")
