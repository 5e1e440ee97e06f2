"""``GET /api/v1/sources``: every source, who sends it, how often, and what its last run did.

Declared sources come from the registry (``GONGXIN_SOURCES``) in its order, then any source
that has run but is no longer declared. The last run is the one ``/healthz`` and the sources
page show (``ingest.history.last_runs_query``); its file path and error text stay internal.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from flask import current_app
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields

from app import store
from app.api import bp
from app.health import RunCountsSchema
from app.pages.queries import registry_sources
from credit.models import IngestRun
from ingest.history import last_runs_query, run_counts
from ingest.registry import SourceSpec



class SourceLastRunSchema(Schema):
    """A source's last ingest run."""

    status = fields.String(required=True, metadata={"description": "applied | failed"})
    started_at = fields.DateTime(required=True, metadata={"description": "UTC, with its offset"})
    finished_at = fields.DateTime(required=True, allow_none=True, metadata={"description": "UTC, with its offset"})
    counts = fields.Nested(RunCountsSchema, required=True)


class SourceSchema(Schema):
    """A regulator's source: who sends it, what, in which format, on what schedule, and its last run."""

    id = fields.String(required=True)
    agency = fields.String(required=True, allow_none=True)
    kind = fields.String(required=True, allow_none=True)
    format = fields.String(required=True, allow_none=True)
    schedule = fields.String(required=True, allow_none=True, metadata={"description": "cron, Beijing time"})
    list = fields.String(required=True, allow_none=True, metadata={"description": "the list it feeds (sector lists)"})
    declared = fields.Boolean(required=True, metadata={"description": "false: it has run but left the registry"})
    last_run = fields.Nested(SourceLastRunSchema, required=True, allow_none=True)


class SourceListSchema(Schema):
    """Every source."""

    items = fields.List(fields.Nested(SourceSchema), required=True)


_sources = SourceListSchema()


@bp.get("/sources")
def sources() -> ResponseReturnValue:
    """Every declared source, and every source that has run, each with its last run."""
    declared = {spec.id: spec for spec in registry_sources(current_app.config["GONGXIN"].sources)}
    runs = {run.source_id: run for run in store.session().scalars(last_runs_query())}
    ids = list(declared) + sorted(runs.keys() - declared.keys())
    body: dict[str, Any] = _sources.dump({"items": [source_view(i, declared.get(i), runs.get(i)) for i in ids]})
    return body


def source_view(source_id: str, spec: SourceSpec | None, run: IngestRun | None) -> dict[str, Any]:
    """One source in the documented shape (no file paths, no error text)."""
    view: dict[str, Any] = dict.fromkeys(("agency", "kind", "format", "schedule", "list", "last_run"))
    view.update(id=source_id, declared=spec is not None)
    if spec is not None:
        view.update(agency=spec.agency, kind=spec.kind, format=spec.format, schedule=spec.schedule, list=spec.list_id)
    if run is not None:
        counts = run_counts(run)
        finished = run.finished_at and run.finished_at.replace(tzinfo=UTC)
        view["last_run"] = {"status": run.status, "started_at": run.started_at.replace(tzinfo=UTC),
                            "finished_at": finished, "counts": counts}
    return view
