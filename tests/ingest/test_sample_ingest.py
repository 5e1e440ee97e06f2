"""The sample regulators' files of every kind, format and encoding, ingested end to end.

Every planted defect must come out as the right rejected row (or, for an unknown entity, a held
record); a renamed column must fail its file and leave the store exactly as it was.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from credit.models import Base, RejectedRow
from ingest.registry import Registry, load_registry
from ingest.runs import RunReport, run_source
from ingest.sample import SampleSummary, write_sample_data

REJECTED_CLASSES = ("malformed_code", "bad_date", "missing_identity", "duplicate_key")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SampleSummary:
    """A small deterministic sample set, written once for the module."""
    return write_sample_data(tmp_path_factory.mktemp("sample"), entities=400, seed=7, today=date(2026, 11, 1))


def _run_all(factory: sessionmaker[Session], registry: Registry) -> dict[str, RunReport]:
    reports = {}
    for spec in registry.sources:
        [report] = run_source(factory, spec)
        reports[spec.id] = report
    return reports


def test_every_planted_defect_is_rejected_or_held(session_factory: sessionmaker[Session], sample: SampleSummary) -> None:
    reports = _run_all(session_factory, load_registry(sample.registry))
    for source_id, report in reports.items():
        assert report.status == "applied", (source_id, report.error)
        planted = {name: sample.defects(source_id, name) for name in REJECTED_CLASSES + ("unknown_entity",)}
        assert report.counts["rejected"] == sum(planted[c] for c in REJECTED_CLASSES), (source_id, report.counts, planted)
        assert report.counts["unresolved"] == planted["unknown_entity"], (source_id, report.counts)
        assert report.counts["read"] == sample.rows(source_id)
        with session_factory() as s:
            fields = s.execute(select(RejectedRow.field, func.count()).where(RejectedRow.run_id == report.run_id)
                               .group_by(RejectedRow.field)).all()
        by_field = dict(fields)
        assert by_field.get("record_key", 0) == planted["duplicate_key"], (source_id, by_field)


def _rename_first_mapped_header(path: Path, fmt: str, encoding: str | None, header: str) -> None:
    """Rewrite a regulator's file with one mapped column renamed, as drifting feeds do."""
    renamed = header + "（新）"
    if fmt == "xlsx":
        frame = pd.read_excel(path, dtype=str, engine="calamine").rename(columns={header: renamed})
        frame.to_excel(path, index=False)
    elif fmt == "jsonl":
        text = path.read_text(encoding="utf-8").replace(f'"{header}"', f'"{renamed}"')
        path.write_text(text, encoding="utf-8")
    else:
        raw = path.read_bytes()
        enc = encoding or "utf-8"
        path.write_bytes(raw.decode(enc).replace(header, renamed, 1).encode(enc))


def test_a_renamed_column_fails_every_kind_and_changes_nothing(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    sample = write_sample_data(tmp_path / "s", entities=200, seed=3, today=date(2026, 11, 1))
    registry = load_registry(sample.registry)
    with session_factory() as s:
        before = {t.name: s.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables
                  if t.name != "ingest_run"}
    for spec in registry.sources:
        header = next(iter(spec.columns.values()))
        for path in spec.paths():
            _rename_first_mapped_header(path, spec.format, spec.encoding, header)
        [report] = run_source(session_factory, spec)
        assert report.status == "failed", spec.id
        assert header in (report.error or "") and "missing" in (report.error or ""), (spec.id, report.error)
    with session_factory() as s:
        after = {t.name: s.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables
                 if t.name != "ingest_run"}
    assert after == before
