"""Check credit.identifiers against the real identifier data in ../shared/realdata/uscc.

Not part of the test suite: the data is licensed for local checks only and is never copied into
the project. Prints one line per file and every unexpected classification; exits 0 when the
folder is missing, 1 when any line is classified unexpectedly.

    python bench/check_realdata_identifiers.py [path/to/realdata/uscc]
"""

from __future__ import annotations

import csv
import sys
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from credit.identifiers import (  # noqa: E402
    IdKind,
    Outcome,
    Validation,
    detect_kind,
    normalise_identifier,
    validate_identifier,
    validate_org_code,
    validate_reg_no,
    validate_uscc,
)

DEFAULT_DIR = ROOT.parent / "shared" / "realdata" / "uscc"
VALID = {Outcome.VALID}
NOT_VALID = {Outcome.CHECK_MISMATCH, Outcome.MALFORMED}

# (input, allowed outcomes, what we got, note)
Case = tuple[str, set[Outcome], Validation, str]


def read_listed_codes(path: Path) -> Iterator[tuple[str, str]]:
    """Yield (code, comment) from a `CODE  # comment` file, skipping comment lines."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            code, _, comment = line.partition("#")
            yield code.strip(), comment


def read_tsv(path: Path) -> Iterator[dict[str, str]]:
    """Yield the rows of a tab-separated file with a header, fields unstripped."""
    with path.open(encoding="utf-8", newline="") as fh:
        yield from csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)


def expected_for_invalid(comment: str) -> set[Outcome]:
    """Outcome expected for an invalid.txt line, from its [reason] tag."""
    if "[checksum" in comment:
        return {Outcome.CHECK_MISMATCH}
    if "letter in chars 1-8 (stdnum rule" in comment:
        # Our policy: a letter in position 1 or 2 is legal in GB 32100 (authority Y, N...),
        # so this only fails its check character.
        return {Outcome.CHECK_MISMATCH}
    return {Outcome.MALFORMED}


def cases_valid(folder: Path) -> Iterator[Case]:
    """valid.txt: every real code must be VALID."""
    for code, _ in read_listed_codes(folder / "valid.txt"):
        yield code, VALID, validate_identifier(code), ""


def cases_invalid(folder: Path) -> Iterator[Case]:
    """invalid.txt: checksum corruptions warn, format and length corruptions are malformed."""
    # validate_uscc, not validate_identifier: these are USCC-column values, and a USCC truncated
    # to 15 digits is shaped like a registration number.
    for code, comment in read_listed_codes(folder / "invalid.txt"):
        yield code, expected_for_invalid(comment), validate_uscc(code), ""


def cases_nonconforming(folder: Path) -> Iterator[Case]:
    """real_nonconforming.tsv: issued codes whose check fails must be a warning, not an error."""
    for row in read_tsv(folder / "real_nonconforming.tsv"):
        yield row["code"], {Outcome.CHECK_MISMATCH}, validate_identifier(row["code"]), ""


def cases_registry(folder: Path) -> Iterator[Case]:
    """registry_sample.tsv: codes from the registry, all expected VALID."""
    for row in read_tsv(folder / "registry_sample.tsv"):
        expected = VALID if row["gb32100_valid"] == "true" else NOT_VALID
        yield row["uscc"], expected, validate_identifier(row["uscc"]), ""


def cases_normalisation(folder: Path) -> Iterator[Case]:
    """normalization.tsv: spelling variants must normalise to the listed code and validate."""
    for row in read_tsv(folder / "normalization.tsv"):
        raw, listed = row["input"], row["expected_after_normalization"]
        got = validate_identifier(raw)
        expected = VALID if row["expected_valid"] == "true" else NOT_VALID
        if got.value == listed:
            yield raw, expected, got, ""
        elif got.value == naive_normalise(raw) and len(got.value) != len(listed):
            # The source's input and its expected column disagree in length; judge the input.
            note = f"SOURCE INCONSISTENT: input normalises to {got.value!r}, listed {listed!r}"
            yield raw, {Outcome.MALFORMED}, got, note
        else:
            yield raw, set(), got, f"normalised to {got.value!r}, expected {listed!r}"


def naive_normalise(raw: str) -> str:
    """An independent spelling of the normalisation: NFKC, upper case, no spaces or hyphens."""
    folded = unicodedata.normalize("NFKC", raw).upper()
    return "".join(folded.replace("-", "").split())


def cases_org_codes(folder: Path) -> Iterator[Case]:
    """orgcode.tsv: organisation codes, with or without the hyphen."""
    for row in read_tsv(folder / "orgcode.tsv"):
        expected = VALID if row["expected_valid"] == "true" else NOT_VALID
        yield row["orgcode"], expected, validate_org_code(row["orgcode"]), ""


def cases_reg_no(folder: Path) -> Iterator[Case]:
    """regno15.tsv: 15-digit registration numbers (and a few wrong-length test inputs)."""
    for row in read_tsv(folder / "regno15.tsv"):
        expected = VALID if row["expected_valid"] == "true" else NOT_VALID
        yield row["regno"], expected, validate_reg_no(row["regno"]), ""


def cases_reg_no_legacy(folder: Path) -> Iterator[Case]:
    """regno13_legacy.tsv: pre-2006 13-digit numbers are REG_NO-shaped but flagged malformed."""
    for row in read_tsv(folder / "regno13_legacy.tsv"):
        got = validate_identifier(row["regno13"])
        kind_ok = detect_kind(got.value) is IdKind.REG_NO
        yield row["regno13"], {Outcome.MALFORMED} if kind_ok else set(), got, ""


CHECKS: dict[str, Callable[[Path], Iterator[Case]]] = {
    "valid.txt": cases_valid,
    "invalid.txt": cases_invalid,
    "real_nonconforming.tsv": cases_nonconforming,
    "registry_sample.tsv": cases_registry,
    "normalization.tsv": cases_normalisation,
    "orgcode.tsv": cases_org_codes,
    "regno15.tsv": cases_reg_no,
    "regno13_legacy.tsv": cases_reg_no_legacy,
}


def run_check(name: str, cases: Iterator[Case]) -> int:
    """Print one summary line and each unexpected case; return the number unexpected."""
    total, unexpected, outcomes = 0, 0, dict.fromkeys(Outcome, 0)
    for raw, allowed, got, note in cases:
        total += 1
        outcomes[got.outcome] += 1
        if got.outcome not in allowed:
            unexpected += 1
            print(f"    UNEXPECTED {raw!r}: {got.outcome} {got.message} {note}")
        elif note:
            print(f"    note {raw!r}: {got.outcome} {got.message}; {note}")
    counts = ", ".join(f"{outcome}={n}" for outcome, n in outcomes.items())
    print(f"{name:24} {total - unexpected:5}/{total:<5} as expected   ({counts})")
    return unexpected


def main(argv: list[str]) -> int:
    """Run every check whose file exists; exit status 1 when anything is unexpected."""
    folder = Path(argv[1]) if len(argv) > 1 else DEFAULT_DIR
    if not folder.is_dir():
        print(f"no real data at {folder}; nothing to check")
        return 0
    unexpected = 0
    for name, check in CHECKS.items():
        if (folder / name).exists():
            unexpected += run_check(name, check(folder))
    print("all as expected" if unexpected == 0 else f"{unexpected} unexpected")
    return 0 if unexpected == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
