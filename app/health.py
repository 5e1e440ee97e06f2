"""``/healthz``: is the store reachable, at which schema version, is there a search index."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app import store
from credit.schema import current_revision, head_revision
from ingest.history import last_runs_query

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """200 when the store answers at the current schema version, 503 otherwise."""
    settings = current_app.config["GONGXIN"]
    body: dict[str, Any] = {"store": _store_status(), "schema_head": head_revision()}
    body["index"] = {"dir": str(settings.index_dir), "present": settings.index_dir.exists()}
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
