"""The regulator API under ``/api/v1/regulator``: token-authenticated writes on lists.

Each request authenticates its Bearer token, loads its body with a marshmallow schema, calls one
domain action and commits; any error rolls the unit back. Every response echoes the request id
(the ``X-Request-Id`` header, or a new one) that the audit event records.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Response, g, request, url_for
from flask.typing import ResponseReturnValue
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy.orm import Session
from werkzeug.routing import IntegerConverter

from app import store
from app.api.schemas import ListEntrySchema
from app.bodies import bounded_text, load_json_body, not_future
from app.jsonfields import UtcDateTime
from blacklist.actions import entry_in_scope, flag_entity, remove_listing, withdraw_record
from blacklist.early_removal import apply_early_removal
from blacklist.objections import DECISIONS, answer_objection, objections_to_answer, regulator_view
from blacklist.tokens import authenticate
from credit.clock import beijing_today
from credit.identifiers import validate_identifier
from credit.models import TEXT_LENGTH, ApiToken, Entity, ListEntry

bp = Blueprint("regulator", __name__, url_prefix="/api/v1/regulator")
T = TypeVar("T")
# A client's request id is logged and stored (64 characters): plain characters only, else a new one.
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}\Z")


class RecordIdConverter(IntegerConverter):
    """A record id in a path (``<record_id:entry_id>``): 1 to 18 digits.

    Ids are BIGINT, and a larger number would fail the query (a 500). Bounding the digits keeps
    such a path from matching any route: a 404 whatever the method (werkzeug checks a ``max``
    argument only after the path matched, and then answers 405 to the other rules' methods).
    """

    regex = r"\d{1,18}"
    maximum = 10**18 - 1


ID = "record_id"
bp.record_once(lambda state: state.app.url_map.converters.setdefault(ID, RecordIdConverter))


def _identifier(value: str) -> None:
    if not validate_identifier(value).ok:
        raise ValidationError("须为统一社会信用代码、注册号或组织机构代码")


class Code(fields.String):
    """A reason code sent as text or as a number."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        return super()._deserialize(str(value) if isinstance(value, int) else value, attr, data, **kwargs)


class FlagBody(Schema):
    """``POST /listings``: whom to list (``uscc``, or any ``identifier``), on which list, why, when."""

    uscc = fields.String(load_default=None, validate=_identifier)
    identifier = fields.String(load_default=None, validate=_identifier)
    list_id = fields.String(required=True, data_key="list", validate=validate.Length(min=1, max=40))
    reason = bounded_text(TEXT_LENGTH, required=True)
    listed_on = fields.Date(required=True, validate=not_future)
    reason_code = Code(load_default=None, validate=validate.Length(max=8))
    year = fields.Integer(load_default=None, validate=validate.Range(min=1990, max=2100))
    decision_no = bounded_text(200)
    basis = bounded_text(TEXT_LENGTH)

    @validates_schema
    def _one_identifier(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if (data.get("uscc") is None) == (data.get("identifier") is None):
            raise ValidationError("须给出 uscc 或 identifier 之一", field_name="uscc")


class RemovalBody(Schema):
    """``POST /listings/<id>/removal``: why and on which day."""

    reason = bounded_text(TEXT_LENGTH, required=True)
    removed_on = fields.Date(required=True, validate=not_future)


class WithdrawalBody(Schema):
    """``POST /listings/<id>/withdrawal``: why."""

    reason = bounded_text(TEXT_LENGTH, required=True)


class EarlyRemovalConditions(Schema):
    """The conditions of an early removal the applicant shows; one left out counts as not met."""

    penalty_fulfilled = fields.Boolean(load_default=False)
    harm_corrected = fields.Boolean(load_default=False)
    commitment_made = fields.Boolean(load_default=False)


class EarlyRemovalBody(Schema):
    """``POST /listings/<id>/early-removal``: the day of the application, its conditions, a note."""

    applied_on = fields.Date(required=True, validate=not_future)
    conditions = fields.Nested(EarlyRemovalConditions, required=True)
    note = bounded_text(TEXT_LENGTH)


class EntryOut(ListEntrySchema):
    """A list entry as its regulator sees it: what the public sees, plus the entry's id, whom it
    lists, its due expiry and whether it is public (an allowlist: no source keys, no hashes)."""

    class Meta:
        exclude = ("list_id",)  # named ``list`` here, as in the bodies regulators send

    id = fields.Integer()
    list = fields.String(attribute="list_id")
    uscc = fields.String(allow_none=True)
    name = fields.String()
    due_expiry = fields.Date(allow_none=True)
    public = fields.Boolean()


_flag, _removal, _withdrawal, _out = FlagBody(), RemovalBody(), WithdrawalBody(), EntryOut()
_early_removal = EarlyRemovalBody()


class AnswerBody(Schema):
    """``POST /objections/<id>/answer``: ``accepted`` (受理) or ``refused``, and the answer (required when refused)."""

    decision = fields.String(required=True, validate=validate.OneOf(DECISIONS))
    answer = bounded_text(TEXT_LENGTH)


class ObjectionOut(Schema):
    """An objection as the regulator answering it sees it: the objector's text and contact included."""

    id = fields.Integer()
    uscc = fields.String(allow_none=True)
    name = fields.String()
    target_type = fields.String()
    target_id = fields.Integer(allow_none=True)
    agency_id = fields.String(allow_none=True)
    text = fields.String()
    contact = fields.String(allow_none=True)
    status = fields.String()
    submitted_at = UtcDateTime()
    answer_due = fields.Date(allow_none=True)
    check_due = fields.Date(allow_none=True)
    overdue = fields.Boolean()
    answered_at = UtcDateTime(allow_none=True)
    answer = fields.String(allow_none=True)


class ObjectionOutPage(Schema):
    """The objections a token may answer, and how many there are in all."""

    total = fields.Integer()
    items = fields.List(fields.Nested(ObjectionOut))


_answer, _objection_out, _objection_page = AnswerBody(), ObjectionOut(), ObjectionOutPage()


@bp.before_request
def _authenticate() -> None:
    raw = request.headers.get("X-Request-Id", "")
    g.request_id = raw if REQUEST_ID.match(raw) else str(uuid.uuid4())
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    g.token = authenticate(store.session(), secret.strip() if scheme.lower() == "bearer" else None)


@bp.after_request
def _echo_request_id(response: Response) -> Response:
    if "request_id" in g:
        response.headers["X-Request-Id"] = g.request_id
    return response


@bp.post("/listings")
def flag() -> ResponseReturnValue:
    """Flag an entity onto a list in the token's scope."""
    body = load_json_body(_flag)
    uscc, other = body.pop("uscc"), body.pop("identifier")
    identifier = uscc or other
    entry = in_unit(lambda s: flag_entity(s, current_token(), identifier, request_id=g.request_id, **body))
    return dump_entry(entry), 201, {"Location": url_for("regulator.listing", entry_id=entry.id)}


@bp.get(f"/listings/<{ID}:entry_id>")
def listing(entry_id: int) -> ResponseReturnValue:
    """One entry in the token's scope, withdrawn and hidden ones included."""
    return dump_entry(entry_in_scope(store.session(), current_token(), entry_id))


@bp.post(f"/listings/<{ID}:entry_id>/removal")
def removal(entry_id: int) -> ResponseReturnValue:
    """Remove a listing, with the reason and the day."""
    body = load_json_body(_removal)
    return dump_entry(in_unit(lambda s: remove_listing(s, current_token(), entry_id, request_id=g.request_id, **body)))


@bp.post(f"/listings/<{ID}:entry_id>/withdrawal")
def withdrawal(entry_id: int) -> ResponseReturnValue:
    """Withdraw a listing the token's agency made (kept for regulators, hidden from the public)."""
    body = load_json_body(_withdrawal)
    return dump_entry(in_unit(lambda s: withdraw_record(s, current_token(), entry_id, request_id=g.request_id, **body)))


@bp.post(f"/listings/<{ID}:entry_id>/early-removal")
def early_removal(entry_id: int) -> ResponseReturnValue:
    """Remove a serious listing early on the entity's application; the public no longer sees it."""
    body = load_json_body(_early_removal)
    entry = in_unit(lambda s: apply_early_removal(s, current_token(), entry_id, request_id=g.request_id, **body))
    return dump_entry(entry), 201, {"Location": url_for("regulator.listing", entry_id=entry.id)}


@bp.get("/objections")
def objections() -> ResponseReturnValue:
    """The objections the token may answer (``status`` open, answered or all), the earliest due first."""
    status = request.args.get("status", "open")
    page = objections_to_answer(store.session(), current_token(), status, today=beijing_today())
    body: dict[str, Any] = _objection_page.dump(page)
    return body


@bp.post(f"/objections/<{ID}:objection_id>/answer")
def answer(objection_id: int) -> ResponseReturnValue:
    """Answer an objection; accepting one does not remove the listing (the removal endpoint does)."""
    body = load_json_body(_answer)
    objection = in_unit(lambda s: answer_objection(s, current_token(), objection_id, request_id=g.request_id, **body))
    entity = store.session().get(Entity, objection.entity_id)
    assert entity is not None  # objection.entity_id is a foreign key
    view: dict[str, Any] = _objection_out.dump(regulator_view(objection, entity, beijing_today()))
    return view


def current_token() -> ApiToken:
    return g.token  # type: ignore[no-any-return]


def in_unit(work: Callable[[Session], T]) -> T:
    """Run one action in the request's session and commit; roll back on any error."""
    session = store.session()
    try:
        result = work(session)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return result


def dump_entry(entry: ListEntry) -> dict[str, Any]:
    """The entry with its entity's USCC and name, through the allowlist schema."""
    entity = store.session().get(Entity, entry.entity_id)
    named = {"uscc": entity.uscc, "name": entity.name} if entity is not None else {}
    columns = {column.key: getattr(entry, column.key) for column in ListEntry.__table__.columns}
    return _out.dump(columns | named)  # type: ignore[no-any-return]
