"""Load schemas that validate normalised rows, one per kind, and `validate_frame` over a frame.

These are ingest LOAD schemas (marshmallow 4), kept apart from the API dump schemas. A bad row is
data, a `Rejection` with its row number, first failing field and every message, never an
exception. Messages quote the offending value so that a regulator can find it in the file.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd
from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validates_schema
from marshmallow.validate import OneOf

from credit.clock import utcnow
from credit.identifiers import Outcome, Validation, validate_org_code, validate_reg_no, validate_uscc
from credit.text import normalise_texts
from ingest.enums import ABNORMAL_REASON_CODES, CHANGE_CODES, SEVERITIES
from ingest.errors import IngestError
from ingest.kinds import IDENTITY_FIELDS, KINDS

ROW_COLUMNS = frozenset({"__row__", "raw", "name_norm"})
NAME, ADDRESS, FREE_TEXT, CODE = 200, 500, 4000, 200  # maximum lengths, in characters
FIRST_YEAR = 1990
MAX_AMOUNT = Decimal(10) ** 12  # 万元: far above any real capital or fine, far below overflow
_REQUIRED = {"required": "required, but empty"}


def _too_long(value: str, limit: int) -> ValidationError | None:
    """The error for a text longer than `limit`, quoting its start, else None."""
    if len(value) <= limit:
        return None
    return ValidationError(f"longer than {limit} characters ({len(value)}): {value[:40]!r}…")


class Text(fields.String):
    """Text of at most `limit` characters (checked here, not by a validator: it runs per cell)."""

    def __init__(self, limit: int, **kwargs: Any) -> None:
        super().__init__(error_messages=_REQUIRED | {"invalid": "not text"}, **kwargs)
        self.limit = limit

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None,
                     **kwargs: Any) -> str:
        text: str = super()._deserialize(value, attr, data, **kwargs)
        error = _too_long(text, self.limit)
        if error is not None:
            raise error
        return text


def _text(limit: int, required: bool = False) -> Text:
    """A text field of at most `limit` characters."""
    return Text(limit, required=required)


def _date(required: bool = False) -> fields.Date:
    """An ISO date field (the normaliser has turned every accepted form into ISO)."""
    return fields.Date(required=required,
                       error_messages=_REQUIRED | {"invalid": "not a date: {input!r}"})


def _choice(choices: tuple[str, ...], **kwargs: Any) -> fields.String:
    """A text field holding one of a few codes."""
    error = "{input!r} is not one of " + ", ".join(choices)
    return fields.String(validate=OneOf(choices, error=error), error_messages=_REQUIRED, **kwargs)


def _plausible_year(value: int) -> None:
    """Accept report years from FIRST_YEAR to next year."""
    last = utcnow().year + 1
    if not FIRST_YEAR <= value <= last:
        raise ValidationError(f"year {value} is not between {FIRST_YEAR} and {last}")


class Amount(fields.Decimal):
    """A non-negative amount in 万元, to six places (one 分 of a value given in 元)."""

    def __init__(self) -> None:
        super().__init__(places=6)

    def _validated(self, value: Any) -> Decimal:
        try:
            number = super()._validated(value)
        except ValidationError:
            number = None
        if number is None or not 0 <= number <= MAX_AMOUNT:
            raise ValidationError(f"not an amount from 0 to {MAX_AMOUNT} 万元: {value!r}")
        return number


class Identifier(Text):
    """A USCC or organisation code: folded on load; malformed is an error, a bad check is not."""

    def __init__(self, check: Callable[[str], Validation], label: str) -> None:
        super().__init__(CODE)
        self.check, self.label = check, label

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None,
                     **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        checked = self.check(text)
        if checked.outcome is Outcome.MALFORMED:
            raise ValidationError(f"{text!r} is not a {self.label}: {checked.message}")
        return checked.value


# Cached so that the field's check and the warning's re-check of a value cost one validation.
_check_uscc = functools.lru_cache(maxsize=65536)(validate_uscc)
_check_org_code = functools.lru_cache(maxsize=65536)(validate_org_code)
_check_reg_no = functools.lru_cache(maxsize=65536)(validate_reg_no)


class LoadSchema(Schema):
    """Identity and common fields of every kind; a row needs some identifier or a name."""

    class Meta:
        # validate_frame refuses a frame with undeclared columns once, up front; RAISE would
        # repeat that check on every row.
        unknown = EXCLUDE

    record_key = _text(CODE)
    change = _choice(CHANGE_CODES, load_default="i")
    uscc = Identifier(_check_uscc, "USCC")
    reg_no = _text(CODE)  # odd forms are real (DOMAIN.md §1): kept and flagged, never rejected
    org_code = Identifier(_check_org_code, "organisation code")
    name = _text(NAME)
    tax_no = _text(CODE)
    inst_cert_no = _text(CODE)
    social_org_no = _text(CODE)

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _require_identity(self, data: dict[str, Any], original: Mapping[str, Any],
                          **kwargs: Any) -> None:
        if not any(original.get(name) for name in IDENTITY_FIELDS):
            raise ValidationError("no identifier: uscc, reg_no, org_code and name are all empty",
                                  field_name="uscc")

    @post_load
    def _add_warnings(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        data["warnings"] = identity_warnings(data)
        return data


class RegistrationSchema(LoadSchema):
    """登记信息: the registry's attributes of an entity; the name is required."""

    name = _text(NAME, required=True)
    entity_type, status, legal_rep = _text(NAME), _text(NAME), _text(NAME)
    registered_capital = Amount()
    established_on = _date()
    address = _text(ADDRESS)
    reg_authority, industry = _text(NAME), _text(NAME)
    former_names = _text(FREE_TEXT)


class LicenceSchema(LoadSchema):
    """行政许可 in the national 双公示 layout."""

    decision_no = _text(CODE)
    licence_type, licence_name = _text(NAME), _text(NAME)
    licence_no = _text(CODE)
    content = _text(FREE_TEXT)
    decided_on = _date(required=True)
    valid_from, valid_to = _date(), _date()
    authority, authority_code = _text(NAME), _text(CODE)
    status, legal_rep = _text(NAME), _text(NAME)


class PenaltySchema(LoadSchema):
    """行政处罚 in the national 双公示 layout; amounts in 万元."""

    decision_no = _text(CODE, required=True)
    violation_type, facts, basis = _text(FREE_TEXT), _text(FREE_TEXT), _text(FREE_TEXT)
    penalty_type = _text(ADDRESS)  # several types may share a cell
    content = _text(FREE_TEXT)
    fine_amount, confiscated_amount = Amount(), Amount()
    decided_on = _date(required=True)
    valid_until, publicity_until = _date(), _date()
    authority, authority_code = _text(NAME), _text(CODE)
    severity = _choice(SEVERITIES)
    legal_rep = _text(NAME)


class _ListingSchema(LoadSchema):
    """What every list entry carries: reason, listing and removal."""

    reason = _text(FREE_TEXT)
    listed_on = _date(required=True)
    listed_by = _text(NAME)
    removal_reason = _text(FREE_TEXT)
    removed_on = _date()
    removed_by = _text(NAME)


class AbnormalSchema(_ListingSchema):
    """经营异常名录 entries, with reason code 1-4."""

    reason_code = _choice(ABNORMAL_REASON_CODES)
    decision_no = _text(CODE)


class SeriousIllegalSchema(_ListingSchema):
    """严重违法失信名单 entries."""

    category = _text(NAME)
    decision_no = _text(CODE)


class SectorListSchema(_ListingSchema):
    """Entries of a sector list (tax, courts, customs…), which may expire."""

    expires_on = _date()


class InspectionSchema(LoadSchema):
    """抽查检查结果: one inspected item and its result."""

    plan, task = _text(ADDRESS), _text(ADDRESS)
    inspection_type, authority = _text(NAME), _text(NAME)
    inspected_on = _date(required=True)
    item = _text(FREE_TEXT)
    result = _text(FREE_TEXT, required=True)


class AnnualReportSchema(LoadSchema):
    """年报 filings: the report year and the filing date."""

    year = fields.Integer(required=True, strict=False, validate=_plausible_year,
                          error_messages=_REQUIRED | {"invalid": "not a year: {input!r}"})
    filed_on = _date()


class CommendationSchema(LoadSchema):
    """守信激励 / 红名单 entries."""

    title = _text(ADDRESS, required=True)
    listed_on = _date()
    listed_by = _text(NAME)
    expires_on = _date()


SCHEMAS: dict[str, type[LoadSchema]] = {
    "registration": RegistrationSchema, "licence": LicenceSchema, "penalty": PenaltySchema,
    "abnormal": AbnormalSchema, "serious_illegal": SeriousIllegalSchema,
    "sector_list": SectorListSchema, "inspection": InspectionSchema,
    "annual_report": AnnualReportSchema, "commendation": CommendationSchema,
}


@functools.cache
def schema_for(kind: str) -> LoadSchema:
    """The one load schema instance of a kind (built once: building is the slow part)."""
    if kind not in SCHEMAS:
        raise IngestError(f"unknown record kind {kind!r}; known: {', '.join(SCHEMAS)}")
    return SCHEMAS[kind]()


def identity_warnings(data: Mapping[str, Any]) -> list[str]:
    """Warnings on loaded identifiers: a check character that does not verify, an odd reg_no."""
    found = []
    for name, check in (("uscc", _check_uscc), ("reg_no", _check_reg_no),
                        ("org_code", _check_org_code)):
        value = data.get(name)
        if value:
            checked = check(value)
            if checked.outcome is not Outcome.VALID:
                found.append(f"{name}: {checked.message} ({value!r})")
    return found


@dataclass(frozen=True)
class Rejection:
    """A row that failed validation: where, which field first, why, and what was sent."""

    row: int
    field: str
    reason: str
    raw: dict[str, str]


@dataclass(frozen=True)
class Checked:
    """The outcome of validating a frame: every input row is in exactly one of the two lists."""

    records: list[dict[str, Any]]
    rejected: list[Rejection]


def validate_frame(frame: pd.DataFrame, kind: str, original: pd.DataFrame | None = None) -> Checked:
    """Load every row of a normalised frame through its kind's schema, keeping bad rows as data.

    `original` is the frame before normalisation (same index): rejected rows show its text.
    """
    schema, names = schema_for(kind), _field_columns(frame, kind)
    source = frame if original is None else _aligned(original, frame)
    shown = [name for name in KINDS[kind].all_fields if name in source.columns]
    columns = [_texts(frame[name]) for name in names]
    sent = [_texts(source[name]) for name in shown]
    extras = frame["raw"].tolist() if "raw" in frame.columns else [{}] * len(frame)
    records: list[dict[str, Any]] = []
    rejected: list[Rejection] = []
    rows = zip(frame["__row__"].tolist(), extras, _name_keys(frame), *columns, strict=True)
    for position, (row, extra, key, *values) in enumerate(rows):
        try:
            data = {n: v for n, v in zip(names, values, strict=True) if v}
            # A withdrawal (d) names its record; the record's own required fields may be absent.
            loaded = schema.load(data, partial=data.get("change") == "d")
        except ValidationError as exc:
            raw = {name: column[position] for name, column in zip(shown, sent, strict=True)}
            rejected.append(_rejection(row, exc, kind, raw | extra))
            continue
        record = dict.fromkeys(names)
        record.update(loaded, __row__=row, raw=extra, name_norm=key)
        records.append(record)
    return Checked(records, rejected)


def _field_columns(frame: pd.DataFrame, kind: str) -> list[str]:
    """The kind's fields present in the frame, in the kind's order; other columns are an error."""
    known = KINDS[kind].all_fields
    unknown = [str(name) for name in frame.columns if name not in known and name not in ROW_COLUMNS]
    if unknown:
        raise IngestError(f"kind {kind!r} has no field {', '.join(unknown)}")
    return [name for name in known if name in frame.columns]


def _aligned(original: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """The original frame's rows in the order of `frame`."""
    return original if original.index.equals(frame.index) else original.loc[frame.index]


def _texts(column: pd.Series) -> list[Any]:
    """A column's values as a list, missing as ""."""
    return column.fillna("").tolist()


def _name_keys(frame: pd.DataFrame) -> list[str]:
    """The folded names for matching: the frame's `name_norm`, else folded here."""
    if "name_norm" in frame.columns:
        return _texts(frame["name_norm"])
    if "name" in frame.columns:
        return normalise_texts(_texts(frame["name"]))
    return [""] * len(frame)


def _rejection(row: int, exc: ValidationError, kind: str, raw: dict[str, str]) -> Rejection:
    """A Rejection naming the first failing field in the kind's order and every message."""
    messages = exc.normalized_messages()
    order = {name: i for i, name in enumerate(KINDS[kind].all_fields)}
    failing = sorted(messages, key=lambda name: order.get(name, len(order)))
    reason = "; ".join(f"{name}: {text}" for name in failing for text in _flat(messages[name]))
    return Rejection(row, failing[0], reason, raw)


def _flat(messages: Any) -> list[str]:
    """Messages of one field as a flat list of strings."""
    if isinstance(messages, list):
        return [text for item in messages for text in _flat(item)]
    if isinstance(messages, dict):
        return [text for item in messages.values() for text in _flat(item)]
    return [str(messages)]
