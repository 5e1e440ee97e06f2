"""Fixtures for search tests: every test that takes ``search_engine`` runs on Whoosh and tantivy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from search_index.index import SearchIndex

ENGINES = ("whoosh", "tantivy")


@pytest.fixture(params=ENGINES)
def search_engine(request: pytest.FixtureRequest) -> str:
    """The name of the engine under test."""
    return str(request.param)


@pytest.fixture
def index(search_engine: str, tmp_path: Path) -> Iterator[SearchIndex]:
    """A search index (not yet built) in a temporary directory, on the engine under test."""
    search_index = SearchIndex(tmp_path / "index", search_engine)
    yield search_index
    search_index.close()
