"""What the list rules read from the store for a batch of entities, and how they write back."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from blacklist.abnormal import Listing, report_year
from blacklist.audit import audit_event
from blacklist.policy import load_rules_policy
from credit.changelog import Change, append_changes
from credit.clock import utcnow
from credit.db import among
from credit.models import AuditEvent, Claim, Entity, Fact, ListEntry
from credit.status import is_deregistered, is_operating
from credit.text import normalise_text, normalise_texts

RULES_SOURCE = "gongxin-rules"  # source of the listings the rules make themselves
RULES_ACTOR = "系统（列入移出规则）"
PENALTY_KEY_PREFIX = "serious:penalty:"  # source keys of the rules' listings made from a penalty
NOTICE_ACTION = "abnormal.transfer_notice"
_YEAR = re.compile(r"(\d{4})\s*年度")
_KEY_YEAR = re.compile(r"^(?:abnormal|mark):1:(\d{4}):")
# The penalty's fields that say what was done (the domain) and what was imposed (the kind).
PENALTY_SUBJECT = ("violation_type", "facts", "basis")
PENALTY_MEASURES = ("penalty_type", "content")


@dataclass(frozen=True)
class StoredListing:
    """A list entry as the rules see it."""

    entry_id: int
    list_id: str
    listing: Listing
    due_expiry: date | None


@dataclass(frozen=True)
class Closing:
    """A listing to end: on which day, why (shown to the public), and the kind of ending (counted)."""

    entry_id: int
    on: date
    reason: str
    kind: str


@dataclass(frozen=True)
class PenaltyFact:
    """An active administrative penalty as the rules see it; ``subject``, ``measures`` and ``issuer`` are folded."""

    fact_id: int
    decided_on: date | None
    authority: str | None
    decision_no: str | None
    severity: str | None
    subject: str  # violation type, facts and basis
    measures: str  # penalty type and content
    issuer: str  # the authority


@dataclass
class EntityFacts:
    """One entity's registration facts, annual reports, address history, penalties and list entries."""

    entity_id: int
    entity_type: str | None
    status: str | None
    established_on: date | None
    legal_rep: str | None
    reg_authority: str | None
    status_since: date | None = None
    reports: dict[int, date] = field(default_factory=dict)  # report year → filed on
    addresses: list[tuple[date, str]] = field(default_factory=list)  # (first seen, value), oldest first
    abnormal: list[StoredListing] = field(default_factory=list)
    marks: list[StoredListing] = field(default_factory=list)  # individual businesses' abnormal-state marks
    others: list[StoredListing] = field(default_factory=list)
    penalties: list[PenaltyFact] = field(default_factory=list)
    rule_keys: set[str] = field(default_factory=set)  # source keys of the rules' own entries, withdrawn too
    # (list, decision key) of entries not made by the rules, not withdrawn: a penalty a regulator
    # listed itself (by hand or in its files) is not listed again by the rules.
    listed_decisions: set[tuple[str, str]] = field(default_factory=set)
    # Active penalty listings the rules made: (entry id, list, decision key).
    rule_decisions: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def deregistered(self) -> bool:
        """Whether the registration status says 注销 (deregistered)."""
        return is_deregistered(self.status)

    @property
    def operating(self) -> bool:
        """Whether the entity still operates (not deregistered, revoked, cancelled, moved out, closed)."""
        return is_operating(self.status)

    def active_abnormal(self, as_of: date) -> list[StoredListing]:
        """Abnormal listings in force on ``as_of``."""
        return [s for s in self.abnormal if s.listing.active and s.listing.listed_on <= as_of]

    def active_marks(self, as_of: date) -> list[StoredListing]:
        """Abnormal-state marks in force on ``as_of``."""
        return [s for s in self.marks if s.listing.active and s.listing.listed_on <= as_of]

    def active_others(self, as_of: date) -> list[StoredListing]:
        """Listings on other lists in force on ``as_of``."""
        return [s for s in self.others if s.listing.active and s.listing.listed_on <= as_of]

    def filed_on(self, year: int, as_of: date) -> date | None:
        """When the report of ``year`` was filed, if by ``as_of``."""
        filed = self.reports.get(year)
        return filed if filed is not None and filed <= as_of else None

    def address_changed(self, after: date, as_of: date) -> date | None:
        """The first day after ``after`` (up to ``as_of``) on which a different address was registered."""
        before = [v for seen, v in self.addresses if seen <= after]
        for seen, value in self.addresses:
            if after < seen <= as_of and before and value != before[-1]:
                return seen
        return None


def load_batch(session: Session, ids: Sequence[int]) -> dict[int, EntityFacts]:
    """The rules' view of these entities."""
    rows = session.execute(select(Entity.id, Entity.entity_type, Entity.status, Entity.established_on,
                                  Entity.legal_rep, Entity.reg_authority).where(among(session, Entity.id, ids)))
    facts = {r.id: EntityFacts(r.id, r.entity_type, r.status, r.established_on, r.legal_rep, r.reg_authority)
             for r in rows}
    _add_reports(session, facts)
    _add_claims(session, facts)
    _add_penalties(session, facts)
    _add_entries(session, facts)
    return facts


def _add_reports(session: Session, facts: dict[int, EntityFacts]) -> None:
    query = select(Fact.entity_id, Fact.body, Fact.decided_on).where(
        among(session, Fact.entity_id, list(facts)), Fact.kind == "annual_report", Fact.status == "active")
    for entity_id, body, filed_on in session.execute(query):
        year = _int((body or {}).get("year"))
        if year is not None and filed_on is not None:
            reports = facts[entity_id].reports
            reports[year] = min(filed_on, reports.get(year, filed_on))


def _add_claims(session: Session, facts: dict[int, EntityFacts]) -> None:
    """Address history (for reason-4 removals) and when the current status was first seen."""
    query = (select(Claim.entity_id, Claim.field, Claim.value, Claim.first_seen)
             .where(among(session, Claim.entity_id, list(facts)), Claim.field.in_(("address", "status")))
             .order_by(Claim.first_seen))
    for entity_id, name, value, seen in session.execute(query):
        day = _day(seen)
        entity = facts[entity_id]
        if name == "address":
            entity.addresses.append((day, value))
        elif value == entity.status and entity.status_since is None:
            entity.status_since = day


def _add_penalties(session: Session, facts: dict[int, EntityFacts]) -> None:
    """Active penalties, their texts folded in one pass (a phrase never spans two fields)."""
    query = select(Fact.id, Fact.entity_id, Fact.decided_on, Fact.authority, Fact.severity, Fact.body).where(
        among(session, Fact.entity_id, list(facts)), Fact.kind == "penalty", Fact.status == "active"
    ).order_by(Fact.id)
    rows = session.execute(query).all()
    texts = normalise_texts(text for r in rows for text in (
        _joined(r.body, PENALTY_SUBJECT), _joined(r.body, PENALTY_MEASURES), r.authority))
    for i, r in enumerate(rows):
        subject, measures, issuer = texts[3 * i:3 * i + 3]
        facts[r.entity_id].penalties.append(PenaltyFact(
            r.id, r.decided_on, r.authority, _text((r.body or {}).get("decision_no")), r.severity,
            subject, measures, issuer))


def _joined(body: dict[str, Any] | None, names: tuple[str, ...]) -> str:
    return "|".join(_text((body or {}).get(name)) or "" for name in names)


def _text(value: Any) -> str | None:
    text = "" if value is None else str(value).strip()
    return text or None


def _add_entries(session: Session, facts: dict[int, EntityFacts]) -> None:
    rules = load_rules_policy()
    policy, mark_list = rules.abnormal, rules.individual_mark.list
    query = select(ListEntry).where(among(session, ListEntry.entity_id, list(facts))).order_by(ListEntry.id)
    for entry in session.scalars(query):
        if entry.source == RULES_SOURCE and entry.source_key:
            facts[entry.entity_id].rule_keys.add(entry.source_key)
        if entry.listed_on is None or entry.status == "withdrawn":
            continue
        _add_decision(facts[entry.entity_id], entry)
        reason = _int(entry.reason_code) or 0
        year = None
        if entry.list_id in ("abnormal", mark_list) and reason == 1:
            year = _int(_first(_KEY_YEAR, entry.source_key) or _first(_YEAR, entry.reason)) \
                or report_year(entry.listed_on, policy)
        # An entry that is no longer active counts as removed even when its source gave no day.
        removed = entry.removed_on or (entry.listed_on if entry.status != "active" else None)
        listing = Listing(entry.entity_id, reason, entry.listed_on, year, entry.decision_no if reason == 4 else None,
                          removed, entry.removal_reason)
        stored = StoredListing(entry.id, entry.list_id, listing, entry.due_expiry)
        entity = facts[entry.entity_id]
        group = {"abnormal": entity.abnormal, mark_list: entity.marks}.get(entry.list_id, entity.others)
        group.append(stored)


def decision_key(decision_no: str | None) -> str | None:
    """A decision number as compared: brackets, widths and spaces folded (〔2024〕 = [2024] = (2024))."""
    key = normalise_text(decision_no)
    return key or None


def _add_decision(entity: EntityFacts, entry: ListEntry) -> None:
    key = decision_key(entry.decision_no)
    if key is None:
        return
    if entry.source != RULES_SOURCE:
        entity.listed_decisions.add((entry.list_id, key))
    elif entry.status == "active" and (entry.source_key or "").startswith(PENALTY_KEY_PREFIX):
        entity.rule_decisions.append((entry.id, entry.list_id, key))


@dataclass(frozen=True)
class _EntryUpdate:
    """A change the rules make to an active list entry: columns to set, its audit and change-log lines."""

    entry_id: int
    values: dict[str, Any]
    before: Callable[[ListEntry], dict[str, Any]]  # the audit's "before", read from the entry
    after: dict[str, Any]
    action: str  # audit action
    change: dict[str, Any]  # what the change-log entry adds to the list and entry


def _update_active(session: Session, updates: Sequence[_EntryUpdate]) -> list[_EntryUpdate]:
    """Apply each update to its entry if the entry is still active, logged and audited; those applied."""
    if not updates:
        return []
    now = utcnow()
    entries = {e.id: e for e in session.scalars(select(ListEntry).where(
        among(session, ListEntry.id, [u.entry_id for u in updates])))}
    applied, changes, events = [], [], []
    for item in updates:
        entry = entries[item.entry_id]
        if entry.status != "active":
            continue
        before = item.before(entry)  # read first: the update below also refreshes the loaded entry
        session.execute(update(ListEntry).where(ListEntry.id == entry.id).values(**item.values, updated_at=now))
        changes.append(Change(entry.entity_id, "list", "change", {"list": entry.list_id, "entry": entry.id,
                                                                  **item.change}))
        events.append(_event(item.action, entry.id, before, item.after, now))
        applied.append(item)
    session.add_all(events)
    append_changes(session, changes)
    return applied


def withdraw_superseded(session: Session, superseded: Sequence[tuple[int, str]]) -> int:
    """Withdraw the rules' own listings (entry id, reason): hidden from the public, kept, logged and audited."""
    return len(_update_active(session, [_EntryUpdate(
        entry_id, {"status": "withdrawn", "public": False}, lambda e: {"status": e.status, "public": e.public},
        {"status": "withdrawn", "public": False, "withdrawal_reason": reason}, "list.withdraw.superseded",
        {"withdrawn": "superseded"}) for entry_id, reason in superseded]))


def close_entries(session: Session, closings: Sequence[Closing]) -> Counter[str]:
    """End these listings (status removed, day, reason), log the change and audit each; counts by kind."""
    applied = _update_active(session, [_EntryUpdate(
        c.entry_id, {"status": "removed", "removed_on": c.on, "removal_reason": c.reason, "removed_by": RULES_ACTOR},
        lambda e: {"status": e.status, "removed_on": None, "removal_reason": None},
        {"status": "removed", "removed_on": c.on.isoformat(), "removal_reason": c.reason},
        f"list.remove.{c.kind}", {"removed": c.kind}) for c in closings])
    return Counter(f"removed:{u.change['removed']}" for u in applied)


def record_notices(session: Session, notices: Sequence[tuple[int, int, date]]) -> int:
    """An audit event per listing told of its coming transfer (once per listing); how many were new."""
    if not notices:
        return 0
    sent = set(session.scalars(select(AuditEvent.target_id).where(
        AuditEvent.action == NOTICE_ACTION, among(session, AuditEvent.target_id, [str(n[1]) for n in notices]))))
    now = utcnow()
    new = [_event(NOTICE_ACTION, entry, None, {"entity_id": entity, "transfer_on": due.isoformat()}, now)
           for entity, entry, due in notices if str(entry) not in sent]
    session.add_all(new)
    return len(new)


def _event(action: str, entry_id: int, before: dict[str, Any] | None, after: dict[str, Any] | None,
           now: datetime) -> AuditEvent:
    return audit_event(action, "list_entry", entry_id, before, after, agency_id=RULES_SOURCE, at=now)


def _first(pattern: re.Pattern[str], text: str | None) -> str | None:
    match = pattern.search(text or "")
    return match.group(1) if match else None


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _day(value: Any) -> date:
    """A claim's first_seen as a date (SQLite may hand back its ISO text)."""
    if isinstance(value, datetime):
        return value.date()
    return datetime.fromisoformat(str(value)).date()


