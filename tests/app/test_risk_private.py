"""Risk classes are for regulators only: no public route ever shows one, nor why.

Every route of the app outside the regulator API (token-protected) is called, with the variants
a public user can ask for (CSV and XLSX exports, the PDF report, the change feed), on a store
where an entity is in class D with a recorded assessment. No response may carry a risk key, the
class's label or any text of the explanation.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from app import jobs, search, store
from config import Settings
from credit.models import Entity, RiskAssessment
from credit.profile import entity_by_identifier
from credit.risk import classify, explain
from credit.risk_policy import load_risk_policy
from search_index.maintain import rebuild
from tests.pages import data

PRIVATE_PREFIXES = ("/api/v1/regulator/",)
# Routes whose URLs come from another response (the bulk files, from the dumps' manifests).
FOLLOWED = {"api.bulk_file"}
EXPLANATION = [{"factor": "penalties", "detail": "近12个月严重行政处罚9件（风险测试专用说明）", "points": 90}]
FORBIDDEN_KEYS = ("risk",)


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Settings with the pages' source registry, so the sources page has something to show."""
    bulk = {"bulk_dir": tmp_path / "bulk"} if "bulk_dir" in Settings.__dataclass_fields__ else {}
    return Settings(database_url=db_url, index_dir=tmp_path / "index", sources=tmp_path / "sources.toml",
                    testing=True, **bulk)


@pytest.fixture
def risky(app: Flask, tmp_path: Path) -> Iterator[tuple[data.Seeded, list[str]]]:
    """The pages' store, every entity classified, the main one in class D; the texts to look for."""
    with app.app_context():
        seeded = data.build(store.session_factory(), tmp_path)
        session = store.session()
        classify(session, date.today())
        main = session.execute(entity_by_identifier(seeded.main)).scalar_one()
        session.add(RiskAssessment(entity_id=main.id, assessed_on=date.today(), policy_version="test", score=90,
                                   risk_class="D", explanation=EXPLANATION))
        session.execute(update(Entity).where(Entity.id == main.id).values(risk_class="D"))
        session.commit()
        found = explain(session, main.id)
        assert found is not None and found.risk_class == "D"
        texts = [item["detail"] for item in found.explanation]
        serious = session.execute(entity_by_identifier(seeded.serious)).scalar_one()
        texts += [item["detail"] for item in (explain(session, serious.id).explanation or [])]  # type: ignore[union-attr]
        texts += [c.label for v in load_risk_policy().versions for c in v.classes]
        rebuild(store.session(), search.index())
    if hasattr(jobs, "write_bulk"):  # the daily bulk dump, served by /api/v1/bulk
        jobs.write_bulk(app.config["GONGXIN"])
    yield seeded, sorted(set(texts))


def public_urls(app: Flask, seeded: data.Seeded) -> list[str]:
    """Every public GET route with its parameters filled in, and the variants users ask for."""
    values = {"identifier": seeded.main, "list_id": "serious-illegal", "plan_id": 1}
    urls: list[str] = []
    for rule in app.url_map.iter_rules():
        if (rule.rule.startswith(PRIVATE_PREFIXES) or rule.endpoint in FOLLOWED | {"static"}
                or "GET" not in (rule.methods or ())):
            continue
        assert set(rule.arguments) <= set(values), f"fill in the arguments of {rule.rule}"
        with app.test_request_context():
            from flask import url_for

            urls.append(url_for(rule.endpoint, **{k: values[k] for k in rule.arguments}))
    assert len(urls) >= 15
    for identifier in (seeded.main, seeded.serious):
        urls += [f"/entities/{identifier}", f"/api/v1/entities/{identifier}", f"/entities/{identifier}/report",
                 f"/entities/{identifier}/report.pdf", f"/api/v1/entities/{identifier}/objections"]
    for list_id in ("serious-illegal", "abnormal"):
        urls += [f"/api/v1/lists/{list_id}?status=all&format={f}" for f in ("json", "csv", "xlsx")]
        urls += [f"/lists/{list_id}?status=all"]
    urls += ["/api/v1/search?q=腾云", "/search?q=腾云", "/api/v1/search?q=黑石", "/search?q=黑石",
             "/api/v1/changes?limit=1000", "/api/v1/changes?after=0&limit=1000"]
    return urls


def test_no_public_route_shows_a_risk_class_or_its_explanation(app: Flask, client: FlaskClient,
                                                                risky: tuple[data.Seeded, list[str]]) -> None:
    seeded, texts = risky
    assert any("风险测试专用说明" in t for t in texts) and "信用风险高" in texts
    urls = public_urls(app, seeded)
    if "api.bulk_dumps" in {rule.endpoint for rule in app.url_map.iter_rules()}:
        files = [f["url"] for dump in client.get("/api/v1/bulk").get_json()["items"] for f in dump["files"]]
        assert files, "the bulk dump was not written"
        urls += files
    for url in urls:
        response = client.get(url)
        assert response.status_code < 500, url
        body = readable(response.data, response.mimetype)
        if url.endswith("openapi.json"):
            assert regulator_only_risk(response.get_json()), url
        else:
            assert "risk" not in body.lower(), url
        leaked = [t for t in texts if t in body]
        assert leaked == [], f"{url} shows {leaked}"
        if response.mimetype == "application/json" and not url.endswith("openapi.json"):
            assert risky_keys(response.get_json()) == [], url


def regulator_only_risk(document: dict[str, Any]) -> bool:
    """Whether the API document describes risk fields only in schemas that regulator paths alone use."""
    schemas = document["components"]["schemas"]
    risky = {name for name, schema in schemas.items() if risky_keys(schema.get("properties", {}))}
    while True:  # schemas that hold a risky schema are risky too
        more = {name for name, schema in schemas.items()
                if any(f"#/components/schemas/{r}" in json.dumps(schema) for r in risky)} - risky
        if not more:
            break
        risky |= more
    users = {path for path, item in document["paths"].items()
             if any(f"#/components/schemas/{r}\"" in json.dumps(item) for r in risky)}
    return bool(risky) and all(path.startswith(PRIVATE_PREFIXES) for path in users)


def readable(raw: bytes, mimetype: str) -> str:
    """The text a response carries: decoded, or the cells of a workbook, or the text of a PDF."""
    if mimetype.endswith("spreadsheetml.sheet"):
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(raw), read_only=True)
        return "\n".join(str(cell) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                         for cell in row if cell is not None)
    if mimetype == "application/gzip":
        return gzip.decompress(raw).decode("utf-8", errors="replace")
    if mimetype == "application/pdf":
        from pypdf import PdfReader

        return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(raw)).pages)
    text = raw.decode("utf-8", errors="replace")
    return json.dumps(json.loads(text), ensure_ascii=False) if mimetype == "application/json" else text


def risky_keys(value: Any, path: str = "") -> list[str]:
    """Paths of JSON keys that name a risk."""
    if isinstance(value, dict):
        found = [f"{path}.{k}" for k in value if any(word in str(k).lower() for word in FORBIDDEN_KEYS)]
        return found + [p for k, v in value.items() for p in risky_keys(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in risky_keys(v, f"{path}[{i}]")]
    return []


def test_the_regulator_view_does_show_it(app: Flask, risky: tuple[data.Seeded, list[str]]) -> None:
    """The check above would be empty if the class never reached the store; here it is, for regulators."""
    seeded, _ = risky
    with app.app_context():
        main = store.session().execute(entity_by_identifier(seeded.main)).scalar_one()
        assert main.risk_class == "D" and explain(store.session(), main.id).explanation == EXPLANATION  # type: ignore[union-attr]
