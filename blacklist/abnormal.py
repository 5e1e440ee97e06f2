"""The abnormal-operation list as a state machine: who may be listed for what, when, and how it ends.

Pure functions over listings, with no store: the rules (`blacklist.rules`) and regulator actions
ask here whether a transition is allowed, and the property tests drive random event sequences
through it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta

from blacklist.policy import AbnormalPolicy, add_years


class EntityKind(enum.Enum):
    """What the abnormal-list rules distinguish among market entities."""

    ENTERPRISE = "enterprise"
    COOPERATIVE = "cooperative"
    INDIVIDUAL = "individual"


def entity_kind(entity_type: str | None) -> EntityKind:
    """The kind of an entity from its registered 企业类型 text."""
    text = entity_type or ""
    if "个体" in text:
        return EntityKind.INDIVIDUAL
    if "合作社" in text:
        return EntityKind.COOPERATIVE
    return EntityKind.ENTERPRISE


@dataclass(frozen=True)
class Listing:
    """One abnormal-list listing of one entity: reason 1–4, its year (reason 1) or case (reason 4)."""

    entity_id: int
    reason: int
    listed_on: date
    year: int | None = None
    case: str | None = None
    removed_on: date | None = None
    removal_reason: str | None = None

    @property
    def active(self) -> bool:
        """Still listed (not removed)."""
        return self.removed_on is None


class Refused(ValueError):
    """A transition the rules do not allow; the message says which rule, in Chinese."""


def check_listing(new: Listing, kind: EntityKind, existing: Iterable[Listing], policy: AbnormalPolicy) -> None:
    """Raise Refused unless ``new`` may be added beside ``existing`` listings of the same entity."""
    if new.reason not in policy.reasons[kind.value]:
        raise Refused(_kind_refusal(kind, new.reason))
    if new.reason == 1 and new.year is None:
        raise Refused("因未按时公示年度报告列入的，须写明年度")
    if new.reason == 1 and new.year is not None and new.listed_on <= policy.report_due(new.year):
        raise Refused(f"{new.year}年度报告的公示期限（{policy.report_due(new.year)}）尚未届满")
    for old in existing:
        if old.active and old.reason == new.reason and _same_matter(old, new):
            raise Refused(_duplicate(old))


def _kind_refusal(kind: EntityKind, reason: int) -> str:
    if kind is EntityKind.INDIVIDUAL:
        return "个体工商户标记为经营异常状态，不列入经营异常名录"
    return f"{'农民专业合作社' if kind is EntityKind.COOPERATIVE else '企业'}不适用列入事由{reason}"


def _same_matter(old: Listing, new: Listing) -> bool:
    """Reason 1: the same report year; reason 4: the same address case; 2 and 3: any open listing."""
    if new.reason == 1:
        return old.year == new.year
    if new.reason == 4:
        return old.case == new.case
    return True


def _duplicate(old: Listing) -> str:
    matter = f"{old.year}年度" if old.reason == 1 else (f"案件{old.case}" if old.reason == 4 else "")
    return f"已因事由{old.reason}{matter}于{old.listed_on}列入，尚未移出，不得重复列入"


def remove(listing: Listing, on: date, reason: str) -> Listing:
    """The listing removed on ``on``; Refused when it is not active or ``on`` precedes the listing."""
    if not listing.active:
        raise Refused(f"该列入记录已于{listing.removed_on}移出")
    if on < listing.listed_on:
        raise Refused(f"移出日期{on}早于列入日期{listing.listed_on}")
    if not reason.strip():
        raise Refused("移出须写明原因")
    return replace(listing, removed_on=on, removal_reason=reason)


def transfer_due(listing: Listing, policy: AbnormalPolicy) -> date:
    """The day a listing left unremedied moves to the serious list (the 3-year point)."""
    return add_years(listing.listed_on, policy.transfer_after_years)


def notice_due(listing: Listing, policy: AbnormalPolicy) -> date:
    """The day the entity is told of the coming transfer (60 days before it)."""
    return transfer_due(listing, policy) - timedelta(days=policy.notice_days_before_transfer)


def report_year(listed_on: date, policy: AbnormalPolicy) -> int:
    """The report year of a reason-1 listing sent without one: the last year whose deadline had passed."""
    year = listed_on.year - 1
    return year if listed_on > policy.report_due(year) else year - 1
