"""An entity's credit profile: attributes, provenance claims, facts and list entries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from credit.claims import precedence
from credit.errors import EntityNotFoundError, MalformedIdentifierError
from credit.identifiers import IdKind, Outcome, validate_identifier
from credit.models import Claim, Entity, Fact, ListEntry

_COLUMNS = {IdKind.USCC: Entity.uscc, IdKind.REG_NO: Entity.reg_no, IdKind.ORG_CODE: Entity.org_code}


@dataclass(frozen=True)
class Profile:
    """Everything the store holds about one entity, for the caller to filter and present."""

    entity: Entity
    claims: list[Claim]
    facts: list[Fact]
    lists: list[ListEntry]

    def chosen_claims(self) -> list[Claim]:
        """The claim that wins each attribute, by the store's precedence rule."""
        best: dict[str, Claim] = {}
        for claim in self.claims:
            key = precedence(claim.rank, claim.last_seen, claim.source, claim.value)
            held = best.get(claim.field)
            if held is None or key > precedence(held.rank, held.last_seen, held.source, held.value):
                best[claim.field] = claim
        return list(best.values())


def entity_by_identifier(raw: str) -> Select[tuple[Entity]]:
    """Query for the entity holding a USCC, registration number or organisation code.

    The identifier is normalised first; a malformed one raises MalformedIdentifierError.
    A check-character mismatch is accepted: real pilot codes fail the check.
    """
    validation = validate_identifier(raw)
    if validation.outcome is Outcome.MALFORMED or validation.kind not in _COLUMNS:
        raise MalformedIdentifierError(validation)
    return select(Entity).where(_COLUMNS[validation.kind] == validation.value)


def get_profile(session: Session, raw: str, public_on: date | None = None) -> Profile:
    """Load the profile of the entity with this identifier, or raise EntityNotFoundError.

    With ``public_on``, facts whose publicity period ended before that day are left out;
    without it (regulators) every active fact is included.
    """
    entity = session.execute(entity_by_identifier(raw)).scalar_one_or_none()
    if entity is None:
        raise EntityNotFoundError(raw)
    claims = session.scalars(
        select(Claim).where(Claim.entity_id == entity.id).order_by(Claim.field, Claim.rank.desc(), Claim.last_seen.desc())
    ).all()
    facts_query = select(Fact).where(Fact.entity_id == entity.id, Fact.status == "active")
    if public_on is not None:
        facts_query = facts_query.where(
            or_(Fact.publicity_until.is_(None), Fact.publicity_until >= public_on)
        )
    facts = session.scalars(facts_query.order_by(Fact.kind, Fact.decided_on.desc(), Fact.id)).all()
    lists = session.scalars(
        select(ListEntry).where(ListEntry.entity_id == entity.id, ListEntry.public.is_(True))
        .order_by(ListEntry.listed_on.desc(), ListEntry.id)
    ).all()
    return Profile(entity, list(claims), list(facts), list(lists))
