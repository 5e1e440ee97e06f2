"""``gongxin lists apply --as-of``: the dated rules from the command line, then the index follows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient

from app import store
from tests.factories import make_entity


def test_apply_lists_overdue_reports_for_the_day_once_and_syncs_the_index(
        app: Flask, cli: Callable[..., Result], client: FlaskClient) -> None:
    with app.app_context():
        make_entity(store.session(), 11, name="深圳市逾期年报科技有限公司", status="存续",
                    entity_type="有限责任公司（自然人投资或控股）", established_on="2023-02-01")
        store.session().commit()
    assert cli("index", "rebuild").exit_code == 0
    early = cli("lists", "apply", "--as-of", "2024-06-30")
    assert early.exit_code == 0 and "       0  listed" in early.output
    first = cli("lists", "apply", "--as-of", "2024-07-01")
    assert first.exit_code == 0 and "       1  listed" in first.output
    again = cli("lists", "apply", "--as-of", "2024-07-01")
    assert "       0  listed" in again.output
    found = client.get("/api/v1/search", query_string={"q": "逾期年报", "flag": "abnormal"}).get_json()
    assert [item["name"] for item in found["items"]] == ["深圳市逾期年报科技有限公司"]
    assert found["items"][0]["flags"] == ["abnormal"]


def test_apply_refuses_a_malformed_day(cli: Callable[..., Result]) -> None:
    result = cli("lists", "apply", "--as-of", "2024-13-01")
    assert result.exit_code == 2 and "--as-of" in result.output


def test_apply_defaults_to_today_in_beijing(cli: Callable[..., Result]) -> None:
    result = cli("lists", "apply")
    assert result.exit_code == 0
    assert result.output.startswith("list rules as of ")
    shown = date.fromisoformat(result.output.split("as of ")[1][:10])
    assert abs((shown - date.today()).days) <= 1
