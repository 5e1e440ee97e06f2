"""Signing in to the console with a regulator token, and signing out."""

from __future__ import annotations

from flask import make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from app import store
from app.console import COOKIE, COOKIE_SECONDS, bp
from blacklist.tokens import AuthenticationError, authenticate

MAX_SECRET_FIELD = 200


def _next_page() -> str:
    """Where to go after signing in: a console path, never another site."""
    wanted = request.values.get("next", "")
    if wanted.startswith("/console") and "//" not in wanted and "\\" not in wanted:
        return wanted
    return url_for("console.dashboard")


@bp.get("/login")
def login_form() -> ResponseReturnValue:
    """The sign-in form."""
    return render_template("console/login.html", next=_next_page(), problem="")


@bp.post("/login")
def login() -> ResponseReturnValue:
    """Check the token; on success keep it in the console's cookie and go on."""
    secret = request.form.get("token", "").strip()[:MAX_SECRET_FIELD]
    try:
        authenticate(store.session(), secret)
    except AuthenticationError as exc:
        return render_template("console/login.html", next=_next_page(), problem=str(exc)), 401
    response = make_response(redirect(_next_page()))
    response.set_cookie(COOKIE, secret, max_age=COOKIE_SECONDS, path="/console", httponly=True,
                        samesite="Strict", secure=request.is_secure)
    return response


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Forget the token in this browser."""
    response = make_response(redirect(url_for("console.login_form")))
    response.delete_cookie(COOKIE, path="/console")
    return response
