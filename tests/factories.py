"""Builders that create test data through the store's own functions, with valid identifiers."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from credit.claims import ClaimIn, apply_claims
from credit.entities import EntityIds, ensure_entities
from credit.facts import FactIn
from credit.identifiers import generate_uscc

REGISTRY = "samr-registration"
REGISTRY_RANK = 100
OTHER_RANK = 50
T0 = datetime(2025, 1, 1, 8, 0, 0)


def new_uscc(seed: int, division_code: str = "440300") -> str:
    """A valid USCC, the same for the same seed."""
    return generate_uscc(random.Random(seed), division_code=division_code)


def make_entity(session: Session, seed: int, **attributes: str) -> int:
    """Create an entity with a generated USCC and the given attributes claimed by the registry."""
    resolved = ensure_entities(session, [EntityIds(uscc=new_uscc(seed))])[0]
    assert resolved.entity_id is not None
    claims = [ClaimIn(resolved.entity_id, field, value, REGISTRY, REGISTRY_RANK, T0)
              for field, value in attributes.items()]
    apply_claims(session, claims)
    return resolved.entity_id


def penalty(entity_id: int, key: str, **overrides: Any) -> FactIn:
    """An administrative penalty fact with plausible content."""
    fields: dict[str, Any] = {
        "entity_id": entity_id, "source": "samr-penalty", "source_key": key, "kind": "penalty",
        "authority": "深圳市市场监督管理局",
        "body": {"decision_no": f"深市监罚〔2025〕{key}号", "fine_amount": "1.5", "penalty_type": "罚款"},
        "severity": "ordinary",
    }
    fields.update(overrides)
    return FactIn(**fields)
