"""Security headers on every response, and pages the policy does not have to break: no script, no inline style."""

from __future__ import annotations

import re
from pathlib import Path

from flask.testing import FlaskClient

from app.security import CONTENT_SECURITY_POLICY
from tests.pages import data
from tests.pages.html import parse

TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "templates"
STATIC = Path(__file__).resolve().parents[2] / "app" / "static"


def _paths(seeded: data.Seeded) -> list[str]:
    return ["/", "/search?q=腾云", "/search?q=华", f"/entities/{seeded.main}", f"/entities/{seeded.script}",
            f"/entities/{seeded.main}/report", "/lists", "/lists/abnormal", "/sources", "/entities/12345",
            "/no-such-page"]


def test_every_response_carries_the_security_headers(client: FlaskClient, seeded: data.Seeded) -> None:
    for path in _paths(seeded) + [f"/entities/{seeded.main}/report.pdf", "/static/gongxin.css", "/healthz",
                                  "/api/v1/lists", "/api/v1/nothing"]:
        headers = client.get(path).headers
        policy = headers.get("Content-Security-Policy", "")
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'", path
        assert directives["frame-ancestors"] == "'none'" and directives["base-uri"] == "'none'", path
        assert directives["form-action"] == "'self'" and "unsafe" not in policy, path
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin", path
    assert "default-src 'self'" in CONTENT_SECURITY_POLICY


def test_pages_have_no_script_no_inline_style_and_nothing_from_elsewhere(client: FlaskClient,
                                                                        seeded: data.Seeded) -> None:
    for path in _paths(seeded):
        body = client.get(path).get_data(as_text=True)
        page = parse(body)
        assert not page.tags("script") and not page.tags("style"), path
        for tag, attrs in page.elements:
            assert "style" not in attrs, (path, tag)
            assert not [a for a in attrs if a.startswith("on")], (path, tag)
            for name in ("src", "href", "action"):
                target = attrs.get(name, "")
                assert not re.match(r"(?i)([a-z]+:)?//", target) and not target.lower().startswith("javascript:"), \
                    (path, tag, target)
        [sheet] = [link["href"] for link in page.tags("link") if link.get("rel") == "stylesheet"]
        assert sheet == "/static/gongxin.css"


def test_templates_and_stylesheet_need_nothing_the_policy_forbids() -> None:
    for template in TEMPLATES.glob("*.html"):
        source = template.read_text(encoding="utf-8")
        assert not re.search(r"<script|<style|\sstyle=|\son[a-z]+=", source), template.name
        assert "|safe" not in source.replace(" ", "") and "autoescape false" not in source, template.name
    sheet = (STATIC / "gongxin.css").read_text(encoding="utf-8")
    assert "@import" not in sheet and "@font-face" not in sheet and not re.search(r"url\(", sheet)


def test_the_stylesheet_is_served_as_css(client: FlaskClient) -> None:
    response = client.get("/static/gongxin.css")
    assert response.status_code == 200 and response.mimetype == "text/css"
    assert b"@media print" in response.data and b"@media (max-width: 699px)" in response.data
