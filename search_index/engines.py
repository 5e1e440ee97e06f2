"""The engines by name (`GONGXIN_SEARCH_ENGINE`); each is imported only when chosen."""

from __future__ import annotations

import importlib

from search_index.engine import Engine
from search_index.errors import SearchError

ENGINES = {"whoosh": "search_index.whoosh_engine", "tantivy": "search_index.tantivy_engine"}


def get_engine(name: str) -> Engine:
    """The engine called ``name``; an unknown name names the known ones."""
    try:
        module = importlib.import_module(ENGINES[name])
    except KeyError:
        raise SearchError(f"unknown search engine {name!r}; known: {', '.join(sorted(ENGINES))}") from None
    return module.ENGINE  # type: ignore[no-any-return]
