"""``gongxin ingest …`` and ``gongxin sample-data``: thin wrappers over ingest functions."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from app import store
from app.jobs import after_ingest
from ingest.errors import IngestError
from ingest.history import RUN_COUNTS, rejected_query, run_counts, runs_query, unresolved_query
from ingest.registry import Registry, load_registry
from ingest.prepare import PARALLEL_BYTES
from ingest.runs import CHUNK_ROWS, RunReport, run_file, run_source



@click.group("ingest")
def ingest_group() -> None:
    """Run regulators' files into the store; see runs, rejected rows and unresolved records."""


def _registry() -> Registry:
    path = current_app.config["GONGXIN"].sources
    try:
        return load_registry(Path(path))
    except (IngestError, OSError) as exc:
        raise click.ClickException(f"source registry {path}: {exc}") from exc


class _Progress:
    """Rows done and rate on one terminal line (silent when stderr is not a terminal)."""

    def __init__(self, label: str) -> None:
        self.label, self.rows, self.start = label, 0, time.perf_counter()
        self.live = sys.stderr.isatty()

    def __call__(self, rows: int) -> None:
        self.rows += rows
        if self.live:
            rate = self.rows / max(time.perf_counter() - self.start, 1e-9)
            click.echo(f"\r{self.label}: {self.rows:,} rows ({rate:,.0f} rows/s)", nl=False, err=True)

    def done(self) -> None:
        if self.live and self.rows:
            click.echo(err=True)


def _after(reports: list[RunReport]) -> None:
    """The steps every ingest is followed by (index sync); their failure is reported, the ingest stands."""
    try:
        after_ingest(current_app.config["GONGXIN"], reports)
    except Exception as exc:  # noqa: BLE001 - the ingest is committed; say what to run next
        click.echo(f"warning: the steps after the ingest failed ({exc}); run `gongxin index sync`", err=True)


def _summary(reports: list[RunReport]) -> None:
    """One line per file: status, counts, seconds, and the error of a failed file."""
    header = f"{'source':<24} {'status':<9} " + " ".join(f"{c:>10}" for c in RUN_COUNTS) + "  seconds  file"
    click.echo(header)
    for r in reports:
        counts = " ".join(f"{r.counts.get(c, 0):>10,}" for c in RUN_COUNTS)
        click.echo(f"{r.source_id:<24} {r.status:<9} {counts} {r.seconds:>8.1f}  {r.path}")
        if r.error:
            click.echo(f"  error: {r.error}", err=True)


@ingest_group.command("run")
@click.argument("source_ids", nargs=-1)
@click.option("--force", is_flag=True, help="Apply files even when the same file was applied before.")
@with_appcontext
def ingest_run(source_ids: tuple[str, ...], force: bool) -> None:
    """Run these sources now (all when none are named).

    Exits 0 when every file was applied (rejected rows included), 1 when a file failed.
    """
    registry = _registry()
    try:
        specs = [registry.get(s) for s in source_ids] if source_ids else list(registry.sources)
    except IngestError as exc:
        raise click.ClickException(str(exc)) from exc
    reports: list[RunReport] = []
    for spec in specs:
        progress = _Progress(spec.id)
        reports += run_source(store.session_factory(), spec, progress=progress, force=force)
        progress.done()
    _summary(reports)
    _after(reports)
    if any(r.status == "failed" for r in reports):
        sys.exit(1)


@ingest_group.command("file")
@click.argument("source_id")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Apply the file even when it was applied before.")
@click.option("--chunk-rows", default=CHUNK_ROWS, show_default=True, help="Rows read and merged at a time.")
@click.option("--parallel-above", default=PARALLEL_BYTES, show_default=True,
              help="Files larger than this many bytes are validated in a helper process, ahead of the merge.")
@with_appcontext
def ingest_file(source_id: str, path: Path, force: bool, chunk_rows: int, parallel_above: int) -> None:
    """Ingest one file as the source SOURCE_ID."""
    try:
        spec = _registry().get(source_id)
    except IngestError as exc:
        raise click.ClickException(str(exc)) from exc
    progress = _Progress(source_id)
    report = run_file(store.session_factory(), spec, path, progress=progress, force=force, chunk_rows=chunk_rows,
                      parallel_bytes=parallel_above)
    progress.done()
    _summary([report])
    _after([report])
    if report.status == "failed":
        sys.exit(1)


@ingest_group.command("runs")
@click.option("--source", "source_id", help="Only this source.")
@click.option("--limit", default=50, show_default=True, help="How many runs, newest first.")
@with_appcontext
def ingest_runs(source_id: str | None, limit: int) -> None:
    """The history of ingest runs with their counts."""
    click.echo(f"{'run':>6} {'source':<24} {'status':<9} {'started (UTC)':<19} "
               + " ".join(f"{c:>10}" for c in RUN_COUNTS) + "  file")
    for run in store.session().scalars(runs_query(source_id, limit)):
        counts = " ".join(f"{n:>10,}" for n in run_counts(run).values())
        click.echo(f"{run.id:>6} {run.source_id:<24} {run.status:<9} {run.started_at:%Y-%m-%d %H:%M:%S} {counts}  {run.file_path}")
        if run.error:
            click.echo(f"       error: {run.error}")


@ingest_group.command("rejected")
@click.argument("run_id", type=int)
@click.option("--limit", default=1000, show_default=True)
@with_appcontext
def ingest_rejected(run_id: int, limit: int) -> None:
    """The rejected rows of RUN_ID: row number (as a spreadsheet counts it), field, reason."""
    rows = store.session().scalars(rejected_query(run_id, limit)).all()
    if not rows:
        click.echo(f"run {run_id} has no rejected rows")
    for row in rows:
        click.echo(f"row {row.row_number:>7}  {row.field or '-':<16} {row.reason}")


@ingest_group.command("unresolved")
@click.option("--source", "source_id", help="Only this source.")
@click.option("--limit", default=1000, show_default=True)
@with_appcontext
def ingest_unresolved(source_id: str | None, limit: int) -> None:
    """Records held because no entity matches them; they are retried on every run of their source."""
    for rec in store.session().scalars(unresolved_query(source_id, limit)):
        ids = ", ".join(f"{k}={v}" for k, v in rec.identity.items() if v)
        click.echo(f"{rec.source:<24} row {rec.row_number or 0:>7}  {ids}  tries={rec.attempts}  {rec.reason}")


def _has_entities() -> bool:
    from sqlalchemy import select

    from credit.models import Entity

    return store.session().execute(select(Entity.id).limit(1)).first() is not None


@click.command("sample-data")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--entities", default=20_000, show_default=True, help="How many market entities.")
@click.option("--seed", default=1, show_default=True, help="Same seed, same files.")
@click.option("--if-store-empty", is_flag=True,
              help="Write nothing when the store already holds entities or DIRECTORY already has a registry.")
@with_appcontext
def sample_data(directory: Path, entities: int, seed: int, if_store_empty: bool) -> None:
    """Write realistic regulator files for every record kind, and DIRECTORY/sources.toml mapping them.

    About 1% of the rows of every file carry each kind of real defect (malformed code, check
    character mismatch, bad date, missing name, unknown entity, duplicate key).
    """
    from ingest.sample import write_sample_data

    if if_store_empty and ((directory / "sources.toml").exists() or _has_entities()):
        click.echo(f"sample data: skipped (the store has entities or {directory}/sources.toml exists)")
        return

    summary = write_sample_data(directory, entities=entities, seed=seed)
    for f in summary.files:
        planted = sum(f.defects.values())
        click.echo(f"{f.source:<24} {f.rows:>9,} rows  {planted:>6,} planted defects  {f.path}")
    click.echo(f"registry: {summary.registry}")
