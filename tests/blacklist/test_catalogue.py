"""The list catalogue: the packaged file is complete, and a broken file fails naming list and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from blacklist.catalogue import (
    CatalogueError, UnknownListError, default_catalogue, list_by_id, load_catalogue,
)
from ingest.records import LIST_IDS

# Sector lists the sample regulator files of ingest declare (ingest/sample.py).
INGEST_SECTOR_IDS = {"court-defaulters", "major-tax-violators"}
REQUIRED_IDS = {"abnormal", "serious-illegal", "court-defaulters", "major-tax-violators", "customs-dishonest",
                "food-drug-blacklist", "special-equipment-blacklist"}

VALID = """
[[list]]
id = "food-safety"
name = "食品安全严重违法失信名单"
owner = "某市市场监督管理局"
legal_basis = ["《中华人民共和国食品安全法》"]
kind = "blacklist"
entity_types = ["enterprise"]
term_months = 36
removal = "列入满3年移出"
early_repair = "列入满1年可申请提前移出"
measures = ["列为重点监管对象"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalogue.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_packaged_catalogue_has_every_required_list_and_a_commendation_list() -> None:
    ids = set(default_catalogue().ids)
    assert REQUIRED_IDS <= ids
    assert any(spec.kind == "commendation" for spec in default_catalogue().lists)


def test_every_list_id_that_ingest_writes_is_in_the_catalogue() -> None:
    assert set(LIST_IDS.values()) | INGEST_SECTOR_IDS <= set(default_catalogue().ids)


def test_every_list_has_its_owner_basis_conditions_and_measures_in_chinese() -> None:
    for spec in default_catalogue().lists:
        for text in (spec.name, spec.owner, spec.removal, spec.early_repair, *spec.legal_basis, *spec.measures):
            assert any("\u4e00" <= ch <= "\u9fff" for ch in text), (spec.id, text)
        assert all(b.startswith("《") for b in spec.legal_basis), spec.id
        assert spec.kind in ("blacklist", "commendation") and spec.entity_types
        assert spec.term_months is not None or spec.term_note, f"{spec.id}: no term and no word on why"


def test_the_rules_of_domain_section_3_are_in_the_data() -> None:
    abnormal, serious = list_by_id("abnormal"), list_by_id("serious-illegal")
    # Individual businesses are marked abnormal, not listed; cooperatives are listed.
    assert abnormal.entity_types == ("enterprise", "cooperative")
    assert abnormal.marked_entity_types == ("individual",)
    assert abnormal.term_months is None and "5个工作日" in abnormal.removal
    assert serious.term_months == 36 and "满1年" in serious.early_repair
    assert any("第44号" in b for b in serious.legal_basis)
    court = list_by_id("court-defaulters")
    assert "《最高人民法院关于公布失信被执行人名单信息的若干规定》（法释〔2017〕7号）" in court.legal_basis
    assert any("第54号" in b for b in list_by_id("major-tax-violators").legal_basis)
    assert any("海关注册登记和备案企业信用管理办法" in b for b in list_by_id("customs-dishonest").legal_basis)


def test_an_unknown_id_names_the_known_ones() -> None:
    with pytest.raises(UnknownListError) as caught:
        list_by_id("红名单")
    assert caught.value.list_id == "红名单"
    assert "abnormal" in str(caught.value) and "serious-illegal" in str(caught.value)


def test_the_default_catalogue_is_read_once() -> None:
    assert default_catalogue() is default_catalogue()


def test_a_valid_file_loads_with_its_values(tmp_path: Path) -> None:
    catalogue = load_catalogue(write(tmp_path, VALID))
    spec = catalogue.by_id("food-safety")
    assert spec.legal_basis == ("《中华人民共和国食品安全法》",)
    assert spec.term_months == 36 and spec.term_note is None and spec.marked_entity_types == ()


@pytest.mark.parametrize("change, field", [
    (('term_months = 36', 'term_months = 36\n"颜色" = "黑"'), "颜色"),
    (('owner = "某市市场监督管理局"\n', ""), "owner"),
    (('measures = ["列为重点监管对象"]', "measures = []"), "measures"),
    (('kind = "blacklist"', 'kind = "黑名单"'), "kind"),
    (('entity_types = ["enterprise"]', 'entity_types = ["company"]'), "entity_types"),
    (('entity_types = ["enterprise"]', 'entity_types = ["any", "enterprise"]'), "entity_types"),
    (('term_months = 36', "term_months = 0"), "term_months"),
    (('term_months = 36', "term_months = true"), "term_months"),
    (('name = "食品安全严重违法失信名单"', 'name = "  "'), "name"),
    (('entity_types = ["enterprise"]', 'entity_types = ["enterprise"]\nmarked_entity_types = ["enterprise"]'),
     "marked_entity_types"),
])
def test_a_bad_block_names_the_list_and_the_field(tmp_path: Path, change: tuple[str, str], field: str) -> None:
    old, new = change
    assert old in VALID
    path = write(tmp_path, VALID.replace(old, new))
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path)
    assert (caught.value.list_id, caught.value.field) == ("food-safety", field)
    assert "'food-safety'" in str(caught.value) and repr(field) in str(caught.value) and str(path) in str(caught.value)


def test_a_bad_id_is_named_by_position(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(write(tmp_path, VALID.replace('id = "food-safety"', 'id = "Food Safety"')))
    assert caught.value.field == "id" and caught.value.list_id == "Food Safety"
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(write(tmp_path, VALID + VALID.replace('id = "food-safety"\n', "")))
    assert (caught.value.list_id, caught.value.field) == ("#2", "id")


def test_a_duplicate_id_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(write(tmp_path, VALID + VALID))
    assert (caught.value.list_id, caught.value.field) == ("food-safety", "id")
    assert "duplicate" in str(caught.value)


@pytest.mark.parametrize("text, says", [
    ("[[list]\nid = ", "not valid TOML"),
    ('title = "名单"\n' + VALID, "title"),
    ("", "no [[list]] blocks"),
    ("list = 3", "no [[list]] blocks"),
])
def test_a_broken_file_says_what_is_wrong(tmp_path: Path, text: str, says: str) -> None:
    with pytest.raises(CatalogueError, match=r"catalogue\.toml") as caught:
        load_catalogue(write(tmp_path, text))
    assert says in str(caught.value)


def test_a_missing_file_is_a_catalogue_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="cannot be read"):
        load_catalogue(tmp_path / "nowhere.toml")
