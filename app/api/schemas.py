"""Dump-only marshmallow schemas: an allowlist of what the public API shows."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from credit.profile import Profile


class ListEntrySchema(Schema):
    """A list membership as the public sees it."""

    list_id = fields.String()
    reason = fields.String()
    reason_code = fields.String()
    basis = fields.String()
    decision_no = fields.String()
    listed_on = fields.Date()
    listed_by = fields.String()
    removed_on = fields.Date()
    removal_reason = fields.String()
    removed_by = fields.String()
    status = fields.String()


class FactSchema(Schema):
    """A publicly visible credit record, with who said it and when."""

    kind = fields.String()
    source = fields.String()
    source_key = fields.String()
    authority = fields.String()
    decided_on = fields.Date()
    valid_from = fields.Date()
    valid_to = fields.Date()
    publicity_until = fields.Date()
    severity = fields.String()
    body = fields.Dict()
    first_seen = fields.DateTime()
    updated_at = fields.DateTime()


class ClaimSchema(Schema):
    """Which source claimed which value of an attribute, first and last seen."""

    field = fields.String()
    value = fields.String()
    source = fields.String()
    rank = fields.Integer()
    first_seen = fields.DateTime()
    last_seen = fields.DateTime()
    chosen = fields.Boolean()


class ProfileSchema(Schema):
    """The public credit profile of one entity."""

    uscc = fields.String()
    reg_no = fields.String()
    org_code = fields.String()
    name = fields.String()
    former_names = fields.List(fields.String())
    entity_type = fields.String()
    status = fields.String()
    legal_rep = fields.String()
    registered_capital = fields.String(metadata={"description": "万元, as a plain decimal"})
    established_on = fields.Date()
    address = fields.String()
    region = fields.String()
    industry = fields.String()
    reg_authority = fields.String()
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
