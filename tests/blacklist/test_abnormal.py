"""The abnormal-list state machine: allowed listings, removals, the 3-year point (incl. random sequences)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blacklist.abnormal import (
    EntityKind, Listing, Refused, check_listing, entity_kind, notice_due, remove, report_year, transfer_due,
)
from blacklist.policy import load_rules_policy

POLICY = load_rules_policy().abnormal


def listing(reason: int, listed_on: date, year: int | None = None, case: str | None = None) -> Listing:
    """A listing of entity 1."""
    return Listing(1, reason, listed_on, year, case)


@pytest.mark.parametrize("entity_type, kind", [
    ("有限责任公司（自然人投资或控股）", EntityKind.ENTERPRISE), ("农民专业合作社", EntityKind.COOPERATIVE),
    ("个体工商户", EntityKind.INDIVIDUAL), (None, EntityKind.ENTERPRISE),
])
def test_entity_kind_from_the_registered_type(entity_type: str | None, kind: EntityKind) -> None:
    assert entity_kind(entity_type) is kind


def test_cooperatives_have_reasons_1_3_4_and_individuals_are_never_listed() -> None:
    check_listing(listing(3, date(2024, 8, 1)), EntityKind.COOPERATIVE, [], POLICY)
    with pytest.raises(Refused, match="合作社不适用列入事由2"):
        check_listing(listing(2, date(2024, 8, 1)), EntityKind.COOPERATIVE, [], POLICY)
    with pytest.raises(Refused, match="个体工商户标记为经营异常状态"):
        check_listing(listing(1, date(2024, 8, 1), 2023), EntityKind.INDIVIDUAL, [], POLICY)


def test_reason_one_only_after_the_deadline_and_once_per_year() -> None:
    with pytest.raises(Refused, match="尚未届满"):
        check_listing(listing(1, date(2024, 6, 30), 2023), EntityKind.ENTERPRISE, [], POLICY)
    first = listing(1, date(2024, 7, 1), 2023)
    check_listing(first, EntityKind.ENTERPRISE, [], POLICY)
    with pytest.raises(Refused, match="不得重复列入"):
        check_listing(listing(1, date(2024, 9, 1), 2023), EntityKind.ENTERPRISE, [first], POLICY)
    check_listing(listing(1, date(2025, 7, 1), 2024), EntityKind.ENTERPRISE, [first], POLICY)
    check_listing(listing(1, date(2024, 9, 1), 2023), EntityKind.ENTERPRISE,
                  [remove(first, date(2024, 8, 1), "已补报")], POLICY)


def test_reason_four_once_per_open_address_case() -> None:
    open_case = listing(4, date(2024, 1, 10), case="案-1")
    with pytest.raises(Refused, match="案件案-1"):
        check_listing(listing(4, date(2024, 2, 1), case="案-1"), EntityKind.ENTERPRISE, [open_case], POLICY)
    check_listing(listing(4, date(2024, 2, 1), case="案-2"), EntityKind.ENTERPRISE, [open_case], POLICY)


def test_removal_never_before_the_listing_nor_twice() -> None:
    entry = listing(4, date(2024, 1, 10), case="案-1")
    with pytest.raises(Refused, match="早于列入日期"):
        remove(entry, date(2024, 1, 9), "已变更住所")
    removed = remove(entry, date(2024, 1, 10), "已变更住所")
    assert (removed.removed_on, removed.active) == (date(2024, 1, 10), False)
    with pytest.raises(Refused, match="已于2024-01-10移出"):
        remove(removed, date(2024, 2, 1), "再次移出")


def test_the_three_year_point_and_its_notice() -> None:
    assert transfer_due(listing(2, date(2021, 5, 10)), POLICY) == date(2024, 5, 10)
    assert notice_due(listing(2, date(2021, 5, 10)), POLICY) == date(2024, 3, 11)  # 60 days before
    assert transfer_due(listing(2, date(2020, 2, 29)), POLICY) == date(2023, 2, 28)


def test_report_year_of_a_listing_sent_without_one() -> None:
    assert report_year(date(2024, 7, 1), POLICY) == 2023
    assert report_year(date(2024, 6, 30), POLICY) == 2022


events = st.lists(st.tuples(
    st.sampled_from(["list", "remove"]), st.integers(1, 4), st.integers(2019, 2025),
    st.integers(0, 800), st.integers(0, 3)), max_size=40)


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(list(EntityKind)), sequence=events)
def test_random_event_sequences_keep_the_invariants(kind: EntityKind, sequence: list[tuple]) -> None:
    listings: list[Listing] = []
    for action, reason, year, offset, pick in sequence:
        day = date(2020, 7, 1) + timedelta(days=offset)
        if action == "list":
            new = listing(reason, day, year if reason == 1 else None, f"案-{pick}" if reason == 4 else None)
            try:
                check_listing(new, kind, listings, POLICY)
            except Refused:
                continue
            listings.append(new)
        elif listings:
            i = pick % len(listings)
            try:
                listings[i] = remove(listings[i], day, "移出")
            except Refused:
                continue
    active = [x for x in listings if x.active]
    matters = [(x.reason, x.year if x.reason == 1 else x.case if x.reason == 4 else None) for x in active]
    assert len(matters) == len(set(matters))  # never two active listings for the same matter
    assert all(x.removed_on is None or x.removed_on >= x.listed_on for x in listings)
    assert all(x.reason in POLICY.reasons[kind.value] for x in listings)  # never an excluded entity type
    assert all(x.reason != 1 or x.listed_on > POLICY.report_due(x.year or 0) for x in listings)
    assert all(transfer_due(x, POLICY) == x.listed_on.replace(year=x.listed_on.year + 3) for x in listings
               if (x.listed_on.month, x.listed_on.day) != (2, 29))
