"""The ``gongxin`` command: each subcommand a thin wrapper over one domain function."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import ScriptInfo, with_appcontext

from app import store
from credit import schema


def _create_app() -> Flask:
    from app import create_app

    return create_app()


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Gongxin (公信): enterprise credit disclosure and supervision.

    Settings come from GONGXIN_* environment variables (see the README):
    GONGXIN_DATABASE_URL, GONGXIN_INDEX_DIR, GONGXIN_SEARCH_ENGINE, GONGXIN_SOURCES.
    """
    if ctx.obj is None:
        ctx.obj = ScriptInfo(create_app=_create_app, set_debug_flag=False)


@main.group()
def db() -> None:
    """Create, migrate and inspect the credit store's schema."""


def _register() -> None:
    from app.cli_bulk import bulk_group
    from app.cli_index import index_group
    from app.cli_ingest import ingest_group, sample_data
    from app.cli_inspections import inspections_group
    from app.cli_lists import lists_group
    from app.cli_tokens import tokens_group

    main.add_command(index_group)
    main.add_command(lists_group)
    main.add_command(tokens_group)
    main.add_command(ingest_group)
    main.add_command(sample_data)
    main.add_command(bulk_group)
    main.add_command(inspections_group)


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Schema version to reach.")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Create or migrate the schema (Alembic); safe to run again."""
    engine = store.engine()
    schema.upgrade(engine, revision)
    click.echo(f"schema at {schema.current_revision(engine)} on {engine.url.render_as_string()}")


@db.command("current")
@with_appcontext
def db_current() -> None:
    """Print the schema version of the store and the newest one the code knows."""
    click.echo(f"store: {schema.current_revision(store.engine())}  code: {schema.head_revision()}")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def serve(host: str, port: int) -> None:
    """Serve the lookup (a threaded development server; use gunicorn wsgi:app in production).

    With GONGXIN_SCHEDULER=on the scheduled ingest jobs run beside it, unless another process
    already runs them.
    """
    from flask import current_app
    from werkzeug.serving import run_simple

    settings = current_app.config["GONGXIN"]
    background = None
    if settings.scheduler:
        import logging

        from app.scheduler import start_background

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        background = start_background(settings)  # None when another process holds the lock
    try:
        run_simple(host, port, current_app._get_current_object(), threaded=True)  # type: ignore[attr-defined]
    finally:
        if background is not None:
            background.shutdown(wait=True)  # releases the lock


@main.command("scheduler")
@click.option("--poll", "poll_seconds", default=15.0, show_default=True, type=float,
              help="Seconds between tries to take the scheduler lock, and between checks that it is still held.")
@with_appcontext
def scheduler_command(poll_seconds: float) -> None:
    """Run the scheduled jobs in the foreground; with several nodes one holds the lock, the others stand by."""
    import logging

    from flask import current_app

    from app.scheduler import run_scheduler
    from ingest.errors import RegistryError

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = current_app.config["GONGXIN"]
    try:
        run_scheduler(settings, poll_seconds=poll_seconds)
    except RegistryError as exc:
        raise click.ClickException(f"source registry {settings.sources}: {exc}") from exc


_register()


if __name__ == "__main__":
    main()
