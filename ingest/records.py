"""Validated records as the store wants them: keys, identities, claims, facts, list entries."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from credit.attributes import ATTRIBUTES, names_claim
from credit.claims import ClaimIn
from credit.entities import EntityIds
from credit.facts import FactIn
from credit.listings import ListEntryIn
from ingest.kinds import AMOUNT_FIELDS, DATE_FIELDS, KINDS
from ingest.registry import SourceSpec

META = {"__row__", "raw", "warnings", "name_norm"}
LIST_IDS = {"abnormal": "abnormal", "serious_illegal": "serious-illegal"}
# Fields that identify a record of each kind when the source sends no key of its own.
KEY_FIELDS = {
    "registration": (),
    "licence": ("decision_no", "licence_no", "decided_on"),
    "penalty": ("decision_no", "decided_on"),
    "abnormal": ("reason_code", "listed_on"),
    "serious_illegal": ("category", "reason", "listed_on"),
    "sector_list": ("reason", "listed_on"),
    "inspection": ("task", "inspected_on", "item"),
    "annual_report": ("year",),
    "commendation": ("title", "listed_on"),
}
# Which of a kind's fields fill the fact's common date columns.
FACT_DATES = {
    "licence": {"decided_on": "decided_on", "valid_from": "valid_from", "valid_to": "valid_to"},
    "penalty": {"decided_on": "decided_on", "valid_to": "valid_until", "publicity_until": "publicity_until"},
    "inspection": {"decided_on": "inspected_on"},
    "annual_report": {"decided_on": "filed_on"},
    "commendation": {"decided_on": "listed_on", "valid_to": "expires_on"},
}
_NAME_SEPARATORS = re.compile(r"[；;，,、\n]+")


def identity_of(record: Mapping[str, Any]) -> EntityIds:
    """The identifiers a record carries."""
    return EntityIds(record.get("uscc"), record.get("reg_no"), record.get("org_code"))


def name_key(record: Mapping[str, Any]) -> tuple[str, str | None]:
    """Normalised name and, when a USCC says it, the division code: the last resort of matching."""
    uscc = record.get("uscc") or ""
    return record.get("name_norm") or "", uscc[2:8] if len(uscc) == 18 else None


def record_key(kind: str, record: Mapping[str, Any]) -> str:
    """The source's own key, or one derived from the identifying fields of the record."""
    given = record.get("record_key")
    if given:
        return str(given)
    ids = identity_of(record)
    who = ids.uscc or ids.reg_no or ids.org_code or f"name:{record.get('name_norm') or ''}"
    parts = [who] + [_text(record.get(f)) for f in KEY_FIELDS[kind]]
    if kind == "registration" or len(parts) == 1:
        return "|".join(parts)
    digest = hashlib.blake2b("|".join(parts).encode(), digest_size=10).hexdigest()
    return f"{who}|{digest}"


def claims_of(record: Mapping[str, Any], entity_id: int, spec: SourceSpec, observed: datetime) -> list[ClaimIn]:
    """The attribute claims of a registration record."""
    claims = []
    for field in ATTRIBUTES:
        value = record.get(field)
        if value is None or value == "":
            continue
        text = _former_names(value) if field == "former_names" else _text(value)
        if text:
            claims.append(ClaimIn(entity_id, field, text, spec.id, spec.rank, observed))
    return claims


def fact_of(record: Mapping[str, Any], entity_id: int, spec: SourceSpec, matched_on: str | None) -> FactIn:
    """A fact from a record of a fact kind, its body holding what the record said."""
    dates = {column: record.get(field) for column, field in FACT_DATES.get(spec.kind, {}).items()}
    return FactIn(
        entity_id=entity_id, source=spec.id, source_key=record_key(spec.kind, record), kind=spec.kind,
        body=body_of(record, spec.kind, matched_on), authority=record.get("authority") or spec.agency,
        severity=record.get("severity"), change=record.get("change") or "i", **dates,
    )


def list_entry_of(record: Mapping[str, Any], entity_id: int, spec: SourceSpec) -> ListEntryIn:
    """A list entry from a listing record (its removal, when the record carries one)."""
    reason = record.get("reason") or record.get("category")
    return ListEntryIn(
        entity_id=entity_id, list_id=LIST_IDS.get(spec.kind) or spec.list_id or spec.kind,
        source=spec.id, source_key=record_key(spec.kind, record), listed_on=record.get("listed_on"),
        reason=reason, reason_code=record.get("reason_code"), decision_no=record.get("decision_no"),
        listed_by=record.get("listed_by") or spec.agency, due_expiry=record.get("expires_on"),
        removed_on=record.get("removed_on"), removal_reason=record.get("removal_reason"),
        removed_by=record.get("removed_by"), change=record.get("change") or "i",
    )


def body_of(record: Mapping[str, Any], kind: str, matched_on: str | None) -> dict[str, Any]:
    """JSON-safe body: the kind's fields and the identity as sent, plus what matching found."""
    fields = ("name", "uscc", "reg_no", "org_code") + KINDS[kind].fields
    body = {f: plain(record[f]) for f in fields if record.get(f) not in (None, "")}
    if record.get("raw"):
        body["extra"] = dict(record["raw"])
    if record.get("warnings"):
        body["warnings"] = list(record["warnings"])
    if matched_on:
        body["matched_on"] = matched_on
    return body


def plain(value: Any) -> Any:
    """A JSON-safe form of a loaded value: dates as ISO text, amounts as plain decimals."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value


def json_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """The whole record in JSON-safe form, for holding it while unresolved."""
    return {k: plain(v) for k, v in record.items() if k not in ("warnings",)} | {
        "warnings": list(record.get("warnings") or [])
    }


def typed_record(held: Mapping[str, Any]) -> dict[str, Any]:
    """Undo ``json_record``: dates and amounts back to their loaded types."""
    record = dict(held)
    for name, value in held.items():
        if value in (None, ""):
            continue
        if name in DATE_FIELDS:
            record[name] = date.fromisoformat(value)
        elif name in AMOUNT_FIELDS:
            record[name] = Decimal(value)
    return record


def _text(value: Any) -> str:
    return "" if value is None else str(plain(value))


def _former_names(value: Any) -> str:
    names = [n.strip() for n in _NAME_SEPARATORS.split(str(value)) if n.strip()]
    return names_claim(names) if names else ""

