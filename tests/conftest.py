"""Shared fixtures: a real store on SQLite (always) and PostgreSQL (when configured).

PostgreSQL joins when ``GONGXIN_TEST_DATABASE_URL`` is set; if it is set and the server
cannot be reached, the tests fail rather than skip.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from click.testing import CliRunner, Result
from flask.cli import ScriptInfo
from flask.testing import FlaskClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from app import create_app
from config import Settings
from credit.db import make_engine, make_session_factory
from credit.models import Base
from credit.schema import upgrade

PG_URL = os.environ.get("GONGXIN_TEST_DATABASE_URL", "")
DIALECTS = ["sqlite"] + (["postgresql"] if PG_URL else [])

_pg_ready = False
# Tests of PostgreSQL-only behaviour live in test_postgres*.py and are collected only with it.
collect_ignore_glob = [] if PG_URL else ["*/test_postgres*.py"]


def _fresh_postgres() -> Engine:
    """The PostgreSQL test database, migrated once per run and emptied for each test."""
    global _pg_ready
    engine = make_engine(PG_URL)
    if not _pg_ready:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        upgrade(engine)
        _pg_ready = True
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return engine


@pytest.fixture(params=DIALECTS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty, migrated store: a new SQLite file, or the emptied PostgreSQL database."""
    if request.param == "postgresql":
        _fresh_postgres().dispose()
        return PG_URL
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture
def pg_session() -> Iterator[Session]:
    """A session on the emptied, migrated PostgreSQL test database."""
    engine = _fresh_postgres()
    with make_session_factory(engine)() as s:
        yield s
    engine.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on the test store."""
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Session factory on the test store, for tests that run several units of work."""
    return make_session_factory(engine)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """One session on the test store; the test commits what it wants kept."""
    with session_factory() as s:
        yield s


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Settings pointing at the test store and a temporary index directory."""
    return Settings(database_url=db_url, index_dir=tmp_path / "index", testing=True)


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    """The application on the test store."""
    application = create_app(settings)
    yield application
    from app import store

    with application.app_context():
        store.engine().dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A Flask test client."""
    return app.test_client()


@pytest.fixture
def cli(app: Flask) -> Callable[..., Result]:
    """Invoke the ``gongxin`` command against the test app: ``cli("db", "upgrade")``."""
    from app.cli import main

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app))

    return invoke
