"""Errors raised by the credit package."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from credit.identifiers import Validation


class CreditError(Exception):
    """Base of every error raised by the credit package."""


class MalformedIdentifierError(CreditError):
    """An identifier is too malformed (length, alphabet) to be used; carries its Validation."""

    def __init__(self, validation: Validation) -> None:
        super().__init__(validation.message)
        self.validation = validation


class InvalidClaimError(CreditError):
    """A claimed attribute value that the store cannot hold: names the field and why."""

    def __init__(self, field: str, value: str, reason: str) -> None:
        super().__init__(f"claim for {field!r} ({value!r}): {reason}")
        self.field = field
        self.value = value
        self.reason = reason


class InvalidFactError(CreditError):
    """A fact the store cannot hold: names its source key and why."""

    def __init__(self, source: str, source_key: str, reason: str) -> None:
        super().__init__(f"fact {source}/{source_key}: {reason}")
        self.source = source
        self.source_key = source_key
        self.reason = reason


class UnknownEntityError(CreditError):
    """A batch refers to an entity id that the store does not hold."""


class EntityNotFoundError(CreditError):
    """No entity holds this identifier."""

    def __init__(self, identifier: str) -> None:
        super().__init__(f"no entity with identifier {identifier}")
        self.identifier = identifier
