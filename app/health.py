"""``/healthz``: is the store reachable, at which schema version, is there a search index."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app import search, store
from credit.changelog import last_seq
from credit.schema import current_revision, head_revision
from ingest.history import last_runs_query
from search_index.errors import SearchError

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """200 when the store answers at the current schema version, 503 otherwise."""
    settings = current_app.config["GONGXIN"]
    body: dict[str, Any] = {"store": _store_status(), "schema_head": head_revision()}
    body["index"] = _index_status(settings.index_dir, body["store"]["reachable"] and body["store"]["schema"])
    body["sources"] = _sources() if body["store"]["reachable"] and body["store"]["schema"] else []
    healthy = body["store"]["reachable"] and body["store"]["schema"] == body["schema_head"]
    body["status"] = "ok" if healthy else "unhealthy"
    return jsonify(body), 200 if healthy else 503


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
        "counts": {c: getattr(run, f"rows_{c}") for c in ("read", "new", "updated", "unchanged", "withdrawn",
                                                          "rejected", "unresolved", "resolved")},
    } for run in runs]
