"""The search index as the app sees it: one SearchIndex per app (its readers are thread-safe)."""

from __future__ import annotations

from flask import Flask, current_app

from config import Settings
from search_index.index import SearchIndex

_KEY = "gongxin.search"


def init_app(app: Flask, settings: Settings) -> None:
    """Attach the index of ``settings.index_dir``; nothing is opened until the first search."""
    app.extensions[_KEY] = SearchIndex(settings.index_dir, settings.search_engine)


def index() -> SearchIndex:
    """The current app's search index."""
    return current_app.extensions[_KEY]  # type: ignore[no-any-return]
