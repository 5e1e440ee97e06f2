"""Tests for ingest.sample: real files in tmp_path, read back the way a regulator's reader would."""

from __future__ import annotations

import json
import re
import tomllib
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from credit.identifiers import Outcome, normalise_identifier, validate_org_code, validate_reg_no, validate_uscc
from credit.text import normalise_text
from ingest.kinds import DATE_FIELDS, KINDS
from ingest.sample import DEFECTS, FileSummary, SampleSummary, defect_count, write_sample_data

TODAY = date(2025, 6, 1)
IDENTITY = ("uscc", "reg_no", "org_code", "name", "tax_no", "inst_cert_no", "social_org_no")
Table = tuple[FileSummary, pd.DataFrame]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SampleSummary:
    """500 entities, penalties split into files of about 60 rows so the split is exercised too."""
    return write_sample_data(tmp_path_factory.mktemp("sample"), entities=500, seed=7, today=TODAY,
                             penalty_file_rows=60)


@pytest.fixture(scope="module")
def sources(sample: SampleSummary) -> dict[str, dict[str, Any]]:
    """The generated registry's [[source]] blocks by id."""
    with sample.registry.open("rb") as f:
        return {block["id"]: block for block in tomllib.load(f)["source"]}


@pytest.fixture(scope="module")
def tables(sample: SampleSummary, sources: dict[str, dict[str, Any]]) -> dict[str, list[Table]]:
    """Every written file read back as text, by source id."""
    return {sid: [(f, read_table(sample.directory / f.path, block)) for f in sample.by_source(sid)]
            for sid, block in sources.items()}


@pytest.fixture(scope="module")
def registered(tables: dict[str, list[Table]], sources: dict[str, dict[str, Any]]) -> tuple[set[str], set[str]]:
    """Normalised USCCs and names of the registration file."""
    frame = tables["samr-registration"][0][1]
    columns = sources["samr-registration"]["columns"]
    codes = {normalise_identifier(c) for c in frame[columns["uscc"]] if c}
    return codes, set(frame[columns["name"]])


def read_table(path: Path, block: dict[str, Any]) -> pd.DataFrame:
    """A file as a frame of strings, read in its declared format and encoding."""
    if block["format"] == "csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=block["encoding"])
    if block["format"] == "xlsx":
        return pd.read_excel(path, dtype=str, keep_default_na=False, engine="openpyxl")
    with path.open(encoding=block.get("encoding", "utf-8")) as f:
        return pd.DataFrame([json.loads(line) for line in f], dtype=str)


def parse_day(text: str) -> date | None:
    """A date in any of the forms real feeds use, or None when it is not a real day."""
    for form in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日", "%Y%m%d"):
        try:
            return datetime.strptime(text.strip(), form).date()
        except ValueError:
            continue
    return None


def mapped(block: dict[str, Any], fields: tuple[str, ...] | frozenset[str]) -> list[str]:
    """Headers of the mapped canonical fields among `fields`."""
    return [header for field, header in block["columns"].items() if field in fields]


def all_files(directory: Path) -> dict[str, bytes]:
    """Every file under a directory by relative path."""
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    first = write_sample_data(tmp_path / "a", entities=300, seed=3, today=TODAY)
    write_sample_data(tmp_path / "b", entities=300, seed=3, today=TODAY)
    assert all_files(tmp_path / "a") == all_files(tmp_path / "b")
    assert len(all_files(tmp_path / "a")) == len(first.files) + 1


def test_another_seed_gives_other_files(tmp_path: Path) -> None:
    write_sample_data(tmp_path / "a", entities=300, seed=3, today=TODAY)
    write_sample_data(tmp_path / "b", entities=300, seed=4, today=TODAY)
    one, other = all_files(tmp_path / "a"), all_files(tmp_path / "b")
    assert one.keys() == other.keys()
    assert all(one[p] != other[p] for p in one if p != "sources.toml")


def test_default_writes_one_penalty_file(tmp_path: Path) -> None:
    summary = write_sample_data(tmp_path, entities=300, seed=3, today=TODAY)
    assert [f.path for f in summary.by_source("credit-penalty")] == ["drop/credit/penalty-001.xlsx"]


def test_registry_declares_sources_as_designed(sources: dict[str, dict[str, Any]]) -> None:
    assert {b["kind"] for b in sources.values()} == set(KINDS)
    for sid, block in sources.items():
        assert {"id", "agency", "kind", "format", "files", "schedule", "mode", "columns"} <= block.keys()
        assert set(block["columns"]) <= set(KINDS[block["kind"]].all_fields), sid
        assert set(KINDS[block["kind"]].required) <= set(block["columns"]), sid
        assert "record_key" in block["columns"] and "uscc" in block["columns"] and "name" in block["columns"]
        assert len(block["schedule"].split()) == 5
        assert ("encoding" in block) == (block["format"] != "xlsx")
        assert ("list" in block) == (block["kind"] == "sector_list")
    assert sources["samr-registration"]["rank"] == 100
    assert sources["samr-registration"]["encoding"] == "gb18030"
    lists = {b["list"]: b["format"] for b in sources.values() if b["kind"] == "sector_list"}
    assert lists == {"court-defaulters": "jsonl", "major-tax-violators": "csv"}
    for feed in ("credit-licence", "credit-penalty"):
        columns = sources[feed]["columns"]
        assert columns["change"] == "操作标识"
        assert [columns[f] for f in ("uscc", "reg_no", "org_code", "tax_no", "inst_cert_no", "social_org_no")] == [
            f"行政相对人代码_{i}({label})" for i, label in
            enumerate(("统一社会信用代码", "工商注册号", "组织机构代码", "税务登记号", "事业单位证书号", "社会组织登记证号"), 1)]


def test_registry_loads_with_the_ingest_registry(sample: SampleSummary) -> None:
    registry = pytest.importorskip("ingest.registry")
    loaded = registry.load_registry(sample.registry)
    assert [s.id for s in loaded.sources] == list(sample.sources)
    assert all(s.paths() for s in loaded.sources)


def test_ingest_readers_read_every_row(sample: SampleSummary) -> None:
    registry, readers = pytest.importorskip("ingest.registry"), pytest.importorskip("ingest.readers")
    for source in registry.load_registry(sample.registry).sources:
        for path, summary in zip(source.paths(), sample.by_source(source.id), strict=True):
            chunks = readers.read_chunks(path, format=source.format, encoding=source.encoding, chunk_rows=100)
            assert sum(len(chunk) for chunk in chunks) == summary.rows, summary.path


def test_each_glob_matches_exactly_the_written_files_and_headers_fit(
        sample: SampleSummary, sources: dict[str, dict[str, Any]], tables: dict[str, list[Table]]) -> None:
    for sid, block in sources.items():
        matched = sorted(p.relative_to(sample.directory).as_posix() for p in sample.directory.glob(block["files"]))
        assert matched == [f.path for f in sample.by_source(sid)] and matched, sid
        for summary, frame in tables[sid]:
            assert set(block["columns"].values()) <= set(frame.columns), summary.path
            assert len(frame) == summary.rows > 0


def test_registration_is_gb18030(sample: SampleSummary) -> None:
    raw = (sample.directory / sample.by_source("samr-registration")[0].path).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("gb18030")
    assert not text.isascii() and text.startswith("主体身份代码,统一社会信用代码,注册号,企业名称")


def test_licence_is_utf8_with_bom(sample: SampleSummary) -> None:
    raw = (sample.directory / sample.by_source("credit-licence")[0].path).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf" + "行政相对人名称,行政相对人类别".encode())
    raw.decode("utf-8")


def test_penalties_split_into_numbered_files(sample: SampleSummary) -> None:
    files = sample.by_source("credit-penalty")
    assert [f.path for f in files] == [f"drop/credit/penalty-{i:03d}.xlsx" for i in range(1, len(files) + 1)]
    assert len(files) > 1 and all(f.rows <= 70 for f in files)


def test_planted_defects_are_in_the_files_as_summarised(
        tables: dict[str, list[Table]], sources: dict[str, dict[str, Any]],
        registered: tuple[set[str], set[str]]) -> None:
    codes, _ = registered
    for sid, block in sources.items():
        for summary, frame in tables[sid]:
            found = count_defects(frame, block, codes)
            if block["kind"] == "registration":
                found["unknown_entity"] = 0
            assert found == dict(summary.defects), summary.path
            assert all(summary.defects[d] >= 1 for d in DEFECTS if d != "unknown_entity"), summary.path


def count_defects(frame: pd.DataFrame, block: dict[str, Any], registered: set[str]) -> dict[str, int]:
    """Each defect class counted from the file alone, as ingest would find it."""
    outcome = [validate_uscc(c).outcome if c else None for c in frame[block["columns"]["uscc"]]]
    identity = frame[mapped(block, IDENTITY)]
    dates = frame[mapped(block, DATE_FIELDS)]
    bad_dates = dates.apply(lambda col: col.map(lambda v: bool(v) and parse_day(v) is None)).any(axis=1)
    valid = [normalise_identifier(c) for c, o in zip(frame[block["columns"]["uscc"]], outcome) if o is Outcome.VALID]
    return {
        "malformed_code": outcome.count(Outcome.MALFORMED),
        "check_mismatch": outcome.count(Outcome.CHECK_MISMATCH),
        "bad_date": int(bad_dates.sum()),
        "missing_identity": int((identity == "").all(axis=1).sum()),
        "unknown_entity": sum(c not in registered for c in valid),
        "duplicate_key": int(frame.duplicated().sum()),
    }


def test_mismatched_codes_are_those_of_the_register(
        tables: dict[str, list[Table]], sources: dict[str, dict[str, Any]],
        registered: tuple[set[str], set[str]]) -> None:
    codes, names = registered
    for sid, block in sources.items():
        if sid == "samr-registration":
            continue
        for summary, frame in tables[sid]:
            pairs = [(c, n) for c, n in zip(frame[block["columns"]["uscc"]], frame[block["columns"]["name"]])
                     if c and validate_uscc(c).outcome is Outcome.CHECK_MISMATCH]
            assert len(pairs) == summary.defects["check_mismatch"]
            assert all(normalise_identifier(c) in codes and n in names for c, n in pairs), summary.path


def test_other_codes_are_valid(tables: dict[str, list[Table]], sources: dict[str, dict[str, Any]]) -> None:
    for sid, block in sources.items():
        columns = block["columns"]
        for summary, frame in tables[sid]:
            checks = [(columns.get("authority_code"), validate_uscc), (columns.get("reg_no"), validate_reg_no),
                      (columns.get("org_code"), validate_org_code)]
            for header, check in checks:
                if header:
                    assert {check(v).outcome for v in frame[header] if v} <= {Outcome.VALID}, (summary.path, header)


def test_unknown_entities_match_no_registration(tables: dict[str, list[Table]], sources: dict[str, dict[str, Any]],
                                                registered: tuple[set[str], set[str]]) -> None:
    codes, names = registered
    unknown = 0
    for sid, block in sources.items():
        for _, frame in tables[sid]:
            for code, name in zip(frame[block["columns"]["uscc"]], frame[block["columns"]["name"]]):
                if code and validate_uscc(code).outcome is Outcome.VALID and normalise_identifier(code) not in codes:
                    assert name and name not in names
                    unknown += 1
    assert unknown > 0


def test_respelled_codes_normalise_to_registered_ones(
        sample: SampleSummary, tables: dict[str, list[Table]], sources: dict[str, dict[str, Any]],
        registered: tuple[set[str], set[str]]) -> None:
    codes, _ = registered
    for sid, block in sources.items():
        for summary, frame in tables[sid]:
            column = frame[block["columns"]["uscc"]]
            lower = [c for c in column if c != c.upper()]
            wide = [c for c in column if any("\uff10" <= ch <= "\uff5a" for ch in c)]
            assert len(lower) == summary.variants["lowercase_uscc"] >= 1, summary.path
            assert len(wide) == summary.variants["fullwidth_uscc"] >= 1, summary.path
            for code in lower + wide:
                assert validate_uscc(code).outcome is Outcome.VALID
                assert sid == "samr-registration" or normalise_identifier(code) in codes


def test_names_in_other_spellings_match_the_register(
        tables: dict[str, list[Table]], sources: dict[str, dict[str, Any]],
        registered: tuple[set[str], set[str]]) -> None:
    _, names = registered
    folded = {normalise_text(n) for n in names}
    assert any("（" in n for n in names) and any("(" in n for n in names)
    for sid in ("credit-licence", "credit-penalty"):
        header = sources[sid]["columns"]["name"]
        spelled = [n for _, frame in tables[sid] for n in frame[header] if n and n not in names]
        traditional = [n for n in spelled if normalise_text(n) in folded and any(c in n for c in "華貿責區業縣龍廣蘇漢")]
        assert traditional, sid
        assert sum(summary.variants["traditional_name"] for summary, _ in tables[sid]) >= 1
        flipped = [n for n in spelled if ("(" in n or "（" in n) and normalise_text(n) in folded]
        assert flipped, sid


def test_change_rows_follow_an_insert_of_their_key(
        tables: dict[str, list[Table]], sources: dict[str, dict[str, Any]]) -> None:
    for sid in ("credit-licence", "credit-penalty"):
        columns = sources[sid]["columns"]
        frame = pd.concat([f for _, f in tables[sid]], ignore_index=True)
        flags = frame[columns["change"]]
        assert set(flags) == {"I", "U", "D"}
        inserted: set[str] = set()
        for key, flag in zip(frame[columns["record_key"]], flags):
            if flag == "I":
                inserted.add(key)
            else:
                assert key in inserted, (sid, key, flag)
        summaries = [s for s, _ in tables[sid]]
        assert (flags == "U").sum() == sum(s.variants["update"] for s in summaries)
        assert (flags == "D").sum() == sum(s.variants["delete"] for s in summaries)
        updates = frame[flags == "U"].drop(columns=columns["change"])
        originals = frame[flags == "I"].drop_duplicates().set_index(columns["record_key"])
        for _, row in updates.iterrows():
            assert not row.drop(columns["record_key"]).equals(originals.loc[row[columns["record_key"]]]), sid


def test_penalty_dates_mix_excel_cells_and_text(sample: SampleSummary) -> None:
    path = sample.directory / sample.by_source("credit-penalty")[0].path
    sheet = openpyxl.load_workbook(path, read_only=True).active
    header = next(sheet.iter_rows(max_row=1, values_only=True))
    column = header.index("处罚决定日期")
    values = [row[column] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert any(isinstance(v, datetime) for v in values)
    assert any(isinstance(v, str) and parse_day(v) for v in values)
    fines = [row[header.index("罚款金额（万元）")] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert any(isinstance(v, float) for v in fines)


def test_abnormal_dates_come_in_mixed_forms(tables: dict[str, list[Table]]) -> None:
    listed = tables["samr-abnormal"][0][1]["列入日期"]
    forms = [r"\d{4}-\d{2}-\d{2}", r"\d{4}/\d{1,2}/\d{1,2}", r"\d{4}年\d{1,2}月\d{1,2}日", r"\d{8}"]
    for form in forms:
        assert any(re.fullmatch(form, v) for v in listed), form
    reasons = set(tables["samr-abnormal"][0][1]["列入经营异常名录原因"])
    assert "通过登记的住所或者经营场所无法联系的" in reasons
    assert any(r.endswith("未依照《企业信息公示暂行条例》第八条规定的期限公示年度报告的") for r in reasons)


def test_register_holds_a_realistic_mix(tables: dict[str, list[Table]]) -> None:
    frame = tables["samr-registration"][0][1]
    codes = [normalise_identifier(c) for c in frame["统一社会信用代码"] if len(normalise_identifier(c)) == 18]
    assert {c[:2] for c in codes} == {"91", "92", "93"}
    assert set(frame["登记状态"]) == {"存续", "在业", "吊销", "注销", "迁出"}
    old = frame[(frame["统一社会信用代码"] == "") & (frame["注册号"] != "")]
    assert len(old) and {validate_reg_no(r).outcome for r in old["注册号"]} == {Outcome.VALID}
    assert frame["企业名称"].str.endswith("分公司").any()
    assert frame["企业名称"].str.endswith("专业合作社").any()
    assert (frame["企业类型"] == "个体工商户").any()
    assert frame["曾用名"].str.contains("；").any()
    named = frame[frame["企业名称"] != ""]
    assert named["企业名称"].duplicated().sum() == named.duplicated().sum()  # only the planted repeats


def test_annual_reports_leave_some_years_missing(tables: dict[str, list[Table]]) -> None:
    frame = tables["samr-annual-reports"][0][1]
    assert set(frame["报送年度"]) - {""} == {"2022", "2023", "2024"}
    per_entity = frame[frame["统一社会信用代码"] != ""].groupby("统一社会信用代码")["报送年度"].nunique()
    assert (per_entity == 3).any() and (per_entity < 3).any()


def test_defect_count_is_about_one_percent() -> None:
    assert [defect_count(n) for n in (1, 30, 149, 150, 20_000)] == [1, 1, 1, 2, 200]
