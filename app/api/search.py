"""``GET /api/v1/search``: arguments → one search → the page, dumped through an allowlist."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.typing import ResponseReturnValue
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from app import search
from app.api import bp
from search_index.errors import QueryError
from search_index.index import SearchPage
from search_index.query import MAX_PER_PAGE, SearchRequest


class SearchArgs(Schema):
    """The query string: text, page and filters."""

    class Meta:
        unknown = EXCLUDE

    q = fields.String(load_default="")
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PER_PAGE))
    region = fields.String(load_default=None, validate=validate.Length(max=6))
    industry = fields.String(load_default=None, validate=validate.Length(max=200))
    status = fields.String(load_default=None, validate=validate.Length(max=40))


class HitSchema(Schema):
    """One result: what a result list shows, and where the name matched."""

    uscc = fields.String(allow_none=True)
    name = fields.String()
    status = fields.String(allow_none=True)
    region = fields.String(allow_none=True)
    industry = fields.String(allow_none=True)
    flags = fields.List(fields.String())
    highlights = fields.List(fields.List(fields.Integer()))


class PageSchema(Schema):
    """A page of results with the total."""

    total = fields.Integer()
    total_exact = fields.Boolean(metadata={"description": "false: more matched than were counted; total is a lower bound"})
    page = fields.Integer()
    per_page = fields.Integer()
    approximate = fields.Boolean()
    ignored = fields.List(fields.String())
    items = fields.List(fields.Nested(HitSchema), attribute="hits")


_args, _page = SearchArgs(), PageSchema()


def parse_search_args(args: Any) -> SearchRequest:
    """A SearchRequest from query-string arguments; a bad argument raises QueryError naming it."""
    try:
        loaded = _args.load(args)
    except ValidationError as exc:
        name, problems = next(iter(exc.messages_dict.items()))
        raise QueryError(f"参数 {name} 无效：{'；'.join(map(str, problems))}") from exc
    flags = tuple(f for f in args.getlist("flag") if f)[:10]
    return SearchRequest(flags=flags, **loaded)


def dump_page(page: SearchPage) -> dict[str, Any]:
    """The JSON body of a page."""
    return _page.dump(page)  # type: ignore[no-any-return]


@bp.get("/search")
def search_entities() -> ResponseReturnValue:
    """Entities matching ``q`` (name fragment, pinyin, USCC, registration number or prefix), with filters."""
    return dump_page(search.index().search(parse_search_args(request.args)))
