"""Schemathesis against ``/api/openapi.json``: every operation, with generated inputs, on a real store and index.

The document comes from the app, and the app under test must serve the very same one. The app
runs on the pages' Chinese data set (entities, facts, list entries, ingest runs) with a real
search index and no rate limits. Every request must answer without a 5xx, with a documented
status, content type and headers, and a body that matches its schema. Generated requests to
the regulator API go once without a token and once with a live one; generated inputs seldom
name a real record, so a scripted walk through the real records checks the successes too.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis import Case, Response
from schemathesis.checks import (
    allow_header_conformance, content_type_conformance, negative_data_rejection, not_a_server_error,
    response_headers_conformance, response_schema_conformance, status_code_conformance, unsupported_method,
)
from sqlalchemy import select

from app import create_app, search, store
from credit.clock import beijing_today
from app.openapi import build_document
from blacklist.tokens import issue_token
from config import Settings
from credit.db import make_engine
from credit.facts import apply_facts
from credit.models import Fact, ListEntry
from credit.profile import entity_by_identifier
from credit.schema import upgrade
from search_index.maintain import rebuild
from tests.conftest import DIALECTS, PG_URL, _fresh_postgres
from tests.factories import penalty
from tests.pages import data

CONFORMS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
            response_schema_conformance]
CHECKS = CONFORMS + [negative_data_rejection, unsupported_method, allow_header_conformance]
EARLY = {"penalty_fulfilled": True, "harm_corrected": True, "commitment_made": True}
REPAIRED = {"corrected": True, "obligations_fulfilled": True, "credit_commitment": True}
NO_REPORT = "未依照《企业信息公示暂行条例》第八条规定的期限公示年度报告"


def _document() -> dict[str, Any]:
    """The document of an app that is never called: the routes and schemas alone make it.

    Operations are collected from it at import (schemathesis' fixture-based loader fails on
    pytest 9.2); ``_seed`` checks that every app under test serves this very document.
    """
    unused = Path(tempfile.gettempdir()) / "gongxin-openapi-unused"
    return build_document(create_app(Settings(database_url="sqlite://", index_dir=unused / "index", testing=True)))


DOCUMENT = _document()
# Unknown query parameters are ignored by design, so none are sent; no Authorization header is
# made up either: each regulator request goes once without a token and once with a live one.
CONFIG = schemathesis.Config.from_dict({"generation": {"allow-extra-parameters": False,
                                                       "with-security-parameters": False}})
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)


@dataclass(frozen=True)
class World:
    """The seeded app, a live Shenzhen token for both SAMR lists, and the records the walk refers to."""

    app: Flask
    secret: str
    seeded: data.Seeded
    entry: int  # the main company's open abnormal listing
    fact: int  # a penalty of the token's agency, repairable today


def _settings(url: str, directory: Path) -> Settings:
    """Settings on this store with the index under ``directory``; rate limits off: hundreds of requests come at once."""
    return Settings(database_url=url, index_dir=directory / "index", sources=directory / "sources.toml",
                    testing=True, rate_limit="off", objection_rate_limit="off")


def _seed(app: Flask, directory: Path) -> World:
    """The pages' data set, a repairable penalty and a token, indexed; the app must serve ``DOCUMENT``."""
    with app.app_context():
        seeded = data.build(store.session_factory(), directory)
        session = store.session()
        main_id = session.scalars(entity_by_identifier(seeded.main)).one().id
        apply_facts(session, [penalty(main_id, "P-契约", decided_on=beijing_today() - timedelta(days=150))])
        _, secret = issue_token(session, "sz-samr", data.AGENCY, ["abnormal", "serious-illegal"], "4403", "契约测试")
        session.commit()
        rebuild(session, search.index())
        entry = session.scalars(select(ListEntry.id).where(ListEntry.source_key == "AB-2026")).one()
        fact = session.scalars(select(Fact.id).where(Fact.source_key == "P-契约")).one()
    response = app.test_client().get("/api/openapi.json")
    assert response.status_code == 200 and response.get_json() == DOCUMENT
    return World(app, secret, seeded, entry, fact)


@pytest.fixture(scope="module", params=DIALECTS)
def shared(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One seeded app per database for every generated request: seeding takes longer than the requests."""
    directory = tmp_path_factory.mktemp("openapi-contract")
    if request.param == "postgresql":
        _fresh_postgres().dispose()
        url = PG_URL
    else:
        url = f"sqlite:///{directory / 'store.db'}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
    app = create_app(_settings(url, directory))
    yield _seed(app, directory)
    with app.app_context():
        store.engine().dispose()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Settings on the test store and a temporary index, with rate limits off."""
    return _settings(db_url, tmp_path)


@pytest.fixture
def world(app: Flask, tmp_path: Path) -> World:
    """A fresh seeded app for one scripted walk: generated requests may have removed or withdrawn real entries."""
    return _seed(app, tmp_path)


@schema.parametrize()
@hypothesis_settings(max_examples=10, derandomize=True, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_every_operation_answers_as_documented(case: Case, shared: World) -> None:
    case.call_and_validate(app=shared.app, checks=CHECKS)
    if case.path.startswith("/api/v1/regulator/"):
        case.call_and_validate(app=shared.app, headers={"Authorization": f"Bearer {shared.secret}"}, checks=CHECKS)


def send(world: World, method: str, path: str, status: int, token: bool = False, **parts: Any) -> Response:
    """One request to a documented operation, checked as the generated ones are; it must answer ``status``."""
    case = schema[path][method].Case(**parts)
    headers = {"Authorization": f"Bearer {world.secret}"} if token else None
    response = case.call_and_validate(app=world.app, headers=headers, checks=CONFORMS)
    assert response.status_code == status, response.text
    return response


def test_the_public_api_answers_real_records_as_documented(world: World) -> None:
    main = world.seeded.main
    assert send(world, "GET", "/healthz", 200).json()["status"] == "ok"
    profile = send(world, "GET", "/api/v1/entities/{identifier}", 200, path_parameters={"identifier": main}).json()
    assert profile["name"] == data.MAIN_NAME and profile["facts"] and profile["lists"] and profile["provenance"]
    legacy = send(world, "GET", "/api/v1/entities/{identifier}", 200,
                  path_parameters={"identifier": world.seeded.legacy_reg_no}).json()
    assert legacy["uscc"] is None and legacy["name"] == data.LEGACY_NAME
    assert send(world, "GET", "/api/v1/search", 200, query={"q": "腾云数据"}).json()["items"][0]["uscc"] == main
    page = send(world, "GET", "/api/v1/search", 200,
                query={"q": "科技有限公司", "region": "4403", "page": 2, "per_page": 5}).json()
    assert page["total"] > 5 and len(page["items"]) == 5
    flagged = send(world, "GET", "/api/v1/search", 200, query={"q": "腾云", "flag": ["abnormal"]}).json()
    assert [hit["uscc"] for hit in flagged["items"]] == [main]
    assert any(spec["id"] == "abnormal" for spec in send(world, "GET", "/api/v1/lists", 200).json()["items"])
    entries = "/api/v1/lists/{list_id}"
    listed = send(world, "GET", entries, 200, path_parameters={"list_id": "abnormal"}, query={"status": "all"})
    assert {item["uscc"] for item in listed.json()["items"]} >= {main, world.seeded.serious}
    for query in ({"format": "csv"}, {"format": "csv", "encoding": "gb18030"}, {"format": "xlsx"}):
        export = send(world, "GET", entries, 200, path_parameters={"list_id": "abnormal"}, query=query)
        assert export.headers["x-total-count"] == ["2"] and export.content
    objection = {"target_type": "list_entry", "target_id": world.entry, "text": "该地址可以联系，已提交租赁合同",
                 "contact": "13800138000"}
    send(world, "POST", "/api/v1/entities/{identifier}/objections", 201, path_parameters={"identifier": main},
         body=objection)
    seen = send(world, "GET", "/api/v1/entities/{identifier}/objections", 200, path_parameters={"identifier": main})
    assert seen.json()["total"] == 1 and "text" not in seen.json()["items"][0]


def test_the_regulator_api_answers_real_records_as_documented(world: World) -> None:
    many, listings = world.seeded.many, "/api/v1/regulator/listings"
    flag = {"uscc": many[0], "list": "abnormal", "reason": NO_REPORT, "reason_code": "1", "year": 2024,
            "listed_on": "2025-07-10"}
    entry = send(world, "POST", listings, 201, True, body=flag).json()["id"]
    one = {"entry_id": entry}
    assert send(world, "GET", listings + "/{entry_id}", 200, True, path_parameters=one).json()["uscc"] == many[0]
    send(world, "PATCH", listings + "/{entry_id}", 200, True, path_parameters=one,
         body={"correction_reason": "决定文号录入有误", "decision_no": "深市监异〔2025〕12号"})
    send(world, "POST", listings + "/{entry_id}/removal", 200, True, path_parameters=one,
         body={"reason": "已补报2024年度报告并公示", "removed_on": "2025-08-01"})
    other = send(world, "POST", listings, 201, True, body=flag | {"uscc": many[1]}).json()["id"]
    send(world, "POST", listings + "/{entry_id}/withdrawal", 200, True, path_parameters={"entry_id": other},
         body={"reason": "列入依据有误"})
    serious = {"uscc": many[2], "list": "serious-illegal", "reason": "生产经营腐败变质食品，被吊销食品经营许可证",
               "listed_on": "2024-03-01", "decision_no": "深市监食罚〔2024〕7号"}
    third = send(world, "POST", listings, 201, True, body=serious).json()["id"]
    send(world, "POST", listings + "/{entry_id}/early-removal", 201, True, path_parameters={"entry_id": third},
         body={"applied_on": "2025-03-01", "conditions": EARLY, "note": "已缴清罚款，提交信用承诺书"})
    send(world, "POST", "/api/v1/entities/{identifier}/objections", 201,
         path_parameters={"identifier": world.seeded.main},
         body={"target_type": "list_entry", "target_id": world.entry, "text": "经营场所可以联系"})
    waiting = send(world, "GET", "/api/v1/regulator/objections", 200, True, query={"status": "all"}).json()
    assert waiting["total"] == 1 and waiting["items"][0]["text"] == "经营场所可以联系"
    send(world, "POST", "/api/v1/regulator/objections/{objection_id}/answer", 200, True,
         path_parameters={"objection_id": waiting["items"][0]["id"]},
         body={"decision": "accepted", "answer": "已受理，将在十个工作日内核查"})
    today = beijing_today().isoformat()
    send(world, "POST", "/api/v1/regulator/penalties/{fact_id}/repair", 201, True,
         path_parameters={"fact_id": world.fact},
         body={"applied_on": today, "repaired_on": today, "decision_no": "深市监信修〔2026〕3号", "conditions": REPAIRED})
    dossier = send(world, "GET", "/api/v1/regulator/entities/{identifier}", 200, True,
                   path_parameters={"identifier": world.seeded.main}).json()
    assert dossier["repairs"] and dossier["objections"] and dossier["audit"]
