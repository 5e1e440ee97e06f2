"""Store → index documents: what the index holds of each entity, built from the store alone."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from credit.db import among
from credit.models import Entity, ListEntry
from credit.status import is_operating
from credit.text import normalise_text, normalise_texts
from search_index.analysis import (
    ID_PREFIX_MAX, ID_PREFIX_MIN, PINYIN_GRAM, edge_grams, gram_string, pinyin_full, pinyin_initials,
)
from search_index.engine import IndexDoc

# Bound on any one indexed text, in characters: regulator text is untrusted.
TEXT_MAX = 200

# The gram fields cut from the normalised name and former names: each field's texts from (name,
# former names). Whoosh rebuilds them from a hit's stored JSON to confirm long phrases.
NAME_TEXTS: dict[str, Callable[[str, list[str]], list[str]]] = {
    "name": lambda name, former: [name],
    "py_initials": lambda name, former: [pinyin_initials(t) for t in (name, *former)],
    "py_full": lambda name, former: [pinyin_full(t) for t in (name, *former)],
}
GRAM_SIZES = {"name": 2, "py_initials": PINYIN_GRAM, "py_full": PINYIN_GRAM}

_COLUMNS = (Entity.id, Entity.uscc, Entity.reg_no, Entity.org_code, Entity.name, Entity.name_norm,
            Entity.former_names, Entity.status, Entity.legal_rep, Entity.address, Entity.division_code,
            Entity.industry)


def documents_by_ids(session: Session, entity_ids: Sequence[int]) -> dict[int, IndexDoc]:
    """The documents of those of ``entity_ids`` that exist in the store."""
    if not entity_ids:
        return {}
    rows = session.execute(select(*_COLUMNS).where(among(session, Entity.id, list(entity_ids)))).all()
    return {doc.entity_id: doc for doc in _documents(session, rows)}


def iter_documents(session: Session, batch: int = 5000, part: int = 0, parts: int = 1) -> Iterator[list[IndexDoc]]:
    """Every entity's document, in id order, ``batch`` at a time (keyset pages: no long OFFSET scans).

    With ``parts`` > 1, only the entities whose id is ``part`` modulo ``parts``: that many producers
    together build every document once.
    """
    after = 0
    share = [Entity.id % parts == part] if parts > 1 else []
    while True:
        query = select(*_COLUMNS).where(Entity.id > after, *share).order_by(Entity.id).limit(batch)
        rows = session.execute(query).all()
        if not rows:
            return
        yield _documents(session, rows)
        after = rows[-1].id


def _documents(session: Session, rows: Sequence[Any]) -> list[IndexDoc]:
    flags = _flags(session, [r.id for r in rows])
    texts = _normalised_texts(rows)
    return [build_document(r._mapping, flags.get(r.id, ()), texts) for r in rows]


def _normalised_texts(rows: Sequence[Any]) -> dict[str, str]:
    """Every name, former name, legal representative and address of the rows, normalised in one batch.

    One OpenCC call over a batch costs a fraction of one call per text.
    """
    raw = {t for r in rows for t in (r.name, r.legal_rep, r.address, *(r.former_names or ())) if t}
    ordered = list(raw)
    return dict(zip(ordered, normalise_texts(ordered), strict=True))


def _flags(session: Session, entity_ids: list[int]) -> dict[int, tuple[str, ...]]:
    """The lists each entity is publicly on now."""
    query = (select(ListEntry.entity_id, ListEntry.list_id)
             .where(among(session, ListEntry.entity_id, entity_ids), ListEntry.status == "active",
                    ListEntry.public.is_(True)))
    found: dict[int, set[str]] = defaultdict(set)
    for entity_id, list_id in session.execute(query):
        found[entity_id].add(list_id)
    return {k: tuple(sorted(v)) for k, v in found.items()}


def build_document(row: Any, flags: Sequence[str], texts: dict[str, str] | None = None) -> IndexDoc:
    """One entity's index document from its store columns and current public list flags.

    ``texts`` maps raw texts to their normalised form when the caller normalised a batch.
    """
    def normalise(text: str | None) -> str:
        if not text:
            return ""
        known = texts.get(text) if texts is not None else None
        return (known if known is not None else normalise_text(text))[:TEXT_MAX]

    name = row["name_norm"][:TEXT_MAX] if row["name_norm"] else normalise(row["name"])
    former = [normalise(n) for n in (row["former_names"] or [])]
    active = is_operating(row["status"])
    ids = [v for v in (row["uscc"], row["reg_no"]) if v]
    fields = {
        "id": str(row["id"]), "uscc": row["uscc"] or "", "reg_no": row["reg_no"] or "",
        "org_code": row["org_code"] or "", "name_exact": name,
        "industry": row["industry"] or "", "status": row["status"] or "", "active": "1" if active else "0",
        "id_prefix": " ".join([" ".join(edge_grams(v, ID_PREFIX_MIN, ID_PREFIX_MAX)) for v in ids]),
        "name_prefix": " ".join(edge_grams(name)),
        "region": " ".join(edge_grams(row["division_code"] or "", 2, 6)[::2]),
        "flags": " ".join(flags),
        "other": gram_string(former + [normalise(row["legal_rep"]), normalise(row["address"])]),
        **{field: gram_string(texts_of(name, former), GRAM_SIZES[field]) for field, texts_of in NAME_TEXTS.items()},
    }
    stored = {"id": row["id"], "uscc": row["uscc"], "name": row["name"], "status": row["status"],
              "region": row["division_code"], "industry": row["industry"], "flags": list(flags),
              "former_names": list(row["former_names"] or [])}
    return IndexDoc(row["id"], {k: v for k, v in fields.items() if v}, stored)
