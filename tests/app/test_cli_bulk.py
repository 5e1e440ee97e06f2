"""``gongxin bulk export`` and the daily job's dump, against the real app and store."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import func, select

from app import jobs, store
from app.jobs import daily_job
from credit.clock import beijing_today
from config import Settings, load_settings
from credit.changelog import last_seq
from credit.models import Entity
from tests.app.test_lists_api import seed

Cli = Callable[..., Result]


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Settings on the test store, with the dumps in a temporary directory and two kept."""
    return Settings(database_url=db_url, index_dir=tmp_path / "index", bulk_dir=tmp_path / "bulk", bulk_keep=2,
                    testing=True)


@pytest.fixture
def seeded(app: Flask) -> tuple[int, int]:
    """The public-list data set; how many entities it has and its change-log seq."""
    with app.app_context():
        session = store.session()
        seed(session)
        return int(session.scalar(select(func.count()).select_from(Entity)) or 0), last_seq(session)


@pytest.fixture
def no_cached_engines() -> Iterator[None]:
    """The jobs' cached engines closed after the test."""
    yield
    jobs.dispose_engines()


def dump_days(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_help_explains_the_dump_and_its_options(cli: Cli) -> None:
    result = cli("bulk", "export", "--help")
    assert result.exit_code == 0
    for text in ("--out", "--keep", "--as-of", "manifest.json", "/api/v1/changes?after=SEQ", "gzip"):
        assert text in result.output
    assert "bulk" in cli("--help").output


def test_export_writes_the_dated_dump_and_prints_a_summary(cli: Cli, seeded: tuple[int, int], tmp_path: Path) -> None:
    entities, seq = seeded
    out = tmp_path / "elsewhere"
    result = cli("bulk", "export", "--out", str(out), "--as-of", "2026-03-02")
    assert result.exit_code == 0, result.output
    assert dump_days(out) == ["2026-03-02"]
    manifest = json.loads((out / "2026-03-02" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seq"] == seq
    summary = result.output.strip().splitlines()[-1]
    assert f"{entities:,} entities" in summary and f"seq {seq:,}" in summary and str(out / "2026-03-02") in summary
    for item in manifest["files"]:
        assert item["name"] in result.output


def test_export_defaults_to_the_settings_directory_today_and_keep(cli: Cli, seeded: tuple[int, int],
                                                                  settings: Settings) -> None:
    for day in ("2020-01-01", "2020-01-02"):
        assert cli("bulk", "export", "--as-of", day).exit_code == 0
    result = cli("bulk", "export")
    assert result.exit_code == 0, result.output
    assert dump_days(settings.bulk_dir) == ["2020-01-02", beijing_today().isoformat()]  # bulk_keep=2


def test_keep_prunes_older_dumps(cli: Cli, seeded: tuple[int, int], tmp_path: Path) -> None:
    out = str(tmp_path / "out")
    for day in ("2026-03-01", "2026-03-03", "2026-03-02"):
        assert cli("bulk", "export", "--out", out, "--as-of", day, "--keep", "1").exit_code == 0
    assert dump_days(tmp_path / "out") == ["2026-03-03"]


def test_a_directory_that_cannot_be_written_exits_1_with_the_reason(cli: Cli, seeded: tuple[int, int],
                                                                    tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("占位", encoding="utf-8")
    result = cli("bulk", "export", "--out", str(blocker / "bulk"))
    assert result.exit_code == 1
    assert "Error:" in result.output and "a-file" in result.output


@pytest.mark.parametrize("args", [["--as-of", "2026-13-01"], ["--keep", "0"], ["--keep", "many"]])
def test_bad_arguments_exit_2(cli: Cli, args: list[str]) -> None:
    assert cli("bulk", "export", *args).exit_code == 2


def test_the_daily_job_writes_the_day_s_dump(settings: Settings, seeded: tuple[int, int],
                                             no_cached_engines: None) -> None:
    daily_job(settings)
    assert dump_days(settings.bulk_dir) == [beijing_today().isoformat()]


def test_the_daily_job_logs_a_failed_dump_and_never_raises(settings: Settings, tmp_path: Path,
                                                           caplog: pytest.LogCaptureFixture,
                                                           no_cached_engines: None) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("占位", encoding="utf-8")
    with caplog.at_level(logging.ERROR, logger="app.jobs"):
        daily_job(settings.with_overrides(bulk_dir=blocker / "bulk"))
    assert any("bulk export failed" in r.getMessage() for r in caplog.records)


def test_the_settings_come_from_the_environment(tmp_path: Path) -> None:
    loaded = load_settings({"GONGXIN_BULK_DIR": str(tmp_path / "dumps"), "GONGXIN_BULK_KEEP": "30"})
    assert (loaded.bulk_dir, loaded.bulk_keep) == (tmp_path / "dumps", 30)
    assert (load_settings({}).bulk_dir.name, load_settings({}).bulk_keep) == ("bulk", 7)
