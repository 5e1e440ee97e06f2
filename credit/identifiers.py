"""Enterprise identifiers: USCC (GB 32100), organisation code (GB 11714), registration number.

Validation never raises: it returns a `Validation` whose outcome is VALID, CHECK_MISMATCH (a
warning: real issued codes, e.g. Fujian pilot-era ones, fail their check) or MALFORMED (wrong
length or alphabet, or a letter in a USCC division code: it cannot be that identifier).
"""

from __future__ import annotations

import enum
import operator
import random
from collections.abc import Callable
from dataclasses import dataclass

from credit.errors import MalformedIdentifierError

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
ORG_CODE_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = "0123456789"
_ORG_CHECK_CHARS = DIGITS + "X"
_USCC_VALUES = {char: value for value, char in enumerate(USCC_ALPHABET)}
_ORG_VALUES = {char: value for value, char in enumerate(ORG_CODE_ALPHABET)}
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

_AUTHORITY_NAMES = {"1": "机构编制", "5": "民政", "9": "工商/市场监管", "Y": "其他"}
_ENTITY_TYPE_NAMES = {"9": {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"}}

_UNKNOWN_MESSAGE = (
    "unrecognised identifier: expected 18 (USCC), 9 (organisation code) or "
    "15 (registration number) characters, got {}"
)
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_INVISIBLES = "\u200b\u200c\u200d\u2060\ufeff"


def _identifier_table() -> dict[int, str | None]:
    """Build the one-pass translation used by `normalise_identifier`."""
    # Only the full-width block is folded: full NFKC would also turn ligatures, superscripts and
    # circled digits into plausible identifier characters and make garbage look valid.
    table: dict[int, str | None] = {cp: chr(cp - 0xFEE0).upper() for cp in range(0xFF01, 0xFF5F)}
    # Only ASCII is upper-cased: str.upper() maps e.g. 'ß' to 'SS', which changes the length.
    table.update({ord(c): c.upper() for c in "abcdefghijklmnopqrstuvwxyz"})
    # Every Unicode whitespace character lies below U+3001.
    table.update({cp: None for cp in range(0x3001) if chr(cp).isspace()})
    table.update({ord(c): None for c in _DASHES + _INVISIBLES})
    return table


_IDENTIFIER_TABLE = _identifier_table()


class IdKind(enum.StrEnum):
    """Which identifier a string is shaped like."""

    USCC = "uscc"
    ORG_CODE = "org_code"
    REG_NO = "reg_no"
    UNKNOWN = "unknown"


class Outcome(enum.StrEnum):
    """Result of validating an identifier."""

    VALID = "valid"
    CHECK_MISMATCH = "check_mismatch"
    MALFORMED = "malformed"


@dataclass(frozen=True)
class Validation:
    """The normalised identifier, its kind and what validation found."""

    value: str
    kind: IdKind
    outcome: Outcome
    message: str = ""
    position: int | None = None

    @property
    def ok(self) -> bool:
        """True when the identifier is usable (valid, or only its check character is off)."""
        return self.outcome is not Outcome.MALFORMED

    @property
    def warning(self) -> bool:
        """True when only the check character does not verify."""
        return self.outcome is Outcome.CHECK_MISMATCH


@dataclass(frozen=True)
class UsccParts:
    """The five fields of a USCC (GB 32100-2015)."""

    authority: str
    entity_type: str
    division_code: str
    org_code: str
    check: str

    @property
    def authority_name(self) -> str:
        """Chinese name of the registration authority, or "" when not in our table."""
        return _AUTHORITY_NAMES.get(self.authority, "")

    @property
    def entity_type_name(self) -> str:
        """Chinese name of the entity type under this authority, or "" when not in our table."""
        return _ENTITY_TYPE_NAMES.get(self.authority, {}).get(self.entity_type, "")

    @property
    def org_code_validation(self) -> Validation:
        """Validation of the embedded organisation code (not part of the USCC outcome)."""
        return validate_org_code(self.org_code)


def normalise_identifier(raw: str) -> str:
    """Fold full-width to ASCII, upper-case, and drop whitespace, dashes and invisible marks."""
    return raw.translate(_IDENTIFIER_TABLE)


def detect_kind(value: str) -> IdKind:
    """Guess the identifier kind of a normalised string from its shape.

    18 characters → USCC; 9 characters → ORG_CODE; 13 to 15 characters whose first six (the
    authority's division code) are digits → REG_NO (real feeds hold 13-digit pre-2006 numbers,
    14-digit truncations and provincial forms with letters, which `validate_reg_no` then flags);
    anything else → UNKNOWN. Content is judged by the validators, not here.
    """
    length = len(value)
    if length == 18:
        return IdKind.USCC
    if length == 9:
        return IdKind.ORG_CODE
    if 13 <= length <= 15 and _first_outside(value[:6], DIGITS) is None:
        return IdKind.REG_NO
    return IdKind.UNKNOWN


def uscc_check_char(first17: str) -> str:
    """Return the GB 32100 check character for the first 17 characters of a USCC."""
    _require_body(first17, 17, USCC_ALPHABET, IdKind.USCC)
    total = sum(map(operator.mul, map(_USCC_VALUES.__getitem__, first17), _USCC_WEIGHTS))
    return USCC_ALPHABET[-total % 31]


def org_code_check_char(first8: str) -> str:
    """Return the GB 11714 check character for the first 8 characters of an organisation code."""
    _require_body(first8, 8, ORG_CODE_ALPHABET, IdKind.ORG_CODE)
    total = sum(map(operator.mul, map(_ORG_VALUES.__getitem__, first8), _ORG_WEIGHTS))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def reg_no_check_digit(first14: str) -> str:
    """Return the ISO 7064 MOD 11,10 check digit for the first 14 digits of a registration no."""
    _require_body(first14, 14, DIGITS, IdKind.REG_NO)
    product = 10
    for digit in first14:
        product = 2 * ((product + int(digit)) % 10 or 10) % 11
    return str((1 - product) % 10)


def validate_uscc(value: str) -> Validation:
    """Normalise and validate a USCC: 18 of the GB 32100 alphabet, digits in positions 3-8."""
    return _check_uscc(normalise_identifier(value))


def validate_org_code(value: str) -> Validation:
    """Normalise and validate an organisation code: 8 of 0-9A-Z, then a digit or X."""
    return _check_org_code(normalise_identifier(value))


def validate_reg_no(value: str) -> Validation:
    """Normalise and validate a 15-digit registration number; other shapes are malformed."""
    return _check_reg_no(normalise_identifier(value))


def validate_identifier(raw: str) -> Validation:
    """Normalise any identifier, detect its kind and validate it; never raises."""
    value = normalise_identifier(raw)
    kind = detect_kind(value)
    checker = _CHECKERS.get(kind)
    if checker is None:
        return _malformed(value, IdKind.UNKNOWN, _UNKNOWN_MESSAGE.format(len(value)))
    return checker(value)


def decompose_uscc(value: str) -> UsccParts:
    """Split a USCC into its fields; raise MalformedIdentifierError if it is malformed."""
    validation = validate_uscc(value)
    if not validation.ok:
        raise MalformedIdentifierError(validation)
    code = validation.value
    return UsccParts(code[0], code[1], code[2:8], code[8:17], code[17])


def generate_org_code(rng: random.Random) -> str:
    """Generate a valid organisation code, from the USCC alphabet so a USCC can embed it."""
    body = "".join(rng.choice(USCC_ALPHABET) for _ in range(8))
    return body + org_code_check_char(body)


def generate_uscc(
    rng: random.Random,
    *,
    authority: str = "9",
    entity_type: str = "1",
    division_code: str = "440300",
) -> str:
    """Generate a USCC with a valid check character and a valid embedded organisation code."""
    first17 = authority + entity_type + division_code + generate_org_code(rng)
    return first17 + uscc_check_char(first17)


def generate_reg_no(rng: random.Random, division_code: str = "440300") -> str:
    """Generate a 15-digit registration number with a valid MOD 11,10 check digit."""
    first14 = division_code + "".join(rng.choice(DIGITS) for _ in range(8))
    return first14 + reg_no_check_digit(first14)


def _check_uscc(value: str) -> Validation:
    """Validate an already normalised USCC."""
    problem = _shape_problem(value, 18, USCC_ALPHABET, "is not in the USCC alphabet")
    problem = problem or _division_problem(value)
    if problem is not None:
        return _malformed(value, IdKind.USCC, *problem)
    return _compare_check(value, IdKind.USCC, uscc_check_char(value[:17]))


def _check_org_code(value: str) -> Validation:
    """Validate an already normalised organisation code."""
    problem = _org_code_problem(value)
    if problem is not None:
        return _malformed(value, IdKind.ORG_CODE, *problem)
    return _compare_check(value, IdKind.ORG_CODE, org_code_check_char(value[:8]))


def _check_reg_no(value: str) -> Validation:
    """Validate an already normalised registration number."""
    problem = _shape_problem(value, 15, DIGITS, "is not a digit")
    if problem is not None:
        return _malformed(value, IdKind.REG_NO, *problem)
    return _compare_check(value, IdKind.REG_NO, reg_no_check_digit(value[:14]))


def _division_problem(value: str) -> tuple[str, int] | None:
    """Return (message, position) unless USCC positions 3-8 (GB/T 2260 division) are digits."""
    offset = _first_outside(value[2:8], DIGITS)
    if offset is None:
        return None
    position = offset + 2
    char = value[position - 1]
    return f"character {position} {char!r} is not a digit in the division code", position


def _org_code_problem(value: str) -> tuple[str, int | None] | None:
    """Return (message, position) when an organisation code is malformed, else None."""
    if len(value) != 9:
        return f"expected 9 characters, got {len(value)}", None
    problem = _shape_problem(value[:8], 8, ORG_CODE_ALPHABET, "is not a digit or letter A-Z")
    if problem is None and value[8] not in _ORG_CHECK_CHARS:
        return f"check character {value[8]!r} is not a digit or 'X'", 9
    return problem


_CHECKERS: dict[IdKind, Callable[[str], Validation]] = {
    IdKind.USCC: _check_uscc,
    IdKind.ORG_CODE: _check_org_code,
    IdKind.REG_NO: _check_reg_no,
}


def _shape_problem(
    value: str, length: int, alphabet: str, complaint: str
) -> tuple[str, int | None] | None:
    """Return (message, position) for a wrong length or the first foreign character, else None."""
    if len(value) != length:
        return f"expected {length} characters, got {len(value)}", None
    position = _first_outside(value, alphabet)
    if position is None:
        return None
    return f"character {position} {value[position - 1]!r} {complaint}", position


def _first_outside(value: str, alphabet: str) -> int | None:
    """Return the 1-based position of the first character not in alphabet, else None."""
    if not value.strip(alphabet):  # all characters allowed: the common case, at C speed
        return None
    return next(i for i, char in enumerate(value, start=1) if char not in alphabet)


def _require_body(body: str, length: int, alphabet: str, kind: IdKind) -> None:
    """Raise MalformedIdentifierError unless body has the length and alphabet a check needs."""
    problem = _shape_problem(body, length, alphabet, "is not allowed here")
    if problem is not None:
        raise MalformedIdentifierError(_malformed(body, kind, *problem))


def _compare_check(value: str, kind: IdKind, expected: str) -> Validation:
    """Compare the last character with the expected check character."""
    actual = value[-1]
    if actual == expected:
        return Validation(value, kind, Outcome.VALID)
    message = f"check character is {actual!r}, expected {expected!r}"
    return Validation(value, kind, Outcome.CHECK_MISMATCH, message, len(value))


def _malformed(value: str, kind: IdKind, message: str, position: int | None = None) -> Validation:
    """Build a MALFORMED Validation."""
    return Validation(value, kind, Outcome.MALFORMED, message, position)
