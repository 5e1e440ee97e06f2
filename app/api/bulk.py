"""``GET /api/v1/bulk`` (the dumps and their manifests) and ``GET /api/v1/bulk/<date>/<file>`` (one file).

The dumps are written by the daily job and ``gongxin bulk export`` into ``GONGXIN_BULK_DIR``
(blacklist/bulk.py). Only files a dump's manifest names are served, from that dump's directory;
the ETag is the file's SHA-256 from the manifest, so a mirror can check what it fetched.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from flask import current_app, send_from_directory, url_for
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields

from app.api import bp
from app.errors import error_response
from blacklist.bulk import Dump, dump_file, list_dumps

GZIP = "application/gzip"
MAX_AGE = 3600  # seconds a cache may reuse a file; a dump of the same day may be rewritten


class BulkFileSchema(Schema):
    """One file of a dump: what it holds, its size and hash, and where to fetch it."""

    name = fields.String(required=True, metadata={"description": "entities.csv.gz, entities.jsonl.gz, …"})
    table = fields.String(required=True, metadata={"description": "entities | lists"})
    format = fields.String(required=True, metadata={"description": "csv (UTF-8 with BOM) | jsonl; gzipped"})
    rows = fields.Integer(required=True)
    bytes = fields.Integer(required=True, metadata={"description": "size of the gzipped file"})
    sha256 = fields.String(required=True, metadata={"description": "of the gzipped file; also its ETag"})
    columns = fields.List(fields.String(), required=True, metadata={"description": "CSV header and JSON keys"})
    url = fields.String(required=True)


class BulkDumpSchema(Schema):
    """A dump's manifest: its day, when it was made, and the change-log seq it reflects."""

    date = fields.Date(required=True)
    generated_at = fields.DateTime(required=True, metadata={"description": "UTC, with its offset"})
    seq = fields.Integer(required=True, metadata={
        "description": "the change-log position of the dump: follow /api/v1/changes?after=seq from it"})
    files = fields.List(fields.Nested(BulkFileSchema), required=True)


class BulkListSchema(Schema):
    """The available dumps, newest first."""

    items = fields.List(fields.Nested(BulkDumpSchema), required=True)


_dumps = BulkListSchema()


@bp.get("/bulk")
def bulk_dumps() -> ResponseReturnValue:
    """The available bulk dumps, newest first, each with its manifest: files, rows, sizes, SHA-256 and seq.

    To mirror Gongxin, load the newest dump, then follow ``/api/v1/changes?after=seq``.
    """
    body: dict[str, Any] = _dumps.dump({"items": [_view(d) for d in list_dumps(_bulk_dir())]})
    return body


@bp.get("/bulk/<date>/<file>")
def bulk_file(date: str, file: str) -> ResponseReturnValue:
    """One gzipped file of the dump of ``date``, as its manifest names it; ETag is its SHA-256."""
    found = dump_file(_bulk_dir(), date, file)
    if found is None:
        return error_response(404, "not_found", f"没有该批量数据文件：{date}/{file}")
    directory, item = found
    return send_from_directory(directory, item.name, mimetype=GZIP, as_attachment=True,
                               download_name=f"gongxin-{date}-{item.name}", etag=item.sha256, max_age=MAX_AGE)


def _bulk_dir() -> Path:
    return current_app.config["GONGXIN"].bulk_dir  # type: ignore[no-any-return]


def _view(dump: Dump) -> dict[str, Any]:
    """The manifest with each file's URL."""
    files = [{**asdict(f), "url": url_for("api.bulk_file", date=dump.date.isoformat(), file=f.name)}
             for f in dump.files]
    return {"date": dump.date, "generated_at": dump.generated_at, "seq": dump.seq, "files": files}
