"""Entity attributes that sources make claims about, and how a claimed value is typed."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from credit.errors import InvalidClaimError
from credit.models import CLAIM_VALUE_LENGTH


def _text(value: str) -> str:
    return value


def _capital(value: str) -> Decimal:
    amount = Decimal(value)
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"not a non-negative amount: {value!r}")
    return amount


def _names(value: str) -> list[str]:
    names = json.loads(value)
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValueError("former_names must be a JSON list of strings")
    return names


# Claimed values travel as text (canonical forms: ISO dates, plain decimals in 万元,
# JSON lists); each attribute says how its text becomes the entity column's value.
ATTRIBUTES: dict[str, Callable[[str], Any]] = {
    "name": _text,
    "entity_type": _text,
    "status": _text,
    "legal_rep": _text,
    "registered_capital": _capital,
    "established_on": date.fromisoformat,
    "address": _text,
    "reg_authority": _text,
    "industry": _text,
    "former_names": _names,
}


def typed_value(field: str, value: str) -> Any:
    """Convert a claimed value to the entity column's type, or raise InvalidClaimError."""
    convert = ATTRIBUTES.get(field)
    if convert is None:
        raise InvalidClaimError(field, value, "not an entity attribute")
    if len(value) > CLAIM_VALUE_LENGTH:
        raise InvalidClaimError(field, value[:40], f"longer than {CLAIM_VALUE_LENGTH} characters")
    try:
        return convert(value)
    except (ValueError, InvalidOperation, json.JSONDecodeError) as exc:
        raise InvalidClaimError(field, value, str(exc) or "cannot be read") from exc


def names_claim(names: list[str]) -> str:
    """The canonical text of a former-names claim."""
    return json.dumps(sorted(set(names)), ensure_ascii=False)
