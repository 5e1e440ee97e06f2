"""The dated deadlines for objections (blacklist/objections.toml); working days come from credit.workdays."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from blacklist.errors import PolicyError
from credit.policyfile import read_policy_file

POLICY_FILE = Path(__file__).with_name("objections.toml")


@dataclass(frozen=True)
class ObjectionPolicy:
    """The deadlines for objections submitted from ``valid_from`` on, with their legal basis."""

    valid_from: date
    legal_basis: str
    answer_working_days: int
    check_working_days: int


@functools.cache
def load_objection_policy(path: Path = POLICY_FILE) -> tuple[ObjectionPolicy, ...]:
    """The policy periods, oldest first; a wrong file raises PolicyError naming the field."""
    periods = read_policy_file(path, PolicyError).get("period")
    if not isinstance(periods, list) or not periods:
        raise PolicyError(f"{path}: no [[period]] table")
    return tuple(sorted((_period(table, path) for table in periods), key=lambda p: p.valid_from))


def _period(table: dict[str, Any], path: Path) -> ObjectionPolicy:
    wanted = set(ObjectionPolicy.__dataclass_fields__)
    if set(table) != wanted:
        raise PolicyError(f"{path}: [[period]] missing {sorted(wanted - set(table))}, unknown "
                          f"{sorted(set(table) - wanted)}")
    answer, check = table["answer_working_days"], table["check_working_days"]
    if not all(isinstance(days, int) and days > 0 for days in (answer, check)) or check < answer:
        raise PolicyError(f"{path}: need 0 < answer_working_days <= check_working_days", field="check_working_days")
    if not isinstance(table["valid_from"], date) or isinstance(table["valid_from"], datetime):
        raise PolicyError(f"{path}: valid_from must be a date", field="valid_from")
    return ObjectionPolicy(**table)


def policy_on(day: date, periods: tuple[ObjectionPolicy, ...] | None = None) -> ObjectionPolicy:
    """The policy period in force for an objection submitted on ``day``."""
    in_force = [p for p in periods or load_objection_policy() if p.valid_from <= day]
    if not in_force:
        raise PolicyError(f"no objection policy in force on {day.isoformat()}")
    return in_force[-1]
