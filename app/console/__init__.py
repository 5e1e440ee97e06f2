"""The regulator console under ``/console``: risk distribution, inspection plans, draws and results.

Regulator-only. A regulator signs in with the same token the regulator API takes; the browser
keeps it in an HttpOnly, SameSite=Strict cookie scoped to ``/console``, and every request checks it
again (a revoked token stops working at once). Forms carry a CSRF value derived from the token, so
a page of another site cannot post in the regulator's name. Pages are never cached and never
indexed. Like the public pages: server-rendered, Chinese, no JavaScript (charts are SVG).
"""

from __future__ import annotations

import hashlib
import hmac

from flask import Blueprint, Flask, Response, g, redirect, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import BadRequest, HTTPException

from app import store
from blacklist.tokens import AuthenticationError, authenticate

bp = Blueprint("console", __name__, url_prefix="/console")
COOKIE = "gongxin_console"
COOKIE_SECONDS = 8 * 3600  # one working day
OPEN_ENDPOINTS = frozenset({"console.login", "console.login_form"})


def csrf_value(secret: str) -> str:
    """The CSRF value of the forms of a session signed in with ``secret`` (an HMAC, not the secret)."""
    return hmac.new(secret.encode(), b"gongxin-console-csrf", hashlib.sha256).hexdigest()


@bp.before_request
def _signed_in() -> ResponseReturnValue | None:
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    secret = request.cookies.get(COOKIE, "")
    try:
        g.token = authenticate(store.session(), secret)
    except AuthenticationError:
        return redirect(url_for("console.login_form", next=request.path))
    g.console_secret = secret
    if request.method == "POST" and not hmac.compare_digest(request.form.get("csrf", ""), csrf_value(secret)):
        raise BadRequest("表单已失效，请刷新页面后重试")
    return None


@bp.after_request
def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.app_context_processor
def _csrf() -> dict[str, str]:
    secret = g.get("console_secret")
    return {"console_csrf": csrf_value(secret)} if secret else {}


@bp.errorhandler(HTTPException)
def _error(exc: HTTPException) -> ResponseReturnValue:
    from app.pages.errors import error_page  # the pages' Chinese error page, without their search box

    return error_page(exc.code or 500, "请求未能完成", exc.description or "")


def init_app(app: Flask) -> None:
    """Register the console's pages."""
    app.register_blueprint(bp)


from app.console import auth as _auth  # noqa: E402,F401  (registers /console/login and /logout on bp)
from app.console import dashboard as _dashboard  # noqa: E402,F401  (registers /console on bp)
from app.console import plans as _plans  # noqa: E402,F401  (registers /console/plans, /tasks and /entities on bp)
