"""Normalisation of a mapped frame: small named `DataFrame -> DataFrame` steps (DESIGN.md "Ingest").

The input holds one kind's canonical fields as text ("" for missing) plus "__row__" (the
spreadsheet row) and "raw" (the unmapped columns), which no step touches. Steps work column-wise:
pandas string methods over the whole column, or a transform over the column's distinct values
(`_by_unique`), which is where real feeds repeat themselves (dates, authorities, types). A value a
step cannot make sense of is left as given, so that validation rejects it with the regulator's text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import partial

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from credit.identifiers import normalise_identifier
from credit.text import normalise_text, normalise_texts
from ingest.enums import (
    ABNORMAL_REASON_PHRASES,
    CHANGE_FLAGS,
    EMPTY_MARKERS,
    OPEN_ENDED_DATES,
    OPEN_ENDED_FIELDS,
    OPEN_ENDED_WORDS,
    SEVERITY_BY_PENALTY_PHRASE,
    SEVERITY_WORDS,
)
from ingest.kinds import AMOUNT_FIELDS, DATE_FIELDS

META_COLUMNS = frozenset({"__row__", "raw", "name_norm"})
IDENTIFIER_COLUMNS = ("uscc", "reg_no", "org_code")

# Literal characters, not escapes, so the class means the same to Python's re and to RE2 (which
# pandas uses for pyarrow-backed strings, and whose \s is ASCII only).
_SPACE_CLASS = "".join(chr(cp) for cp in range(0x3001) if chr(cp).isspace())
_SPACES = f"[{_SPACE_CLASS}]+"
_INVISIBLES = "[\u200b\u200c\u200d\u2060\ufeff]+"
# A cell that needs tidying: whitespace at an end or doubled, other whitespace than " ", marks.
_UNTIDY = (f"^[{_SPACE_CLASS}]|[{_SPACE_CLASS}]$|[{_SPACE_CLASS}]{{2}}"
           f"|[{_SPACE_CLASS.replace(' ', '')}\u200b\u200c\u200d\u2060\ufeff]")
# Full-width ASCII block (digits, letters, punctuation) and the ideographic space to ASCII.
_FULL_WIDTH = {cp: chr(cp - 0xFEE0) for cp in range(0xFF01, 0xFF5F)} | {0x3000: " "}

# Dates as regulators write them. An Excel serial is exactly 5 integer digits (10000-99999, i.e.
# 1927-05-18 to 2173-10-13, well inside Excel's 1-2958465), optionally with a fractional time of
# day: so 8 digits are YYYYMMDD and a bare year ("2024") is not a date at all.
_DATE_PATTERN = (  # RE2 syntax (pyarrow): no verbose mode; its \s is ASCII, so fold first
    r"^\s*(?:"
    r"(?P<y>[0-9]{4})\s*[-/.年]\s*(?P<m>[0-9]{1,2})\s*[-/.月]\s*(?P<d>[0-9]{1,2})\s*[日号]?"
    r"(?:[\sT]+[0-9]{1,2}(?::[0-9]{1,2}){1,2}(?:\.[0-9]+)?)?"  # a time of day, dropped
    r"|(?P<cy>[0-9]{4})(?P<cm>[0-9]{2})(?P<cd>[0-9]{2})"
    r"|(?P<serial>[0-9]{5})(?:\.[0-9]+)?"
    r")\s*$"
)
_EXCEL_EPOCH = np.datetime64("1899-12-30")  # serial 1 = 1900-01-01 past Excel's 1900 leap bug
# Amounts: optional currency word, a number (thousands separators only in groups of three),
# optional unit. No unit means 万元, the unit of every canonical amount field.
_AMOUNT_RE = re.compile(
    r"(?:人民币|¥|￥)?(?P<num>[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?)"
    r"(?P<unit>万元|万|元)?(?:\(?人民币\)?)?"
)
_YUAN_PER_WAN = Decimal(10000)
_YEAR_RE = re.compile(r"(?P<year>[0-9]{4})(?:\.0+)?(?:年度|年)?")


def normalise_frame(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Run every normalisation step on a mapped frame of one kind, in order."""
    frame = strip_text(frame)
    frame = normalise_identifiers(frame)
    frame = parse_dates(frame)
    frame = parse_amounts(frame)
    frame = parse_years(frame)
    frame = map_enumerations(frame, kind)
    frame = normalise_change_flags(frame)
    return add_match_keys(frame)


def strip_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Trim every text column and fold each run of whitespace (full-width too) to one space."""
    return frame.assign(**{name: _squeeze(frame[name]) for name in _text_columns(frame)})


def normalise_identifiers(frame: pd.DataFrame) -> pd.DataFrame:
    """Fold USCC, registration number and organisation code; placeholders ("无", "-") become ""."""
    present = [name for name in IDENTIFIER_COLUMNS if name in frame.columns]
    return frame.assign(**{name: _by_unique(frame[name], _each(_identifier)) for name in present})


def parse_dates(frame: pd.DataFrame) -> pd.DataFrame:
    """Write every date field as ISO YYYY-MM-DD; open-ended end dates become "" (no end)."""
    present = sorted(DATE_FIELDS.intersection(frame.columns))
    return frame.assign(**{
        name: _by_unique(frame[name], partial(_iso_dates, open_ended=name in OPEN_ENDED_FIELDS))
        for name in present
    })


def parse_amounts(frame: pd.DataFrame) -> pd.DataFrame:
    """Write every amount field as a plain decimal string in 万元 (a value in 元 is divided)."""
    present = sorted(AMOUNT_FIELDS.intersection(frame.columns))
    return frame.assign(**{name: _by_unique(frame[name], _each(_amount)) for name in present})


def parse_years(frame: pd.DataFrame) -> pd.DataFrame:
    """Write a report year as four digits ("2024.0", "２０２４年度" → "2024")."""
    if "year" not in frame.columns:
        return frame
    return frame.assign(year=_by_unique(frame["year"], _each(_year)))


def map_enumerations(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Derive a kind's coded fields from its text where the source left them empty."""
    step = _ENUMERATION_STEPS.get(kind)
    return frame if step is None else step(frame)


def map_reason_codes(frame: pd.DataFrame) -> pd.DataFrame:
    """Abnormal listings: derive `reason_code` 1-4 from the published reason wording."""
    if "reason" not in frame.columns:
        return frame
    derived = _by_unique(frame["reason"], partial(_classify, table=ABNORMAL_REASON_PHRASES))
    return frame.assign(reason_code=_fill_empty(frame, "reason_code", derived))


def map_severities(frame: pd.DataFrame) -> pd.DataFrame:
    """Penalties: read a stated severity, or derive it from the heaviest penalty type named."""
    if "severity" in frame.columns:
        stated = _by_unique(frame["severity"], _each(_severity_word))
        frame = frame.assign(severity=stated)
    if "penalty_type" not in frame.columns:
        return frame
    derived = _by_unique(frame["penalty_type"], partial(_classify, table=SEVERITY_BY_PENALTY_PHRASE))
    return frame.assign(severity=_fill_empty(frame, "severity", derived))


def normalise_change_flags(frame: pd.DataFrame) -> pd.DataFrame:
    """Write change flags as i / u / d; empty means insert; anything else is left as given."""
    if "change" not in frame.columns:
        return frame
    return frame.assign(change=_by_unique(frame["change"], _each(_change_flag)))


def add_match_keys(frame: pd.DataFrame) -> pd.DataFrame:
    """Add `name_norm`, the folded name that identity resolution and search match on."""
    if "name" not in frame.columns:
        return frame.assign(name_norm="")
    return frame.assign(name_norm=_by_unique(frame["name"], normalise_texts))


_ENUMERATION_STEPS: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] = {
    "abnormal": map_reason_codes,
    "penalty": map_severities,
}


def _text_columns(frame: pd.DataFrame) -> list[str]:
    """The canonical (text) columns of a frame: all but the bookkeeping ones."""
    return [name for name in frame.columns if name not in META_COLUMNS]


def _squeeze(column: pd.Series) -> pd.Series:
    """Drop invisible marks, fold whitespace runs to one space, trim."""
    text = column.fillna("")
    if not pd.api.types.is_string_dtype(text):  # e.g. an empty column read as float
        text = text.astype(str)
    untidy = text.str.contains(_UNTIDY, regex=True)
    if not untidy.any():  # the common case: one cheap pass instead of three
        return text
    positions = np.flatnonzero(untidy.to_numpy(dtype=bool))
    tidied = text.iloc[positions].str.replace(_INVISIBLES, "", regex=True)
    text = text.copy()
    text.iloc[positions] = tidied.str.replace(_SPACES, " ", regex=True).str.strip(" ").to_numpy()
    return text


def _by_unique(column: pd.Series, transform: Callable[[list[str]], Sequence[str]]) -> pd.Series:
    """Apply a transform to the distinct values of a column and spread the results back."""
    codes, uniques = pd.factorize(column.fillna(""))
    results = np.empty(len(uniques), dtype=object)
    results[:] = transform(uniques.tolist())
    dtype = column.dtype if pd.api.types.is_string_dtype(column.dtype) else object
    return pd.Series(results[codes], index=column.index, dtype=dtype)


def _each(function: Callable[[str], str]) -> Callable[[list[str]], list[str]]:
    """Lift a one-value function to a transform of many values."""
    return lambda values: [function(value) for value in values]


def _fill_empty(frame: pd.DataFrame, name: str, derived: pd.Series) -> pd.Series:
    """The column `name` where it has a value, else the derived one."""
    if name not in frame.columns:
        return derived
    current = frame[name]
    return current.where(current != "", derived)


def _identifier(value: str) -> str:
    """Fold one identifier; placeholders for "none" become ""."""
    folded = normalise_identifier(value)
    return "" if folded.lower() in EMPTY_MARKERS else folded


def _iso_dates(values: list[str], *, open_ended: bool) -> list[str]:
    """Parse many date texts at once; unparseable ones are returned as given."""
    parts = pc.extract_regex(pa.array([_fold_width(v) for v in values], pa.string()),
                             _DATE_PATTERN).flatten()
    field = dict(zip(("y", "m", "d", "cy", "cm", "cd", "serial"), parts, strict=True))
    ymd = _ymd_dates(*(_ints(field[a], field[b]) for a, b in (("y", "cy"), ("m", "cm"), ("d", "cd"))))
    iso = np.where(pd.isna(ymd), _serial_dates(_ints(field["serial"])), ymd)
    closed = OPEN_ENDED_DATES if open_ended else frozenset()
    return [_unparsed(value, open_ended) if text is None else "" if text in closed else text
            for value, text in zip(values, iso, strict=True)]


def _fold_width(value: str) -> str:
    """Full-width forms to ASCII; text that cannot be UTF-8 (lone surrogates) to "?"."""
    if value.isascii():
        return value
    return value.translate(_FULL_WIDTH).encode("utf-8", "replace").decode("utf-8")


def _ints(*groups: pa.Array) -> np.ndarray:
    """The digits of whichever group matched, as int64; 0 where none did."""
    # RE2 gives "" for a group outside the matching branch and null when nothing matched.
    digits = pc.binary_join_element_wise(*groups, "") if len(groups) > 1 else groups[0]
    digits = pc.replace_substring_regex(digits, "^$", "0")
    return pc.fill_null(pc.cast(digits, pa.int64()), 0).to_numpy()


def _unparsed(value: str, open_ended: bool) -> str:
    """A value that is not a date: "" for placeholders (and open-ended words), else as given."""
    key = normalise_text(value)
    return "" if key in EMPTY_MARKERS or (open_ended and key in OPEN_ENDED_WORDS) else value


def _ymd_dates(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """ISO strings for valid (year, month, day) triples, None elsewhere."""
    ok = (y >= 1) & (m >= 1) & (m <= 12) & (d >= 1)
    y, m, d = np.where(ok, y, 1970), np.where(ok, m, 1), np.where(ok, d, 1)
    month = (y - 1970).astype("datetime64[Y]").astype("datetime64[M]") + (m - 1)
    first = month.astype("datetime64[D]")
    ok &= d <= ((month + 1).astype("datetime64[D]") - first).astype(np.int64)
    return np.where(ok, np.datetime_as_string(first + (d - 1), unit="D"), None)


def _serial_dates(days: np.ndarray) -> np.ndarray:
    """ISO strings for Excel serial day numbers, None where 0 (no serial)."""
    iso = np.datetime_as_string(_EXCEL_EPOCH + days.astype("timedelta64[D]"), unit="D")
    return np.where(days > 0, iso, None)


def _amount(value: str) -> str:
    """One amount in 万元 as a plain decimal string; as given when it cannot be read."""
    folded = value.translate(_FULL_WIDTH).replace(" ", "")
    if normalise_text(folded) in EMPTY_MARKERS:
        return ""
    match = _AMOUNT_RE.fullmatch(folded)
    if match is None:
        return value
    number = match["num"].replace(",", "")
    if match["unit"] == "元":
        return format(Decimal(number) / _YUAN_PER_WAN, "f")
    return number


def _year(value: str) -> str:
    """One report year as four digits; as given when it is not one."""
    match = _YEAR_RE.fullmatch(value.translate(_FULL_WIDTH).strip())
    return value if match is None else match["year"]


def _classify(values: list[str], table: tuple[tuple[str, tuple[str, ...]], ...]) -> list[str]:
    """The code of the first table row with a phrase in each (folded) text, else ""."""
    return [
        next((code for code, phrases in table if any(p in text for p in phrases)), "")
        for text in normalise_texts(values)
    ]


def _severity_word(value: str) -> str:
    """A stated severity in Gongxin's words; unknown words are left as given."""
    return SEVERITY_WORDS.get(normalise_text(value), value)


def _change_flag(value: str) -> str:
    """One change flag as i / u / d; "" is an insert; unknown flags are left as given."""
    return CHANGE_FLAGS.get(normalise_text(value), value) if value else "i"
