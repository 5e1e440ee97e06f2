"""Regulator routes on records, beside ``app/regulator.py`` on its blueprint (same token, errors, request id).

``POST /penalties/<id>/repair`` repairs a penalty, ``PATCH /listings/<id>`` corrects a listing,
``GET /entities/<identifier>`` is the regulator's full view of an entity. Each parses, calls one
domain function, commits and dumps through an allowlist schema.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import g
from flask.typing import ResponseReturnValue
from marshmallow import Schema, ValidationError, fields, validates_schema

from app import store
from app.api.schemas import FactSchema, ProfileSchema, profile_view
from credit.clock import beijing_today
from app.jsonfields import UtcDateTime
from app.bodies import bounded_text, load_json_body, not_future
from app.regulator import (
    ID, EntryOut, ObjectionOut, bp, current_token, dump_entry, in_unit,
)
from blacklist.corrections import LABELS, correct_listing
from blacklist.dossier import Dossier, get_dossier
from blacklist.repair import CONDITIONS, DECISION_NO_LENGTH, repair_penalty
from blacklist.visibility import publicity_status
from credit.models import TEXT_LENGTH, CreditRepair, Entity, Fact


class ConditionsBody(Schema):
    """The repair conditions the agency confirms; one left out counts as not met (and is named)."""

    corrected = fields.Boolean(load_default=False)
    obligations_fulfilled = fields.Boolean(load_default=False)
    credit_commitment = fields.Boolean(load_default=False)


class RepairBody(Schema):
    """``POST /penalties/<id>/repair``: when applied for and decided, the decision number, the conditions."""

    applied_on = fields.Date(required=True, validate=not_future)
    repaired_on = fields.Date(required=True, validate=not_future)
    decision_no = bounded_text(DECISION_NO_LENGTH, required=True)
    conditions = fields.Nested(ConditionsBody, required=True)


class CorrectionBody(Schema):
    """``PATCH /listings/<id>``: only the fields to correct, and why (required)."""

    correction_reason = bounded_text(TEXT_LENGTH, required=True)
    reason = bounded_text(TEXT_LENGTH, absent_is_none=False)
    basis = bounded_text(TEXT_LENGTH, absent_is_none=False)
    decision_no = bounded_text(200, absent_is_none=False)
    listed_on = fields.Date(validate=not_future)

    @validates_schema
    def _something(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not set(data) & set(LABELS):
            raise ValidationError(f"须给出至少一项更正内容：{'、'.join(LABELS)}", field_name="body")


class PublicityOut(Schema):
    """Whether the public sees a fact today, until when, from when it may be repaired, and why."""

    public = fields.Boolean()
    public_until = fields.Date(allow_none=True)
    repair_from = fields.Date(allow_none=True)
    reason = fields.String()
    regime = fields.String(allow_none=True)
    legal_basis = fields.String(allow_none=True)


class RepairOut(Schema):
    """A credit repair as regulators see it."""

    id = fields.Integer()
    fact_id = fields.Integer()
    status = fields.String()
    applied_on = fields.Date()
    repaired_on = fields.Date()
    decision_no = fields.String()
    decided_by = fields.String()
    agency_id = fields.String()
    conditions = fields.Dict(keys=fields.String(), values=fields.Boolean())
    created_at = UtcDateTime(metadata={"description": "UTC"})
    request_id = fields.String(allow_none=True)


class RepairedOut(RepairOut):
    """The repair just made, with the penalty's publicity from today."""

    publicity = fields.Nested(PublicityOut)


class RegulatorFactOut(FactSchema):
    """A fact of any status, with its id, its publicity status and its active repair."""

    id = fields.Integer()
    status = fields.String()
    withdrawn_at = UtcDateTime(allow_none=True)
    publicity = fields.Nested(PublicityOut)
    repair = fields.Nested(RepairOut, allow_none=True)


class AuditOut(Schema):
    """An audit event about one of the entity's records."""

    id = fields.Integer()
    at = UtcDateTime(metadata={"description": "UTC"})
    agency_id = fields.String(allow_none=True)
    token_id = fields.Integer(allow_none=True)
    action = fields.String()
    target_type = fields.String()
    target_id = fields.String()
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)
    request_id = fields.String(allow_none=True)


class DossierOut(ProfileSchema):
    """The public profile's shape with everything it hides: for regulators only."""

    risk_class = fields.String(allow_none=True)
    as_of = fields.Date()
    # The entity's USCC and name are the profile's own; its entries do not repeat them.
    lists = fields.List(fields.Nested(EntryOut(exclude=("uscc", "name"))))
    facts = fields.List(fields.Nested(RegulatorFactOut))
    repairs = fields.List(fields.Nested(RepairOut))
    # The objector's contact stays with the answering endpoint (GET /objections).
    objections = fields.List(fields.Nested(ObjectionOut(exclude=("contact",))))
    audit = fields.List(fields.Nested(AuditOut))


_repair, _correction, _repaired, _dossier = RepairBody(), CorrectionBody(), RepairedOut(), DossierOut()
assert set(ConditionsBody().fields) == set(CONDITIONS)  # the body names every condition the domain checks


@bp.post(f"/penalties/<{ID}:fact_id>/repair")
def repair(fact_id: int) -> ResponseReturnValue:
    """Repair a penalty the token's agency decided: it leaves every public view at once."""
    body = load_json_body(_repair)
    made = in_unit(lambda s: repair_penalty(s, current_token(), fact_id, request_id=g.request_id, **body))
    return _repaired.dump(_with_publicity(made)), 201


@bp.patch(f"/listings/<{ID}:entry_id>")
def correct(entry_id: int) -> ResponseReturnValue:
    """Correct the reason, basis, decision number or listing day of a listing the token's agency made."""
    body = load_json_body(_correction)
    why = body.pop("correction_reason")
    entry = in_unit(lambda s: correct_listing(s, current_token(), entry_id, why, body, request_id=g.request_id))
    return dump_entry(entry)


@bp.get("/entities/<identifier>")
def entity_view(identifier: str) -> ResponseReturnValue:
    """Everything about an entity in the token's region, hidden records included, with why they are hidden."""
    view: dict[str, Any] = _dossier.dump(_dossier_view(get_dossier(store.session(), current_token(), identifier,
                                                                    beijing_today())))
    return view


def _with_publicity(made: CreditRepair) -> dict[str, Any]:
    session = store.session()
    fact = session.get(Fact, made.fact_id)
    entity = session.get(Entity, fact.entity_id) if fact is not None else None
    assert fact is not None and entity is not None  # foreign keys
    status = publicity_status(fact, beijing_today(), (entity.division_code or "")[:2] or None,
                              repaired_on=made.repaired_on)
    columns = {column.key: getattr(made, column.key) for column in CreditRepair.__table__.columns}
    return columns | {"publicity": asdict(status)}


def _dossier_view(dossier: Dossier) -> dict[str, Any]:
    view = profile_view(dossier.profile)
    view["risk_class"] = dossier.profile.entity.risk_class
    view["as_of"] = dossier.as_of
    view["facts"] = [{column.key: getattr(r.fact, column.key) for column in Fact.__table__.columns}
                     | {"publicity": asdict(r.publicity), "repair": r.repair} for r in dossier.facts]
    view["repairs"], view["objections"], view["audit"] = dossier.repairs, dossier.objections, dossier.audit
    return view
