"""``/api/v1/entities/<id>/objections``: anyone objects to a public record and follows the answer."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields, validate

from app import store
from app.api import bp
from credit.clock import beijing_today
from app.jsonfields import UtcDateTime
from app.bodies import load_json_body
from blacklist.objections import (
    CONTACT_LENGTH, MAX_ID, TARGET_TYPES, entity_for, objections_for, public_view, submit_objection,
)
from credit.models import TEXT_LENGTH


class ObjectionBody(Schema):
    """``POST``: which record of the entity (``target_type``, ``target_id``), what is wrong, how to reply."""

    target_type = fields.String(required=True, validate=validate.OneOf(TARGET_TYPES))
    target_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_ID))
    text = fields.String(required=True, validate=validate.Length(min=1, max=TEXT_LENGTH))
    contact = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=CONTACT_LENGTH))


class PublicObjectionSchema(Schema):
    """An objection as the public sees it: an allowlist without the objector's text and contact."""

    id = fields.Integer()
    target_type = fields.String()
    target_id = fields.Integer(allow_none=True)
    status = fields.String(metadata={"description": "open | accepted | refused"})
    submitted_at = UtcDateTime(metadata={"description": "UTC"})
    answer_due = fields.Date(allow_none=True)
    check_due = fields.Date(allow_none=True)
    overdue = fields.Boolean()
    answered_at = UtcDateTime(metadata={"description": "UTC"}, allow_none=True)
    answer = fields.String(allow_none=True)


class SubmittedObjectionSchema(PublicObjectionSchema):
    """The objection just submitted, as its objector sees it: their own text included (never the contact)."""

    text = fields.String()


class ObjectionPageSchema(Schema):
    """An entity's objections, newest first, and how many there are in all."""

    total = fields.Integer()
    items = fields.List(fields.Nested(PublicObjectionSchema))


_body, _submitted, _page = ObjectionBody(), SubmittedObjectionSchema(), ObjectionPageSchema()


@bp.post("/entities/<identifier>/objections", endpoint="submit_objection")
def submit(identifier: str) -> ResponseReturnValue:
    """Object to a public list entry or credit record of the entity; 201 with the objection (no contact)."""
    body, today, session = load_json_body(_body), beijing_today(), store.session()
    try:
        objection = submit_objection(session, identifier, today=today, **body)
        session.commit()
    except Exception:
        session.rollback()
        raise
    # The objector gets their own text back; the public list leaves it out.
    view = _submitted.dump(public_view(objection, today)) | {"text": objection.text}
    return view, 201, {"Location": url_for("api.entity_objections", identifier=identifier)}


@bp.get("/entities/<identifier>/objections")
def entity_objections(identifier: str) -> ResponseReturnValue:
    """The entity's objections, newest first: status, deadlines and answers."""
    session = store.session()
    page = objections_for(session, entity_for(session, identifier).id, today=beijing_today())
    body: dict[str, Any] = _page.dump(page)
    return body
