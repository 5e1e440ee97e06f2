"""Regulator tokens against a real store (SQLite and PostgreSQL): issue, authenticate, revoke."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from blacklist.tokens import (
    InvalidTokenRequest, MissingToken, RevokedToken, TokenNotFound, UnknownToken, authenticate, issue_token,
    list_tokens, revoke_token,
)
from credit.models import Agency, ApiToken, AuditEvent

SZ_ID, SZ_NAME = "sz-samr", "深圳市市场监督管理局"


def issue(session: Session, **overrides: object) -> tuple[ApiToken, str]:
    """A Shenzhen abnormal-list token, committed."""
    args: dict[str, object] = {"agency_id": SZ_ID, "agency_name": SZ_NAME, "lists": ["abnormal"],
                               "region_prefix": "4403", "label": "企业监管处 张三"}
    args.update(overrides)
    token, secret = issue_token(session, **args)  # type: ignore[arg-type]
    session.commit()
    return token, secret


def test_only_the_sha256_of_the_secret_is_stored(session: Session) -> None:
    token, secret = issue(session)
    assert secret.startswith("gx_") and len(secret) == 3 + 43  # token_urlsafe(32): 43 characters
    stored = session.scalars(select(ApiToken)).one()
    assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert stored.token_hash != secret and secret not in repr(stored.__dict__)
    assert (stored.agency_id, stored.lists, stored.region_prefix, stored.label) == (
        SZ_ID, ["abnormal"], "4403", "企业监管处 张三")


def test_issuing_creates_the_agency_once_and_audits_without_the_hash(session: Session) -> None:
    first, _ = issue(session)
    second, _ = issue(session, lists=["abnormal", "serious-illegal", "abnormal"], region_prefix="")
    assert session.get(Agency, SZ_ID).name == SZ_NAME  # type: ignore[union-attr]
    assert session.scalars(select(Agency)).all() == [session.get(Agency, SZ_ID)]
    assert second.lists == ["abnormal", "serious-illegal"] and second.region_prefix == ""
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.action, e.target_id) for e in events] == [("token.issue", str(first.id)),
                                                         ("token.issue", str(second.id))]
    assert all(first.token_hash not in str(e.after) and second.token_hash not in str(e.after) for e in events)


@pytest.mark.parametrize("overrides, argument", [
    ({"lists": ["no-such-list"]}, "lists"),
    ({"lists": []}, "lists"),
    ({"region_prefix": "440"}, "region"),
    ({"region_prefix": "４４０３"}, "region"),  # full-width digits are not a division code
    ({"agency_id": "深圳市场监管"}, "agency"),
    ({"agency_id": "x" * 55}, "agency"),  # "regulator:" + id must fit the 64-character source column
    ({"agency_name": "  "}, "name"),
])
def test_a_bad_request_is_refused_naming_the_argument(session: Session, overrides: dict[str, object],
                                                      argument: str) -> None:
    with pytest.raises(InvalidTokenRequest) as caught:
        issue(session, **overrides)
    assert caught.value.argument == argument
    session.rollback()
    assert session.scalars(select(ApiToken)).all() == []


def test_a_known_agency_under_another_name_is_refused(session: Session) -> None:
    issue(session)
    with pytest.raises(InvalidTokenRequest, match="registered as"):
        issue(session, agency_name="广州市市场监督管理局")


def test_authenticate_finds_the_live_token_and_names_each_failure(session: Session) -> None:
    token, secret = issue(session)
    other, other_secret = issue(session, region_prefix="44")
    assert authenticate(session, secret).id == token.id
    assert authenticate(session, other_secret).id == other.id
    for missing in (None, "", "Bearer", secret[3:], "gx_" + "A" * 200):
        with pytest.raises(MissingToken):
            authenticate(session, missing)
    with pytest.raises(UnknownToken):
        authenticate(session, secret[:-1] + ("A" if secret[-1] != "A" else "B"))
    with pytest.raises(UnknownToken) as caught:
        authenticate(session, "gx_" + "0" * 43)
    assert token.token_hash not in str(caught.value)


def test_revoking_stops_the_token_at_once_and_again_changes_nothing(session: Session) -> None:
    token, secret = issue(session)
    kept, kept_secret = issue(session)
    revoked = revoke_token(session, token.id)
    session.commit()
    at = revoked.revoked_at
    assert at is not None
    with pytest.raises(RevokedToken):
        authenticate(session, secret)
    assert authenticate(session, kept_secret).id == kept.id
    assert revoke_token(session, token.id).revoked_at == at
    session.commit()
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["token.issue", "token.issue", "token.revoke"]
    with pytest.raises(TokenNotFound):
        revoke_token(session, 999)


def test_list_tokens_oldest_first_with_revoked_ones(session: Session) -> None:
    first, _ = issue(session)
    second, _ = issue(session, lists=["serious-illegal"])
    revoke_token(session, first.id)
    session.commit()
    listed = list_tokens(session)
    assert [(t.id, t.revoked_at is not None) for t in listed] == [(first.id, True), (second.id, False)]
