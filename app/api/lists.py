"""``GET /api/v1/lists`` (the catalogue) and ``GET /api/v1/lists/<id>`` (its entries: JSON, CSV or XLSX)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import IO, Any

from flask import Response, current_app, request, send_file
from flask.typing import ResponseReturnValue
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from app import store
from app.api import bp
from blacklist.catalogue import ListSpec, default_catalogue, list_by_id
from blacklist.exports import ENCODINGS, ENTRY_HEADERS, iter_csv, write_xlsx
from blacklist.queries import (
    REGION_PATTERN, STATUSES, ListQueryError, count_entries, get_entry_page, iter_entries, row_values,
)
from credit.clock import beijing_today

MAX_PER_PAGE = 100
# Exports are not paginated; this bounds one download. Tests lower it via app.config.
EXPORT_LIMIT = 100_000
# Exports stay in memory up to this size, then spill to a temporary file.
SPOOL_BYTES = 16 * 1024 * 1024
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATUS_NAMES = {"active": "在列", "removed": "已移出", "all": "全部"}


class ListArgs(Schema):
    """The query string of a list: which entries, which page, which format."""

    class Meta:
        unknown = EXCLUDE

    status = fields.String(load_default="active", validate=validate.OneOf(STATUSES))
    region = fields.String(load_default=None, validate=validate.Regexp(
        REGION_PATTERN, error="须为2、4或6位行政区划代码"))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PER_PAGE))
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv", "xlsx")))
    encoding = fields.String(load_default="utf-8", validate=validate.OneOf(tuple(ENCODINGS)))


class ListSpecSchema(Schema):
    """A catalogue entry as the public sees it."""

    id = fields.String()
    name = fields.String()
    owner = fields.String()
    legal_basis = fields.List(fields.String())
    kind = fields.String()
    entity_types = fields.List(fields.String())
    marked_entity_types = fields.List(fields.String())
    term_months = fields.Integer(allow_none=True)
    term_note = fields.String(allow_none=True)
    removal = fields.String()
    early_repair = fields.String()
    measures = fields.List(fields.String())


class CatalogueSchema(Schema):
    """The catalogue: every list."""

    items = fields.List(fields.Nested(ListSpecSchema))


class EntrySchema(Schema):
    """One entry: the allowlist of public fields."""

    uscc = fields.String(allow_none=True)
    name = fields.String()
    reason = fields.String(allow_none=True)
    listed_on = fields.Date(allow_none=True)
    listed_by = fields.String(allow_none=True)
    removed_on = fields.Date(allow_none=True)
    removal_reason = fields.String(allow_none=True)


class EntryPageSchema(Schema):
    """A page of entries with the total and the list it belongs to."""

    list = fields.Nested(ListSpecSchema)
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    items = fields.List(fields.Nested(EntrySchema))


@dataclass(frozen=True)
class ListQuery:
    """What a request asks of a list."""

    status: str
    region: str | None
    page: int
    per_page: int
    format: str
    encoding: str


_args, _catalogue, _page = ListArgs(), CatalogueSchema(), EntryPageSchema()


def parse_list_args(args: Any) -> ListQuery:
    """The query-string arguments; a bad one raises ListQueryError naming it."""
    try:
        return ListQuery(**_args.load(args))
    except ValidationError as exc:
        name, problems = next(iter(exc.messages_dict.items()))
        raise ListQueryError(name, "；".join(map(str, problems))) from exc


@bp.get("/lists")
def lists() -> ResponseReturnValue:
    """The catalogue: every list with its owner, legal basis, term, removal rules and measures."""
    body: dict[str, Any] = _catalogue.dump({"items": default_catalogue().lists})
    return body


@bp.get("/lists/<list_id>")
def list_entries(list_id: str) -> ResponseReturnValue:
    """A list's public entries: a JSON page, or the whole list (up to the export limit) as CSV or XLSX."""
    spec = list_by_id(list_id)
    query = parse_list_args(request.args)
    if query.format != "json":
        return _export(spec, query)
    page = get_entry_page(store.session(), spec.id, status=query.status, region=query.region,
                          page=query.page, per_page=query.per_page)
    body: dict[str, Any] = _page.dump({"list": spec, **asdict(page)})
    return body


def _export(spec: ListSpec, query: ListQuery) -> Response:
    """The list as a downloadable file, with headers that say whether it was cut at the limit."""
    session, limit = store.session(), int(current_app.config.get("GONGXIN_EXPORT_LIMIT", EXPORT_LIMIT))
    total = count_entries(session, spec.id, query.status, query.region)
    rows = (row_values(r) for r in iter_entries(session, spec.id, status=query.status,
                                                  region=query.region, limit=limit))
    out = _spool(spec, query, rows, _notes(spec, query, total, limit))
    response = send_file(out, mimetype=XLSX_TYPE if query.format == "xlsx" else "text/csv",
                         as_attachment=True, download_name=_filename(spec, query))
    response.headers.update(_export_headers(total, limit))
    if query.format == "csv":
        # send_file would name UTF-8 for any text type; say what the bytes really are.
        response.headers["Content-Type"] = f"text/csv; charset={query.encoding}"
    return response


def _spool(spec: ListSpec, query: ListQuery, rows: Iterable[list[Any]], notes: list[str]) -> IO[bytes]:
    """The whole file, written before sending and rewound.

    Reading the store is fast and a client may be slow; on SQLite an open read transaction would
    hold the store's write lock for the whole download. Memory first, a temporary file when large.
    """
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    if query.format == "csv":
        out.writelines(iter_csv(ENTRY_HEADERS, rows, query.encoding))
    else:
        write_xlsx(out, ENTRY_HEADERS, rows, title=spec.name, notes=notes)
    out.seek(0)
    return out


def _notes(spec: ListSpec, query: ListQuery, total: int, limit: int) -> list[str]:
    """What the notes sheet says: which list, which entries, when, and whether it was cut."""
    notes = [f"名单：{spec.name}（{spec.id}）", f"决定机关：{spec.owner}",
             f"范围：{STATUS_NAMES[query.status]}" + (f"，行政区划 {query.region}" if query.region else ""),
             f"导出日期：{beijing_today().isoformat()}", f"符合条件的记录共 {total} 条"]
    if total > limit:
        notes.append(f"导出上限为 {limit} 条，本文件只含前 {limit} 条；请按行政区划分批导出")
    return notes


def _export_headers(total: int, limit: int) -> dict[str, str]:
    """Headers a program can check: the total, the limit, and whether this file holds everything."""
    return {"X-Total-Count": str(total), "X-Export-Limit": str(limit),
            "X-Export-Truncated": "true" if total > limit else "false"}


def _filename(spec: ListSpec, query: ListQuery) -> str:
    """``abnormal-active-4403-2026-11-28.csv``: list, status, region when given, day, format."""
    parts = [spec.id, query.status, query.region, beijing_today().isoformat()]
    return "-".join(p for p in parts if p) + "." + query.format
