"""The list rules' dated policy (blacklist/rules.toml): deadlines, terms, notice periods, wording."""

from __future__ import annotations

import functools
import tomllib
from calendar import monthrange
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from blacklist.errors import PolicyError

RULES_FILE = Path(__file__).with_name("rules.toml")


def add_years(day: date, years: int) -> date:
    """The same calendar day ``years`` later; 29 February becomes 28 February in a common year."""
    year = day.year + years
    return day.replace(year=year, day=min(day.day, monthrange(year, day.month)[1]))


@dataclass(frozen=True)
class AbnormalPolicy:
    """Abnormal-operation list rules (DOMAIN.md §3)."""

    legal_basis: str
    valid_from: date
    annual_report_due: tuple[int, int]
    first_report_year: int
    lookback_years: int
    reasons: dict[str, frozenset[int]]
    transfer_after_years: int
    notice_days_before_transfer: int
    removal_on_deregistration: str
    removal_on_report_filed: str
    removal_on_address_change: str
    removal_on_transfer: str

    def report_due(self, year: int) -> date:
        """The last day to publish the annual report of ``year``."""
        month, day = self.annual_report_due
        return date(year + 1, month, day)


@dataclass(frozen=True)
class SeriousTransfer:
    """How a 3-year abnormal listing becomes a serious illegal & dishonest listing."""

    list: str
    reason: str
    term_years: int
    representative_bar: str


@dataclass(frozen=True)
class RulesPolicy:
    """Everything the list rules read from policy."""

    abnormal: AbnormalPolicy
    serious_transfer: SeriousTransfer


@functools.cache
def load_rules_policy(path: Path = RULES_FILE) -> RulesPolicy:
    """Read and check the rules policy; a wrong or missing entry raises PolicyError naming it."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"{path}: {exc}") from exc
    abnormal = dict(_table(data, "abnormal", AbnormalPolicy, path))
    abnormal["annual_report_due"] = tuple(abnormal["annual_report_due"])
    abnormal["reasons"] = {k: frozenset(v) for k, v in abnormal["reasons"].items()}
    if set(abnormal["reasons"]) != {"enterprise", "cooperative", "individual"}:
        raise PolicyError(f"{path}: [abnormal] reasons must name enterprise, cooperative and individual")
    return RulesPolicy(AbnormalPolicy(**abnormal),
                       SeriousTransfer(**_table(data, "serious_transfer", SeriousTransfer, path)))


def _table(data: dict[str, Any], name: str, shape: type, path: Path) -> dict[str, Any]:
    table = data.get(name)
    if not isinstance(table, dict):
        raise PolicyError(f"{path}: missing table [{name}]")
    wanted = set(shape.__dataclass_fields__)
    missing, unknown = wanted - set(table), set(table) - wanted
    if missing or unknown:
        raise PolicyError(f"{path}: [{name}] missing {sorted(missing)}, unknown {sorted(unknown)}")
    return table
