"""The store as the app sees it: one engine per app, one session per app context."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from config import Settings
from credit.db import make_engine, make_session_factory

_KEY = "gongxin.store"


def init_app(app: Flask, settings: Settings) -> None:
    """Create the engine and session factory and close the session at teardown."""
    engine = make_engine(settings.database_url)
    app.extensions[_KEY] = (engine, make_session_factory(engine))
    app.teardown_appcontext(_close_session)


def engine() -> Engine:
    """The current app's engine."""
    return current_app.extensions[_KEY][0]  # type: ignore[no-any-return]


def session_factory() -> sessionmaker[Session]:
    """The current app's session factory, for units of work outside a request."""
    return current_app.extensions[_KEY][1]  # type: ignore[no-any-return]


def session() -> Session:
    """This app context's session, opened on first use."""
    if "db_session" not in g:
        g.db_session = session_factory()()
    return g.db_session  # type: ignore[no-any-return]


def _close_session(_exc: BaseException | None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()
