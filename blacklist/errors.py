"""Errors raised by the blacklist package."""

from __future__ import annotations

from pathlib import Path


class BlacklistError(Exception):
    """Base of every error raised by the blacklist package."""


class PolicyError(BlacklistError):
    """A policy file that cannot be used; names the regime (or table) and field when known."""

    def __init__(self, message: str, *, regime: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.regime = regime
        self.field = field


class PenaltyError(BlacklistError):
    """A penalty the publicity policy cannot place: unknown severity, or no regime on its date."""


class CatalogueError(BlacklistError):
    """A catalogue file that cannot be used; names the file, the list and the field when known."""

    def __init__(self, path: Path, problem: str, *, list_id: str | None = None, field: str | None = None) -> None:
        where = "".join([f" list {list_id!r}" if list_id else "", f" field {field!r}" if field else ""])
        super().__init__(f"{path}:{where}: {problem}" if where else f"{path}: {problem}")
        self.path, self.list_id, self.field = path, list_id, field


class UnknownListError(BlacklistError):
    """No list has this id; carries the known ids so the message can name them."""

    def __init__(self, list_id: str, known: tuple[str, ...]) -> None:
        super().__init__(f"unknown list {list_id!r}; known lists: {', '.join(known)}")
        self.list_id, self.known = list_id, known


class ListQueryError(BlacklistError):
    """A query argument that cannot be used; names the argument."""

    def __init__(self, argument: str, problem: str) -> None:
        super().__init__(f"{argument}: {problem}")
        self.argument, self.problem = argument, problem


class ExportError(BlacklistError):
    """An export that cannot be written as asked (an unknown encoding)."""


class InvalidObjection(BlacklistError):
    """An objection or answer that cannot be taken; names the field at fault when there is one.

    Scope and absence reuse blacklist.actions' OutOfScope and NotFound, as the regulator API maps them.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
