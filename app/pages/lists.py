"""``/lists`` (the catalogue) and ``/lists/<id>`` (one list's entries, filters, pages and downloads)."""

from __future__ import annotations

from typing import Any

from flask import render_template, request, url_for
from flask.typing import ResponseReturnValue

from app import store
from app.api.lists import STATUS_NAMES, parse_list_args
from app.pages import bp
from app.pages.paging import make_pager
from app.pages.queries import active_counts
from blacklist.catalogue import default_catalogue, list_by_id
from blacklist.errors import ListQueryError
from blacklist.queries import get_entry_page

MAX_PAGE = 100_000  # the deepest page the list API accepts
DOWNLOADS = (("csv", "utf-8", "CSV（UTF-8）"), ("csv", "gb18030", "CSV（GB18030，适合旧版 Excel）"),
             ("xlsx", None, "Excel（XLSX）"))
KIND_NAMES = {"blacklist": "失信惩戒", "commendation": "守信激励"}


@bp.get("/lists")
def catalogue() -> ResponseReturnValue:
    """Every list with its owner, legal basis, term, removal rules, measures and how many it holds now."""
    counts = active_counts(store.session())
    lists = [(spec, counts.get(spec.id, 0)) for spec in default_catalogue().lists]
    return render_template("lists.html", lists=lists, kinds=KIND_NAMES)


@bp.get("/lists/<list_id>")
def entries(list_id: str) -> ResponseReturnValue:
    """One page of a list's public entries, filtered by status and region, with download links."""
    spec = list_by_id(list_id)
    form = {"status": request.args.get("status", "active")[:20], "region": request.args.get("region", "")[:20]}
    context: dict[str, Any] = {"spec": spec, "form": form, "statuses": STATUS_NAMES, "kinds": KIND_NAMES}
    try:
        query = parse_list_args(request.args)
        page = get_entry_page(store.session(), spec.id, status=query.status, region=query.region,
                              page=query.page, per_page=query.per_page)
    except ListQueryError as exc:
        message = {"status": "状态", "region": "行政区划", "page": "页码", "per_page": "每页条数"}.get(
            exc.argument, exc.argument)
        return render_template("list.html", message=f"{message}参数无效：{exc.problem}", **context), 400
    kept = {k: v for k, v in (("status", query.status), ("region", query.region)) if v}
    if query.per_page != 20:
        kept["per_page"] = query.per_page
    pager = make_pager(page.total, page.page, page.per_page,
                       lambda n: url_for("pages.entries", list_id=spec.id, **kept, page=n),
                       max_pages=MAX_PAGE)
    downloads = [(label, url_for("api.list_entries", list_id=spec.id, format=fmt, status=query.status,
                                 region=query.region, encoding=encoding))
                 for fmt, encoding, label in DOWNLOADS]
    return render_template("list.html", page=page, pager=pager, downloads=downloads, **context)
