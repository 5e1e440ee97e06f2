"""Synthetic claims and facts for the store benchmark: deterministic, held as plain tuples."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta

from credit.claims import ClaimIn
from credit.facts import FactIn
from credit.identifiers import generate_uscc

T0 = datetime(2025, 1, 1)
REGISTRY_FIELDS = ("name", "entity_type", "status", "legal_rep", "registered_capital",
                   "established_on", "address")
OTHER_FIELDS = ("legal_rep", "address", "industry")
FACTS_PER_ENTITY = 10
STATUSES = ("存续", "在业", "吊销", "注销")


def usccs(count: int, seed: int = 1) -> list[str]:
    """``count`` distinct valid USCCs."""
    rng = random.Random(seed)
    seen: dict[str, None] = {}
    while len(seen) < count:
        seen[generate_uscc(rng, division_code="440300")] = None
    return list(seen)


def _registry_value(field: str, i: int, version: int) -> str:
    if field == "registered_capital":
        return str(100 + i % 5000 + version)
    if field == "established_on":
        return (date(2000, 1, 1) + timedelta(days=i % 8000 + version)).isoformat()
    if field == "status":
        return STATUSES[(i + version) % len(STATUSES)]
    return f"深圳市{field}{i}号测试{version}有限公司"


def claims(entity_ids: list[int], changed_every: int = 0, version: int = 0) -> Iterator[ClaimIn]:
    """Ten claims per entity (7 from the registry, 3 from tax); with ``changed_every`` = 10,
    every tenth claim carries a new value observed later."""
    n = 0
    for i, entity_id in enumerate(entity_ids):
        for source, rank, fields in (("registry", 100, REGISTRY_FIELDS), ("tax", 50, OTHER_FIELDS)):
            for field in fields:
                bump = version if changed_every and n % changed_every == 0 else 0
                yield ClaimIn(entity_id, field, _registry_value(field, i, bump), source, rank,
                              T0 + timedelta(days=bump))
                n += 1


def facts(entity_ids: list[int], changed_every: int = 0, version: int = 0) -> Iterator[FactIn]:
    """``FACTS_PER_ENTITY`` penalties per entity; with ``changed_every``, some bodies change."""
    n = 0
    for i, entity_id in enumerate(entity_ids):
        for k in range(FACTS_PER_ENTITY):
            bump = version if changed_every and n % changed_every == 0 else 0
            yield FactIn(
                entity_id=entity_id, source="penalty", source_key=f"{i}-{k}", kind="penalty",
                authority="深圳市市场监督管理局", decided_on=date(2024, 1, 1) + timedelta(days=k),
                severity="ordinary",
                body={"decision_no": f"深市监罚〔2024〕{i}-{k}号", "fine_amount": str(1 + k + bump),
                      "facts": "未按规定公示年度报告" * 2},
            )
            n += 1
