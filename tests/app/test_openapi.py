"""The OpenAPI document: complete over the routes, valid, and saying what the routes check.

Also the routing and error fixes the contract test found: record ids beyond BIGINT, and the
``Allow`` header of a 405.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR

from app.api.search import MAX_PER_PAGE
from app.openapi import openapi_document, openapi_path
from blacklist.catalogue import default_catalogue

IMPLICIT = {"HEAD", "OPTIONS"}
TOO_BIG = "1" + "0" * 19  # beyond BIGINT (and beyond the 18 digits a record id may have)


@pytest.fixture
def document(client: FlaskClient) -> dict[str, Any]:
    """The document as the app serves it."""
    response = client.get("/api/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()  # type: ignore[no-any-return]


def parameters(operation: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """An operation's parameters by (location, name)."""
    return {(p["in"], p["name"]): p for p in operation["parameters"]}


def test_every_api_route_and_method_is_documented(app: Flask, document: dict[str, Any]) -> None:
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/") or r.rule == "/healthz"]
    assert len(rules) >= 19
    missing = [f"{method} {rule.rule}" for rule in rules for method in sorted((rule.methods or set()) - IMPLICIT)
               if method.lower() not in document["paths"].get(openapi_path(rule), {})]
    assert missing == [], "add an Operation to app/openapi.py for each of these"


def test_the_document_is_valid_openapi_3_1_named_and_versioned(app: Flask, client: FlaskClient,
                                                                document: dict[str, Any]) -> None:
    errors = [f"{list(e.instance_path)}: {e.message}" for e in OPENAPI_31_VALIDATOR.iter_errors(document)]
    assert errors == []
    assert (document["openapi"], document["info"]["title"]) == ("3.1.0", "Gongxin API")
    assert document["info"]["version"] == version("gongxin") and "信用" in document["info"]["description"]
    assert client.get("/api/v1/openapi.json").get_json() == document
    with app.app_context():
        assert openapi_document(app) is openapi_document(app)  # built once per app


def test_query_arguments_carry_the_constraints_the_routes_check(document: dict[str, Any]) -> None:
    search = parameters(document["paths"]["/api/v1/search"]["get"])
    assert search[("query", "per_page")]["schema"] == {"type": "integer", "default": 20, "minimum": 1,
                                                       "maximum": MAX_PER_PAGE}
    assert search[("query", "region")]["schema"]["type"] == "string"  # a query string has no null
    assert search[("query", "flag")]["schema"]["type"] == "array" and search[("query", "flag")]["explode"]
    entries = document["paths"]["/api/v1/lists/{list_id}"]["get"]
    listed = parameters(entries)
    assert listed[("path", "list_id")]["schema"]["enum"] == list(default_catalogue().ids)
    assert listed[("query", "region")]["schema"]["pattern"] == "^(?:[0-9]{2}|[0-9]{4}|[0-9]{6})$"
    assert listed[("query", "format")]["schema"]["enum"] == ["json", "csv", "xlsx"]
    assert set(entries["responses"]["200"]["content"]) == {
        "application/json", "text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    assert set(entries["responses"]) == {"200", "400", "404", "429"}


def test_regulator_operations_need_the_bearer_token_and_say_what_they_answer(document: dict[str, Any]) -> None:
    bearer = document["components"]["securitySchemes"]["bearer"]
    assert (bearer["type"], bearer["scheme"]) == ("http", "bearer")
    regulator = {f"{m} {p}": op for p, item in document["paths"].items() for m, op in item.items()
                 if p.startswith("/api/v1/regulator/")}
    assert len(regulator) == 10
    for name, operation in regulator.items():
        assert operation["security"] == [{"bearer": []}], name
        assert "WWW-Authenticate" in operation["responses"]["401"]["headers"], name
        assert "429" not in operation["responses"], name  # tokens, not addresses, bound the regulator API
    flag = regulator["post /api/v1/regulator/listings"]
    assert set(flag["responses"]) == {"201", "400", "401", "403", "404", "413", "422"}
    assert flag["responses"]["201"]["headers"]["Location"]["required"]
    body = document["components"]["schemas"]["FlagBody"]
    assert set(body["required"]) == {"list", "reason", "listed_on"} and body["additionalProperties"] is False
    entry_id = parameters(regulator["get /api/v1/regulator/listings/{entry_id}"])[("path", "entry_id")]
    assert entry_id["schema"] == {"type": "integer", "minimum": 0, "maximum": 10**18 - 1}


def test_response_schemas_list_every_field_and_say_which_may_be_null(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    profile = schemas["Profile"]
    assert set(profile["required"]) == set(profile["properties"]) and profile["additionalProperties"] is False
    assert profile["properties"]["uscc"]["type"] == ["string", "null"]
    assert profile["properties"]["name"]["type"] == "string"
    assert schemas["Fact"]["properties"]["first_seen"] == {"type": "string", "format": "date-time"}
    assert schemas["Error"]["required"] == ["error"] and schemas["ErrorDetail"]["required"] == ["code", "message"]
    index = schemas["IndexStatus"]
    assert set(index["required"]) == {"dir", "engine", "present"}  # the rest only when the index is there
    error = document["paths"]["/api/v1/entities/{identifier}"]["get"]["responses"]["404"]
    assert error["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


@pytest.mark.parametrize("method, path", [
    ("GET", f"/api/v1/regulator/listings/{TOO_BIG}"), ("PATCH", f"/api/v1/regulator/listings/{TOO_BIG}"),
    ("POST", f"/api/v1/regulator/listings/{TOO_BIG}/removal"), ("POST", f"/api/v1/regulator/penalties/{TOO_BIG}/repair"),
    ("POST", f"/api/v1/regulator/objections/{TOO_BIG}/answer"),
])
def test_a_record_id_beyond_bigint_is_404_whatever_the_method(client: FlaskClient, method: str, path: str) -> None:
    response = client.open(path, method=method, json={"reason": "误列"})
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_a_method_not_allowed_is_405_with_allow_and_a_json_body(client: FlaskClient) -> None:
    response = client.delete("/api/v1/search?q=华为")
    assert response.status_code == 405 and response.get_json()["error"]["code"] == "method_not_allowed"
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "OPTIONS"}
