"""The source registry: a valid file loads; every kind of mistake is reported, all at once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingest.errors import RegistryError, UnknownSourceError
from ingest.kinds import KINDS
from ingest.registry import Bounds, load_registry

FIXTURES = Path(__file__).parent / "fixtures"

VALID = """\
[[source]]
id = "tax-penalty"
agency = "国家税务总局某市税务局"
kind = "penalty"
format = "csv"
files = "drop/tax/*.csv"
schedule = "*/15 * * * *"

[source.columns]
uscc = "行政相对人代码_1(统一社会信用代码)"
name = "行政相对人名称"
decision_no = "行政处罚决定书文号"
decided_on = "处罚决定日期"
"""


def write_registry(tmp_path: Path, text: str) -> Path:
    """A registry file with this text in tmp_path."""
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    return path


def registry_error(tmp_path: Path, text: str) -> str:
    """The message of the RegistryError that loading this text raises."""
    with pytest.raises(RegistryError) as caught:
        load_registry(write_registry(tmp_path, text))
    return str(caught.value)


def test_valid_registry_loads_every_source_with_its_defaults() -> None:
    registry = load_registry(FIXTURES / "registry_sources.toml")

    assert [s.id for s in registry.sources] == ["samr-registration", "samr-abnormal", "food-blacklist"]
    registration, abnormal, food = registry.sources
    assert (registration.kind, registration.format, registration.mode) == ("registration", "xlsx", "snapshot")
    assert (registration.rank, registration.sheet, registration.encoding) == (100, "登记信息", None)
    assert registration.bounds == Bounds()
    assert (abnormal.mode, abnormal.rank, abnormal.encoding, abnormal.list_id) == ("changes", 50, "gb18030", None)
    assert abnormal.columns["listed_by"] == "作出决定机关(列入)"
    assert abnormal.bounds == Bounds(min_rows=1, max_rows=1_000_000, max_rejected_share=0.2)
    assert (food.kind, food.list_id, food.rank, food.schedule) == ("sector_list", "food-safety", 70, "30 1 * * mon-fri")
    assert food.base_dir == FIXTURES.resolve()
    assert registry.get("samr-abnormal") is abnormal


def test_unknown_source_names_the_known_ones() -> None:
    registry = load_registry(FIXTURES / "registry_sources.toml")

    with pytest.raises(UnknownSourceError, match="samr-abnormal") as caught:
        registry.get("customs-list")
    assert "customs-list" in str(caught.value) and "food-blacklist" in str(caught.value)


def test_paths_glob_relative_to_the_registry_file_sorted_by_name(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    drop = tmp_path / "drop" / "tax"
    drop.mkdir(parents=True)
    for name in ("b-2024-03-02.csv", "a-2024-03-01.csv", "c.txt", ".partial.csv"):
        (drop / name).write_text("x\n", encoding="utf-8")
    (drop / "dir.csv").mkdir()
    registry = load_registry(write_registry(tmp_path, VALID))
    monkeypatch.chdir(tmp_path.parent)

    assert registry.get("tax-penalty").paths() == [drop / "a-2024-03-01.csv", drop / "b-2024-03-02.csv"]


def test_fixture_registry_finds_the_reader_fixtures() -> None:
    abnormal = load_registry(FIXTURES / "registry_sources.toml").get("samr-abnormal")

    assert [p.name for p in abnormal.paths()] == [
        "reader_abnormal_gb18030.csv", "reader_abnormal_utf8.csv", "reader_abnormal_utf8_bom.csv"]


def test_unreadable_toml_names_the_file_and_line(tmp_path: Path) -> None:
    message = registry_error(tmp_path, VALID + "id = = 3\n")

    assert "sources.toml" in message and "line 14" in message


def test_missing_registry_file_is_a_registry_error(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="nowhere.toml"):
        load_registry(tmp_path / "nowhere.toml")


@pytest.mark.parametrize("key", ["agency", "kind", "format", "files", "schedule", "columns"])
def test_missing_required_key(tmp_path: Path, key: str) -> None:
    text = re.sub(rf"(?m)^{key} = .*\n", "", VALID) if key != "columns" else VALID.split("[source.columns]")[0]

    message = registry_error(tmp_path, text)

    assert f"source 'tax-penalty': key {key!r}: required key is missing" in message


def test_missing_id_names_the_source_by_position(tmp_path: Path) -> None:
    message = registry_error(tmp_path, VALID + VALID.replace('id = "tax-penalty"\n', ""))

    assert "source #2 (no id): key 'id': required key is missing" in message


def test_duplicate_id(tmp_path: Path) -> None:
    message = registry_error(tmp_path, VALID + VALID)

    assert "source 'tax-penalty': key 'id': duplicate id 'tax-penalty' (first declared as source #1)" in message


BROKEN = [
    ('kind = "penalty"', 'kind = "fine"', "kind", "unknown kind 'fine' (known: " + ", ".join(KINDS)),
    ('format = "csv"', 'format = "xls"', "format", "unknown format 'xls' (known: csv, xlsx, jsonl)"),
    ('format = "csv"', 'format = "csv"\nmode = "full"', "mode", "unknown mode 'full'"),
    ('decision_no = ', 'listed_on = "列入日期"\ndecision_no = ', "columns.listed_on", "not a field of kind 'penalty'"),
    ('decided_on = "处罚决定日期"\n', "", "columns.decided_on", "kind 'penalty' requires a column for 'decided_on'"),
    ('schedule = "*/15 * * * *"', 'schedule = "61 * * * *"', "schedule",
     "bad cron expression '61 * * * *': Error validating expression '61'"),
    ('schedule = "*/15 * * * *"', 'schedule = "@hourly"', "schedule", "expected 5 fields"),
    ('format = "csv"', 'format = "csv"\nencoding = "gb-18030x"', "encoding", "unknown encoding 'gb-18030x'"),
    ('format = "csv"', 'format = "csv"\nencoding = "rot13"', "encoding", "unknown encoding 'rot13'"),
    ('format = "csv"', 'format = "xlsx"\nencoding = "gbk"', "encoding", "csv and jsonl only"),
    ('format = "csv"', 'format = "csv"\nsheet = "Sheet1"', "sheet", "xlsx only"),
    ('format = "csv"', 'format = "csv"\nlist = "food-safety"', "list", "only kind 'sector_list' takes a list"),
    ('format = "csv"', 'format = "csv"\nrank = "high"', "rank", "must be an integer"),
    ('format = "csv"', 'format = "csv"\nfile = "x"', "file", "unknown key"),
    ('format = "csv"', 'format = "csv"\nagency_id = 3', "agency_id", "unknown key"),
    ('agency = "国家税务总局某市税务局"', "agency = 12", "agency", "must be a non-empty string"),
    ('name = "行政相对人名称"', 'name = ""', "columns.name", "must be a non-empty string"),
]


@pytest.mark.parametrize(("old", "new", "key", "fragment"), BROKEN)
def test_each_mistake_names_the_source_and_key(tmp_path: Path, old: str, new: str, key: str, fragment: str) -> None:
    assert old in VALID

    message = registry_error(tmp_path, VALID.replace(old, new, 1))

    assert f"{tmp_path / 'sources.toml'}: source 'tax-penalty': key {key!r}: " in message
    assert fragment in message


def test_no_identity_column(tmp_path: Path) -> None:
    text = VALID.replace('uscc = "行政相对人代码_1(统一社会信用代码)"\n', "").replace('name = "行政相对人名称"\n', "")

    message = registry_error(tmp_path, text)

    assert "source 'tax-penalty': key 'columns': no identity column: map at least one of uscc, reg_no" in message


def test_sector_list_requires_a_list(tmp_path: Path) -> None:
    text = VALID.replace('kind = "penalty"', 'kind = "sector_list"').replace(
        'decided_on = "处罚决定日期"', 'listed_on = "处罚决定日期"').replace('decision_no = "行政处罚决定书文号"\n', "")

    message = registry_error(tmp_path, text)

    assert "source 'tax-penalty': key 'list': required for kind 'sector_list'" in message


@pytest.mark.parametrize(("bounds", "key", "fragment"), [
    ("max_rejected_share = 1.5", "bounds.max_rejected_share", "between 0 and 1"),
    ("max_rejected_share = true", "bounds.max_rejected_share", "between 0 and 1"),
    ("min_rows = -1", "bounds.min_rows", "non-negative integer"),
    ("max_rows = 2.5", "bounds.max_rows", "non-negative integer"),
    ("min_rows = 10\nmax_rows = 5", "bounds.min_rows", "min_rows 10 is above max_rows 5"),
    ("max_row = 5", "bounds.max_row", "unknown bound"),
])
def test_bad_bounds(tmp_path: Path, bounds: str, key: str, fragment: str) -> None:
    message = registry_error(tmp_path, VALID + f"\n[source.bounds]\n{bounds}\n")

    assert f"source 'tax-penalty': key {key!r}: " in message and fragment in message


def test_all_problems_are_reported_together(tmp_path: Path) -> None:
    first = VALID.replace('format = "csv"', 'format = "xls"').replace('schedule = "*/15 * * * *"', 'schedule = "daily"')
    second = VALID.replace('id = "tax-penalty"', 'id = "court-list"').replace('kind = "penalty"', 'kind = "court"')
    third = VALID.replace('id = "tax-penalty"\n', "")

    lines = registry_error(tmp_path, first + second + third).splitlines()

    assert len(lines) == 4
    assert "source 'tax-penalty': key 'format'" in lines[0]
    assert "source 'tax-penalty': key 'schedule'" in lines[1]
    assert "source 'court-list': key 'kind'" in lines[2]
    assert "source #3 (no id): key 'id'" in lines[3]


def test_a_registry_without_sources_is_refused(tmp_path: Path) -> None:
    assert "no [[source]] block declared" in registry_error(tmp_path, "# nothing yet\n")


def test_a_single_source_table_is_refused(tmp_path: Path) -> None:
    assert "must be [[source]] blocks" in registry_error(tmp_path, VALID.replace("[[source]]", "[source]"))
