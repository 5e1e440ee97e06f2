"""Tests for credit.identifiers: normalisation, kinds, check characters, generators."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credit.errors import CreditError, MalformedIdentifierError
from credit.identifiers import (
    DIGITS,
    ORG_CODE_ALPHABET,
    USCC_ALPHABET,
    IdKind,
    Outcome,
    Validation,
    decompose_uscc,
    detect_kind,
    generate_org_code,
    generate_reg_no,
    generate_uscc,
    normalise_identifier,
    org_code_check_char,
    reg_no_check_digit,
    uscc_check_char,
    validate_identifier,
    validate_org_code,
    validate_reg_no,
    validate_uscc,
)

# Published codes of 华为, 腾讯 and 比亚迪 (DOMAIN.md section 1).
REAL_USCCS = ["914403001922038216", "9144030071526726XG", "91440300192317458F"]
OUTSIDERS = ["I", "O", "Z", "S", "V", "*", "中", "#"]
SEEDS = [0, 1, 2024]


def full_width(text: str) -> str:
    """Spell ASCII text with full-width characters, as some feeds do."""
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


def substitutions(code: str, alphabet: str) -> list[tuple[int, str, str]]:
    """Every (1-based position, replacement, corrupted code) replacing one character."""
    return [
        (i + 1, char, code[:i] + char + code[i + 1 :])
        for i in range(len(code))
        for char in alphabet
        if char != code[i]
    ]


def sample(generate: Callable[[random.Random], str], count: int = 50) -> list[str]:
    """Generate `count` identifiers with a fixed seed."""
    rng = random.Random(7)
    return [generate(rng) for _ in range(count)]


# --- real codes and normalisation -------------------------------------------------------------


@pytest.mark.parametrize("code", REAL_USCCS)
def test_real_usccs_are_valid(code: str) -> None:
    result = validate_identifier(code)
    assert (result.kind, result.outcome, result.message, result.position) == (
        IdKind.USCC,
        Outcome.VALID,
        "",
        None,
    )
    assert result.ok and not result.warning


@pytest.mark.parametrize("code", REAL_USCCS)
@pytest.mark.parametrize(
    "spell",
    [
        str.lower,
        full_width,
        lambda c: full_width(c.lower()),
        lambda c: f"  {c[:2]} {c[2:8]}\u3000{c[8:]}\n",
        lambda c: f"{c[:8]}-{c[8:16]}-{c[16:]}",
        lambda c: "\ufeff" + c + "\u00a0",
    ],
)
def test_spellings_normalise_to_the_real_code(code: str, spell: Callable[[str], str]) -> None:
    raw = spell(code)
    assert normalise_identifier(raw) == code
    assert validate_identifier(raw) == Validation(code, IdKind.USCC, Outcome.VALID)


def test_normalisation_does_not_manufacture_identifier_characters() -> None:
    # 'ß'.upper() is 'SS' and NFKC turns '²' into '2': both would fake a 9-char org code.
    assert normalise_identifier("1234567ß") == "1234567ß"
    assert normalise_identifier("1234567²X") == "1234567²X"
    assert validate_identifier("1234567²X").outcome is Outcome.MALFORMED


@pytest.mark.parametrize("raw", ["19220382-1", "192203821", "１９２２０３８２－１", " 19220382 - 1 "])
def test_org_code_with_or_without_hyphen(raw: str) -> None:
    assert validate_identifier(raw) == Validation("192203821", IdKind.ORG_CODE, Outcome.VALID)


def test_org_code_standard_example_and_lower_case() -> None:
    assert validate_org_code("D2143569-X").outcome is Outcome.VALID
    assert validate_org_code("d2143569-x").outcome is Outcome.VALID
    assert validate_org_code("D2143569-1").outcome is Outcome.CHECK_MISMATCH


def test_reg_no_standard_example() -> None:
    assert validate_identifier("110108000000016").outcome is Outcome.VALID
    mismatch = validate_identifier("110108000000017")
    assert (mismatch.kind, mismatch.outcome) == (IdKind.REG_NO, Outcome.CHECK_MISMATCH)
    assert mismatch.message == "check character is '7', expected '6'"
    assert mismatch.position == 15 and mismatch.ok and mismatch.warning


# --- kinds ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("914403001922038216", IdKind.USCC),
        ("9144030019220382I6", IdKind.USCC),
        ("192203821", IdKind.ORG_CODE),
        ("110108000000016", IdKind.REG_NO),
        ("11010800000001", IdKind.REG_NO),
        ("1101080000000", IdKind.REG_NO),
        ("110108A00000016", IdKind.REG_NO),
        ("11A108000000016", IdKind.UNKNOWN),
        ("110108000000", IdKind.UNKNOWN),
        ("1101080000000160", IdKind.UNKNOWN),
        ("", IdKind.UNKNOWN),
    ],
)
def test_detect_kind(value: str, kind: IdKind) -> None:
    assert detect_kind(value) is kind


def test_unknown_shape_is_malformed_and_names_the_length() -> None:
    result = validate_identifier("12345")
    assert (result.kind, result.outcome) == (IdKind.UNKNOWN, Outcome.MALFORMED)
    assert "got 5" in result.message and not result.ok


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("11010800000001", "expected 15 characters, got 14"),
        ("110108A00000016", "character 7 'A' is not a digit"),
    ],
)
def test_odd_registration_numbers_are_flagged(raw: str, message: str) -> None:
    result = validate_identifier(raw)
    assert (result.kind, result.outcome, result.message) == (
        IdKind.REG_NO,
        Outcome.MALFORMED,
        message,
    )


# --- malformed messages -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "position", "message"),
    [
        ("9144I3001922038216", 5, "character 5 'I' is not in the USCC alphabet"),
        ("91440300192203821中", 18, "character 18 '中' is not in the USCC alphabet"),
        ("9144A3001922038216", 5, "character 5 'A' is not a digit in the division code"),
        ("91440300192203821", None, "expected 18 characters, got 17"),
    ],
)
def test_uscc_malformed_messages_name_the_position(
    raw: str, position: int | None, message: str
) -> None:
    result = validate_uscc(raw)
    assert (result.outcome, result.position, result.message) == (
        Outcome.MALFORMED,
        position,
        message,
    )


def test_uscc_check_mismatch_names_both_characters() -> None:
    result = validate_uscc("914403001922038217")
    assert result.message == "check character is '7', expected '6'"
    assert (result.outcome, result.position) == (Outcome.CHECK_MISMATCH, 18)


@pytest.mark.parametrize(
    ("raw", "position", "message"),
    [
        ("1922*3821", 5, "character 5 '*' is not a digit or letter A-Z"),
        ("19220382A", 9, "check character 'A' is not a digit or 'X'"),
        ("1922038", None, "expected 9 characters, got 7"),
    ],
)
def test_org_code_malformed_messages(raw: str, position: int | None, message: str) -> None:
    result = validate_org_code(raw)
    assert (result.outcome, result.position, result.message) == (
        Outcome.MALFORMED,
        position,
        message,
    )


# --- decomposition ----------------------------------------------------------------------------


def test_decompose_huawei() -> None:
    parts = decompose_uscc("914403001922038216")
    fields = (parts.authority, parts.entity_type, parts.division_code, parts.org_code, parts.check)
    assert fields == ("9", "1", "440300", "192203821", "6")
    assert (parts.authority_name, parts.entity_type_name) == ("工商/市场监管", "企业")
    assert parts.org_code_validation.outcome is Outcome.VALID


def test_decompose_unknown_codes_give_empty_names() -> None:
    parts = decompose_uscc(generate_uscc(random.Random(1), authority="N", entity_type="9"))
    assert (parts.authority_name, parts.entity_type_name) == ("", "")


def test_decompose_accepts_check_mismatch() -> None:
    assert decompose_uscc("914403001922038217").check == "7"


def test_decompose_malformed_raises_with_the_validation() -> None:
    with pytest.raises(MalformedIdentifierError) as caught:
        decompose_uscc("9144030019220382")
    assert isinstance(caught.value, CreditError)
    assert caught.value.validation.outcome is Outcome.MALFORMED
    assert str(caught.value) == "expected 18 characters, got 16"


@pytest.mark.parametrize(
    ("function", "body"),
    [
        (uscc_check_char, "9144030019220382"),
        (uscc_check_char, "9144030019220382I"),
        (org_code_check_char, "1922038"),
        (reg_no_check_digit, "1101080000000A"),
    ],
)
def test_check_functions_reject_bad_bodies(function: Callable[[str], str], body: str) -> None:
    with pytest.raises(MalformedIdentifierError):
        function(body)


# --- generators -------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_generated_identifiers_are_valid(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(1000):
        uscc = generate_uscc(rng)
        assert validate_identifier(uscc).outcome is Outcome.VALID
        assert decompose_uscc(uscc).org_code_validation.outcome is Outcome.VALID
        assert validate_identifier(generate_org_code(rng)).outcome is Outcome.VALID
        assert validate_identifier(generate_reg_no(rng)).outcome is Outcome.VALID


def test_generators_are_deterministic_and_honour_arguments() -> None:
    first = [generate_uscc(random.Random(5)), generate_reg_no(random.Random(5), "110108")]
    assert first == [generate_uscc(random.Random(5)), generate_reg_no(random.Random(5), "110108")]
    uscc = generate_uscc(random.Random(5), authority="Y", entity_type="2", division_code="330100")
    assert uscc.startswith("Y2330100") and validate_uscc(uscc).outcome is Outcome.VALID
    assert first[1].startswith("110108")


# --- error detection --------------------------------------------------------------------------


def test_every_uscc_substitution_is_detected() -> None:
    # Prime modulus 31, 31 symbols and non-zero weights: every substitution changes the sum.
    for code in sample(generate_uscc):
        for position, char, corrupted in substitutions(code, USCC_ALPHABET + "".join(OUTSIDERS)):
            result = validate_uscc(corrupted)
            if char in USCC_ALPHABET and not (3 <= position <= 8 and char not in DIGITS):
                assert result.outcome is Outcome.CHECK_MISMATCH, corrupted
            else:
                assert (result.outcome, result.position) == (Outcome.MALFORMED, position)


def test_every_adjacent_uscc_transposition_in_the_body_is_detected() -> None:
    # Adjacent weights 3^(i-1) differ by 2*3^(i-1), never 0 mod 31. (Swapping 17 and 18 is not
    # covered: the check character is not weighted.)
    for code in sample(generate_uscc):
        for i in range(16):
            if code[i] != code[i + 1]:
                swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
                assert validate_uscc(swapped).outcome is not Outcome.VALID, swapped


def test_org_code_substitutions_are_detected_unless_values_differ_by_11() -> None:
    # Mod 11 over values 0..35: '0', 'B', 'M', 'X' (0, 11, 22, 33) are interchangeable in the
    # body; every substitution among digits, and every other, is detected.
    for code in sample(generate_org_code):
        for position, char, corrupted in substitutions(code, ORG_CODE_ALPHABET + "*中"):
            result = validate_org_code(corrupted)
            if position <= 8 and char in ORG_CODE_ALPHABET:
                delta = ORG_CODE_ALPHABET.index(char) - ORG_CODE_ALPHABET.index(code[position - 1])
                blind = delta % 11 == 0
                assert (result.outcome is Outcome.VALID) == blind, corrupted
                assert blind or result.outcome is Outcome.CHECK_MISMATCH
            elif position == 9 and char in DIGITS + "X":
                assert result.outcome is Outcome.CHECK_MISMATCH
            else:
                assert (result.outcome, result.position) == (Outcome.MALFORMED, position)


def test_org_code_adjacent_transpositions_in_the_body() -> None:
    # Adjacent weights differ by a non-zero amount mod 11, so a swap is missed only when the two
    # values are congruent mod 11.
    for code in sample(generate_org_code):
        for i in range(7):
            a, b = ORG_CODE_ALPHABET.index(code[i]), ORG_CODE_ALPHABET.index(code[i + 1])
            swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
            detected = validate_org_code(swapped).outcome is Outcome.CHECK_MISMATCH
            assert detected == ((a - b) % 11 != 0), swapped


def _mod11_10_step(product: int, digit: int) -> int:
    """One step of ISO 7064 MOD 11,10, spelled independently of the module."""
    total = (product + digit) % 10
    return (2 * (10 if total == 0 else total)) % 11


def test_mod11_10_steps_are_bijections_so_every_substitution_is_detected() -> None:
    states = range(1, 11)
    for product in states:
        assert sorted(_mod11_10_step(product, d) for d in range(10)) == list(states)
    for digit in range(10):
        assert sorted(_mod11_10_step(p, digit) for p in states) == list(states)


def test_every_reg_no_digit_substitution_is_detected() -> None:
    for code in sample(generate_reg_no):
        for position, char, corrupted in substitutions(code, DIGITS + "A*"):
            result = validate_reg_no(corrupted)
            expected = Outcome.CHECK_MISMATCH if char in DIGITS else Outcome.MALFORMED
            assert result.outcome is expected, corrupted
            assert result.position == (position if char not in DIGITS else 15)


def test_reg_no_misses_exactly_one_adjacent_transposition_per_state() -> None:
    # MOD 11,10 is not transposition-proof: from each of the 10 states one digit pair commutes.
    blind = {
        (p, a, b)
        for p in range(1, 11)
        for a in range(10)
        for b in range(a + 1, 10)
        if _mod11_10_step(_mod11_10_step(p, a), b) == _mod11_10_step(_mod11_10_step(p, b), a)
    }
    assert len(blind) == 10 and {p for p, _, _ in blind} == set(range(1, 11))
    for code in sample(generate_reg_no):
        product = 10
        for i in range(13):
            a, b = int(code[i]), int(code[i + 1])
            swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
            missed = (product, min(a, b), max(a, b)) in blind
            assert (validate_reg_no(swapped).outcome is Outcome.VALID) == (missed or a == b)
            product = _mod11_10_step(product, a)


# --- properties -------------------------------------------------------------------------------


@given(st.text())
def test_validate_identifier_never_raises(raw: str) -> None:
    result = validate_identifier(raw)
    assert isinstance(result, Validation)
    assert (result.message == "") == (result.outcome is Outcome.VALID)
    assert result.value == normalise_identifier(raw)


@given(st.text())
def test_normalise_identifier_is_idempotent(raw: str) -> None:
    once = normalise_identifier(raw)
    assert normalise_identifier(once) == once


@given(st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17))
def test_any_body_with_its_check_char_is_valid_or_malformed_only_by_division(body: str) -> None:
    result = validate_uscc(body + uscc_check_char(body))
    if body[2:8].isdigit():
        assert result.outcome is Outcome.VALID
    else:
        assert result.outcome is Outcome.MALFORMED
