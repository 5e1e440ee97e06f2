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
    from app.cli_ingest import ingest_group, sample_data

    main.add_command(ingest_group)
    main.add_command(sample_data)


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
    """Serve the lookup (a threaded development server; use gunicorn wsgi:app in production)."""
    from flask import current_app
    from werkzeug.serving import run_simple

    run_simple(host, port, current_app._get_current_object(), threaded=True)  # type: ignore[attr-defined]


_register()


if __name__ == "__main__":
    main()
