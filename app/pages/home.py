"""``/`` (search box, counts, freshness of each source) and ``/sources`` (each source's latest run)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import current_app, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from app import store
from app.pages import bp
from app.pages.formatting import RUN_STATUS, age, file_name, run_error, run_failure
from app.pages.queries import active_counts, entity_count, source_states
from blacklist.catalogue import ListSpec, default_catalogue
from credit.changelog import last_seq
from credit.clock import beijing_today, utcnow
from ingest.history import RUN_COUNTS

COUNT_LABELS = {"read": "读取", "new": "新增", "updated": "更新", "unchanged": "未变", "withdrawn": "撤回",
                "rejected": "拒收", "unresolved": "待匹配", "resolved": "补匹配"}
# Where each app keeps its home-page counts between requests.
COUNTS_KEY = "gongxin.home_counts"


@dataclass(frozen=True)
class Counts:
    """What the home page counts, and the store state it was counted at."""

    seq: int
    day: date
    entities: int
    lists: tuple[tuple[ListSpec, int], ...]


def home_counts(session: Session) -> Counts:
    """The entity and list counts, counted again only when the change log moved or the day turned.

    Counting a million rows on every visit of the busiest page would cost more than the page;
    every write that changes a count (a new entity, a listing, a removal, a publicity flag)
    appends to the change log, so its last sequence number tells when the counts went stale.
    """
    seq, day = last_seq(session), beijing_today()
    cached: Counts | None = current_app.extensions.get(COUNTS_KEY)
    if cached is not None and (cached.seq, cached.day) == (seq, day):
        return cached
    by_list = active_counts(session)
    counts = Counts(seq, day, entity_count(session),
                    tuple((spec, by_list.get(spec.id, 0)) for spec in default_catalogue().lists))
    current_app.extensions[COUNTS_KEY] = counts
    return counts


@bp.get("/")
def home() -> ResponseReturnValue:
    """The search box, how much the store holds, and how fresh each source is."""
    session = store.session()
    counts = home_counts(session)
    return render_template("home.html", entities=counts.entities, lists=counts.lists,
                           sources=source_states(session, current_app.config["GONGXIN"].sources),
                           now=utcnow(), age=age, run_status=RUN_STATUS)


@bp.get("/sources")
def sources() -> ResponseReturnValue:
    """Every source: its agency, its latest run with the counts, and what its rejected rows were about."""
    states = source_states(store.session(), current_app.config["GONGXIN"].sources)
    return render_template("sources.html", sources=states, now=utcnow(), age=age, run_status=RUN_STATUS,
                           columns=[(name, COUNT_LABELS[name]) for name in RUN_COUNTS], file_name=file_name, run_error=run_error,
                           run_failure=run_failure)
