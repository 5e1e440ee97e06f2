"""Regulator API tokens: issue, list, revoke, authenticate (DESIGN.md, "Security stance").

A token is bound to one agency, the lists it may act on and a region (administrative division
prefix). Only the SHA-256 of the secret is stored: the secret is shown once, at issue, and a
lookup by hash needs no comparison of secrets in Python.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from blacklist.audit import audit
from blacklist.catalogue import list_by_id
from blacklist.errors import BlacklistError, UnknownListError
from credit.clock import utcnow
from credit.models import Agency, ApiToken

PREFIX = "gx_"
# token_urlsafe(32) is 43 characters; bound what we hash so a huge header costs nothing.
MAX_SECRET_LENGTH = 128
REGION_PATTERN = re.compile(r"(?:[0-9]{2}|[0-9]{4}|[0-9]{6})?\Z")
# Entries flagged by an agency carry the source "regulator:<agency id>" in a 64-character column.
AGENCY_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,53}\Z")
LABEL_LENGTH = 200
NAME_LENGTH = 200


class TokenError(BlacklistError):
    """Base of the token errors."""


class AuthenticationError(TokenError):
    """A request's token cannot be used; the message never says which stored token it resembles."""


class MissingToken(AuthenticationError):
    """No token was presented, or it is not shaped like one of ours."""


class UnknownToken(AuthenticationError):
    """No token has this secret."""


class RevokedToken(AuthenticationError):
    """The token was revoked."""


class InvalidTokenRequest(TokenError):
    """A token cannot be issued as asked: names the argument at fault."""

    def __init__(self, argument: str, problem: str) -> None:
        super().__init__(f"{argument}: {problem}")
        self.argument, self.problem = argument, problem


class TokenNotFound(TokenError):
    """No token has this id."""

    def __init__(self, token_id: int) -> None:
        super().__init__(f"no token with id {token_id}")
        self.token_id = token_id


def hash_secret(secret: str) -> str:
    """The stored form of a secret: SHA-256, hex."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def issue_token(session: Session, agency_id: str, agency_name: str, lists: Sequence[str],
                region_prefix: str = "", label: str | None = None) -> tuple[ApiToken, str]:
    """A new token for this agency, lists and region, and its secret (which is not stored)."""
    scope = _checked_lists(lists)
    _check_request(agency_id, agency_name, region_prefix, label)
    _ensure_agency(session, agency_id, agency_name)
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(agency_id=agency_id, token_hash=hash_secret(secret), label=label, lists=scope,
                     region_prefix=region_prefix, created_at=utcnow())
    session.add(token)
    session.flush()
    _audit(session, token, "token.issue", None, token_view(token))
    return token, secret


def _checked_lists(lists: Sequence[str]) -> list[str]:
    """The list ids in order without repeats; each must be in the catalogue."""
    scope = list(dict.fromkeys(lists))
    if not scope:
        raise InvalidTokenRequest("lists", "name at least one list")
    for list_id in scope:
        try:
            list_by_id(list_id)
        except UnknownListError as exc:
            raise InvalidTokenRequest("lists", str(exc)) from exc
    return scope


def _check_request(agency_id: str, agency_name: str, region_prefix: str, label: str | None) -> None:
    if not AGENCY_ID_PATTERN.match(agency_id):
        raise InvalidTokenRequest("agency", "1–54 characters of A-Z, a-z, 0-9, '.', '_' and '-'")
    if not agency_name.strip() or len(agency_name) > NAME_LENGTH:
        raise InvalidTokenRequest("name", f"must be 1–{NAME_LENGTH} characters")
    if not REGION_PATTERN.match(region_prefix):
        raise InvalidTokenRequest("region", "must be empty or a 2-, 4- or 6-digit division code")
    if label is not None and len(label) > LABEL_LENGTH:
        raise InvalidTokenRequest("label", f"at most {LABEL_LENGTH} characters")


def _ensure_agency(session: Session, agency_id: str, agency_name: str) -> Agency:
    """The agency row, created when missing; a different name for a known id is refused, not renamed."""
    agency = session.get(Agency, agency_id)
    if agency is None:
        agency = Agency(id=agency_id, name=agency_name.strip())
        session.add(agency)
        session.flush()  # before the token that refers to it
    elif agency.name != agency_name.strip():
        raise InvalidTokenRequest("name", f"agency {agency_id} is registered as {agency.name!r}")
    return agency


def revoke_token(session: Session, token_id: int) -> ApiToken:
    """Revoke a token from now on; revoking it again changes nothing."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise TokenNotFound(token_id)
    if token.revoked_at is None:
        before = token_view(token)
        token.revoked_at = utcnow()
        session.flush()
        _audit(session, token, "token.revoke", before, token_view(token))
    return token


def tokens_query() -> Select[tuple[ApiToken]]:
    """Query of every token, oldest first (hashes included: callers show only what they must)."""
    return select(ApiToken).order_by(ApiToken.id)


def list_tokens(session: Session) -> list[ApiToken]:
    """Every token, oldest first, revoked ones included."""
    return list(session.scalars(tokens_query()))


def authenticate(session: Session, secret: str | None) -> ApiToken:
    """The live token with this secret; MissingToken, UnknownToken or RevokedToken otherwise."""
    if not secret or not secret.startswith(PREFIX) or len(secret) > MAX_SECRET_LENGTH:
        raise MissingToken("未提供监管令牌（Authorization: Bearer gx_…）")
    token = session.scalars(select(ApiToken).where(ApiToken.token_hash == hash_secret(secret))).one_or_none()
    if token is None:
        raise UnknownToken("令牌无效")
    if token.revoked_at is not None:
        raise RevokedToken("令牌已吊销")
    return token


def agency_name(session: Session, token: ApiToken) -> str:
    """The name of the token's agency (the token's agency id when the row is gone)."""
    agency = session.get(Agency, token.agency_id)
    return agency.name if agency is not None else token.agency_id


def token_view(token: ApiToken) -> dict[str, Any]:
    """What may be shown or audited of a token: never its hash."""
    return {"id": token.id, "agency_id": token.agency_id, "label": token.label, "lists": list(token.lists),
            "region_prefix": token.region_prefix, "created_at": _iso(token.created_at),
            "revoked_at": _iso(token.revoked_at)}


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds")


def _audit(session: Session, token: ApiToken, action: str, before: dict[str, Any] | None,
           after: dict[str, Any]) -> None:
    # Issued and revoked from the command line: no token acted, so token_id stays empty.
    audit(session, action, "api_token", token.id, before, after, agency_id=token.agency_id)
