"""``GET /api/v1/bulk`` and ``GET /api/v1/bulk/<date>/<file>`` through the real app, store and dump directory."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import store
from app.jobs import write_bulk
from config import Settings
from credit.changelog import last_seq
from tests.app.test_lists_api import FORMULA_NAME, seed

FIRST, SECOND = date(2026, 3, 1), date(2026, 3, 2)
FILES = ["entities.csv.gz", "entities.jsonl.gz", "lists.csv.gz", "lists.jsonl.gz"]


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Settings on the test store, with the dumps in a temporary directory."""
    return Settings(database_url=db_url, index_dir=tmp_path / "index", bulk_dir=tmp_path / "bulk", testing=True)


@pytest.fixture
def dumped(app: Flask, settings: Settings) -> int:
    """The public-list data set, dumped on two days; the change-log seq of the dumps."""
    with app.app_context():
        session = store.session()
        seed(session)
        seq = last_seq(session)
    for day in (FIRST, SECOND):
        write_bulk(settings, day)
    return seq


def listing(client: FlaskClient) -> list[dict[str, Any]]:
    response = client.get("/api/v1/bulk")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()["items"]  # type: ignore[no-any-return]


def test_no_dumps_yet_is_an_empty_list(client: FlaskClient) -> None:
    assert listing(client) == []


def test_the_dumps_are_listed_newest_first_with_their_manifests(client: FlaskClient, dumped: int,
                                                                  settings: Settings) -> None:
    items = listing(client)
    assert [item["date"] for item in items] == [SECOND.isoformat(), FIRST.isoformat()]
    assert {item["seq"] for item in items} == {dumped}
    newest = items[0]
    assert [f["name"] for f in newest["files"]] == FILES
    assert all(f["url"] == f"/api/v1/bulk/2026-03-02/{f['name']}" for f in newest["files"])
    on_disk = settings.bulk_dir / "2026-03-02"
    for item in newest["files"]:
        raw = (on_disk / item["name"]).read_bytes()
        assert (item["bytes"], item["sha256"]) == (len(raw), hashlib.sha256(raw).hexdigest())
    assert newest["generated_at"].endswith("+00:00")


def test_each_file_is_served_as_gzip_with_its_length_and_sha256_etag(client: FlaskClient, dumped: int) -> None:
    for item in listing(client)[0]["files"]:
        response = client.get(item["url"])
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/gzip"
        assert "Content-Encoding" not in response.headers  # the client must keep the bytes the hash is of
        assert int(response.headers["Content-Length"]) == item["bytes"] == len(response.data)
        assert response.headers["ETag"] == f'"{item["sha256"]}"' == f'"{hashlib.sha256(response.data).hexdigest()}"'
        assert response.cache_control.max_age and response.cache_control.public
        assert response.headers["Content-Disposition"].startswith("attachment")
        lines = gzip.decompress(response.data).decode("utf-8-sig").splitlines()
        header = 1 if item["format"] == "csv" else 0
        assert len(lines) == item["rows"] + header


def test_the_served_csv_carries_neutralised_names(client: FlaskClient, dumped: int) -> None:
    text = gzip.decompress(client.get("/api/v1/bulk/2026-03-02/lists.csv.gz").data).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    names = [row["name"] for row in rows]
    assert "'" + FORMULA_NAME in names and FORMULA_NAME not in names


def test_a_client_with_the_current_etag_gets_304(client: FlaskClient, dumped: int) -> None:
    url = "/api/v1/bulk/2026-03-01/entities.jsonl.gz"
    etag = client.get(url).headers["ETag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    assert client.get(url, headers={"If-None-Match": '"stale"'}).status_code == 200


@pytest.mark.parametrize("path", [
    "/api/v1/bulk/2026-03-02/manifest.json",  # in the folder, but not a file of the manifest
    "/api/v1/bulk/2026-03-02/secret.csv.gz",  # in the folder, but not a file of the manifest
    "/api/v1/bulk/2026-03-02/people.csv.gz",
    "/api/v1/bulk/2026-02-28/entities.csv.gz",
    "/api/v1/bulk/20260302/entities.csv.gz",
    "/api/v1/bulk/..%2f..%2fetc/passwd",
    "/api/v1/bulk/2026-03-02/..%2fmanifest.json",
    "/api/v1/bulk/..%2F2026-03-02/entities.csv.gz",
    "/api/v1/bulk/%2e%2e/entities.csv.gz",
    "/api/v1/bulk/..%5c2026-03-02/entities.csv.gz",
    "/api/v1/bulk/2026-03-02/%2e%2e%2f%2e%2e%2fstore.db",
    "/api/v1/bulk/2026-03-02",
])
def test_unknown_names_and_path_tricks_get_a_json_404(client: FlaskClient, dumped: int, settings: Settings,
                                                      path: str) -> None:
    (settings.bulk_dir / "2026-03-02" / "secret.csv.gz").write_bytes(gzip.compress("内部".encode()))
    response = client.get(path)
    assert response.status_code == 404 and response.mimetype == "application/json"
    assert set(response.get_json()["error"]) >= {"code", "message"}


def test_a_dump_being_written_is_not_listed_nor_served(client: FlaskClient, settings: Settings) -> None:
    partial = settings.bulk_dir / ".2026-03-03.tmp-abc"
    partial.mkdir(parents=True)
    (partial / "entities.csv.gz").write_bytes(gzip.compress(b"uscc\r\n"))
    (settings.bulk_dir / "2026-03-03").mkdir()  # a folder with no manifest is no dump
    assert listing(client) == []
    assert client.get("/api/v1/bulk/2026-03-03/entities.csv.gz").status_code == 404
    assert client.get("/api/v1/bulk/.2026-03-03.tmp-abc/entities.csv.gz").status_code == 404


def test_the_document_constrains_the_file_endpoint_path_parameters(client: FlaskClient) -> None:
    document = client.get("/api/openapi.json").get_json()
    operation = document["paths"]["/api/v1/bulk/{date}/{file}"]["get"]
    path = {p["name"]: p["schema"] for p in operation["parameters"] if p["in"] == "path"}
    assert path["file"]["enum"] == FILES
    assert path["date"]["pattern"] == "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
    assert set(operation["responses"]) == {"200", "304", "404", "429"}
    assert "application/gzip" in operation["responses"]["200"]["content"]
    assert "/api/v1/bulk" in document["paths"]


def test_real_files_answer_as_documented(app: Flask, dumped: int) -> None:
    """The contract test's checks on a real dump (its generated requests seldom name one)."""
    from tests.app.test_openapi_contract import CONFORMS, schema

    operation = schema["/api/v1/bulk/{date}/{file}"]["GET"]
    for name in FILES:
        case = operation.Case(path_parameters={"date": "2026-03-02", "file": name})
        assert case.call_and_validate(app=app, checks=CONFORMS).status_code == 200
    listed = schema["/api/v1/bulk"]["GET"].Case().call_and_validate(app=app, checks=CONFORMS)
    assert len(listed.json()["items"]) == 2
