"""``/`` (search box, counts, freshness of each source) and ``/sources`` (each source's latest run)."""

from __future__ import annotations

from flask import current_app, render_template
from flask.typing import ResponseReturnValue

from app import store
from app.pages import bp
from app.pages.formatting import RUN_STATUS, age, file_name, run_error
from app.pages.queries import active_counts, entity_count, source_states
from blacklist.catalogue import default_catalogue
from credit.clock import utcnow

COUNT_COLUMNS = (("read", "读取"), ("new", "新增"), ("updated", "更新"), ("unchanged", "未变"),
                 ("withdrawn", "撤回"), ("rejected", "拒收"), ("unresolved", "待匹配"))


@bp.get("/")
def home() -> ResponseReturnValue:
    """The search box, how much the store holds, and how fresh each source is."""
    session = store.session()
    counts = active_counts(session)
    lists = [(spec, counts.get(spec.id, 0)) for spec in default_catalogue().lists]
    return render_template("home.html", entities=entity_count(session), lists=lists,
                           sources=source_states(session, current_app.config["GONGXIN"].sources),
                           now=utcnow(), age=age, run_status=RUN_STATUS)


@bp.get("/sources")
def sources() -> ResponseReturnValue:
    """Every source: its agency, its latest run with the counts, and what its rejected rows were about."""
    states = source_states(store.session(), current_app.config["GONGXIN"].sources)
    return render_template("sources.html", sources=states, now=utcnow(), age=age, run_status=RUN_STATUS,
                           columns=COUNT_COLUMNS, file_name=file_name, run_error=run_error)
