"""``gongxin lists apply``: the dated list rules, for a day."""

from __future__ import annotations

from datetime import date

import click
from flask.cli import with_appcontext

from app import search, store
from credit.clock import beijing_today
from blacklist.errors import BlacklistError
from blacklist.rules import apply_list_rules
from search_index.errors import SearchError
from search_index.maintain import sync

COUNT_LABELS = {
    "listed": "listed (annual report not published in time)",
    "removed:report_filed": "removed: missing report filed",
    "removed:address_changed": "removed: address re-registered",
    "removed:deregistered": "removed: entity deregistered",
    "listed:serious_penalty": "listed on the serious list for a heavier penalty in a listed domain",
    "removed:transferred": "moved to the serious illegal & dishonest list (3 years)",
    "removed:expired": "removed: term expired",
    "notices": "notices of a coming transfer (60 days before)",
    "marked": "individual businesses marked abnormal (annual report not published in time)",
    "removed:mark_report_filed": "marks restored: missing report filed",
    "removed:mark_address_changed": "marks restored: premises re-registered",
    "removed:mark_deregistered": "marks ended: business deregistered",
}


@click.group("lists")
def lists_group() -> None:
    """The abnormal-operation, serious illegal & dishonest and sector lists."""


@lists_group.command("apply")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="the day to apply the rules for (YYYY-MM-DD; default: today in Beijing)")
@with_appcontext
def apply_command(as_of: object) -> None:
    """Apply the dated rules for a day: list overdue annual reports, remove remedied listings,
    send 3-year notices, move 3-year listings to the serious list, end expired terms.

    Running it twice for the same day changes nothing. The search index is synced afterwards
    (list flags are searchable).
    """
    day: date = as_of.date() if as_of is not None else beijing_today()  # type: ignore[attr-defined]
    try:
        report = apply_list_rules(store.session(), day)
    except BlacklistError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"list rules as of {day}:")
    for key, label in COUNT_LABELS.items():
        click.echo(f"  {report.counts.get(key, 0):>8,}  {label}")
    try:
        sync(store.session(), search.index())
    except SearchError as exc:
        click.echo(f"warning: the search index was not synced ({exc}); run `gongxin index sync`", err=True)
