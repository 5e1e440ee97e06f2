"""The public pages: server-rendered Jinja in simplified Chinese, no JavaScript, readable on a phone.

Views are thin: parse the request, call one domain function, draw a template. Errors raised by
these views become Chinese pages (``app.pages.errors``), not the API's JSON bodies.
"""

from __future__ import annotations

from flask import Blueprint, Flask

from app.pages import formatting

bp = Blueprint("pages", __name__)


def init_app(app: Flask) -> None:
    """Register the pages, their template filters and the error pages outside the API."""
    app.register_blueprint(bp)
    app.add_template_filter(formatting.day, "day")
    app.add_template_filter(formatting.beijing, "beijing")
    app.add_template_filter(formatting.region, "region")
    _errors.init_app(app)


from app.pages import errors as _errors  # noqa: E402  (registers the pages' error handlers on bp)
from app.pages import entities as _entities  # noqa: E402,F401  (registers /entities/… on bp)
from app.pages import home as _home  # noqa: E402,F401  (registers / and /sources on bp)
from app.pages import lists as _lists  # noqa: E402,F401  (registers /lists on bp)
from app.pages import search as _search  # noqa: E402,F401  (registers /search on bp)
