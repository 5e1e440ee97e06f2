"""Errors raised by the blacklist package."""

from __future__ import annotations


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
