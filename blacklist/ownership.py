"""Which agency made a record: the test every regulator action on its own records shares."""

from __future__ import annotations

from sqlalchemy.orm import Session

from blacklist.tokens import agency_name
from credit.models import ApiToken


def regulator_source(token: ApiToken) -> str:
    """The source of the entries an agency flags through the API."""
    return f"regulator:{token.agency_id}"


def made_by(session: Session, token: ApiToken, source: str | None, author: str | None) -> bool:
    """Whether the token's agency made a record: it came through the API as this agency, or names it.

    ``author`` is who the record says decided it: a list entry's ``listed_by``, a fact's
    ``authority`` (which ingest fills with the source's agency when a row names none).
    """
    return source == regulator_source(token) or author == agency_name(session, token)
