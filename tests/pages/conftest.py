"""Fixtures of the pages' tests: the app with a source registry, and a seeded, indexed store."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from app import search, store
from config import Settings
from search_index.maintain import rebuild
from tests.pages import data


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Settings on the test store, with a temporary index and the pages' source registry."""
    return Settings(database_url=db_url, index_dir=tmp_path / "index", sources=tmp_path / "sources.toml",
                    testing=True)


@pytest.fixture
def seeded(app: Flask, tmp_path: Path) -> data.Seeded:
    """The pages' data set in the app's store (partly through a real ingest run), and a real index of it."""
    with app.app_context():
        seeded = data.build(store.session_factory(), tmp_path)
        rebuild(store.session(), search.index())
    return seeded
