"""Rules that run on dates (`gongxin lists apply --as-of DATE`, and a daily job).

For one day they: list every enterprise and cooperative that has not published year Y's annual
report by its deadline (reason 1), and mark every such individual business (individual businesses
are marked abnormal and restored, never listed; the same remedies end their marks); remove
reason-1 listings whose report has been filed,
reason-4 listings whose address was re-registered, and every listing of a deregistered entity;
record a notice 60 days before the 3-year point and, at it, move the listing to the serious
list with the legal representative's bar; list on the serious list each market regulator's
heavier penalty in a listed domain (SAMR Order 44 art. 2, once per penalty); and end listings whose
term has expired. Running the rules twice for the same day changes nothing; each batch of entities
is one unit of work.

A penalty listing stays when its penalty record is later withdrawn: revoking the listing is the
deciding authority's act (``blacklist.actions.withdraw_record``), and the rules never list the same
penalty again, whatever became of its entry.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from blacklist.abnormal import EntityKind, entity_kind, notice_due, transfer_due
from blacklist.catalogue import list_by_id
from blacklist.policy import RulesPolicy, SeriousPenaltyPolicy, add_years, load_rules_policy
from blacklist.store import (
    PENALTY_KEY_PREFIX, RULES_SOURCE, Closing, EntityFacts, PenaltyFact, StoredListing, close_entries, decision_key,
    load_batch, record_notices, withdraw_superseded,
)
from credit.listings import ListEntryIn, apply_list_entries
from credit.models import Entity

BATCH = 2000
EXPIRED = "期满移出"
# Why a penalty listing of the rules is withdrawn when the penalty's authority lists it as well:
# one decision, one public entry (the authority's).
SUPERSEDED = "同一行政处罚决定已由作出机关列入，本条系统列入记录不再重复公示"


@dataclass
class RulesReport:
    """What one run did: listed, removed (with why), notices sent, transferred."""

    as_of: date
    counts: Counter[str] = field(default_factory=Counter)


@dataclass
class _Plan:
    """What the rules decided for one batch, before it is written."""

    listings: list[ListEntryIn] = field(default_factory=list)
    penalty_listings: list[ListEntryIn] = field(default_factory=list)
    marks: list[ListEntryIn] = field(default_factory=list)
    closings: list[Closing] = field(default_factory=list)
    notices: list[tuple[int, int, date]] = field(default_factory=list)  # (entity, entry, transfer day)
    superseded: list[tuple[int, str]] = field(default_factory=list)  # (entry, withdrawal reason)


def apply_list_rules(session: Session, as_of: date, policy: RulesPolicy | None = None, batch: int = BATCH,
                     entity_ids: Sequence[int] | None = None) -> RulesReport:
    """Apply every dated rule for ``as_of`` to every entity (or only ``entity_ids``), a committed batch at a time."""
    policy = policy or load_rules_policy()
    report = RulesReport(as_of)
    batches = _id_batches(session, batch) if entity_ids is None else _chunks(sorted(set(entity_ids)), batch)
    for ids in batches:
        plan = _Plan()
        for facts in load_batch(session, ids).values():
            plan_entity(facts, as_of, policy, plan)
        report.counts["listed"] += apply_list_entries(session, plan.listings).inserted
        report.counts["listed:serious_penalty"] += apply_list_entries(session, plan.penalty_listings).inserted
        report.counts["marked"] += apply_list_entries(session, plan.marks).inserted
        report.counts.update(close_entries(session, plan.closings))
        report.counts["withdrawn:superseded"] += withdraw_superseded(session, plan.superseded)
        report.counts["notices"] += record_notices(session, plan.notices)
        session.commit()
    return report


def _chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def _id_batches(session: Session, size: int) -> Iterator[list[int]]:
    after = 0
    while ids := list(session.scalars(select(Entity.id).where(Entity.id > after).order_by(Entity.id).limit(size))):
        yield ids
        after = ids[-1]


def plan_entity(facts: EntityFacts, as_of: date, policy: RulesPolicy, plan: _Plan) -> None:
    """Decide one entity's listings, removals, notices and transfers for ``as_of``."""
    plan.listings += _overdue_reports(facts, as_of, policy)
    plan.marks += _overdue_marks(facts, as_of, policy)
    plan.penalty_listings += _heavier_penalties(facts, as_of, policy.serious_penalty)
    plan.superseded += [(entry_id, SUPERSEDED) for entry_id, list_id, decision in facts.rule_decisions
                        if (list_id, decision) in facts.listed_decisions]
    plan.closings += _remedies(facts, as_of, _mark_track(policy), facts.active_marks(as_of))
    remedies = {c.entry_id: c for c in _remedies(facts, as_of, _abnormal_track(policy), facts.active_abnormal(as_of))}
    for stored in facts.active_abnormal(as_of):
        due = transfer_due(stored.listing, policy.abnormal)
        remedy = remedies.get(stored.entry_id)
        if remedy is not None and remedy.on < due:
            plan.closings.append(remedy)
        elif due <= as_of:
            plan.closings.append(Closing(stored.entry_id, due, policy.abnormal.removal_on_transfer, "transferred"))
            plan.listings.append(_serious_entry(facts, stored.entry_id, due, policy))
        elif notice_due(stored.listing, policy.abnormal) <= as_of:
            plan.notices.append((facts.entity_id, stored.entry_id, due))
    plan.closings += [Closing(e.entry_id, e.due_expiry, EXPIRED, "expired") for e in facts.active_others(as_of)
                      if e.due_expiry is not None and e.due_expiry <= as_of]


@dataclass(frozen=True)
class _Track:
    """Where a missing annual report is recorded, and how that record ends: the abnormal list for
    enterprises and cooperatives, the abnormal-state mark for individual businesses."""

    list_id: str
    key: str  # source keys are f"{key}:1:{year}:{entity}"
    reason: str  # with {year}
    basis: str
    on_deregistration: tuple[str, str]  # (wording shown to the public, kind counted)
    on_report_filed: tuple[str, str]
    on_address_change: tuple[str, str]


def _abnormal_track(policy: RulesPolicy) -> _Track:
    rules = policy.abnormal
    return _Track("abnormal", "abnormal", "{year}年度，未依照《企业信息公示暂行条例》第八条规定的期限公示年度报告",
                  rules.legal_basis, (rules.removal_on_deregistration, "deregistered"),
                  (rules.removal_on_report_filed, "report_filed"), (rules.removal_on_address_change, "address_changed"))


def _mark_track(policy: RulesPolicy) -> _Track:
    mark = policy.individual_mark
    return _Track(mark.list, "mark", mark.reason, mark.legal_basis, (mark.ended_on_deregistration, "mark_deregistered"),
                  (mark.restored_on_report_filed, "mark_report_filed"),
                  (mark.restored_on_address_change, "mark_address_changed"))


def _overdue_marks(facts: EntityFacts, as_of: date, policy: RulesPolicy) -> list[ListEntryIn]:
    """An individual business's missing reports, each marked (never listed)."""
    if entity_kind(facts.entity_type) is not EntityKind.INDIVIDUAL:
        return []
    return _missing_reports(facts, as_of, policy, _mark_track(policy), facts.marks)


def _overdue_reports(facts: EntityFacts, as_of: date, policy: RulesPolicy) -> list[ListEntryIn]:
    """Reason 1 on the abnormal list, for the kinds of entity the policy lists for it."""
    if 1 not in policy.abnormal.reasons[entity_kind(facts.entity_type).value]:
        return []
    return _missing_reports(facts, as_of, policy, _abnormal_track(policy), facts.abnormal)


def _missing_reports(facts: EntityFacts, as_of: date, policy: RulesPolicy, track: _Track,
                     stored: list[StoredListing]) -> list[ListEntryIn]:
    """Each report year whose deadline passed before ``as_of`` with no report filed by then, not yet recorded."""
    rules = policy.abnormal
    if not facts.operating or facts.established_on is None:
        return []
    last = as_of.year - 1 if as_of > rules.report_due(as_of.year - 1) else as_of.year - 2
    first = max(rules.first_report_year, facts.established_on.year, last - rules.lookback_years + 1)
    recorded = {s.listing.year for s in stored if s.listing.reason == 1}
    return [ListEntryIn(
        facts.entity_id, track.list_id, RULES_SOURCE, f"{track.key}:1:{year}:{facts.entity_id}", listed_on=as_of,
        reason=track.reason.format(year=year), reason_code="1", basis=track.basis,
        listed_by=facts.reg_authority or "登记机关")
        for year in range(first, last + 1) if year not in recorded and facts.filed_on(year, as_of) is None]


def _remedies(facts: EntityFacts, as_of: date, track: _Track, active: list[StoredListing]) -> list[Closing]:
    """Facts that end these listings or marks: deregistration, the missing report filed, a new address."""
    out = []
    for stored in active:
        listing = stored.listing
        if facts.deregistered:
            out.append(Closing(stored.entry_id, max(listing.listed_on, min(facts.status_since or as_of, as_of)),
                               *track.on_deregistration))
        elif listing.reason == 1 and listing.year and (filed := facts.filed_on(listing.year, as_of)):
            out.append(Closing(stored.entry_id, max(listing.listed_on, filed), *track.on_report_filed))
        elif listing.reason == 4 and (moved := facts.address_changed(listing.listed_on, as_of)):
            out.append(Closing(stored.entry_id, moved, *track.on_address_change))
    return out


def _serious_entry(facts: EntityFacts, entry_id: int, on: date, policy: RulesPolicy) -> ListEntryIn:
    """The serious-list listing that a 3-year abnormal listing becomes, with the representative's bar."""
    move = policy.serious_transfer
    bar = f"{move.representative_bar}（{facts.legal_rep}）" if facts.legal_rep else move.representative_bar
    return ListEntryIn(
        facts.entity_id, move.list, RULES_SOURCE, f"serious:transfer:{entry_id}", listed_on=on, reason=move.reason,
        basis=f"{policy.abnormal.legal_basis}；{bar}", listed_by=facts.reg_authority or "登记机关",
        due_expiry=add_years(on, move.term_years))


def heavier_penalty(penalty: PenaltyFact, rules: SeriousPenaltyPolicy) -> str | None:
    """The heavier kind of a market regulator's penalty (SAMR Order 44 art. 2), or None."""
    return rules.heavier_kind(penalty.measures) if rules.by_market_regulator(penalty.issuer) else None


def _heavier_penalties(facts: EntityFacts, as_of: date, rules: SeriousPenaltyPolicy) -> list[ListEntryIn]:
    """A serious listing for each heavier penalty in a listed domain not listed before."""
    if not _listable(facts.entity_type, rules):
        return []
    planned = (_penalty_listing(facts, penalty, as_of, rules) for penalty in facts.penalties)
    return [entry for entry in planned if entry is not None]


def _penalty_listing(facts: EntityFacts, penalty: PenaltyFact, as_of: date,
                     rules: SeriousPenaltyPolicy) -> ListEntryIn | None:
    """One penalty's listing: from its decision day (in force, by ``as_of``) for the term, if it qualifies."""
    on, key = penalty.decided_on, f"{PENALTY_KEY_PREFIX}{penalty.fact_id}"
    if on is None or key in facts.rule_keys or not rules.valid_from <= on <= as_of < add_years(on, rules.term_years):
        return None
    decision = decision_key(penalty.decision_no)
    if decision is not None and (rules.list, decision) in facts.listed_decisions:
        return None  # its authority listed it already, by hand or in a file
    kind, domain = heavier_penalty(penalty, rules), rules.domain_of(penalty.subject)
    if kind is None or domain is None:
        return None
    return ListEntryIn(facts.entity_id, rules.list, RULES_SOURCE, key, listed_on=on,
                       reason=rules.reason_for(domain, kind), basis=rules.legal_basis, decision_no=penalty.decision_no,
                       listed_by=penalty.authority, due_expiry=add_years(on, rules.term_years))


def _listable(entity_type: str | None, rules: SeriousPenaltyPolicy) -> bool:
    """Whether both the policy and the list catalogue take this kind of entity."""
    kind = entity_kind(entity_type).value
    catalogue = list_by_id(rules.list).entity_types
    return kind in rules.entity_kinds and ("any" in catalogue or kind in catalogue)
