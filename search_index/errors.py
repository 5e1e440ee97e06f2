"""Errors of the search index; `app/` maps them to HTTP statuses and CLI exit codes."""

from __future__ import annotations


class SearchError(Exception):
    """Base class of every search-index error."""


class QueryError(SearchError):
    """The user's query cannot be searched (empty, one character, too long); the message says why."""


class IndexMissing(SearchError):
    """No index has been built in the index directory yet."""


class IndexMismatch(SearchError):
    """The index on disk was built by another engine or schema version than configured."""


class IndexBusy(SearchError):
    """Another process is writing the index and did not finish within the wait."""
