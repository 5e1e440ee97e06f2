"""``GET /api/v1/sources``: every source with its agency, kind, format and schedule, and its last run."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import store
from config import Settings
from ingest.registry import load_registry
from ingest.runs import run_source
from tests.factories import new_uscc
from tests.ingest.builders import REGISTRATION, source, write_registry, write_rows

TAX = "国家税务总局深圳市税务局"
CUSTOMS = "深圳海关"
HEADERS = [REGISTRATION[f] for f in ("uscc", "name", "status", "established_on")]


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """The test settings with a source registry in the test's directory."""
    return settings.with_overrides(sources=tmp_path / "sources.toml")


def registration(source_id: str, files: str, **extra: object) -> dict[str, object]:
    """A registration source block reading the four usual columns."""
    return source(source_id, "registration", files, {f: REGISTRATION[f] for f in ("uscc", "name", "status",
                                                                                    "established_on")}, **extra)


@pytest.fixture
def ingested(app: Flask, tmp_path: Path) -> None:
    """Runs: the registry's file with one bad row (twice: a newer file), a customs file, a source since removed."""
    drop = tmp_path / "drop"
    rows = [[new_uscc(70 + n), f"深圳市{word}科技有限公司", "存续", "2018-04-02"] for n, word in enumerate("甲乙丙")]
    write_rows(drop / "reg-1.csv", HEADERS, rows[:1])
    write_rows(drop / "customs-1.csv", HEADERS[:2], [[new_uscc(80), "深圳市丁进出口有限公司"]])  # lacks columns
    write_rows(drop / "old-1.csv", HEADERS, [[new_uscc(90), "深圳市戊商贸有限公司", "在业", "2016-01-01"]])
    blocks = [registration("samr-registration", "drop/reg-*.csv"),
              registration("customs-sz", "drop/customs-*.csv", agency=CUSTOMS, format="csv", schedule="0 2 * * *"),
              registration("tax-sz", "drop/tax-*.xlsx", agency=TAX, format="xlsx", rank=50, schedule="30 3 * * 1")]
    path = write_registry(tmp_path, [*blocks, registration("retired", "drop/old-*.csv")])
    with app.app_context():
        for spec in load_registry(path).sources:
            run_source(store.session_factory(), spec)
        write_rows(drop / "reg-2.csv", HEADERS, rows + [["91440300MA5FXXXXXI", "深圳市坏行数据有限公司", "存续",
                                                           "2019-02-30"]])
        run_source(store.session_factory(), load_registry(path).get("samr-registration"))
    write_registry(tmp_path, blocks)  # "retired" leaves the registry; its run stays


def test_every_declared_source_in_order_then_those_that_left(client: FlaskClient, ingested: None) -> None:
    response = client.get("/api/v1/sources")
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [(s["id"], s["declared"]) for s in items] == [
        ("samr-registration", True), ("customs-sz", True), ("tax-sz", True), ("retired", False)]
    tax = items[2]
    assert {k: tax[k] for k in ("agency", "kind", "format", "schedule", "list", "last_run")} == {
        "agency": TAX, "kind": "registration", "format": "xlsx", "schedule": "30 3 * * 1", "list": None,
        "last_run": None}
    retired = items[3]
    assert (retired["agency"], retired["kind"], retired["format"]) == (None, None, None)
    assert retired["last_run"]["status"] == "applied" and retired["last_run"]["counts"]["new"] == 1


def test_the_last_run_with_its_counts_and_rejected_rows(client: FlaskClient, ingested: None) -> None:
    registry, customs = client.get("/api/v1/sources").get_json()["items"][:2]
    run = registry["last_run"]  # the second file's run, not the first's
    assert run["status"] == "applied" and run["started_at"] <= run["finished_at"]
    assert run["started_at"].endswith("+00:00") and run["finished_at"].endswith("+00:00")  # RFC 3339, UTC
    assert run["counts"] == {"read": 4, "new": 2, "updated": 0, "unchanged": 1, "withdrawn": 0, "rejected": 1,
                             "unresolved": 0, "resolved": 0}
    assert (registry["agency"], registry["schedule"]) == ("深圳市市场监督管理局", "*/15 * * * *")
    assert customs["last_run"]["status"] == "failed" and customs["last_run"]["counts"]["read"] == 0


def test_no_file_paths_or_error_text_are_public(client: FlaskClient, ingested: None, tmp_path: Path) -> None:
    text = client.get("/api/v1/sources").get_data(as_text=True)
    assert str(tmp_path) not in text and ".csv" not in text and "missing" not in text
    assert '"file"' not in text and '"error"' not in text and '"run_id"' not in text


def test_sources_without_a_registry_or_runs(client: FlaskClient) -> None:
    response = client.get("/api/v1/sources")
    assert response.status_code == 200 and response.get_json() == {"items": []}
