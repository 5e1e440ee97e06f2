"""``GET /api/v1/entities/{id}`` and ``/healthz`` through the real Flask test client."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app import store
from credit.schema import head_revision
from credit.claims import ClaimIn, apply_claims
from credit.entities import EntityIds, ensure_entities
from credit.facts import apply_facts
from credit.models import ListEntry
from tests.factories import OTHER_RANK, T0, make_entity, new_uscc, penalty

NAME = "深圳市<script>甲乙</script>科技有限公司"


def _seed(session: Session) -> dict[str, Any]:
    eid = make_entity(session, 42, name=NAME, status="存续", registered_capital="500",
                      established_on="2012-03-04", legal_rep="王五")
    apply_claims(session, [ClaimIn(eid, "legal_rep", "赵六", "tax-sz", OTHER_RANK, T0 + timedelta(days=3))])
    today = date.today()
    apply_facts(session, [
        penalty(eid, "P-open", publicity_until=today + timedelta(days=30)),
        penalty(eid, "P-ended", publicity_until=today - timedelta(days=1)),
        penalty(eid, "P-gone", change="i"),
    ])
    apply_facts(session, [penalty(eid, "P-gone", change="d")])
    session.add(ListEntry(entity_id=eid, list_id="abnormal", reason="通过登记的住所或者经营场所无法联系",
                          reason_code="4", listed_on=date(2024, 5, 6), listed_by="深圳市市场监督管理局"))
    legacy = ensure_entities(session, [EntityIds(reg_no="440301000000018")])[0].entity_id
    session.commit()
    return {"id": eid, "uscc": new_uscc(42), "legacy": legacy}


@pytest.fixture
def seeded(app: Flask) -> dict[str, Any]:
    """An entity with claims from two sources, facts and a list entry, plus a legacy entity."""
    with app.app_context():
        return _seed(store.session())


def test_profile_by_uscc(client: FlaskClient, seeded: dict[str, Any]) -> None:
    response = client.get(f"/api/v1/entities/{seeded['uscc']}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["uscc"] == seeded["uscc"] and body["name"] == NAME
    assert body["legal_rep"] == "王五"  # the registry outranks the newer tax claim
    assert body["registered_capital"] == "500"
    assert body["established_on"] == "2012-03-04" and body["region"] == "440300"
    reps = {(p["source"], p["value"], p["chosen"]) for p in body["provenance"] if p["field"] == "legal_rep"}
    assert reps == {("samr-registration", "王五", True), ("tax-sz", "赵六", False)}
    assert [f["source_key"] for f in body["facts"]] == ["P-open"]
    assert body["facts"][0]["authority"] == "深圳市市场监督管理局"
    assert body["lists"][0]["list_id"] == "abnormal" and body["lists"][0]["listed_on"] == "2024-05-06"
    assert "risk_class" not in body and "id" not in body


@pytest.mark.parametrize("spelling", [
    lambda u: u.lower(),
    lambda u: " " + u + " ",
    lambda u: "".join(chr(ord(c) + 0xFEE0) for c in u),  # full-width
    lambda u: u[8:17],  # its organisation code
    lambda u: u[8:16] + "-" + u[16],  # organisation code with its hyphen
])
def test_profile_by_any_spelling(client: FlaskClient, seeded: dict[str, Any], spelling: Any) -> None:
    response = client.get(f"/api/v1/entities/{spelling(seeded['uscc'])}")
    assert response.status_code == 200
    assert response.get_json()["uscc"] == seeded["uscc"]


def test_profile_by_registration_number(client: FlaskClient, seeded: dict[str, Any]) -> None:
    response = client.get("/api/v1/entities/440301000000018")
    assert response.status_code == 200
    assert response.get_json()["uscc"] is None


def test_malformed_identifier_is_400_naming_the_problem(client: FlaskClient, seeded: dict[str, Any]) -> None:
    bad = seeded["uscc"][:4] + "I" + seeded["uscc"][5:]
    response = client.get(f"/api/v1/entities/{bad}")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "malformed_identifier" and "5" in error["message"]
    assert client.get("/api/v1/entities/12345").status_code == 400


def test_unknown_identifier_is_404(client: FlaskClient, seeded: dict[str, Any]) -> None:
    response = client.get(f"/api/v1/entities/{new_uscc(99999)}")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_unknown_route_is_json_404(client: FlaskClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.is_json


def test_healthz_reports_store_schema_and_index(client: FlaskClient) -> None:
    response = client.get("/healthz")
    body = response.get_json()
    assert response.status_code == 200 and body["status"] == "ok"
    assert body["store"]["reachable"] and body["store"]["schema"] == body["schema_head"]
    assert body["index"]["present"] is False


def test_healthz_is_503_without_schema(tmp_path: Any) -> None:
    from app import create_app
    from config import Settings

    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}", index_dir=tmp_path / "ix"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["store"]["schema"] is None


def test_db_upgrade_command_is_idempotent(cli: Any) -> None:
    for _ in range(2):
        result = cli("db", "upgrade")
        assert result.exit_code == 0, result.output
        assert f"schema at {head_revision()}" in result.output


def test_profile_hides_penalties_the_publicity_policy_does_not_publish(client: FlaskClient, session: Session) -> None:
    eid = make_entity(session, 43, name="深圳市轻微处罚科技有限公司", status="存续")
    decided = max(date(2026, 4, 1), date.today() - timedelta(days=10))  # under the 2026 measures
    apply_facts(session, [penalty(eid, "P-minor", severity="minor", decided_on=decided),
                          penalty(eid, "P-serious", severity="serious", decided_on=decided)])
    session.commit()
    body = client.get(f"/api/v1/entities/{new_uscc(43)}").get_json()
    assert [f["source_key"] for f in body["facts"]] == ["P-serious"]
