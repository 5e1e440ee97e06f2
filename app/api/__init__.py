"""The public JSON API under ``/api/v1``: parse, call one domain function, dump."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from app import store
from app.api.conditional import conditional_json, profile_modified_at
from app.api.schemas import ProfileSchema, profile_view
from blacklist.visibility import public_profile
from credit.clock import beijing_today

bp = Blueprint("api", __name__, url_prefix="/api/v1")
_profile_schema = ProfileSchema()


@bp.get("/entities/<path:identifier>")
def entity(identifier: str) -> ResponseReturnValue:
    """The public profile of the entity with this USCC, registration number or organisation code.

    With a strong ETag and Last-Modified: a client that sends them back gets 304 while it is current.
    """
    session, today = store.session(), beijing_today()
    profile = public_profile(session, identifier, today)
    body = _profile_schema.dump(profile_view(profile))
    return conditional_json(body, profile_modified_at(session, profile, today))


from app.api import search as _search  # noqa: E402,F401  (registers /search on bp)
from app.api import lists as _lists  # noqa: E402,F401  (registers /lists on bp)
from app.api import objections as _objections  # noqa: E402,F401  (registers /entities/<id>/objections on bp)
from app.api import changes as _changes  # noqa: E402,F401  (registers /changes on bp)
from app.api import sources as _sources  # noqa: E402,F401  (registers /sources on bp)
from app.api import bulk as _bulk  # noqa: E402,F401  (registers /bulk on bp)
