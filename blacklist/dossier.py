"""A regulator's full view of an entity: every record the public view hides, and why it is hidden.

Built from the public profile's parts (identifier lookup, claims, the publicity status that
decides what the public sees), with nothing left out: facts of every status, withdrawn and
hidden list entries, repairs, objections and the audit trail of the entity's records.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from blacklist.actions import check_region
from blacklist.objections import RegulatorObjection, regulator_view
from blacklist.publicity_load import load_policy
from blacklist.visibility import FactPublicity, publicity_status
from credit.db import among
from credit.models import ApiToken, AuditEvent, CreditRepair, Fact, ListEntry, Objection
from credit.profile import Profile, get_profile


@dataclass(frozen=True)
class FactRecord:
    """A fact with its publicity on the day of the view and its active repair."""

    fact: Fact
    publicity: FactPublicity
    repair: CreditRepair | None


@dataclass(frozen=True)
class Dossier:
    """Everything about one entity: the profile holds every fact and every list entry."""

    profile: Profile
    facts: list[FactRecord]
    repairs: list[CreditRepair]
    objections: list[RegulatorObjection]
    audit: list[AuditEvent]
    as_of: date


def get_dossier(session: Session, token: ApiToken, identifier: str, today: date) -> Dossier:
    """The full view of the entity with this identifier, when it is in the token's region."""
    profile = get_profile(session, identifier)
    entity = profile.entity
    check_region(token, entity)
    facts = list(session.scalars(select(Fact).where(Fact.entity_id == entity.id)
                                 .order_by(Fact.kind, Fact.decided_on.desc(), Fact.id)))
    entries = list(session.scalars(select(ListEntry).where(ListEntry.entity_id == entity.id)
                                   .order_by(ListEntry.listed_on.desc(), ListEntry.id)))
    repairs = list(session.scalars(select(CreditRepair).join(Fact, Fact.id == CreditRepair.fact_id)
                                   .where(Fact.entity_id == entity.id).order_by(CreditRepair.id)))
    objections = list(session.scalars(select(Objection).where(Objection.entity_id == entity.id)
                                      .order_by(Objection.submitted_at.desc(), Objection.id.desc())))
    records = _fact_records(facts, repairs, (entity.division_code or "")[:2] or None, today)
    audit = _audit_trail(session, entries, facts, objections)
    return Dossier(replace(profile, facts=facts, lists=entries), records, repairs,
                   [regulator_view(o, entity, today) for o in objections], audit, today)


def _fact_records(facts: list[Fact], repairs: list[CreditRepair], province: str | None, today: date
                  ) -> list[FactRecord]:
    policy = load_policy()
    active = {repair.fact_id: repair for repair in repairs if repair.status == "active"}
    records = []
    for fact in facts:
        repair = active.get(fact.id)
        status = publicity_status(fact, today, province, policy, repair.repaired_on if repair else None)
        records.append(FactRecord(fact, status, repair))
    return records


def _audit_trail(session: Session, entries: list[ListEntry], facts: list[Fact], objections: list[Objection]
                 ) -> list[AuditEvent]:
    """The audit events about the entity's list entries, facts and objections, oldest first."""
    targets = {"list_entry": entries, "fact": facts, "objection": objections}
    about = [and_(AuditEvent.target_type == kind, among(session, AuditEvent.target_id, [str(r.id) for r in rows]))
             for kind, rows in targets.items() if rows]
    if not about:
        return []
    return list(session.scalars(select(AuditEvent).where(or_(*about)).order_by(AuditEvent.at, AuditEvent.id)))
