"""Tests for blacklist.publicity: publicity periods and credit repair of administrative penalties.

Expected dates are worked out by hand from DOMAIN.md §3: a minimum of N months allows repair from
the decision date + N months; a maximum of M months makes the day before decision date + M months
the last public day (public_until is inclusive).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blacklist.errors import BlacklistError, PenaltyError, PolicyError
from blacklist.publicity import (
    SEVERITIES,
    PenaltyFacts,
    PublicityPolicy,
    add_months,
    is_public,
    publicity_of,
)
from blacklist.publicity_load import load_policy

POLICY = load_policy()

# Thresholds of our own, so that the low-fine tests do not hang on the packaged sample values.
TEST_THRESHOLDS = """
[[low_fine_thresholds]]
valid_from = 2021-09-01
default = 1

[low_fine_thresholds.provinces]
11 = 3
44 = 2
"""


@pytest.fixture(scope="module")
def samr_policy(tmp_path_factory: pytest.TempPathFactory) -> PublicityPolicy:
    """The packaged regimes with the test low-fine thresholds (北京 3 万元, 广东 2 万元, others 1 万元)."""
    packaged = resources.files("blacklist").joinpath("publicity.toml").read_text("utf-8")
    path = tmp_path_factory.mktemp("policy") / "publicity.toml"
    path.write_text(packaged[: packaged.index("[[low_fine_thresholds]]")] + TEST_THRESHOLDS, "utf-8")
    return load_policy(path)


def dates(penalty: PenaltyFacts, policy: PublicityPolicy = POLICY,
          system: str = "credit") -> tuple[date | None, date | None]:
    """(repair_from, public_until) of a penalty."""
    found = publicity_of(penalty, policy, system)
    return found.repair_from, found.public_until


# --- month arithmetic ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 12, 31), 2, date(2027, 2, 28)),
        (date(2026, 8, 31), 3, date(2026, 11, 30)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 4, 1), 12, date(2027, 4, 1)),
        (date(2026, 4, 15), 0, date(2026, 4, 15)),
    ],
)
def test_add_months_clamps_to_month_end(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


# --- regimes and their boundary days ------------------------------------------------------------

def test_last_day_of_trial_measures_uses_trial_periods() -> None:
    found = publicity_of(PenaltyFacts(date(2026, 3, 31), "ordinary", "罚款"), POLICY)
    assert found.regime_id == "ndrc-2023-trial"
    assert "试行" in found.legal_basis
    assert (found.repair_from, found.public_until) == (date(2026, 6, 30), date(2029, 3, 30))


def test_first_day_of_2026_measures_uses_new_periods() -> None:
    found = publicity_of(PenaltyFacts(date(2026, 4, 1), "ordinary", "罚款"), POLICY)
    assert found.regime_id == "ndrc-2026"
    assert found.legal_basis == "《失信行为纠正后的信用信息修复管理办法》(国家发展改革委, 2026)"
    assert (found.public_from, found.repair_from, found.public_until) == (
        date(2026, 4, 1), date(2026, 7, 1), date(2027, 3, 31))


def test_first_day_of_trial_measures() -> None:
    found = publicity_of(PenaltyFacts(date(2023, 5, 1), "ordinary", "罚款"), POLICY)
    assert found.regime_id == "ndrc-2023-trial"
    assert (found.repair_from, found.public_until) == (date(2023, 8, 1), date(2026, 4, 30))


def test_no_credit_regime_before_trial_measures() -> None:
    with pytest.raises(PenaltyError, match="2023-04-30"):
        publicity_of(PenaltyFacts(date(2023, 4, 30), "ordinary", "罚款"), POLICY)


def test_samr_rules_start_2021_09_01() -> None:
    assert publicity_of(PenaltyFacts(date(2021, 9, 1), "serious", "吊销营业执照"), POLICY, "samr").regime_id == "samr-2021"
    with pytest.raises(PenaltyError):
        publicity_of(PenaltyFacts(date(2021, 8, 31), "serious", "吊销营业执照"), POLICY, "samr")


def test_unknown_severity_and_system_are_errors() -> None:
    with pytest.raises(PenaltyError, match="严重违法"):
        publicity_of(PenaltyFacts(date(2026, 5, 1), "严重违法"), POLICY)
    with pytest.raises(BlacklistError):
        publicity_of(PenaltyFacts(date(2026, 5, 1), "ordinary"), POLICY, "信用中国")


# --- each severity, each regime -----------------------------------------------------------------

def test_2026_minor_is_not_published() -> None:
    found = publicity_of(PenaltyFacts(date(2026, 4, 1), "minor", "警告"), POLICY)
    assert not found.published
    assert (found.public_from, found.public_until, found.repair_from) == (None, None, None)
    assert "不予公示" in found.reason
    assert not is_public(PenaltyFacts(date(2026, 4, 1), "minor", "警告"), POLICY, date(2026, 4, 1))


@pytest.mark.parametrize(
    ("severity", "repair_from", "public_until"),
    [
        ("ordinary", date(2026, 7, 1), date(2027, 3, 31)),
        ("serious", date(2027, 4, 1), date(2029, 3, 31)),
    ],
)
def test_2026_periods_end_exactly(severity: str, repair_from: date, public_until: date) -> None:
    assert dates(PenaltyFacts(date(2026, 4, 1), severity)) == (repair_from, public_until)


@pytest.mark.parametrize("severity", SEVERITIES)
def test_trial_measures_one_period_for_every_severity(severity: str) -> None:
    assert dates(PenaltyFacts(date(2024, 1, 15), severity)) == (date(2024, 4, 15), date(2027, 1, 14))


def test_is_public_boundaries_2026_ordinary() -> None:
    penalty = PenaltyFacts(date(2026, 4, 1), "ordinary", "罚款")
    assert not is_public(penalty, POLICY, date(2026, 3, 31))
    assert is_public(penalty, POLICY, date(2026, 4, 1))
    assert is_public(penalty, POLICY, date(2027, 3, 31))
    assert not is_public(penalty, POLICY, date(2027, 4, 1))


@pytest.mark.parametrize(
    ("decided_on", "severity", "repair_from", "public_until"),
    [
        (date(2026, 11, 30), "ordinary", date(2027, 2, 28), date(2027, 11, 29)),
        (date(2027, 8, 31), "ordinary", date(2027, 11, 30), date(2028, 8, 30)),
        (date(2027, 11, 30), "ordinary", date(2028, 2, 29), date(2028, 11, 29)),
        (date(2028, 2, 29), "serious", date(2029, 2, 28), date(2031, 2, 27)),
    ],
)
def test_periods_clamp_to_month_end(decided_on: date, severity: str, repair_from: date,
                                    public_until: date) -> None:
    assert dates(PenaltyFacts(decided_on, severity)) == (repair_from, public_until)


# --- special domains ----------------------------------------------------------------------------

@pytest.mark.parametrize("domain", ["特种设备", "安全生产", "消防", "work_safety"])
def test_trial_special_domains_need_a_year(domain: str) -> None:
    penalty = PenaltyFacts(date(2024, 1, 15), "ordinary", "罚款", domain=domain)
    assert dates(penalty) == (date(2025, 1, 15), date(2027, 1, 14))


def test_trial_other_domain_keeps_three_months() -> None:
    assert dates(PenaltyFacts(date(2024, 1, 15), "ordinary", "罚款", domain="食品")) == (
        date(2024, 4, 15), date(2027, 1, 14))


def test_2026_measures_have_no_special_domains() -> None:
    assert dates(PenaltyFacts(date(2026, 4, 1), "ordinary", "罚款", domain="特种设备")) == (
        date(2026, 7, 1), date(2027, 3, 31))


@pytest.mark.parametrize(
    ("domain", "repair_from"),
    [("食品", date(2025, 3, 10)), ("药品", date(2025, 3, 10)), ("特种设备", date(2025, 3, 10)),
     ("安全生产", date(2024, 9, 10)), (None, date(2024, 9, 10))],
)
def test_samr_repair_after_six_months_or_a_year(domain: str | None, repair_from: date) -> None:
    penalty = PenaltyFacts(date(2024, 3, 10), "serious", "吊销许可证", domain=domain)
    found = publicity_of(penalty, POLICY, "samr")
    assert (found.repair_from, found.public_until) == (repair_from, date(2027, 3, 9))


# --- SAMR: warnings, 通报批评, low fines, bans ----------------------------------------------------

def test_samr_warning_alone_not_published() -> None:
    found = publicity_of(PenaltyFacts(date(2024, 3, 10), "minor", "警告"), POLICY, "samr")
    assert not found.published and found.public_until is None


def test_samr_public_criticism_three_months_without_repair() -> None:
    penalty = PenaltyFacts(date(2024, 3, 10), "minor", "通报批评")
    assert dates(penalty, POLICY, "samr") == (None, date(2024, 6, 9))


@pytest.mark.parametrize(
    ("province", "fine", "public_until"),
    [
        ("44", "1.99", date(2024, 6, 9)),
        ("44", "2", date(2024, 6, 9)),
        ("44", "2.01", date(2027, 3, 9)),
        ("11", "2.99", date(2024, 6, 9)),
        ("11", "3.01", date(2027, 3, 9)),
        ("65", "0.99", date(2024, 6, 9)),
        ("65", "1.01", date(2027, 3, 9)),
        (None, "1.01", date(2027, 3, 9)),
    ],
)
def test_samr_low_fine_threshold_per_province(samr_policy: PublicityPolicy, province: str | None,
                                              fine: str, public_until: date) -> None:
    penalty = PenaltyFacts(date(2024, 3, 10), "ordinary", "罚款", fine_wan=Decimal(fine), province=province)
    assert publicity_of(penalty, samr_policy, "samr").public_until == public_until


def test_samr_low_fine_with_confiscation_is_not_only_a_low_fine(samr_policy: PublicityPolicy) -> None:
    penalty = PenaltyFacts(date(2024, 3, 10), "ordinary", "罚款；没收违法所得", fine_wan=Decimal("0.5"),
                           province="44")
    assert publicity_of(penalty, samr_policy, "samr").public_until == date(2027, 3, 9)


def test_credit_system_ignores_low_fines(samr_policy: PublicityPolicy) -> None:
    penalty = PenaltyFacts(date(2026, 4, 1), "ordinary", "罚款", fine_wan=Decimal("0.1"), province="44")
    assert publicity_of(penalty, samr_policy).public_until == date(2027, 3, 31)


@pytest.mark.parametrize(
    ("ban_months", "public_until"),
    [(60, date(2029, 3, 9)), (37, date(2027, 4, 9)), (36, date(2027, 3, 9)), (24, date(2027, 3, 9))],
)
def test_samr_bans_longer_than_three_years_published_for_the_ban(ban_months: int, public_until: date) -> None:
    penalty = PenaltyFacts(date(2024, 3, 10), "serious", "限制从业", ban_months=ban_months)
    assert dates(penalty, POLICY, "samr") == (date(2024, 9, 10), public_until)


def test_credit_system_does_not_extend_for_bans() -> None:
    penalty = PenaltyFacts(date(2026, 4, 1), "serious", "限制从业", ban_months=60)
    assert dates(penalty) == (date(2027, 4, 1), date(2029, 3, 31))


# --- repair and withdrawal ----------------------------------------------------------------------

@pytest.mark.parametrize("system", ["credit", "samr"])
def test_repair_stops_publication_on_the_repair_date(system: str) -> None:
    penalty = PenaltyFacts(date(2026, 4, 1), "ordinary", "罚款", repaired_on=date(2026, 8, 15))
    found = publicity_of(penalty, POLICY, system)
    assert found.public_until == date(2026, 8, 14)
    assert "信用修复" in found.reason
    assert is_public(penalty, POLICY, date(2026, 8, 14), system)
    assert not is_public(penalty, POLICY, date(2026, 8, 15), system)


def test_repair_after_expiry_changes_nothing() -> None:
    penalty = PenaltyFacts(date(2026, 4, 1), "ordinary", "罚款", repaired_on=date(2027, 6, 1))
    assert publicity_of(penalty, POLICY).public_until == date(2027, 3, 31)


@pytest.mark.parametrize("system", ["credit", "samr"])
def test_withdrawn_is_never_public(system: str) -> None:
    penalty = PenaltyFacts(date(2026, 4, 1), "serious", "吊销营业执照", withdrawn=True)
    found = publicity_of(penalty, POLICY, system)
    assert not found.published and found.public_until is None and found.repair_from is None
    assert "撤销" in found.reason
    for day in (date(2026, 4, 1), date(2026, 12, 31), date(2029, 3, 31)):
        assert not is_public(penalty, POLICY, day, system)


# --- properties ---------------------------------------------------------------------------------

@given(
    decided_on=st.dates(date(2023, 5, 1), date(2040, 12, 31)),
    severity=st.sampled_from(SEVERITIES),
    system=st.sampled_from(["credit", "samr"]),
    penalty_type=st.sampled_from(["警告", "通报批评", "罚款", "吊销营业执照", "限制从业"]),
    domain=st.sampled_from([None, "食品", "特种设备", "消防"]),
    ban_months=st.one_of(st.none(), st.integers(1, 120)),
)
def test_repair_never_before_decision_nor_after_publication(
    decided_on: date, severity: str, system: str, penalty_type: str, domain: str | None,
    ban_months: int | None,
) -> None:
    penalty = PenaltyFacts(decided_on, severity, penalty_type, domain=domain, ban_months=ban_months)
    found = publicity_of(penalty, POLICY, system)
    if found.public_until is None:
        assert not found.published
        return
    assert found.public_from == decided_on <= found.public_until
    if found.repair_from is not None:
        assert decided_on <= found.repair_from <= found.public_until
    assert is_public(penalty, POLICY, found.public_until, system)
    assert not is_public(penalty, POLICY, found.public_until + timedelta(days=1), system)


# --- the packaged policy and the loader's errors ------------------------------------------------

def test_packaged_policy_is_read_once_and_names_its_basis() -> None:
    assert load_policy() is load_policy()
    assert {regime.id for regime in POLICY.regimes} == {"ndrc-2026", "ndrc-2023-trial", "samr-2021"}
    assert all(regime.legal_basis.startswith("《") for regime in POLICY.regimes)


VALID = """
[[regimes]]
id = "试点甲"
system = "credit"
name = "测试制度甲"
legal_basis = "《测试信用修复办法（试行）》"
valid_from = 2023-05-01
valid_to = 2026-03-31

[regimes.severity.minor]
published = true
min_months = 3
max_months = 36

[regimes.severity.ordinary]
published = true
min_months = 3
max_months = 36

[regimes.severity.serious]
published = true
min_months = 3
max_months = 36

[regimes.domains.fire]
names = ["消防"]
min_months = 12

[[regimes]]
id = "试点乙"
system = "credit"
name = "测试制度乙"
legal_basis = "《测试信用修复办法》"
valid_from = 2026-04-01

[regimes.severity.minor]
published = false
min_months = 0
max_months = 3

[regimes.severity.ordinary]
published = true
min_months = 3
max_months = 12

[regimes.severity.serious]
published = true
min_months = 12
max_months = 36
""" + TEST_THRESHOLDS


def write(tmp_path: Path, text: str) -> Path:
    """Write a policy file and return its path."""
    path = tmp_path / "publicity.toml"
    path.write_text(text, "utf-8")
    return path


def test_valid_test_policy_loads(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, VALID))
    assert [regime.id for regime in policy.regimes] == ["试点甲", "试点乙"]
    assert policy.low_fine_threshold("44", date(2024, 1, 1)) == Decimal("2")
    assert policy.low_fine_threshold("65", date(2024, 1, 1)) == Decimal("1")


@pytest.mark.parametrize(
    ("old", "new", "regime", "field"),
    [
        ("valid_to = 2026-03-31", "valid_to = 2026-04-01", "试点乙", "valid_from"),
        ("valid_to = 2026-03-31\n", "", "试点乙", "valid_from"),
        ("[regimes.severity.serious]\npublished = true\nmin_months = 3\nmax_months = 36\n", "",
         "试点甲", "severity.serious"),
        ("min_months = 12\nmax_months = 36", "min_months = 12\nmax_month = 36", "试点乙",
         "severity.serious.max_month"),
        ('legal_basis = "《测试信用修复办法》"', 'legal_basis = "《测试信用修复办法》"\n"法律依据" = "无"',
         "试点乙", "法律依据"),
        ("valid_to = 2026-03-31", "valid_to = 2023-04-30", "试点甲", "valid_to"),
        ("valid_from = 2026-04-01", 'valid_from = "2026-02-30"', "试点乙", "valid_from"),
        ("valid_from = 2026-04-01", "valid_from = 2026-04-01T08:00:00", "试点乙", "valid_from"),
        ("min_months = 0", "min_months = -1", "试点乙", "severity.minor.min_months"),
        ("published = false", 'published = "否"', "试点乙", "severity.minor.published"),
        ('system = "credit"\nname = "测试制度乙"', 'system = "信用"\nname = "测试制度乙"', "试点乙", "system"),
        ('names = ["消防"]', "names = []", "试点甲", "domains.fire.names"),
        ('id = "试点乙"', 'id = "试点甲"', "试点甲", "id"),
        ("44 = 2", "4 = 2", "low_fine_thresholds[0]", "provinces.4"),
        ("default = 1", "default = true", "low_fine_thresholds[0]", "default"),
    ],
)
def test_loader_errors_name_regime_and_field(tmp_path: Path, old: str, new: str, regime: str,
                                            field: str) -> None:
    assert old in VALID
    with pytest.raises(PolicyError) as caught:
        load_policy(write(tmp_path, VALID.replace(old, new, 1)))
    assert (caught.value.regime, caught.value.field) == (regime, field)
    assert regime in str(caught.value) and field in str(caught.value)


def test_overlapping_threshold_tables(tmp_path: Path) -> None:
    second = "\n[[low_fine_thresholds]]\nvalid_from = 2024-01-01\ndefault = 2\n"
    with pytest.raises(PolicyError) as caught:
        load_policy(write(tmp_path, VALID + second))
    assert (caught.value.regime, caught.value.field) == ("low_fine_thresholds[1]", "valid_from")


def test_regimes_of_different_systems_may_overlap(tmp_path: Path) -> None:
    samr = VALID.split("[[regimes]]")[2].replace('id = "试点乙"', 'id = "市场监管"').replace('"credit"', '"samr"')
    policy = load_policy(write(tmp_path, VALID + "\n[[regimes]]" + samr.split("[[low_fine_thresholds]]")[0]))
    assert policy.regime_on("samr", date(2026, 4, 1)).id == "市场监管"


def test_unknown_top_level_table_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="公示期"):
        load_policy(write(tmp_path, '["公示期"]\n' + VALID))
    with pytest.raises(PolicyError):
        load_policy(write(tmp_path, VALID + "\n[[regimes]\n"))
    with pytest.raises(PolicyError):
        load_policy(tmp_path / "不存在.toml")
