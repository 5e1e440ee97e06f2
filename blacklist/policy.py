"""The list rules' dated policy (blacklist/rules.toml): deadlines, terms, notice periods, wording."""

from __future__ import annotations

import functools
from calendar import monthrange
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from blacklist.errors import PolicyError
from credit.policyfile import read_policy_file
from credit.text import normalise_text

RULES_FILE = Path(__file__).with_name("rules.toml")
ENTITY_KINDS = frozenset({"enterprise", "cooperative", "individual"})


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
class IndividualMarkPolicy:
    """How an individual business's missing annual report is marked, and how the mark ends."""

    legal_basis: str
    list: str
    reason: str  # with {year}
    restored_on_report_filed: str
    restored_on_address_change: str
    ended_on_deregistration: str


@dataclass(frozen=True)
class SeriousTransfer:
    """How a 3-year abnormal listing becomes a serious illegal & dishonest listing."""

    list: str
    reason: str
    term_years: int
    representative_bar: str


@dataclass(frozen=True)
class SeriousPenaltyPolicy:
    """Listing on the serious list from a market regulator's heavier penalty in a listed domain.

    Phrases are folded by ``credit.text.normalise_text``; the texts they are matched in must be too.
    """

    legal_basis: str
    valid_from: date
    list: str
    term_years: int
    reason: str
    entity_kinds: frozenset[str]
    authorities: tuple[str, ...]
    domains: dict[str, tuple[str, ...]]
    heavier_penalties: dict[str, tuple[str, ...]]

    def domain_of(self, text: str) -> str | None:
        """The first listed domain with a phrase in the folded ``text`` (violation type, facts, basis)."""
        return _first_match(self.domains, text)

    def heavier_kind(self, text: str) -> str | None:
        """The first heavier penalty kind with a phrase in the folded ``text`` (penalty type, content)."""
        return _first_match(self.heavier_penalties, text)

    def by_market_regulator(self, authority: str) -> bool:
        """Whether the folded ``authority`` is one whose penalties count."""
        return any(phrase in authority for phrase in self.authorities)

    def reason_for(self, domain: str, penalty: str) -> str:
        """The listing's reason, naming the domain and the penalty kind."""
        return self.reason.format(domain=domain, penalty=penalty)


@dataclass(frozen=True)
class EarlyRemovalPolicy:
    """Early removal from the serious list on application: how long listed, which conditions, wording."""

    legal_basis: str
    list: str
    min_years_listed: int
    removal_reason: str
    conditions: dict[str, str]  # name in the request → Chinese label


@dataclass(frozen=True)
class RulesPolicy:
    """Everything the list rules read from policy."""

    abnormal: AbnormalPolicy
    serious_transfer: SeriousTransfer
    serious_penalty: SeriousPenaltyPolicy
    early_removal: EarlyRemovalPolicy
    individual_mark: IndividualMarkPolicy


def _first_match(table: dict[str, tuple[str, ...]], text: str) -> str | None:
    return next((name for name, phrases in table.items() if any(p in text for p in phrases)), None)


@functools.cache
def load_rules_policy(path: Path = RULES_FILE) -> RulesPolicy:
    """Read and check the rules policy; a wrong or missing entry raises PolicyError naming it."""
    data = read_policy_file(path, PolicyError)
    abnormal = dict(_table(data, "abnormal", AbnormalPolicy, path))
    abnormal["annual_report_due"] = tuple(abnormal["annual_report_due"])
    abnormal["reasons"] = {k: frozenset(v) for k, v in abnormal["reasons"].items()}
    if set(abnormal["reasons"]) != {"enterprise", "cooperative", "individual"}:
        raise PolicyError(f"{path}: [abnormal] reasons must name enterprise, cooperative and individual")
    return RulesPolicy(AbnormalPolicy(**abnormal),
                       SeriousTransfer(**_table(data, "serious_transfer", SeriousTransfer, path)),
                       _serious_penalty(data, path), _early_removal(data, path), _individual_mark(data, path))


def _individual_mark(data: dict[str, Any], path: Path) -> IndividualMarkPolicy:
    table = _table(data, "individual_mark", IndividualMarkPolicy, path)
    where = f"{path}: [individual_mark]"
    _check_texts(table, tuple(IndividualMarkPolicy.__dataclass_fields__), where)
    if "{year}" not in table["reason"]:
        raise PolicyError(f"{where} reason must name the report {{year}}", field="reason")
    return IndividualMarkPolicy(**table)


def _serious_penalty(data: dict[str, Any], path: Path) -> SeriousPenaltyPolicy:
    table = dict(_table(data, "serious_penalty", SeriousPenaltyPolicy, path))
    where = f"{path}: [serious_penalty]"
    _check_texts(table, ("legal_basis", "list", "reason"), where)
    if not isinstance(table["valid_from"], date):
        raise PolicyError(f"{where} valid_from must be a date", field="valid_from")
    _check_count(table, "term_years", where, least=1)
    try:
        table["reason"].format(domain="", penalty="")
    except (KeyError, IndexError, ValueError) as exc:
        raise PolicyError(f"{where} reason may use only {{domain}} and {{penalty}}: {exc}", field="reason") from exc
    table["entity_kinds"] = frozenset(_phrases(table["entity_kinds"], where, "entity_kinds", fold=False))
    if not table["entity_kinds"] <= ENTITY_KINDS:
        raise PolicyError(f"{where} entity_kinds must be among {sorted(ENTITY_KINDS)}", field="entity_kinds")
    table["authorities"] = _phrases(table["authorities"], where, "authorities")
    for name in ("domains", "heavier_penalties"):
        if not isinstance(table[name], dict) or not table[name]:
            raise PolicyError(f"{where} {name} must be a table of name = [phrases]", field=name)
        table[name] = {key: _phrases(value, where, f"{name}.{key}") for key, value in table[name].items()}
    return SeriousPenaltyPolicy(**table)


def _early_removal(data: dict[str, Any], path: Path) -> EarlyRemovalPolicy:
    table = dict(_table(data, "early_removal", EarlyRemovalPolicy, path))
    where = f"{path}: [early_removal]"
    _check_texts(table, ("legal_basis", "list", "removal_reason"), where)
    _check_count(table, "min_years_listed", where, least=0)
    conditions = table["conditions"]
    if not isinstance(conditions, dict) or not conditions:
        raise PolicyError(f"{where} conditions must be a table of name = \"label\"", field="conditions")
    _check_texts(conditions, tuple(conditions), f"{where} conditions")
    return EarlyRemovalPolicy(**table)


def _check_texts(table: dict[str, Any], names: tuple[str, ...], where: str) -> None:
    for name in names:
        if not isinstance(table[name], str) or not table[name].strip():
            raise PolicyError(f"{where} {name} must be non-empty text", field=name)


def _check_count(table: dict[str, Any], name: str, where: str, least: int) -> None:
    if type(table[name]) is not int or table[name] < least:
        raise PolicyError(f"{where} {name} must be a whole number of at least {least}", field=name)


def _phrases(value: Any, where: str, name: str, fold: bool = True) -> tuple[str, ...]:
    """A non-empty list of non-empty phrases, folded as the texts they are matched in."""
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise PolicyError(f"{where} {name} must be a non-empty list of text", field=name)
    phrases = tuple(normalise_text(v) if fold else v.strip() for v in value)
    if not all(phrases):
        raise PolicyError(f"{where} {name} has an empty phrase", field=name)
    return phrases


def _table(data: dict[str, Any], name: str, shape: type, path: Path) -> dict[str, Any]:
    table = data.get(name)
    if not isinstance(table, dict):
        raise PolicyError(f"{path}: missing table [{name}]")
    wanted = set(shape.__dataclass_fields__)
    missing, unknown = wanted - set(table), set(table) - wanted
    if missing or unknown:
        raise PolicyError(f"{path}: [{name}] missing {sorted(missing)}, unknown {sorted(unknown)}")
    return table
