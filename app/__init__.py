"""The Flask application: public pages, the public API, the regulator API and the CLI."""

from __future__ import annotations

from flask import Flask

from app import errors, health, openapi, regulator, search, store
from app import console, pages, ratelimit, security
from app import regulator_records as _regulator_records  # noqa: F401  (registers its routes on regulator.bp)
from app.api import bp as api_bp
from config import Settings, load_settings


def create_app(settings: Settings | None = None) -> Flask:
    """Build an application for these settings (from the environment when none are given)."""
    settings = settings or load_settings()
    app = Flask(__name__, instance_path=str(settings.index_dir.parent.resolve()))
    app.config["GONGXIN"] = settings
    app.config["TESTING"] = settings.testing
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    store.init_app(app, settings)
    search.init_app(app, settings)
    errors.init_app(app)
    ratelimit.init_app(app, settings)
    security.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(regulator.bp)
    app.register_blueprint(openapi.bp)
    pages.init_app(app)
    console.init_app(app)
    return app
