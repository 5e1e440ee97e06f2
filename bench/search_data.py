"""Data for the search benchmark: a store of sample entities, and query sets with known answers.

The entities come from the sample-data generator (`ingest.sample_names.build_entities`) and are
written straight into the entity table (the ingest benchmark measures the way there). Query
kinds, each with the entity it should find:

- exact: the name as registered (aim: ranked first);
- fragment: a 2–4 character piece of a name (aim: every name containing it is matched);
- traditional: the name in traditional characters (OpenCC s2t); full-width: ASCII and brackets
  in the other width (both aim: ranked first);
- initials: pinyin initials of the name; typo: the name with one character replaced by another
  that sounds the same (both aim: in the top 10);
- uscc / uscc prefix: identifiers (latency only: a prefix matches a whole district).
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import opencc
from sqlalchemy.orm import Session

from credit.bulk import insert_rows
from credit.models import Entity
from credit.text import normalise_texts
from ingest.sample_names import build_entities, flip_brackets, fullwidth
from search_index.analysis import has_han, pinyin_full, pinyin_initials

SEED = 7
TODAY = date(2025, 6, 30)
PER_KIND = 200
KINDS = ("exact", "fragment", "traditional", "full-width", "initials", "typo", "uscc", "uscc prefix")


@dataclass(frozen=True)
class Query:
    """One benchmark query: its kind, text, and the entity id it is about."""

    kind: str
    text: str
    target: int


def fill_store(session: Session, entities: int, batch: int = 50_000) -> list[str]:
    """Write ``entities`` sample entities (ids 1..n) and commit; their normalised names, by id - 1."""
    e = build_entities(np.random.default_rng(SEED), entities, 0, TODAY)
    names = normalise_texts(e.name.tolist())
    now = datetime(2025, 6, 30)
    for start in range(0, entities, batch):
        rows = [{
            "id": i + 1, "uscc": e.uscc[i] or None, "reg_no": e.reg_no[i] or None,
            "org_code": e.org_code[i] or None, "name": e.name[i], "name_norm": names[i],
            "former_names": [n for n in e.former_names[i].split("；") if n], "status": e.status[i],
            "legal_rep": e.legal_rep[i], "division_code": _division(e, i),
            "industry": e.industry[i], "address": e.address[i], "entity_type": e.entity_type[i],
            "id_warnings": [], "created_at": now, "updated_at": now,
        } for i in range(start, min(start + batch, entities))]
        insert_rows(session, Entity.__table__, rows)
    session.commit()
    return names


def _division(e: object, i: int) -> str | None:
    uscc, reg_no = getattr(e, "uscc")[i], getattr(e, "reg_no")[i]
    return uscc[2:8] if uscc else (reg_no[:6] if reg_no else None)


def query_sets(session: Session, names: list[str], per_kind: int = PER_KIND) -> list[Query]:
    """``per_kind`` queries of every kind, drawn with a fixed seed from the stored entities."""
    rng = random.Random(SEED)
    rows = session.query(Entity.id, Entity.name, Entity.uscc).order_by(Entity.id).all()
    picks = [rows[rng.randrange(len(rows))] for _ in range(per_kind * 4)]
    t2s_inverse = opencc.OpenCC("s2t")
    homophones = _homophones(names)
    queries: list[Query] = []
    for kind, make in (
        ("exact", lambda r: r.name),
        ("fragment", lambda r: _fragment(rng, names[r.id - 1])),
        ("traditional", lambda r: _changed(t2s_inverse.convert(r.name), r.name)),
        ("full-width", lambda r: _changed(fullwidth(flip_brackets(r.name)), r.name)),
        ("initials", lambda r: pinyin_initials(names[r.id - 1])),
        ("typo", lambda r: _typo(rng, names[r.id - 1], homophones)),
        ("uscc", lambda r: r.uscc),
        ("uscc prefix", lambda r: r.uscc and r.uscc[:10]),
    ):
        made = [Query(kind, text, r.id) for r in picks if (text := make(r))]
        queries += made[:per_kind]
    return queries


def _fragment(rng: random.Random, name: str) -> str | None:
    """2–4 consecutive characters of the name, past its first two (mostly the brand and trade)."""
    length = rng.randint(2, 4)
    if len(name) < length + 2:
        return None
    start = rng.randint(2, len(name) - length)
    return name[start:start + length]


def _changed(variant: str, name: str) -> str | None:
    return variant if variant != name else None


def _homophones(names: list[str]) -> dict[str, list[str]]:
    """Characters of the names grouped by toneless pinyin: candidates for a sound-alike typo."""
    by_sound: dict[str, set[str]] = defaultdict(set)
    for char in {c for n in names[:50_000] for c in n if has_han(c)}:
        by_sound[pinyin_full(char)].add(char)
    return {sound: sorted(chars) for sound, chars in by_sound.items() if len(chars) > 1}


def _typo(rng: random.Random, name: str, homophones: dict[str, list[str]]) -> str | None:
    """The name with one Chinese character swapped for another with the same toneless pinyin."""
    spots = [i for i, c in enumerate(name) if len(homophones.get(pinyin_full(c), ())) > 1]
    if not spots:
        return None
    i = rng.choice(spots)
    options = [c for c in homophones[pinyin_full(name[i])] if c != name[i]]
    return name[:i] + rng.choice(options) + name[i + 1:]


def truth_of_fragments(names: list[str], fragments: list[str]) -> dict[str, set[int]]:
    """For each fragment, the ids of every entity whose normalised name contains it (brute force)."""
    return {f: {i + 1 for i, n in enumerate(names) if f in n} for f in fragments}
