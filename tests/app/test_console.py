"""The regulator console: signing in with a token, CSRF on forms, and the risk distribution."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from app import store
from app.console import COOKIE
from blacklist.tokens import issue_token, revoke_token
from credit.entities import EntityIds, ensure_entities
from credit.identifiers import generate_uscc
from credit.models import Entity
from tests.pages.html import parse

SZ = "深圳市市场监督管理局"


@dataclass(frozen=True)
class Console:
    secret: str
    token_id: int
    other_region: str


@pytest.fixture
def console(app: Flask) -> Console:
    """A Shenzhen token, and entities in Shenzhen (4403) and Guangzhou (4401) with risk classes."""
    import random

    rng = random.Random(5)
    with app.app_context():
        session = store.session()
        token, secret = issue_token(session, "sz-samr", SZ, ["abnormal"], "4403", "稽查处")
        other, other_secret = issue_token(session, "gz-samr", "广州市市场监督管理局", ["abnormal"], "4401", "稽查处")
        plan = [("440304", "A", "批发业"), ("440304", "A", "批发业"), ("440305", "D", "零售业"),
                ("440305", None, "零售业"), ("440106", "C", "批发业")]
        for division, cls, industry in plan:
            ids = ensure_entities(session, [EntityIds(uscc=generate_uscc(rng, division_code=division))])
            session.execute(update(Entity).where(Entity.id == ids[0].entity_id)
                            .values(risk_class=cls, industry=industry, division_code=division))
        session.commit()
        return Console(secret, token.id, other_secret)


def sign_in(client: FlaskClient, secret: str) -> None:
    response = client.post("/console/login", data={"token": secret})
    assert response.status_code == 302


def test_the_console_asks_for_a_token_first(client: FlaskClient, console: Console) -> None:
    response = client.get("/console")
    assert response.status_code == 302 and "/console/login" in response.headers["Location"]
    page = client.get("/console/login")
    assert page.status_code == 200 and "监管令牌" in parse(page.data).text


def test_a_wrong_token_is_refused_with_a_reason(client: FlaskClient, console: Console) -> None:
    response = client.post("/console/login", data={"token": "gx_" + "0" * 40})
    assert response.status_code == 401
    assert "令牌无效" in parse(response.data).text
    assert COOKIE not in response.headers.get("Set-Cookie", "")


def test_signed_in_the_dashboard_shows_the_regions_risk_classes(client: FlaskClient, console: Console) -> None:
    sign_in(client, console.secret)
    response = client.get("/console")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert "<script" not in html
    # The bars: one rect per class present, as wide as its share (2 of 2 A in 440304: the full bar).
    assert '<rect class="risk-a" x="0.0" y="0" width="100.0"' in html
    assert '<rect class="risk-d" x="0.0" y="0" width="50.0"' in html
    assert '<rect class="risk-none" x="50.0" y="0" width="50.0"' in html
    # The table beside them (bars' tooltips left out): group, total, A, B, C, D, unclassified.
    text = parse(re.sub(r"<svg.*?</svg>", "", html, flags=re.S)).text
    assert "合计 4 2 0 0 1 1" in text  # only the token's region (4403): Guangzhou's entity is not counted
    assert "广东省 440304 2 2 0 0 0 0" in text and "广东省 440305 2 0 0 0 1 1" in text
    assert "440106" not in text
    assert "批发业 2 2 0 0 0 0" in text and "零售业 2 0 0 0 1 1" in text


def test_a_revoked_token_is_signed_out_at_once(app: Flask, client: FlaskClient, console: Console) -> None:
    sign_in(client, console.secret)
    assert client.get("/console").status_code == 200
    with app.app_context():
        revoke_token(store.session(), console.token_id)
        store.session().commit()
    assert client.get("/console").status_code == 302


def test_a_form_without_the_csrf_value_is_refused(client: FlaskClient, console: Console) -> None:
    sign_in(client, console.secret)
    response = client.post("/console/logout", data={})
    assert response.status_code == 400 and "表单已失效" in parse(response.data).text
    csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', client.get("/console").get_data(as_text=True))
    assert csrf is not None
    assert client.post("/console/logout", data={"csrf": csrf.group(1)}).status_code == 302
    assert client.get("/console").status_code == 302  # the cookie is gone


def test_sign_in_never_redirects_off_the_console(client: FlaskClient, console: Console) -> None:
    for target in ("https://evil.example/", "//evil.example/console", "/console/../admin"):
        response = client.post("/console/login", data={"token": console.secret, "next": target})
        assert response.status_code == 302
        assert response.headers["Location"] in ("/console", "/console/../admin".replace("/../admin", "")) \
            or response.headers["Location"].startswith("/console")
        assert "evil" not in response.headers["Location"]


def test_each_token_sees_only_its_own_region(client: FlaskClient, console: Console) -> None:
    sign_in(client, console.other_region)
    html = client.get("/console").get_data(as_text=True)
    text = parse(re.sub(r"<svg.*?</svg>", "", html, flags=re.S)).text
    assert "合计 1 0 0 1 0 0" in text and "广东省 440106 1 0 0 1 0 0" in text and "4403" not in text
