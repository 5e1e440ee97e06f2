"""``gongxin tokens issue | list | revoke``: a round trip, checked through the store and the API."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import store
from credit.models import Agency, ApiToken

ISSUE = ("tokens", "issue", "--agency", "sz-samr", "--name", "深圳市市场监督管理局", "--list", "abnormal",
         "--list", "serious-illegal", "--region", "4403", "--label", "企业监管处 李四")


def whoami(client: FlaskClient, secret: str) -> int:
    """Status of an authenticated request that reaches no entry (404 with a live token, 401 without)."""
    return client.get("/api/v1/regulator/listings/1", headers={"Authorization": f"Bearer {secret}"}).status_code


def test_issue_list_revoke_round_trip(app: Flask, cli: Callable[..., Result], client: FlaskClient) -> None:
    issued = cli(*ISSUE)
    assert issued.exit_code == 0, issued.output
    secret = issued.stdout.strip()
    assert secret.startswith("gx_") and "\n" not in secret  # the secret alone on stdout
    assert "cannot be shown again" in issued.stderr
    with app.app_context():
        token = store.session().scalars(select(ApiToken)).one()
        agency = store.session().get(Agency, "sz-samr")
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest() != secret
    assert (token.lists, token.region_prefix, token.label) == (["abnormal", "serious-illegal"], "4403", "企业监管处 李四")
    assert agency is not None and agency.name == "深圳市市场监督管理局"
    assert whoami(client, secret) == 404

    listed = cli("tokens", "list")
    assert listed.exit_code == 0
    (line,) = listed.output.strip().splitlines()
    assert line.split("\t")[:5] == [str(token.id), "sz-samr", "abnormal,serious-illegal", "4403", "企业监管处 李四"]
    assert line.endswith("active") and secret not in listed.output and token.token_hash not in listed.output

    revoked = cli("tokens", "revoke", str(token.id))
    assert revoked.exit_code == 0 and f"token {token.id}" in revoked.output
    assert cli("tokens", "list").output.strip().split("\t")[-1].startswith("revoked ")
    assert whoami(client, secret) == 401


def test_issue_refuses_an_unknown_list_or_region_and_stores_nothing(app: Flask, cli: Callable[..., Result]) -> None:
    unknown = cli("tokens", "issue", "--agency", "sz-samr", "--name", "深圳市市场监督管理局", "--list", "no-such-list")
    assert unknown.exit_code == 1 and "no-such-list" in unknown.output
    region = cli("tokens", "issue", "--agency", "sz-samr", "--name", "深圳市市场监督管理局", "--list", "abnormal",
                 "--region", "44030")
    assert region.exit_code == 1 and "region" in region.output
    assert cli("tokens", "issue", "--agency", "sz-samr", "--name", "x").exit_code == 2  # --list is required
    with app.app_context():
        assert store.session().scalars(select(ApiToken)).all() == []
        assert store.session().scalars(select(Agency)).all() == []


def test_revoking_an_unknown_token_fails(cli: Callable[..., Result]) -> None:
    result = cli("tokens", "revoke", "42")
    assert result.exit_code == 1 and "no token with id 42" in result.output
