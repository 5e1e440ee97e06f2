"""``gongxin bulk export``: the day's bulk dump of entities and lists, for mirrors."""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from credit.clock import beijing_today
from blacklist.bulk import BulkError, count_rows, export_bulk, read_snapshot


@click.group("bulk")
def bulk_group() -> None:
    """Bulk data: daily dumps of every entity and every public list entry (GONGXIN_BULK_DIR)."""


@bulk_group.command("export")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="directory that holds the dated dumps (default: GONGXIN_BULK_DIR, instance/bulk)")
@click.option("--keep", type=click.IntRange(min=1), default=None,
              help="how many dumps to keep, newest first; older ones are deleted (default: GONGXIN_BULK_KEEP, 7)")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="the day the dump is named for (YYYY-MM-DD; default: today in Beijing)")
@with_appcontext
def export_command(out: Path | None, keep: int | None, as_of: datetime | None) -> None:
    """Write OUT/YYYY-MM-DD/ with entities and lists as gzipped CSV and JSON lines, and manifest.json.

    Entities carry only the public profile's attributes; list entries only what the public list
    shows (withdrawn and hidden entries never). Everything is read in one snapshot, and the
    manifest's seq is the change-log position it reflects: a mirror loads the dump, then follows
    GET /api/v1/changes?after=SEQ. The dump is written beside the target and renamed into place,
    so readers never see half of one; one of the same day is replaced. Exit 1 when it cannot be written.
    """
    settings = current_app.config["GONGXIN"]
    out_dir = out or settings.bulk_dir
    day: date = as_of.date() if as_of is not None else beijing_today()
    try:
        with read_snapshot(settings.database_url) as session:
            total = count_rows(session)
            session.rollback()  # the export begins its own snapshot
            with click.progressbar(length=total, label=f"exporting {total:,} rows", file=sys.stderr,
                                   show_pos=True) as bar:
                dump = export_bulk(session, out_dir, day, keep=keep or settings.bulk_keep, progress=bar.update)
    except BulkError as exc:
        raise click.ClickException(str(exc)) from exc
    for item in dump.files:
        click.echo(f"  {item.name:<20} {item.rows:>10,} rows {item.bytes:>14,} bytes  sha256 {item.sha256[:16]}…")
    rows = {item.table: item.rows for item in dump.files}
    click.echo(f"bulk dump {dump.date} in {dump.path}: {rows.get('entities', 0):,} entities, "
               f"{rows.get('lists', 0):,} list entries, change-log seq {dump.seq:,}")
