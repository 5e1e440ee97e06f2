"""``GET /api/v1/entities/{id}`` and ``/healthz`` through the real Flask test client."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.orm import Session
from werkzeug.http import http_date

from app import store
from app.api.conditional import profile_modified_at
from blacklist.visibility import public_profile
from credit.schema import head_revision
from credit.claims import ClaimIn, apply_claims
from credit.entities import EntityIds, ensure_entities
from credit.facts import apply_facts
from credit.models import ChangeLog, Entity, Fact, IngestRun, ListEntry
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


def _profile(client: FlaskClient, uscc: str, **headers: str) -> Any:
    return client.get(f"/api/v1/entities/{uscc}", headers=headers)


def test_profile_has_a_strong_etag_of_its_body_last_modified_and_cache_control(client: FlaskClient,
                                                                              seeded: dict[str, Any]) -> None:
    response = _profile(client, seeded["uscc"])
    assert response.status_code == 200
    etag, weak = response.get_etag()
    assert not weak and etag == hashlib.sha256(response.get_data()).hexdigest()
    assert response.last_modified is not None and response.last_modified <= datetime.now(UTC)
    assert response.cache_control.public and response.cache_control.max_age == 60
    assert _profile(client, seeded["uscc"]).get_etag() == (etag, False)  # the same body, the same tag


def test_if_none_match_and_if_modified_since_get_304(client: FlaskClient, seeded: dict[str, Any]) -> None:
    first = _profile(client, seeded["uscc"])
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    again = _profile(client, seeded["uscc"], **{"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b"" and again.headers["ETag"] == etag
    assert _profile(client, seeded["uscc"], **{"If-None-Match": f'"other", {etag}'}).status_code == 304
    assert _profile(client, seeded["uscc"], **{"If-None-Match": '"other"'}).status_code == 200
    assert _profile(client, seeded["uscc"], **{"If-Modified-Since": modified}).status_code == 304
    earlier = http_date(first.last_modified - timedelta(seconds=1))
    assert _profile(client, seeded["uscc"], **{"If-Modified-Since": earlier}).status_code == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110, 13.2.2).
    assert _profile(client, seeded["uscc"], **{"If-None-Match": '"other"', "If-Modified-Since": modified}
                    ).status_code == 200


def test_a_change_the_public_sees_gives_a_new_etag_and_last_modified(client: FlaskClient, app: Flask,
                                                                     seeded: dict[str, Any]) -> None:
    first = _profile(client, seeded["uscc"])
    time.sleep(1.05)  # HTTP dates count whole seconds
    with app.app_context():
        apply_facts(store.session(), [penalty(seeded["id"], "P-open", change="d")])  # withdrawn: out of the profile
        store.session().commit()
    conditional = {"If-None-Match": first.headers["ETag"]}
    second = _profile(client, seeded["uscc"], **conditional)
    assert second.status_code == 200 and second.get_json()["facts"] == []
    assert second.headers["ETag"] != first.headers["ETag"] and second.last_modified > first.last_modified
    assert _profile(client, seeded["uscc"], **{"If-Modified-Since": first.headers["Last-Modified"]}).status_code == 200


def test_conditional_errors_stay_errors(client: FlaskClient, seeded: dict[str, Any]) -> None:
    response = _profile(client, new_uscc(99999), **{"If-None-Match": "*"})
    assert response.status_code == 404 and "ETag" not in response.headers


def _backdate(session: Session, entity_id: int, at: datetime) -> None:
    """Make every write stamp about the entity ``at`` (an old entity nobody touched since)."""
    for model in (ChangeLog, Fact, ListEntry, Entity):
        column = model.created_at if model is ChangeLog else model.updated_at
        owner = model.id if model is Entity else model.entity_id
        session.execute(update(model).where(owner == entity_id).values({column: at}))
    session.commit()


def test_last_modified_is_not_before_the_day_publicity_was_judged_for(app: Flask, seeded: dict[str, Any]) -> None:
    with app.app_context():
        session = store.session()
        _backdate(session, seeded["id"], datetime(2025, 2, 1, 9, 30))
        profile = public_profile(session, seeded["uscc"], date.today())
        midnight = datetime.combine(date.today(), datetime.min.time()).astimezone(UTC).replace(tzinfo=None)
        assert profile_modified_at(session, profile, date.today()) == midnight
        assert profile_modified_at(session, profile, date(2020, 1, 1)) == datetime(2025, 2, 1, 9, 30)


def test_last_modified_counts_the_runs_of_the_sources_that_made_claims(app: Flask, seeded: dict[str, Any]) -> None:
    with app.app_context():
        session = store.session()
        _backdate(session, seeded["id"], datetime(2024, 6, 1))
        profile = public_profile(session, seeded["uscc"], date.today())
        assert profile_modified_at(session, profile, date(2020, 1, 1)) == T0 + timedelta(days=3)  # tax-sz's claim
        # A run of tax-sz wrote its claim later than the file it read was made.
        finished = datetime(2025, 3, 2, 4, 5, 6)
        session.add(IngestRun(source_id="tax-sz", file_path="drop/tax-1.csv", status="applied",
                              started_at=finished - timedelta(minutes=3), finished_at=finished))
        session.add(IngestRun(source_id="customs-sz", file_path="drop/customs-1.csv", status="applied",
                              started_at=finished, finished_at=finished + timedelta(days=1)))  # no claim of its
        session.commit()
        assert profile_modified_at(session, profile, date(2020, 1, 1)) == finished
