"""``/healthz``: is the store reachable, at which schema version, is there a search index."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app import search, store
from credit.changelog import last_seq
from credit.schema import current_revision, head_revision
from ingest.history import last_runs_query, run_counts
from search_index.errors import SearchError

bp = Blueprint("health", __name__)
UTC_ISO = {"description": "ISO 8601, UTC"}


class StoreStatusSchema(Schema):
    """Whether the store answers, which database it is, and its schema version (``error`` when unreachable)."""

    reachable = fields.Boolean(required=True)
    dialect = fields.String(required=True)
    schema = fields.String(allow_none=True, metadata={"description": "alembic revision; null before migration"})
    error = fields.String(metadata={"description": "the error's class name"})


class IndexStatusSchema(Schema):
    """This node's search index: engine, size, build time, and how many changes it is behind the store."""

    dir = fields.String(required=True)
    engine = fields.String(required=True)
    present = fields.Boolean(required=True)
    documents = fields.Integer()
    last_seq = fields.Integer()
    built_at = fields.String()
    behind = fields.Integer(metadata={"description": "changes in the store's log not yet in the index"})
    error = fields.String()


class RunCountsSchema(Schema):
    """Rows of one ingest run, by what became of them."""

    read = fields.Integer(required=True)
    new = fields.Integer(required=True)
    updated = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)
    withdrawn = fields.Integer(required=True)
    rejected = fields.Integer(required=True)
    unresolved = fields.Integer(required=True, metadata={"description": "held: no entity matches them yet"})
    resolved = fields.Integer(required=True, metadata={"description": "held records of earlier runs now applied"})


class SourceRunSchema(Schema):
    """The latest run of one source."""

    source = fields.String(required=True)
    status = fields.String(required=True)
    run_id = fields.Integer(required=True)
    started_at = fields.String(required=True, metadata=UTC_ISO)
    finished_at = fields.String(required=True, allow_none=True, metadata=UTC_ISO)
    file = fields.String(required=True)
    error = fields.String(required=True, allow_none=True)
    counts = fields.Nested(RunCountsSchema, required=True)


class HealthSchema(Schema):
    """``/healthz``: the same body with 200 (healthy) and 503 (unhealthy)."""

    store = fields.Nested(StoreStatusSchema, required=True)
    schema_head = fields.String(required=True, allow_none=True)
    index = fields.Nested(IndexStatusSchema, required=True)
    sources = fields.List(fields.Nested(SourceRunSchema), required=True)
    status = fields.String(required=True, metadata={"enum": ["ok", "unhealthy"]})


_health = HealthSchema()


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """200 when the store answers at the current schema version, 503 otherwise."""
    settings = current_app.config["GONGXIN"]
    body: dict[str, Any] = {"store": _store_status(), "schema_head": head_revision()}
    body["index"] = _index_status(settings.index_dir, body["store"]["reachable"] and body["store"]["schema"])
    body["sources"] = _sources() if body["store"]["reachable"] and body["store"]["schema"] else []
    healthy = body["store"]["reachable"] and body["store"]["schema"] == body["schema_head"]
    body["status"] = "ok" if healthy else "unhealthy"
    return jsonify(_health.dump(body)), 200 if healthy else 503


def _store_status() -> dict[str, Any]:
    engine = store.engine()
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"reachable": True, "dialect": engine.dialect.name, "schema": current_revision(engine)}
    except SQLAlchemyError as exc:
        return {"reachable": False, "dialect": engine.dialect.name, "error": type(exc).__name__}


def _index_status(directory: Any, store_ready: bool) -> dict[str, Any]:
    """Which engine, how many documents, and how far behind the store's change log the index is."""
    index = search.index()
    status: dict[str, Any] = {"dir": str(directory), "engine": index.engine.name, "present": False}
    try:
        meta = index.meta()
        status.update(present=True, documents=index.reader().count(), last_seq=meta.last_seq,
                      built_at=meta.built_at)
    except SearchError as exc:
        status["error"] = str(exc)
        return status
    if store_ready:
        status["behind"] = max(last_seq(store.session()) - meta.last_seq, 0)
    return status


def _sources() -> list[dict[str, Any]]:
    """The latest run of every source: when, how it ended, what it did."""
    runs = store.session().scalars(last_runs_query()).all()
    return [{
        "source": run.source_id, "status": run.status, "run_id": run.id,
        "started_at": run.started_at.isoformat(), "finished_at": run.finished_at and run.finished_at.isoformat(),
        "file": run.file_path, "error": run.error,
        "counts": run_counts(run),
    } for run in runs]
