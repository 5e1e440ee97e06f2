"""Dump-only marshmallow schemas: an allowlist of what the public API shows."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from app.jsonfields import UtcDateTime
from credit.profile import Profile


class ListEntrySchema(Schema):
    """A list membership as the public sees it."""

    list_id = fields.String()
    reason = fields.String(allow_none=True)
    reason_code = fields.String(allow_none=True)
    basis = fields.String(allow_none=True)
    decision_no = fields.String(allow_none=True)
    listed_on = fields.Date(allow_none=True)
    listed_by = fields.String(allow_none=True)
    removed_on = fields.Date(allow_none=True)
    removal_reason = fields.String(allow_none=True)
    removed_by = fields.String(allow_none=True)
    status = fields.String()


class FactSchema(Schema):
    """A publicly visible credit record, with who said it and when."""

    kind = fields.String()
    source = fields.String()
    source_key = fields.String()
    authority = fields.String(allow_none=True)
    decided_on = fields.Date(allow_none=True)
    valid_from = fields.Date(allow_none=True)
    valid_to = fields.Date(allow_none=True)
    publicity_until = fields.Date(allow_none=True)
    severity = fields.String(allow_none=True)
    body = fields.Dict()
    first_seen = UtcDateTime()
    updated_at = UtcDateTime()


class ClaimSchema(Schema):
    """Which source claimed which value of an attribute, first and last seen."""

    field = fields.String()
    value = fields.String()
    source = fields.String()
    rank = fields.Integer()
    first_seen = UtcDateTime()
    last_seen = UtcDateTime()
    chosen = fields.Boolean()


class ProfileSchema(Schema):
    """The public credit profile of one entity."""

    uscc = fields.String(allow_none=True)
    reg_no = fields.String(allow_none=True)
    org_code = fields.String(allow_none=True)
    name = fields.String()
    former_names = fields.List(fields.String())
    entity_type = fields.String(allow_none=True)
    status = fields.String(allow_none=True)
    legal_rep = fields.String(allow_none=True)
    registered_capital = fields.String(metadata={"description": "万元, as a plain decimal"}, allow_none=True)
    established_on = fields.Date(allow_none=True)
    address = fields.String(allow_none=True)
    region = fields.String(allow_none=True)
    industry = fields.String(allow_none=True)
    reg_authority = fields.String(allow_none=True)
    lists = fields.List(fields.Nested(ListEntrySchema))
    facts = fields.List(fields.Nested(FactSchema))
    provenance = fields.List(fields.Nested(ClaimSchema))


def profile_view(profile: Profile) -> dict[str, Any]:
    """Flatten a profile into the documented shape: entity attributes, lists, facts, provenance."""
    entity = profile.entity
    view: dict[str, Any] = {name: getattr(entity, name) for name in ProfileSchema().fields if hasattr(entity, name)}
    view["region"] = entity.division_code
    capital = entity.registered_capital
    view["registered_capital"] = None if capital is None else format(capital.normalize(), "f")
    view["lists"] = profile.lists
    view["facts"] = profile.facts
    chosen = {c.id for c in profile.chosen_claims()}
    view["provenance"] = [_claim_view(c, c.id in chosen) for c in profile.claims]
    return view


def _claim_view(claim: Any, chosen: bool) -> dict[str, Any]:
    fields_ = ("field", "value", "source", "rank", "first_seen", "last_seen")
    return {**{k: getattr(claim, k) for k in fields_}, "chosen": chosen}
