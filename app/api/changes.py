"""``GET /api/v1/changes?after=SEQ&limit=N``: the change log in order, as the public may see it.

``after`` (DESIGN.md's ``since`` is read the same) defaults to 0; ``limit`` to 100, at most 1000.
Every entry of the log appears, in ``seq`` order, with its time (UTC) and its entity's public
identifiers (``uscc``, ``reg_no``, ``org_code``), so a mirror knows which profiles to fetch again
and can resume from ``next_after``. What an entry says beyond that is an allowlist, judged now by
the same rules as the public profile:

- ``entity``: ``create``; ``identify`` with the names of the identifiers it now holds; ``update``
  with the names of the public attributes whose chosen value changed (never the values: the
  profile has them);
- ``fact``: for each record the public can see today, its op (insert, update, repair), kind,
  source and source key, as the profile shows them;
- ``list``: for each entry the public can see, its op (insert, update, remove, correct) and list
  id (never entry ids or source keys);
- ``withheld``: an entry all of whose records the public cannot see (a withdrawn or hidden list
  entry, a withdrawn fact, a penalty outside its publicity period or repaired): only that the
  entity changed, so that a mirror drops what it showed, and nothing of what or which list.

Records whose publicity ends with a day leave no entry: a mirror applies the dates it was given
or fetches the profile again. Internal ids, change payload keys and regulators' reasons never appear.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from flask import request
from flask.typing import ResponseReturnValue
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import store
from app.api import bp
from app.api.schemas import ProfileSchema
from app.errors import error_response
from blacklist.visibility import publicity_status, repairs_by_fact
from credit.changelog import changes_since, last_seq
from credit.clock import beijing_today
from credit.db import among, chunked
from credit.models import ChangeLog, Entity, Fact, ListEntry

DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
CHUNK = 2000
ID_FIELDS = ("uscc", "reg_no", "org_code")
PUBLIC_FIELDS = frozenset(ProfileSchema().fields) - {"lists", "facts", "provenance"}
WITHHELD = "withheld"
# Regulator and rule actions on one list entry name what they did by one key of the payload.
ENTRY_ACTIONS = {"removed": "remove", "corrected": "correct"}
Key = tuple[str, str]
_SEQ = validate.Range(min=0, max=2**63 - 1, error="须为 0 到 2^63-1 之间的整数")


class ChangeArgs(Schema):
    """The query string: resume after this ``seq`` (``since`` is the same), at most ``limit`` entries."""

    class Meta:
        unknown = EXCLUDE

    after = fields.Integer(load_default=None, validate=_SEQ, error_messages={"invalid": "须为整数"})
    since = fields.Integer(load_default=None, validate=_SEQ, error_messages={"invalid": "须为整数"})
    limit = fields.Integer(load_default=DEFAULT_LIMIT, error_messages={"invalid": "须为整数"},
                           validate=validate.Range(min=1, max=MAX_LIMIT, error=f"须在 1 到 {MAX_LIMIT} 之间"))


class FactChangeSchema(Schema):
    """A change to a credit record the public can see."""

    op = fields.String(required=True, metadata={"description": "insert | update | repair"})
    kind = fields.String(required=True)
    source = fields.String(required=True)
    key = fields.String(required=True, metadata={"description": "its source key, as the profile's facts show it"})


class ListChangeSchema(Schema):
    """A change to a list entry the public can see."""

    op = fields.String(required=True, metadata={"description": "insert | update | remove | correct"})
    list = fields.String(required=True, metadata={"description": "list id, as in /api/v1/lists"})


class ChangeSchema(Schema):
    """One entry of the change log, reduced to what the public may see."""

    seq = fields.Integer(required=True)
    at = fields.DateTime(required=True, metadata={"description": "UTC, with its offset"})
    uscc = fields.String(required=True, allow_none=True)
    reg_no = fields.String(required=True, allow_none=True)
    org_code = fields.String(required=True, allow_none=True)
    kind = fields.String(required=True, metadata={"description": "entity | fact | list | withheld"})
    op = fields.String(required=True, metadata={"description": "entity: create | identify | update; else change"})
    fields_ = fields.List(fields.String(), required=True, data_key="fields", attribute="fields",
                          metadata={"description": "entity: the identifiers or public attributes that changed"})
    facts = fields.List(fields.Nested(FactChangeSchema), required=True)
    lists = fields.List(fields.Nested(ListChangeSchema), required=True)


class ChangeFeedSchema(Schema):
    """A page of the change feed: resume with ``after=next_after`` until it reaches ``last_seq``."""

    items = fields.List(fields.Nested(ChangeSchema), required=True)
    next_after = fields.Integer(required=True, metadata={"description": "the seq to pass as after= next time"})
    last_seq = fields.Integer(required=True, metadata={"description": "the newest seq in the log now"})


@dataclass
class PublicChange:
    """One log entry as the feed shows it."""

    seq: int
    at: datetime
    uscc: str | None
    reg_no: str | None
    org_code: str | None
    kind: str
    op: str
    fields: list[str] = field(default_factory=list)
    facts: list[dict[str, str]] = field(default_factory=list)
    lists: list[dict[str, str]] = field(default_factory=list)


_args, _feed = ChangeArgs(), ChangeFeedSchema()


@bp.get("/changes")
def changes() -> ResponseReturnValue:
    """The change log after ``after`` (default 0), at most ``limit`` (default 100, at most 1000) entries."""
    try:
        args = _args.load(request.args)
    except ValidationError as exc:
        name, problems = next(iter(exc.messages_dict.items()))
        return error_response(400, "invalid_argument", f"参数 {name} 无效：{'；'.join(map(str, problems))}")
    after = args["after"] if args["after"] is not None else args["since"] or 0
    session = store.session()
    rows = session.scalars(changes_since(after, args["limit"])).all()
    items = public_changes(session, rows, beijing_today())
    return _feed.dump({"items": items, "next_after": rows[-1].seq if rows else after, "last_seq": last_seq(session)})


def public_changes(session: Session, rows: Sequence[ChangeLog], today: date) -> list[PublicChange]:
    """These log entries as the public may see them on ``today`` (see the module's docstring)."""
    entities = _entities(session, {r.entity_id for r in rows if r.entity_id is not None})
    facts = _visible_facts(session, _fact_keys(rows), entities, today)
    entries = _visible_entries(session, rows)
    return [_public(row, entities.get(row.entity_id or 0), facts, entries) for row in rows]


def _public(row: ChangeLog, entity: Entity | None, facts: set[Key], entries: dict[Any, str]) -> PublicChange:
    ids = {name: getattr(entity, name) if entity else None for name in ID_FIELDS}
    change = PublicChange(row.seq, row.created_at.replace(tzinfo=UTC), kind=row.kind, op=row.op, **ids)
    detail = row.detail or {}
    if row.kind == "entity":
        named = detail.get("fields", {}) if row.op == "update" else {k: v for k, v in detail.items() if v}
        change.fields = sorted(set(named) & (PUBLIC_FIELDS | set(ID_FIELDS)))
        return change
    if row.kind == "fact":
        change.facts = [{"op": i.get("op", ""), "kind": i.get("kind", ""), "source": i["source"], "key": i["key"]}
                        for i in _items(detail, "facts") if (i.get("source"), i.get("key")) in facts]
    elif row.kind == "list":
        change.lists = [{"op": op, "list": list_id} for op, list_id in _list_changes(detail, entries)]
    if not (change.facts or change.lists):
        change.kind, change.op = WITHHELD, "change"
    return change


def _items(detail: dict[str, Any], name: str) -> list[dict[str, Any]]:
    items = detail.get(name)
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _list_changes(detail: dict[str, Any], entries: dict[Any, str]) -> Iterable[tuple[str, str]]:
    """(op, list id) of each public entry the payload names: keyed by source and key, or by entry id."""
    for item in _items(detail, "lists"):
        list_id = entries.get((item.get("source"), item.get("key")))
        if list_id:
            yield item.get("op", "change"), list_id
    entry = detail.get("entry")
    list_id = entries.get(entry) if isinstance(entry, int) else None
    if list_id:
        yield next((op for key, op in ENTRY_ACTIONS.items() if key in detail), "change"), list_id


def _entities(session: Session, ids: set[int]) -> dict[int, Entity]:
    found: dict[int, Entity] = {}
    for part in chunked(sorted(ids), CHUNK):
        found.update({e.id: e for e in session.scalars(select(Entity).where(among(session, Entity.id, part)))})
    return found


def _fact_keys(rows: Iterable[ChangeLog]) -> set[Key]:
    items = (i for r in rows if r.kind == "fact" for i in _items(r.detail or {}, "facts"))
    return {(i["source"], i["key"]) for i in items if isinstance(i.get("source"), str)
            and isinstance(i.get("key"), str)}


def _visible_facts(session: Session, keys: set[Key], entities: dict[int, Entity], today: date) -> set[Key]:
    """The (source, key) of these facts that the public sees today, by the profile's rules."""
    facts = [f for source, part in _by_source(keys)
             for f in session.scalars(select(Fact).where(Fact.source == source, among(session, Fact.source_key, part)))]
    repairs = repairs_by_fact(session, [f.id for f in facts if f.kind == "penalty"])
    return {(f.source, f.source_key) for f in facts
            if publicity_status(f, today, _province(entities.get(f.entity_id)), repaired_on=repairs.get(f.id)).public}


def _visible_entries(session: Session, rows: Iterable[ChangeLog]) -> dict[Any, str]:
    """The list id of each public entry the rows name, by (source, key) and by entry id."""
    keys: set[Key] = set()
    ids: set[int] = set()
    for row in (r for r in rows if r.kind == "list"):
        detail = row.detail or {}
        keys |= {(i["source"], i["key"]) for i in _items(detail, "lists") if i.get("source") and i.get("key")}
        ids |= {detail["entry"]} if isinstance(detail.get("entry"), int) else set()
    found: dict[Any, str] = {}
    for source, part in _by_source(keys):
        query = select(ListEntry).where(ListEntry.source == source, among(session, ListEntry.source_key, part),
                                        ListEntry.public.is_(True))
        found.update({(e.source, e.source_key): e.list_id for e in session.scalars(query)})
    for part in chunked(sorted(ids), CHUNK):
        query = select(ListEntry).where(among(session, ListEntry.id, part), ListEntry.public.is_(True))
        found.update({e.id: e.list_id for e in session.scalars(query)})
    return found


def _by_source(keys: set[Key]) -> Iterable[tuple[str, Sequence[str]]]:
    """Keys grouped by source, in chunks, so each query runs on the (source, source_key) index."""
    grouped: dict[str, list[str]] = {}
    for source, key in keys:
        grouped.setdefault(source, []).append(key)
    for source, found in sorted(grouped.items()):
        for part in chunked(sorted(found), CHUNK):
            yield source, part


def _province(entity: Entity | None) -> str | None:
    return ((entity.division_code if entity else None) or "")[:2] or None
