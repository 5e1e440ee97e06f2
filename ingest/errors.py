"""Errors of the ingest package: one base, precise subclasses, no HTTP status."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class IngestError(Exception):
    """Base of every error raised by the ingest package."""


class RegistryError(IngestError):
    """The source registry is unreadable or wrong; the message names the source and field."""


class UnknownSourceError(IngestError):
    """No source with this id is declared in the registry."""


class FileFailedError(IngestError):
    """A whole file cannot be applied; nothing from it was written."""

    def __init__(self, path: Path | str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = str(path)
        self.reason = message


class UnreadableFileError(FileFailedError):
    """The file cannot be read as its declared format and encoding."""


class MissingColumnsError(FileFailedError):
    """The file lacks columns its source mapping names."""

    def __init__(self, path: Path | str, missing: Sequence[str], available: Sequence[str]) -> None:
        super().__init__(
            path,
            f"missing columns {', '.join(missing)}; the file has {', '.join(available) or 'no columns'}",
        )
        self.missing = list(missing)
        self.available = list(available)


class BoundsError(FileFailedError):
    """The file crossed a bound of its source (row counts, share of rejected rows)."""
