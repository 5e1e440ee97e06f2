"""``gongxin index rebuild | sync | check``: thin wrappers over search_index.maintain."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from app import search, store
from credit.models import Entity
from search_index.errors import SearchError
from search_index.maintain import CheckReport, SyncReport, check, rebuild, sync

WAIT_HELP = "seconds to wait for another process that is writing the index"


@click.group("index")
def index_group() -> None:
    """Build, update and verify this node's search index (GONGXIN_INDEX_DIR, GONGXIN_SEARCH_ENGINE)."""


@index_group.command("rebuild")
@click.option("--wait", default=30.0, show_default=True, help=WAIT_HELP)
@with_appcontext
def rebuild_command(wait: float) -> None:
    """Build a new index from the store beside the live one and swap it in; searches go on meanwhile."""
    index, session = search.index(), store.session()
    total = int(session.execute(select(func.count()).select_from(Entity)).scalar_one())
    try:
        with click.progressbar(length=total, label=f"indexing {total:,} entities ({index.engine.name})",
                               file=sys.stderr, show_pos=True) as bar:
            report = rebuild(session, index, progress=bar.update, wait=wait)
    except SearchError as exc:
        raise click.ClickException(str(exc)) from exc
    _echo_sync(report)


@index_group.command("sync")
@click.option("--wait", default=30.0, show_default=True, help=WAIT_HELP)
@with_appcontext
def sync_command(wait: float) -> None:
    """Apply the store's change log since the index's last position (builds the index if there is none)."""
    try:
        report = sync(store.session(), search.index(), wait=wait)
    except SearchError as exc:
        raise click.ClickException(str(exc)) from exc
    _echo_sync(report)


@index_group.command("check")
@click.option("--sample", default=200, show_default=True, help="random entities compared field by field")
@click.option("--seed", type=int, default=None, help="seed of the sample, to repeat a check")
@with_appcontext
def check_command(sample: int, seed: int | None) -> None:
    """Compare the index with the store (counts, change-log position, a random sample); exit 1 on a difference."""
    try:
        report = check(store.session(), search.index(), sample=sample, seed=seed)
    except SearchError as exc:
        raise click.ClickException(str(exc)) from exc
    _echo_check(report)
    if not report.ok:
        sys.exit(1)


def _echo_sync(report: SyncReport) -> None:
    what = "rebuilt; " if report.rebuilt else ""
    click.echo(f"{what}{report.changes:,} change-log entries applied, {report.updated:,} documents written,"
               f" {report.deleted:,} removed; index at change-log seq {report.last_seq:,}")


def _echo_check(report: CheckReport) -> None:
    click.echo(f"store: {report.store_entities:,} entities, change log at {report.store_seq:,}")
    click.echo(f"index: {report.index_documents:,} documents, change log at {report.index_seq:,}")
    click.echo(f"sampled {report.sampled:,} entities: {len(report.differences)} difference(s)")
    for line in report.differences[:50]:
        click.echo(f"  - {line}")
    click.echo("OK" if report.ok else "DIFFERENT")
