"""Realistic regulator files for every record kind, plus the `sources.toml` that maps them.

`write_sample_data` backs `gongxin sample-data`: a register extract (GB18030 CSV), the national
双公示 licence (UTF-8 BOM CSV) and penalty (XLSX) exchange feeds with I/U/D change flags, the
abnormal-operation and serious illegal & dishonest lists, court defaulters (JSON lines), major
tax violators, inspection results, annual report filings and commendations. About 1% of the rows
of every file carry each defect class (`DEFECTS`); the summary says exactly how many, per file,
so tests and benchmarks can check what ingest did with them. Same seed and day, same bytes.

Entities and wordings come from `ingest.sample_names`; this module builds each feed column-wise
(numpy object arrays), plants defects and harmless spellings, and writes the files.

Entities whose register row carries a planted defect appear in no other feed, except that the
check-mismatch rows of the other feeds name exactly the entities registered with a mismatched
code, by that code and name (as real pilot-era codes recur across feeds): they should resolve,
with a warning. Every file has a record-key column (mapped to ``record_key``). The licence and
penalty feeds end in 数据ID and 操作标识: each U or D row repeats the 数据ID of an earlier I row
(a U row with an amended value, a D row unchanged) and comes after all I rows, so in the last
file when split. Defect rows are never changed or repeated, and a planted duplicate is an exact
copy of a clean I row placed later in the same file.
"""

from __future__ import annotations

import csv
import io
import json
import random
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from types import MappingProxyType

import numpy as np
import opencc
import pandas as pd
from openpyxl import Workbook
from openpyxl.xml.functions import tostring

from credit.identifiers import USCC_ALPHABET, generate_uscc
from ingest import sample_names as V
from ingest.sample_names import (CITIES, CITY_ABBR, CITY_CODE, CITY_FULL, CITY_SHORT, DISTRICT_CODE,
                                 DISTRICT_NAME, INDIVIDUAL, PROVINCE_ABBR, Entities)

DEFECTS = ("malformed_code", "check_mismatch", "bad_date", "missing_identity", "unknown_entity",
           "duplicate_key")
VARIANTS = ("lowercase_uscc", "fullwidth_uscc", "traditional_name", "bracket_flip", "reg_no_only",
            "org_code_only", "update", "delete")
PENALTY_FILE_ROWS = 200_000
DEFECT_SHARE = 0.01
Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class FileSummary:
    """One written file: its source, path (relative, POSIX), data rows, planted rows by class."""

    source: str
    path: str
    rows: int
    defects: Mapping[str, int]
    variants: Mapping[str, int]


@dataclass(frozen=True)
class SampleSummary:
    """What `write_sample_data` wrote: the registry, every file, and its planted defects."""

    directory: Path
    registry: Path
    entities: int
    seed: int
    today: date
    sources: tuple[str, ...]
    files: tuple[FileSummary, ...]

    def by_source(self, source: str) -> tuple[FileSummary, ...]:
        """The files of one source, in name order."""
        return tuple(f for f in self.files if f.source == source)

    def rows(self, source: str) -> int:
        """Data rows written for one source (all its files)."""
        return sum(f.rows for f in self.by_source(source))

    def defects(self, source: str, defect: str) -> int:
        """Rows of one defect class planted in one source (all its files)."""
        return sum(f.defects[defect] for f in self.by_source(source))

    @property
    def total_rows(self) -> int:
        """Data rows in all files."""
        return sum(f.rows for f in self.files)


def write_sample_data(directory: Path, *, entities: int = 20000, seed: int = 1,
                      today: date | None = None, progress: Progress | None = None,
                      penalty_file_rows: int = PENALTY_FILE_ROWS) -> SampleSummary:
    """Write regulator files about `entities` made-up entities and `directory/sources.toml`.

    Deterministic for (entities, seed, today); `today` (default: the real today) anchors all dates.
    `progress(path, rows)` is called after each file; penalties go to files of about
    `penalty_file_rows` rows. Files of these sources left by an earlier run are replaced.
    """
    if entities < 1:
        raise ValueError("entities must be at least 1")
    directory = Path(directory)
    today = today or date.today()
    ents = V.build_entities(np.random.default_rng([seed, 0]), entities, max(200, entities // 50), today)
    ctx = Ctx(seed, today, ents)
    written: list[FileSummary] = []
    specs: list[Spec] = []
    for number, build in enumerate(_FEEDS, start=1):
        spec, stream = build(ctx, ctx.rng(number))
        if spec.split:
            stream.parts = max(1, -(-round(stream.n * 1.01) // max(1, penalty_file_rows)))
        _plant(ctx, spec, stream, ctx.rng(100 + number))
        _add_changes(spec, stream, ctx.rng(200 + number))
        written.extend(_write_feed(directory, spec, stream, ctx, ctx.rng(300 + number), progress))
        specs.append(spec)
    registry = directory / "sources.toml"
    registry.write_text(render_registry(specs), encoding="utf-8")
    return SampleSummary(directory, registry, entities, seed, today, tuple(s.id for s in specs),
                         tuple(written))


def defect_count(rows: int) -> int:
    """Rows of each defect class planted in a stream of `rows` rows: about 1%, at least one."""
    return max(1, round(rows * DEFECT_SHARE))


# --- the parts every feed shares --------------------------------------------------------------

@dataclass
class Ctx:
    """The run: seed, day, entities, and what earlier feeds leave for later ones."""

    seed: int
    today: date
    ents: Entities
    tainted: np.ndarray = field(init=False)
    mismatched: np.ndarray = field(init=False)
    mismatched_codes: np.ndarray = field(init=False)
    overdue: dict[str, np.ndarray] = field(default_factory=dict)
    abnormal: dict[str, np.ndarray] = field(default_factory=dict)
    agencies: dict[tuple[int, str], tuple[str, str]] = field(init=False)

    def __post_init__(self) -> None:
        self.tainted = np.zeros(len(self.ents.name), dtype=bool)
        self.mismatched = np.zeros(0, dtype=np.int64)
        self.mismatched_codes = np.full(len(self.ents.name), "", dtype=object)
        self.agencies = _agencies(random.Random(self.seed))

    def rng(self, stream: int) -> np.random.Generator:
        """An independent generator per feed, so one feed's draws never shift another's."""
        return np.random.default_rng([self.seed, stream])

    @property
    def day(self) -> np.datetime64:
        """Today as a numpy day."""
        return np.datetime64(self.today, "D")

    def pool(self, *, years: int | None = None, alive: bool = False, firms: bool = False) -> np.ndarray:
        """Registered entities with a clean register row and a USCC, optionally alive in a window."""
        e, r = self.ents, self.ents.registered
        ok = ~self.tainted[:r] & (e.uscc[:r] != "")
        if years is not None:
            ok &= np.isnat(e.died[:r]) | (e.died[:r] > self.day - years * 365)
        if alive:
            ok &= np.isnat(e.died[:r])
        if firms:
            ok &= e.kind[:r] != INDIVIDUAL
        found = np.flatnonzero(ok)
        return found if len(found) else np.flatnonzero(e.uscc[:r] != "")

    def window(self, rng: np.random.Generator, subjects: np.ndarray, years: int) -> np.ndarray:
        """A day within the last `years` years on which each subject existed."""
        e = self.ents
        low = np.maximum(e.established[subjects], self.day - years * 365)
        high = np.where(np.isnat(e.died[subjects]), self.day, np.minimum(e.died[subjects], self.day))
        return _between(rng, low, np.maximum(high, low))

    def agency(self, city: np.ndarray, key: str | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Names and USCCs of one kind of agency (or one per row) in each row's city."""
        keys = np.broadcast_to(np.asarray(key, dtype=object), city.shape)
        pairs = [self.agencies[(int(c), str(k))] for c, k in zip(city, keys)]
        return (np.array([p[0] for p in pairs], dtype=object), np.array([p[1] for p in pairs], dtype=object))


@dataclass(frozen=True)
class Spec:
    """A source as declared in sources.toml, and the layout of its files."""

    id: str
    agency: str
    kind: str
    format: str
    encoding: str | None
    stem: str
    schedule: str
    columns: tuple[tuple[str, str], ...]
    headers: tuple[str, ...]
    date: str
    codes: tuple[str, ...] = ()
    mode: str = "changes"
    list_id: str | None = None
    rank: int | None = None
    traditional: bool = False
    split: bool = False

    def header(self, canonical: str) -> str:
        """The header mapped to a canonical field ("" when unmapped)."""
        return dict(self.columns).get(canonical, "")

    @property
    def files(self) -> str:
        """The glob of this source's files, relative to the registry."""
        return f"{self.stem}-*.{self.format}" if self.split else f"{self.stem}*.{self.format}"

    def file_name(self, number: int) -> str:
        """The relative path of the number-th file."""
        return f"{self.stem}-{number:03d}.{self.format}" if self.split else f"{self.stem}.{self.format}"

    def registry_items(self) -> list[tuple[str, str | int]]:
        """The [[source]] keys in DESIGN.md's order."""
        items: list[tuple[str, str | int]] = [("id", self.id), ("agency", self.agency), ("kind", self.kind),
                                              ("format", self.format)]
        items += [("encoding", self.encoding)] if self.encoding else []
        items += [("files", self.files), ("schedule", self.schedule), ("mode", self.mode)]
        items += [("list", self.list_id)] if self.list_id else []
        items += [("rank", self.rank)] if self.rank is not None else []
        return items


Amend = Callable[["Stream", np.ndarray, np.random.Generator], None]


@dataclass
class Stream:
    """A feed's rows as columns, with what was planted in each row."""

    subjects: np.ndarray
    cols: dict[str, np.ndarray]
    amend: Amend | None = None
    parts: int = 1
    labels: np.ndarray = field(init=False)
    variant: np.ndarray = field(init=False)
    role: np.ndarray = field(init=False)
    reg_only: np.ndarray = field(init=False)
    org_only: np.ndarray = field(init=False)
    base: int = field(init=False)

    def __post_init__(self) -> None:
        n = len(self.subjects)
        self.cols = {h: np.array(v, dtype=object) for h, v in self.cols.items()}
        self.labels = np.zeros(n, dtype=np.int8)
        self.variant = np.zeros(n, dtype=np.int8)
        self.role = np.zeros(n, dtype=np.int8)
        self.reg_only = np.zeros(n, dtype=bool)
        self.org_only = np.zeros(n, dtype=bool)
        self.base = n

    @property
    def n(self) -> int:
        """Rows in the stream."""
        return len(self.subjects)

    def append_copies(self, source: np.ndarray, role: np.ndarray) -> None:
        """Append copies of the source rows with the given roles (U or D rows)."""
        for name in ("subjects", "labels", "variant", "reg_only", "org_only"):
            values = getattr(self, name)
            setattr(self, name, np.concatenate([values, values[source]]))
        self.cols = {h: np.concatenate([v, v[source]]) for h, v in self.cols.items()}
        self.role[source] = _CHANGED
        self.role = np.concatenate([self.role, role])


def _agencies(rng: random.Random) -> dict[tuple[int, str], tuple[str, str]]:
    """Every (city, agency) pair's name and a generated government-body USCC (11…)."""
    table = {}
    for ci in range(len(CITIES)):
        for key, (pattern, _) in V.AGENCIES.items():
            name = pattern.format(c=CITY_FULL[ci], s=CITY_SHORT[ci])
            table[(ci, key)] = (name, generate_uscc(rng, authority="1", entity_type="1",
                                                    division_code=str(CITY_CODE[ci])))
    return table


def _between(rng: np.random.Generator, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """A uniformly drawn day in [low, high], row by row."""
    span = np.maximum((high - low).astype(np.int64), 0) + 1
    return low + (rng.random(len(low)) * span).astype(np.int64)


ISO, SLASH, CHINESE, COMPACT, DASH, CHINESE_PAD, CELL = range(7)
_FORMATS: tuple[Callable[[int, int, int], object], ...] = (
    lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}", lambda y, m, d: f"{y}/{m}/{d}",
    lambda y, m, d: f"{y}年{m}月{d}日", lambda y, m, d: f"{y:04d}{m:02d}{d:02d}",
    lambda y, m, d: f"{y}-{m}-{d}", lambda y, m, d: f"{y}年{m:02d}月{d:02d}日", date,
)


def _dates(rng: np.random.Generator, days: np.ndarray, forms: Mapping[int, float]) -> np.ndarray:
    """Days written in a mix of forms (shares by form); NaT gives ""."""
    kinds = list(forms)
    pick = np.array(kinds)[rng.choice(len(kinds), size=len(days), p=list(forms.values()))]
    nat = np.isnat(days)
    safe = np.where(nat, np.datetime64("2000-01-01"), days)
    years = safe.astype("datetime64[Y]").astype(np.int64) + 1970
    months = safe.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dom = (safe - safe.astype("datetime64[M]")).astype(np.int64) + 1
    out = np.empty(len(days), dtype=object)
    out[:] = [_FORMATS[f](*ymd) for f, *ymd in zip(pick.tolist(), years.tolist(), months.tolist(), dom.tolist())]
    out[nat] = ""
    return out


def _mapping(fields: tuple[str, ...], cols: Mapping[str, object]) -> tuple[tuple[str, str], ...]:
    """(canonical field, header) pairs from fields aligned with the layout's headers ("" = unmapped)."""
    if len(fields) != len(cols):
        raise ValueError(f"{len(fields)} fields for {len(cols)} headers")
    return tuple((f, h) for f, h in zip(fields, cols) if f)


def _texts(values: Iterable[object]) -> np.ndarray:
    """An object array of the values (never a fixed-width numpy string array)."""
    out = list(values)
    array = np.empty(len(out), dtype=object)
    array[:] = out
    return array


def _wan(rng: np.random.Generator, median: float, n: int) -> np.ndarray:
    """Amounts in 万元, log-normal around a median, to the cent of 万元 as regulators round them."""
    return np.round(np.clip(rng.lognormal(np.log(median), 1.1, n), 0.01, 500), 2)


def _count(share: float, minimum: int = 30) -> int:
    """Rows of a feed: its share of the entities, at least enough to plant every defect class."""
    return max(minimum, round(share))


def _seq(rng: np.random.Generator, *keys: np.ndarray) -> np.ndarray:
    """Running numbers within each group of equal keys, from a random start per group.

    Decision numbers are unique per authority and year; the start makes them look mid-year.
    """
    frame = pd.DataFrame({str(i): k for i, k in enumerate(keys)})
    groups = frame.groupby(list(frame.columns), sort=False)
    start = rng.integers(1, 400, groups.ngroups)
    return groups.cumcount().to_numpy() + start[groups.ngroup().to_numpy()]


def _numeric_ids(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    """n distinct numeric ids of `width` digits, in random order."""
    start = 10 ** (width - 1)
    step = max(2, min(1000, 8 * start // (n + 1)))
    values = rng.permutation(start + np.cumsum(rng.integers(1, step, n)))
    return np.array([str(v) for v in values.tolist()], dtype=object)


def _hex_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """n 32-character hexadecimal ids, as exchange platforms key their records."""
    high, low = rng.integers(0, 1 << 62, n), rng.integers(0, 1 << 62, n)
    return np.array([f"{a:016x}{b:016x}" for a, b in zip(high.tolist(), low.tolist())], dtype=object)


def _digits(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    """n random digit strings of `width` digits (leading zeros kept)."""
    return np.array([f"{v:0{width}d}" for v in rng.integers(0, 10 ** width, n).tolist()], dtype=object)


def _choice(rng: np.random.Generator, table: tuple[tuple[str, float], ...], n: int) -> np.ndarray:
    """n values drawn from a (value, share) table."""
    shares = np.array([s for _, s in table])
    return np.array([v for v, _ in table], dtype=object)[rng.choice(len(table), n, p=shares / shares.sum())]


def _by_sector(rng: np.random.Generator, sectors: np.ndarray, table: tuple[tuple[object, ...], ...]) -> np.ndarray:
    """Index into a catalogue whose last field lists the sectors an entry applies to (empty: any)."""
    pick = np.zeros(len(sectors), dtype=np.int64)
    for sector in np.unique(sectors.astype(str)):
        fits = [i for i, entry in enumerate(table) if sector in entry[-1]]  # type: ignore[operator]
        fits += [i for i, entry in enumerate(table) if not entry[-1]]
        rows = sectors == sector
        pick[rows] = np.array(fits)[rng.integers(0, len(fits), rows.sum())]
    return pick


# --- the feeds ------------------------------------------------------------------------------

def _registration(ctx: Ctx, rng: np.random.Generator) -> tuple[Spec, Stream]:
    """The register extract: one row per registered entity, GB18030."""
    e, n = ctx.ents, ctx.ents.registered
    cols = {
        "主体身份代码": _numeric_ids(rng, n, 16), "统一社会信用代码": e.uscc[:n], "注册号": e.reg_no[:n],
        "企业名称": e.name[:n], "企业类型": e.entity_type[:n], "登记状态": e.status[:n],
        "法定代表人": e.legal_rep[:n], "注册资本(万元)": e.capital[:n],
        "成立日期": _dates(rng, e.established[:n], {ISO: 0.8, DASH: 0.2}), "住所": e.address[:n],
        "登记机关": e.reg_authority[:n], "行业": e.industry[:n], "曾用名": e.former_names[:n],
    }
    fields = ("record_key", "uscc", "reg_no", "name", "entity_type", "status", "legal_rep",
              "registered_capital", "established_on", "address", "reg_authority", "industry", "former_names")
    spec = Spec("samr-registration", "某市市场监督管理局", "registration", "csv", "gb18030",
                "drop/samr/registration", "0 2 * * *", _mapping(fields, cols), tuple(cols), "成立日期",
                codes=("注册号",), rank=100)
    stream = Stream(np.arange(n), cols)
    stream.reg_only = e.uscc[:n] == ""
    return spec, stream


def _annual_reports(ctx: Ctx, rng: np.random.Generator) -> tuple[Spec, Stream]:
    """年报 filings for the last three report years; some filed late, some never (kept for the lists)."""
    e, pool = ctx.ents, ctx.pool()
    subjects, years, filed = [], [], []
    late, missing = [], []
    for year in range(ctx.today.year - 3, ctx.today.year):
        due = np.datetime64(f"{year + 1}-06-30")
        alive = (e.established[pool] <= np.datetime64(f"{year}-12-31")) & ~(e.died[pool] <= due)
        who = pool[alive]
        r = rng.random(len(who))
        on_time = r < np.where(e.kind[who] == INDIVIDUAL, 0.80, 0.88)
        is_late = ~on_time & (r < np.where(e.kind[who] == INDIVIDUAL, 0.84, 0.92))
        day = np.where(on_time, np.datetime64(f"{year + 1}-01-01") + rng.integers(0, 181, len(who)),
                       np.datetime64(f"{year + 1}-07-01") + rng.integers(0, 300, len(who)))
        done = (on_time | is_late) & (day <= ctx.day)
        subjects.append(who[done]), years.append(np.full(done.sum(), year)), filed.append(day[done])
        late.append(np.stack([who[done & is_late], np.full((done & is_late).sum(), year),
                              day[done & is_late].astype(np.int64)], axis=1))
        missing.append(np.stack([who[~done], np.full((~done).sum(), year)], axis=1))
    ctx.overdue = {"late": np.concatenate(late), "missing": np.concatenate(missing)}
    subject, year, day = np.concatenate(subjects), np.concatenate(years), np.concatenate(filed)
    order = np.argsort(day, kind="stable")
    subject, year, day = subject[order], year[order], day[order]
    with_reg = (e.reg_no[subject] != "") & (rng.random(len(subject)) < 0.3)
    cols = {
        "年报ID": _numeric_ids(rng, len(subject), 12), "统一社会信用代码": e.uscc[subject],
        "注册号": np.where(with_reg, e.reg_no[subject], ""), "企业名称": e.name[subject],
        "报送年度": np.array([str(y) for y in year.tolist()], dtype=object),
        "公示日期": _dates(rng, day, {ISO: 0.85, SLASH: 0.15}), "报送方式": np.full(len(subject), "网上报送", dtype=object),
    }
    fields = ("record_key", "uscc", "reg_no", "name", "year", "filed_on", "")
    spec = Spec("samr-annual-reports", "某市市场监督管理局", "annual_report", "csv", "utf-8",
                "drop/samr/annual-reports", "30 2 * * *", _mapping(fields, cols), tuple(cols), "公示日期",
                codes=("注册号",))
    return spec, Stream(subject, cols)


def _abnormal(ctx: Ctx, rng: np.random.Generator) -> tuple[Spec, Stream]:
    """经营异常名录 listings and removals; reason 1 follows the annual reports not filed in time."""
    e, n = ctx.ents, _count(0.05 * ctx.ents.registered)
    late, late_on = _overdue(ctx, rng, "late")
    missing, missing_on = _overdue(ctx, rng, "missing")
    fixed = late[:, 2].astype("datetime64[D]") > late_on + 1  # filed after the listing: removed on filing
    late, late_on = late[fixed], late_on[fixed]
    first = round(0.6 * n)
    pick_late = rng.permutation(len(late))[:first // 3]
    pick_missing = rng.permutation(len(missing))[:first - len(pick_late)]
    r1 = np.concatenate([late[pick_late, 0], missing[pick_missing, 0]]).astype(np.int64)
    others = rng.choice(ctx.pool(years=4, firms=True), n - len(r1))
    subject = np.concatenate([r1, others])
    reason = np.concatenate([np.zeros(len(r1), np.int64), rng.choice([1, 2, 3], len(others), p=[0.1, 0.15, 0.75])])
    reason[(e.kind[subject] == V.COOPERATIVE) & (reason == 1)] = 3
    years = np.concatenate([late[pick_late, 1], missing[pick_missing, 1], np.zeros(len(others), np.int64)])
    listed = np.concatenate([late_on[pick_late], missing_on[pick_missing], ctx.window(rng, others, 4)])
    removed = np.full(len(subject), np.datetime64("NaT"), dtype="datetime64[D]")
    removed[:len(pick_late)] = late[pick_late, 2].astype("datetime64[D]") + rng.integers(1, 11, len(pick_late))
    chosen = np.arange(len(r1), len(subject))[rng.random(len(others)) < 1 / 3]
    removed[chosen] = listed[chosen] + rng.integers(20, 400, len(chosen))
    removed[removed > ctx.day] = np.datetime64("NaT")
    auto = _deregistered(ctx, subject, listed, removed)
    removed[auto] = e.died[subject][auto]
    ctx.abnormal = {"subject": subject, "listed": listed, "removed": removed}
    return _abnormal_stream(ctx, rng, subject, reason, years, listed, removed, auto)


def _overdue(ctx: Ctx, rng: np.random.Generator, which: str) -> tuple[np.ndarray, np.ndarray]:
    """Overdue (entity, year, …) reports of firms (individuals are only marked), with listing days.

    Listing comes within ten working days after 30 June of the following year; pairs whose
    listing day is still ahead are left out.
    """
    pairs = ctx.overdue[which]
    pairs = pairs[ctx.ents.kind[pairs[:, 0]] != INDIVIDUAL]
    july = ((pairs[:, 1] + 1 - 1970) * 12 + 6).astype("datetime64[M]").astype("datetime64[D]")
    listed = july + rng.integers(0, 15, len(pairs))
    due = listed <= ctx.day
    return pairs[due], listed[due]


def _deregistered(ctx: Ctx, subject: np.ndarray, listed: np.ndarray, removed: np.ndarray) -> np.ndarray:
    """Rows whose entity was deregistered while listed: removed automatically on that day."""
    died = ctx.ents.died[subject]
    return (ctx.ents.status[subject] == "注销") & (died > listed) & ~(removed <= died)


def _abnormal_stream(ctx: Ctx, rng: np.random.Generator, subject: np.ndarray, reason: np.ndarray, years: np.ndarray,
                     listed: np.ndarray, removed: np.ndarray, auto: np.ndarray) -> tuple[Spec, Stream]:
    """The published abnormal-list layout, dates in mixed forms."""
    e, n = ctx.ents, len(subject)
    style = rng.random(n)
    text = np.array(V.ABNORMAL_REASONS, dtype=object)[reason]
    with_year = (reason == 0) & (style < 0.3)
    text[with_year] = [f"{y}年度，{t}" for y, t in zip(years[with_year], text[with_year])]
    for code, wording in V.ABNORMAL_REASON_VARIANTS.items():
        text[(reason == code) & (style > 0.9)] = wording
    removal = np.array([V.ABNORMAL_REMOVALS[r][int(s * 10) % len(V.ABNORMAL_REMOVALS[r])]
                        for r, s in zip(reason, style)], dtype=object)
    removal[auto] = V.AUTO_REMOVAL
    removal[np.isnat(removed)] = ""
    year = listed.astype("datetime64[Y]").astype(np.int64) + 1970
    city = e.city[subject]
    forms = {ISO: 0.4, SLASH: 0.2, CHINESE: 0.2, COMPACT: 0.2}
    cols = {
        "经营异常名录ID": _numeric_ids(rng, n, 10), "统一社会信用代码": e.uscc[subject], "企业名称": e.name[subject],
        "列入经营异常名录原因": text, "列入日期": _dates(rng, listed, forms), "作出决定机关(列入)": e.reg_authority[subject],
        "移出经营异常名录原因": removal, "移出日期": _dates(rng, removed, forms),
        "作出决定机关(移出)": np.where(np.isnat(removed), "", e.reg_authority[subject]),
        "列入决定书文号": np.array([f"{a}市监异列〔{y}〕{s}号" for a, y, s in
                              zip(CITY_ABBR[city], year, _seq(rng, city, year))], dtype=object),
    }
    fields = ("record_key", "uscc", "name", "reason", "listed_on", "listed_by", "removal_reason", "removed_on",
              "removed_by", "decision_no")
    spec = Spec("samr-abnormal", "某市市场监督管理局", "abnormal", "csv", "utf-8", "drop/samr/abnormal",
                "*/15 * * * *", _mapping(fields, cols), tuple(cols), "列入日期")
    return spec, Stream(subject, cols)


def _serious(ctx: Ctx, rng: np.random.Generator) -> tuple[Spec, Stream]:
    """严重违法失信名单: transfers after three years on the abnormal list, and heavy penalties."""
    e, n = ctx.ents, _count(0.005 * ctx.ents.registered)
    ab = ctx.abnormal
    due = np.isnat(ab["removed"]) & (ab["listed"] + 1096 <= ctx.day - 31)
    transfer = np.unique(ab["subject"][due])
    transfer = transfer[rng.permutation(len(transfer))][:n // 2]
    first = {int(s): d for s, d in zip(ab["subject"][due][::-1], ab["listed"][due][::-1])}
    others = rng.choice(ctx.pool(years=5, firms=True), n - len(transfer))
    subject = np.concatenate([transfer, others])
    listed = np.concatenate([np.array([first[int(s)] for s in transfer], dtype="datetime64[D]")
                             + 1096 + rng.integers(0, 30, len(transfer)), ctx.window(rng, others, 5)])
    domain = np.array(V.SERIOUS_DOMAINS, dtype=object)[rng.integers(0, len(V.SERIOUS_DOMAINS), len(others))]
    category = np.concatenate([np.full(len(transfer), "未履行经营异常名录相关义务", dtype=object), domain])
    reason = np.concatenate([np.full(len(transfer), V.SERIOUS_TRANSFER, dtype=object),
                             np.array([f"实施{d}领域严重违法失信行为，受到较重行政处罚" for d in domain], dtype=object)])
    removed, why = _serious_removals(ctx, rng, subject, listed)
    city = e.city[subject]
    year = listed.astype("datetime64[Y]").astype(np.int64) + 1970
    authority = ctx.agency(city, "samr")[0]
    cols = {
        "名单ID": _hex_ids(rng, len(subject)), "统一社会信用代码": e.uscc[subject], "企业名称": e.name[subject],
        "法定代表人": e.legal_rep[subject], "严重违法失信行为领域": category, "列入严重违法失信名单原因": reason,
        "列入决定书文号": np.array([f"{a}市监严列〔{y}〕{s}号" for a, y, s in zip(CITY_ABBR[city], year, _seq(rng, city, year))],
                              dtype=object),
        "列入日期": _dates(rng, listed, {ISO: 0.7, CHINESE: 0.3}), "作出决定机关(列入)": authority,
        "移出严重违法失信名单原因": why, "移出日期": _dates(rng, removed, {ISO: 1.0}),
        "作出决定机关(移出)": np.where(np.isnat(removed), "", authority),
    }
    fields = ("record_key", "uscc", "name", "", "category", "reason", "decision_no", "listed_on", "listed_by",
              "removal_reason", "removed_on", "removed_by")
    spec = Spec("samr-serious-illegal", "某市市场监督管理局", "serious_illegal", "csv", "gb18030",
                "drop/samr/serious-illegal", "0 3 * * *", _mapping(fields, cols),
                tuple(cols), "列入日期")
    return spec, Stream(subject, cols)


def _serious_removals(ctx: Ctx, rng: np.random.Generator, subject: np.ndarray,
                      listed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Removal days and reasons: the three-year term, early repair, or deregistration."""
    e, n = ctx.ents, len(subject)
    removed = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    why = np.full(n, "", dtype=object)
    expired = listed + 1096 <= ctx.day
    removed[expired], why[expired] = listed[expired] + 1096, V.SERIOUS_REMOVALS[0]
    repair = ~expired & (listed + 365 <= ctx.day) & (rng.random(n) < 0.25)
    removed[repair] = np.minimum(listed[repair] + 365 + rng.integers(0, 200, repair.sum()), ctx.day)
    why[repair] = V.SERIOUS_REMOVALS[1]
    auto = _deregistered(ctx, subject, listed, removed)
    removed[auto], why[auto] = e.died[subject][auto], V.AUTO_REMOVAL
    return removed, why


_NATIONAL_CODES = ("行政相对人代码_1(统一社会信用代码)", "行政相对人代码_2(工商注册号)", "行政相对人代码_3(组织机构代码)",
                   "行政相对人代码_4(税务登记号)", "行政相对人代码_5(事业单位证书号)", "行政相对人代码_6(社会组织登记证号)")
_NATIONAL_FIELDS = ("uscc", "reg_no", "org_code", "tax_no", "inst_cert_no", "social_org_no")


def _national_identity(ctx: Ctx, rng: np.random.Generator,
                       subject: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """行政相对人 columns of the 双公示 layouts; a few rows name the entity by 注册号 or 组织机构代码 only."""
    e, n = ctx.ents, len(subject)
    uscc, reg, org = e.uscc[subject].copy(), e.reg_no[subject].copy(), e.org_code[subject].copy()
    r = rng.random(n)
    reg_only = (r < 0.03) & (reg != "")
    org_only = (r >= 0.03) & (r < 0.05)
    dashed = np.array([f"{c[:8]}-{c[8:]}" for c in org], dtype=object)
    org = np.where(rng.random(n) < 0.5, dashed, org)
    reg[~(reg_only | ((r >= 0.05) & (r < 0.15)))] = ""
    org[~(org_only | ((r >= 0.15) & (r < 0.25)))] = ""
    tax = np.where((r >= 0.25) & (r < 0.30), uscc, "")
    uscc[reg_only | org_only] = ""
    empty = np.full(n, "", dtype=object)
    cols = {"行政相对人名称": e.name[subject],
            "行政相对人类别": np.where(e.kind[subject] == INDIVIDUAL, "个体工商户", "法人及非法人组织")}
    cols.update(zip(_NATIONAL_CODES, (uscc, reg, org, tax, empty, empty)))
    cols["法定代表人"] = e.legal_rep[subject]
    return cols, reg_only, org_only


def _licences(ctx: Ctx, rng: np.random.Generator) -> tuple[Spec, Stream]:
    """行政许可 in the national exchange layout, UTF-8 with BOM, with 操作标识 I/U/D."""
    e, n = ctx.ents, _count(0.5 * ctx.ents.registered)
    subject = rng.choice(ctx.pool(years=6), n)
    decided = ctx.window(rng, subject, 6)
    entry = _by_sector(rng, e.sector[subject], V.LICENCES)
    city, year = e.city[subject], decided.astype("datetime64[Y]").astype(np.int64) + 1970
    agency_key = np.array([V.LICENCES[i][2] for i in entry], dtype=object)
    authority, code = ctx.agency(city, agency_key)
    valid_to = decided + np.array([V.LICENCES[i][6] for i in entry]) * 365 - 1
    open_ended = rng.random(n) < 0.1
    status = np.where(valid_to >= ctx.day, "有效", "无效").astype(object)
    status[open_ended] = "有效"
    status[~np.isnat(e.died[subject])] = "注销"
    ident, reg_only, org_only = _national_identity(ctx, rng, subject)
    until = _dates(rng, valid_to, {ISO: 0.9, SLASH: 0.1})
    until[open_ended] = "2099-12-31"
    cols = ident | {
        "行政许可决定文书名称": np.array([V.LICENCES[i][1] for i in entry], dtype=object),
        "行政许可决定文书号": np.array([f"{CITY_ABBR[c]}{V.AGENCIES[k][1]}许〔{y}〕{s}号" for c, k, y, s in
                                   zip(city, agency_key, year, _seq(rng, city, agency_key, year))], dtype=object),
        "许可类别": np.array([V.LICENCES[i][3] for i in entry], dtype=object),
        "许可证书名称": np.array([V.LICENCES[i][0] for i in entry], dtype=object),
        "许可编号": _licence_numbers(rng, entry, subject, ctx, year),
        "许可内容": np.array([V.LICENCES[i][4] for i in entry], dtype=object),
        "许可决定日期": _dates(rng, decided, {ISO: 0.8, SLASH: 0.2}),
        "有效期自": _dates(rng, decided, {ISO: 0.9, SLASH: 0.1}), "有效期至": until,
        "许可机关": authority, "许可机关统一社会信用代码": code, "当前状态": status,
        "数据来源单位": authority, "数据来源单位统一社会信用代码": code, "备注": np.full(n, "", dtype=object),
        "数据ID": _hex_ids(rng, n), "操作标识": np.full(n, "I", dtype=object),
    }
    fields = ("name", "", *_NATIONAL_FIELDS, "legal_rep", "", "decision_no", "licence_type", "licence_name",
              "licence_no", "content", "decided_on", "valid_from", "valid_to", "authority", "authority_code",
              "status", "", "", "", "record_key", "change")
    spec = Spec("credit-licence", "某市发展和改革委员会", "licence", "csv", "utf-8-sig", "drop/credit/licence",
                "*/15 * * * *", _mapping(fields, cols), tuple(cols), "许可决定日期",
                codes=_NATIONAL_CODES[1:], traditional=True)
    stream = Stream(subject, cols, amend=_amend_licence)
    stream.reg_only, stream.org_only = reg_only, org_only
    return spec, stream


def _licence_numbers(rng: np.random.Generator, entry: np.ndarray, subject: np.ndarray, ctx: Ctx,
                     year: np.ndarray) -> np.ndarray:
    """许可编号 in each licence's own pattern."""
    e, n = ctx.ents, len(entry)
    d = DISTRICT_CODE[e.district[subject]]
    n5, n6, n7 = _digits(rng, n, 5), _digits(rng, n, 6), _digits(rng, n, 7)
    rows = zip(entry, d, e.city[subject], year, e.uscc[subject], n5, n6, n7)
    return _texts(V.LICENCES[i][5].format(d=dc, p=PROVINCE_ABBR[c], a=CITY_ABBR[c], y=y, u=u, n5=a, n6=b, n7=g)
                  for i, dc, c, y, u, a, b, g in rows)


def _amend_licence(stream: Stream, rows: np.ndarray, rng: np.random.Generator) -> None:
    """A U row renews the licence: five more years (open-ended ones stay open), noted in 备注."""
    ends = stream.cols["有效期至"]
    ends[rows] = [v if v == "2099-12-31" else (datetime.strptime(v, "%Y-%m-%d" if "-" in v else "%Y/%m/%d").date()
                                               + timedelta(days=1826)).isoformat() for v in ends[rows]]
    stream.cols["当前状态"][rows] = "有效"
    stream.cols["备注"][rows] = "许可延续"


def _penalties(ctx: Ctx, rng: np.random.Generator) -> tuple[Spec, Stream]:
    """行政处罚 in the national 双公示 layout, XLSX, dates as Excel cells or as text."""
    e, n = ctx.ents, _count(0.3 * ctx.ents.registered)
    subject = rng.choice(ctx.pool(years=5), n)
    decided = ctx.window(rng, subject, 5)
    entry = _by_sector(rng, e.sector[subject], V.PENALTIES)
    city, year = e.city[subject], decided.astype("datetime64[Y]").astype(np.int64) + 1970
    agency_key = np.array([V.PENALTIES[i][0] for i in entry], dtype=object)
    authority, code = ctx.agency(city, agency_key)
    kind = _choice(rng, V.PENALTY_TYPES, n)
    kind[np.isin(agency_key, ("tax", "fire", "urban", "env")) & np.array(["吊销" in k for k in kind])] = "罚款"
    fine = np.where(["罚款" in k for k in kind], _wan(rng, 0.6, n), np.nan)
    taken = np.where(["没收" in k for k in kind], _wan(rng, 0.3, n), np.nan)
    light = np.array([k in ("警告", "通报批评") for k in kind]) | (np.nan_to_num(fine, nan=0) < 0.5)
    style = (city * 7 + np.array([list(V.AGENCIES).index(k) for k in agency_key])) % 3  # each authority its own
    brackets = np.array(["〔〕", "[]", "（）"], dtype=object)[style]
    ident, reg_only, org_only = _national_identity(ctx, rng, subject)
    valid = _dates(rng, decided + 365, {CELL: 0.7, ISO: 0.3})
    valid[rng.random(n) < 0.3] = ""
    cols = ident | {
        "行政处罚决定书文号": _texts(f"{CITY_ABBR[c]}{V.AGENCIES[k][1]}罚{b[0]}{y}{b[1]}{s}号" for c, k, b, y, s in
                             zip(city, agency_key, brackets, year, _seq(rng, city, agency_key, year))),
        "违法行为类型": np.array([V.PENALTIES[i][1] for i in entry], dtype=object),
        "违法事实": np.array([V.PENALTIES[i][2] for i in entry], dtype=object),
        "处罚依据": np.array([V.PENALTIES[i][3] for i in entry], dtype=object), "处罚类别": kind,
        "处罚内容": np.array([_penalty_content(k, f, t) for k, f, t in zip(kind, fine, taken)], dtype=object),
        "罚款金额（万元）": _amounts(fine), "没收违法所得、没收非法财物的金额（万元）": _amounts(taken),
        "暂扣或吊销证照名称及编号": np.where(["吊销" in k for k in kind],
                                     [f"食品经营许可证（JY1{d}）" for d in _digits(rng, n, 13)], ""),
        "处罚决定日期": _dates(rng, decided, {CELL: 0.6, ISO: 0.15, SLASH: 0.1, CHINESE: 0.1, COMPACT: 0.05}),
        "处罚有效期": valid, "公示截止期": _dates(rng, decided + np.where(light, 90, 1095), {CELL: 0.7, ISO: 0.3}),
        "处罚机关": authority, "处罚机关统一社会信用代码": code, "数据来源单位": authority,
        "数据来源单位统一社会信用代码": code, "备注": np.full(n, "", dtype=object),
        "数据ID": _hex_ids(rng, n), "操作标识": np.full(n, "I", dtype=object),
    }
    fields = ("name", "", *_NATIONAL_FIELDS, "legal_rep", "decision_no", "violation_type", "facts", "basis",
              "penalty_type", "content", "fine_amount", "confiscated_amount", "", "decided_on", "valid_until",
              "publicity_until", "authority", "authority_code", "", "", "", "record_key", "change")
    spec = Spec("credit-penalty", "某市发展和改革委员会", "penalty", "xlsx", None, "drop/credit/penalty",
                "*/15 * * * *", _mapping(fields, cols), tuple(cols), "处罚决定日期",
                codes=_NATIONAL_CODES[1:], traditional=True, split=True)
    stream = Stream(subject, cols, amend=_amend_penalty)
    stream.reg_only, stream.org_only = reg_only, org_only
    return spec, stream


def _amounts(values: np.ndarray) -> np.ndarray:
    """Amounts in 万元 as numbers for the spreadsheet, "" where none."""
    out = np.empty(len(values), dtype=object)
    out[:] = [("" if np.isnan(v) else v) for v in values.tolist()]
    return out


def _penalty_content(kind: str, fine: float, taken: float) -> str:
    """处罚内容 in words, from the categories and amounts."""
    words = {"警告": "给予警告", "通报批评": "通报批评", "责令停产停业": "责令停产停业三个月", "吊销许可证件": "吊销许可证件"}
    parts = []
    for k in kind.split(";"):
        if k == "罚款":
            parts.append(f"罚款人民币{round(fine * 10000):d}元")
        elif k == "没收违法所得":
            parts.append(f"没收违法所得人民币{round(taken * 10000):d}元")
        else:
            parts.append(words[k])
    return "，".join(parts)


def _amend_penalty(stream: Stream, rows: np.ndarray, rng: np.random.Generator) -> None:
    """A U row corrects the fine (or only the remark when there is none)."""
    fines = stream.cols["罚款金额（万元）"]
    factor = rng.uniform(0.5, 1.5, len(rows)).tolist()
    fines[rows] = [round(v * f, 2) if v != "" else v for v, f in zip(fines[rows], factor)]
    stream.cols["备注"][rows] = "更正罚款金额"


def _court(ctx: Ctx, rng: np.random.Generator) -> tuple[Spec, Stream]:
    """失信被执行人 as JSON lines in the court publication's own keys."""
    e, n = ctx.ents, _count(0.01 * ctx.ents.registered)
    subject = rng.choice(ctx.pool(years=4, firms=True), n)
    published = ctx.window(rng, subject, 4)
    registered = published - rng.integers(20, 200, n)
    city, district = e.city[subject], e.district[subject]
    dname = DISTRICT_NAME[district]
    court = np.array([d + "人民法院" if d.endswith("市") else f"{c}{d}人民法院"
                      for c, d in zip(CITY_FULL[city], dname)], dtype=object)
    tag = np.array([f"{p}{str(d)[2:]}" for p, d in zip(PROVINCE_ABBR[city], DISTRICT_CODE[district])], dtype=object)
    year = registered.astype("datetime64[Y]").astype(np.int64) + 1970
    cols = {
        "id": _numeric_ids(rng, n, 9), "iname": e.name[subject],
        "caseCode": _texts(f"({y}){t}执{s}号" for y, t, s in zip(year, tag, rng.integers(100, 9999, n))),
        "cardNum": e.uscc[subject], "businessEntity": e.legal_rep[subject], "courtName": court,
        "areaName": np.array([CITIES[c][2].rstrip("省市") for c in city], dtype=object),
        "gistId": _texts(f"({y - 1}){t}民初{s}号" for y, t, s in zip(year, tag, rng.integers(100, 19999, n))),
        "regDate": _dates(rng, registered, {COMPACT: 1.0}), "gistUnit": court,
        "duty": np.array([f"被告于判决生效之日起十日内支付原告货款人民币{a}元及利息" for a in rng.integers(5, 500, n) * 1000],
                         dtype=object),
        "performance": np.where(rng.random(n) < 0.85, "全部未履行", "部分未履行").astype(object),
        "disruptTypeName": np.array(V.COURT_BEHAVIOURS, dtype=object)[rng.integers(0, len(V.COURT_BEHAVIOURS), n)],
        "publishDate": _dates(rng, published, {CHINESE_PAD: 1.0}),
    }
    columns = (("record_key", "id"), ("name", "iname"), ("uscc", "cardNum"), ("reason", "disruptTypeName"),
               ("listed_on", "publishDate"), ("listed_by", "courtName"))
    spec = Spec("court-defaulters", "某市中级人民法院", "sector_list", "jsonl", "utf-8", "drop/court/defaulters",
                "0 4 * * *", columns, tuple(cols), "publishDate", mode="snapshot", list_id="court-defaulters")
    return spec, Stream(subject, cols)


def _tax(ctx: Ctx, rng: np.random.Generator) -> tuple[Spec, Stream]:
    """重大税收违法失信主体 as the tax bureau publishes them (UTF-8 with BOM CSV)."""
    e, n = ctx.ents, _count(0.003 * ctx.ents.registered)
    subject = rng.choice(ctx.pool(years=5, firms=True), n)
    listed = ctx.window(rng, subject, 5)
    expires = listed + 1095
    removed = np.where(expires <= ctx.day, expires, np.datetime64("NaT"))
    repaired = np.isnat(removed) & (rng.random(n) < 0.2)
    removed[repaired] = np.minimum(listed[repaired] + rng.integers(60, 700, repaired.sum()), ctx.day)
    why = np.where(np.isnat(removed), "", np.where(repaired, V.TAX_REMOVALS[0], V.TAX_REMOVALS[1])).astype(object)
    city, year = e.city[subject], listed.astype("datetime64[Y]").astype(np.int64) + 1970
    case = np.array(V.TAX_CASES, dtype=object)[rng.integers(0, len(V.TAX_CASES), n)]
    owed = np.round(rng.lognormal(np.log(80), 1.0, n), 2)
    org = e.org_code[subject]
    bureau = ctx.agency(city, "tax")[0]
    cols = {
        "案件编号": _texts(f"{a}税稽{y}{s:05d}" for a, y, s in zip(CITY_ABBR[city], year, _seq(rng, city, year))),
        "纳税人名称": e.name[subject], "纳税人识别号或社会信用代码": e.uscc[subject],
        "组织机构代码": np.where(rng.random(n) < 0.5, [f"{c[:8]}-{c[8:]}" for c in org], ""),
        "注册地址": e.address[subject], "法定代表人或者负责人姓名": e.legal_rep[subject], "案件性质": case,
        "主要违法事实": np.array([f"经{b}稽查局检查，发现其在{y - 2}年01月01日至{y - 1}年12月31日期间，存在{c}行为，"
                            f"少缴税款合计{o}万元" for b, y, c, o in zip(bureau, year, case, owed)], dtype=object),
        "相关法律依据及税务处理处罚情况": np.array([f"依照《中华人民共和国税收征收管理法》等相关规定，对其处以追缴税款{o}万元的行政处理，"
                                      f"并处罚款{round(o * 0.5, 2)}万元的行政处罚" for o in owed], dtype=object),
        "公布机关": bureau, "公布日期": _dates(rng, listed, {ISO: 1.0}), "公布截止日期": _dates(rng, expires, {ISO: 1.0}),
        "移出日期": _dates(rng, removed, {ISO: 1.0}), "移出原因": why,
    }
    fields = ("record_key", "name", "uscc", "org_code", "", "", "reason", "", "", "listed_by", "listed_on",
              "expires_on", "removed_on", "removal_reason")
    spec = Spec("tax-major-violators", "国家税务总局某市税务局", "sector_list", "csv", "utf-8-sig",
                "drop/tax/major-violators", "0 5 * * 1", _mapping(fields, cols),
                tuple(cols), "公布日期", codes=("组织机构代码",), list_id="major-tax-violators")
    return spec, Stream(subject, cols)


def _inspections(ctx: Ctx, rng: np.random.Generator) -> tuple[Spec, Stream]:
    """抽查检查结果 of the 双随机 plans, GB18030 CSV."""
    e, n = ctx.ents, _count(0.4 * ctx.ents.registered)
    subject = rng.choice(ctx.pool(years=3), n)
    day = ctx.window(rng, subject, 3)
    city, year = e.city[subject], day.astype("datetime64[Y]").astype(np.int64) + 1970
    kind = _choice(rng, (("双随机抽查", 0.7), ("定向抽查", 0.15), ("不定向抽查", 0.1), ("专项检查", 0.05)), n)
    with_reg = (e.reg_no[subject] != "") & (rng.random(n) < 0.2)
    cols = {
        "检查结果编号": _numeric_ids(rng, n, 12), "统一社会信用代码": e.uscc[subject],
        "注册号": np.where(with_reg, e.reg_no[subject], ""), "企业名称": e.name[subject],
        "抽查计划名称": np.array([f"{y}年度{c}市场监管领域部门联合双随机抽查计划" for y, c in zip(year, CITY_FULL[city])], dtype=object),
        "抽查任务编号": np.array([f"{a}市监抽〔{y}〕{t}号" for a, y, t in zip(CITY_ABBR[city], year, rng.integers(1, 13, n))],
                             dtype=object),
        "抽查类型": kind, "检查实施机关": e.reg_authority[subject], "检查完成日期": _dates(rng, day, {ISO: 0.7, SLASH: 0.3}),
        "抽查事项": np.array(V.INSPECTION_ITEMS, dtype=object)[rng.integers(0, len(V.INSPECTION_ITEMS), n)],
        "检查结果": _choice(rng, V.INSPECTION_RESULTS, n),
    }
    fields = ("record_key", "uscc", "reg_no", "name", "plan", "task", "inspection_type", "authority",
              "inspected_on", "item", "result")
    spec = Spec("samr-inspections", "某市市场监督管理局", "inspection", "csv", "gb18030", "drop/samr/inspections",
                "0 1 * * *", _mapping(fields, cols), tuple(cols), "检查完成日期", codes=("注册号",))
    return spec, Stream(subject, cols)


def _commendations(ctx: Ctx, rng: np.random.Generator) -> tuple[Spec, Stream]:
    """守信激励 / 红名单 entries, XLSX."""
    e, n = ctx.ents, _count(0.005 * ctx.ents.registered)
    subject = rng.choice(ctx.pool(alive=True, firms=True), n)
    listed = ctx.window(rng, subject, 3)
    which = rng.integers(0, len(V.COMMENDATIONS), n)
    city = e.city[subject]
    keys = np.array([V.COMMENDATIONS[i][1] for i in which], dtype=object)
    cols = {
        "红名单ID": _hex_ids(rng, n), "统一社会信用代码": e.uscc[subject], "企业名称": e.name[subject],
        "荣誉名称": np.array([V.COMMENDATIONS[i][0] for i in which], dtype=object),
        "认定机关": ctx.agency(city, keys)[0], "认定日期": _dates(rng, listed, {CELL: 0.7, ISO: 0.3}),
        "有效期至": _dates(rng, listed + np.array([V.COMMENDATIONS[i][2] for i in which]) * 365, {CELL: 0.7, ISO: 0.3}),
    }
    fields = ("record_key", "uscc", "name", "title", "listed_by", "listed_on", "expires_on")
    spec = Spec("credit-commendations", "某市发展和改革委员会", "commendation", "xlsx", None,
                "drop/credit/commendations", "0 6 * * *", _mapping(fields, cols), tuple(cols), "认定日期")
    return spec, Stream(subject, cols)


_FEEDS: tuple[Callable[[Ctx, np.random.Generator], tuple[Spec, Stream]], ...] = (
    _registration, _annual_reports, _abnormal, _serious, _licences, _penalties, _court, _tax, _inspections,
    _commendations,
)


# --- planting defects and harmless spellings ------------------------------------------------

_MALFORMED, _MISMATCH, _BAD_DATE, _MISSING, _UNKNOWN = range(1, 6)
_LOWER, _FULLWIDTH, _TRADITIONAL, _BRACKET = range(1, 5)
_CHANGED, _UPDATE, _DELETE = 1, 2, 3
_BAD_DATES = ("2024-13-45", "2023年2月30日", "2023-02-30", "2024/13/01", "20231340", "2022-00-12",
              "2023年13月1日", "2021-02-29")
_FOREIGN = "IOZSV"
_OPENCC: dict[str, opencc.OpenCC] = {}


def _plant(ctx: Ctx, spec: Spec, stream: Stream, rng: np.random.Generator) -> None:
    """Spoil about 1% of each file's rows per defect class, then respell some clean rows."""
    for segment in np.array_split(np.arange(stream.n), stream.parts):
        _plant_segment(ctx, spec, stream, segment, rng)
    if spec.kind == "registration":
        ctx.tainted[stream.subjects[stream.labels > 0]] = True
        ctx.mismatched = stream.subjects[stream.labels == _MISMATCH]
        ctx.mismatched_codes[ctx.mismatched] = stream.cols[spec.header("uscc")][stream.labels == _MISMATCH]


def _plant_segment(ctx: Ctx, spec: Spec, stream: Stream, segment: np.ndarray, rng: np.random.Generator) -> None:
    """Plant in the rows of one future file: k rows per defect class, all chosen at random."""
    has = stream.cols[spec.header("uscc")][segment] != ""
    order = rng.permutation(len(segment))
    order = segment[order[np.argsort(~has[order], kind="stable")]]
    has = stream.cols[spec.header("uscc")][order] != ""
    classes = [_MALFORMED, _MISMATCH, _BAD_DATE, _MISSING] + ([] if spec.kind == "registration" else [_UNKNOWN])
    k = min(defect_count(len(segment)), int(has.sum()) // len(classes))
    for j, cls in enumerate(classes):
        rows = order[j * k:(j + 1) * k]
        stream.labels[rows] = cls
        _spoil(ctx, spec, stream, rows, cls, rng)
    rest = order[len(classes) * k:][has[len(classes) * k:]]
    _respell(spec, stream, rest, len(segment), rng)


def _spoil(ctx: Ctx, spec: Spec, stream: Stream, rows: np.ndarray, cls: int, rng: np.random.Generator) -> None:
    """Apply one defect class to the rows (other codes blanked, so the USCC alone identifies them)."""
    cols, uscc, name = stream.cols, spec.header("uscc"), spec.header("name")
    draws = rng.integers(1, 1 << 30, len(rows)).tolist()
    if cls == _MALFORMED:
        cols[uscc][rows] = [_malformed(c, r) for c, r in zip(cols[uscc][rows], draws)]
    elif cls == _MISMATCH and spec.kind != "registration" and len(ctx.mismatched):
        pick = ctx.mismatched[rng.integers(0, len(ctx.mismatched), len(rows))]
        cols[uscc][rows], cols[name][rows] = ctx.mismatched_codes[pick], ctx.ents.name[pick]
    elif cls == _MISMATCH:
        cols[uscc][rows] = [c[:17] + USCC_ALPHABET[(USCC_ALPHABET.index(c[17]) + 1 + r % 30) % 31]
                            for c, r in zip(cols[uscc][rows], draws)]
    elif cls == _BAD_DATE:
        cols[spec.date][rows] = np.array(_BAD_DATES, dtype=object)[rng.integers(0, len(_BAD_DATES), len(rows))]
        return
    elif cls == _MISSING:
        _blank(cols, (uscc, name), rows)
    else:
        pick = rng.integers(ctx.ents.registered, len(ctx.ents.name), len(rows))
        cols[uscc][rows], cols[name][rows] = ctx.ents.uscc[pick], ctx.ents.name[pick]
    _blank(cols, spec.codes, rows)
    stream.reg_only[rows] = stream.org_only[rows] = False


def _blank(cols: dict[str, np.ndarray], headers: tuple[str, ...], rows: np.ndarray) -> None:
    """Empty these columns in these rows."""
    for header in headers:
        cols[header][rows] = ""


def _malformed(code: str, r: int) -> str:
    """A USCC made malformed: a character dropped or doubled, or a letter outside the alphabet."""
    shape, pos = r % 4, 8 + (r >> 2) % 9
    if shape == 0:
        return code[:pos] + code[pos + 1:]
    if shape == 1:
        return code[:pos] + code[pos] + code[pos:]
    return code[:pos] + _FOREIGN[(r >> 6) % len(_FOREIGN)] + code[pos + 1:]


def _respell(spec: Spec, stream: Stream, rest: np.ndarray, size: int, rng: np.random.Generator) -> None:
    """Lower-case and full-width USCCs, traditional names, swapped brackets: not defects."""
    codes, k = stream.cols[spec.header("uscc")], max(1, round(size * 0.005))
    letters = rest[[not c.isdigit() for c in codes[rest]]] if len(rest) else rest
    lower = letters[:k]
    codes[lower] = [c.lower() for c in codes[lower]]
    stream.variant[lower] = _LOWER
    free = rest[stream.variant[rest] == 0]
    wide, free = free[:k], free[k:]
    codes[wide] = [V.fullwidth(c) for c in codes[wide]]
    stream.variant[wide] = _FULLWIDTH
    if spec.traditional:
        free = _traditional(stream, spec.header("name"), free, max(1, round(size * 0.02)))
    if spec.kind != "registration" and len(free):
        names = stream.cols[spec.header("name")]
        flip = free[np.array([("(" in s or "（" in s) for s in names[free]]) & (rng.random(len(free)) < 0.5)]
        names[flip] = [V.flip_brackets(s) for s in names[flip]]
        stream.variant[flip] = _BRACKET


def _traditional(stream: Stream, header: str, free: np.ndarray, k: int) -> np.ndarray:
    """Write up to k names in traditional characters, only those that convert back exactly."""
    chosen, names = free[:k], stream.cols[header][free[:k]]
    if not len(chosen):
        return free
    if not _OPENCC:
        _OPENCC.update(s2t=opencc.OpenCC("s2t"), t2s=opencc.OpenCC("t2s"))
    converted = _OPENCC["s2t"].convert("\n".join(names)).split("\n")
    back = _OPENCC["t2s"].convert("\n".join(converted)).split("\n")
    ok = np.array([t != s and b == s for s, t, b in zip(names, converted, back)], dtype=bool)
    stream.cols[header][chosen[ok]] = np.array(converted, dtype=object)[ok]
    stream.variant[chosen[ok]] = _TRADITIONAL
    return free[k:]


def _add_changes(spec: Spec, stream: Stream, rng: np.random.Generator) -> None:
    """Append U rows (amended) and D rows that repeat the key of earlier clean I rows."""
    change = spec.header("change")
    if not change:
        return
    n = stream.n
    clean = rng.permutation(np.flatnonzero((stream.labels == 0) & (stream.variant == 0)))
    u, d = max(1, round(n * 0.005)), max(1, round(n * 0.003))
    source = clean[:u + d]
    role = np.where(np.arange(len(source)) < u, _UPDATE, _DELETE).astype(np.int8)
    mix = rng.permutation(len(source))
    stream.append_copies(source[mix], role[mix])
    new = np.arange(n, stream.n)
    stream.cols[change][new] = np.where(stream.role[new] == _UPDATE, "U", "D")
    if stream.amend is not None:
        stream.amend(stream, new[stream.role[new] == _UPDATE], rng)


def _duplicated(rng: np.random.Generator, rows: np.ndarray, eligible: np.ndarray) -> tuple[np.ndarray, int]:
    """One file's rows with about 1% clean rows repeated at a later place, identical in every column."""
    places = np.flatnonzero(eligible)
    k = min(defect_count(len(rows)), len(places))
    if not k:
        return rows, 0
    chosen = np.sort(rng.choice(places, size=k, replace=False))
    later = chosen + 0.5 + rng.random(k) * (len(rows) - 1 - chosen)
    keys = np.concatenate([np.arange(len(rows), dtype=np.float64), later])
    full = np.concatenate([rows, rows[chosen]])
    return full[np.argsort(keys, kind="stable")], k


# --- writing --------------------------------------------------------------------------------

def _write_feed(directory: Path, spec: Spec, stream: Stream, ctx: Ctx, rng: np.random.Generator,
                progress: Progress | None) -> list[FileSummary]:
    """Write one source's rows as one file, or as `stream.parts` equal files; summarise each.

    U and D rows come last, so they land in the last file, after the I rows they change.
    """
    (directory / spec.stem).parent.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob(spec.files):  # an earlier, larger run's extra files would be ingested too
        stale.unlink()
    chunks = np.array_split(np.arange(stream.base), stream.parts)
    chunks[-1] = np.concatenate([chunks[-1], np.arange(stream.base, stream.n)])
    summaries = []
    for number, chunk in enumerate(chunks, start=1):
        eligible = (stream.labels[chunk] == 0) & (stream.variant[chunk] == 0) & (stream.role[chunk] == 0)
        rows, copies = _duplicated(rng, chunk, eligible)
        relative = spec.file_name(number)
        path = directory / relative
        _WRITERS[spec.format](path, spec, stream, rows, ctx.today)
        summaries.append(_summary(spec, relative, stream, rows, copies))
        if progress is not None:
            progress(relative, len(rows))
    return summaries


def _summary(spec: Spec, relative: str, stream: Stream, rows: np.ndarray, copies: int) -> FileSummary:
    """Counts of one file: rows, planted defects (duplicates: the extra copies), harmless spellings."""
    labels = np.bincount(stream.labels[rows], minlength=6)
    variant = np.bincount(stream.variant[rows], minlength=5)
    roles = np.bincount(stream.role[rows], minlength=4)
    defects = [int(labels[c]) for c in (_MALFORMED, _MISMATCH, _BAD_DATE, _MISSING, _UNKNOWN)] + [copies]
    variants = [int(variant[v]) for v in (_LOWER, _FULLWIDTH, _TRADITIONAL, _BRACKET)] + [
        int(stream.reg_only[rows].sum()), int(stream.org_only[rows].sum()), int(roles[_UPDATE]), int(roles[_DELETE])]
    return FileSummary(spec.id, relative, len(rows), MappingProxyType(dict(zip(DEFECTS, defects))),
                       MappingProxyType(dict(zip(VARIANTS, variants))))


def _write_csv(path: Path, spec: Spec, stream: Stream, rows: np.ndarray, today: date) -> None:
    """CSV in the source's encoding, rows zipped from the columns, 100,000 at a time."""
    with path.open("w", encoding=spec.encoding, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(spec.headers)
        for start in range(0, len(rows), 100_000):
            part = rows[start:start + 100_000]
            writer.writerows(zip(*(stream.cols[h][part].tolist() for h in spec.headers)))


def _write_jsonl(path: Path, spec: Spec, stream: Stream, rows: np.ndarray, today: date) -> None:
    """JSON lines, one object per record, keys in layout order, Chinese unescaped."""
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    columns = [stream.cols[h][rows].tolist() for h in spec.headers]
    with path.open("w", encoding=spec.encoding or "utf-8", newline="\n") as f:
        f.writelines(encode(dict(zip(spec.headers, values))) + "\n" for values in zip(*columns))


def _write_xlsx(path: Path, spec: Spec, stream: Stream, rows: np.ndarray, today: date) -> None:
    """XLSX in openpyxl's write-only mode; empty cells left out; fixed timestamps for stable bytes."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Sheet1")
    sheet.append(list(spec.headers))
    columns = []
    for header in spec.headers:
        values = stream.cols[header][rows]
        values[values == ""] = None
        columns.append(values.tolist())
    for values in zip(*columns):
        sheet.append(values)
    stamp = datetime.combine(today, time())
    workbook.properties.created = stamp
    buffer = io.BytesIO()
    workbook.save(buffer)
    workbook.properties.modified = stamp
    _repack(buffer, path, {"docProps/core.xml": tostring(workbook.properties.to_tree())})


def _repack(buffer: io.BytesIO, path: Path, replace: Mapping[str, bytes]) -> None:
    """Copy a zip with fixed entry timestamps, so equal content gives equal bytes."""
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type, entry.external_attr = zipfile.ZIP_DEFLATED, info.external_attr
            target.writestr(entry, replace.get(info.filename) or source.read(info.filename))


_WRITERS: dict[str, Callable[[Path, Spec, Stream, np.ndarray, date], None]] = {
    "csv": _write_csv, "jsonl": _write_jsonl, "xlsx": _write_xlsx,
}


def render_registry(specs: list[Spec]) -> str:
    """The sources.toml text declaring every source, as DESIGN.md's "Source registry" shows."""
    out = ["# Sample regulator sources written by `gongxin sample-data`; paths are relative to this file.\n"]
    for spec in specs:
        out.append("\n[[source]]\n")
        out.extend(f"{key} = {_toml(value)}\n" for key, value in spec.registry_items())
        out.append("\n[source.columns]\n")
        out.extend(f"{canonical} = {_toml(header)}\n" for canonical, header in spec.columns)
    return "".join(out)


def _toml(value: str | int) -> str:
    """A TOML value: integers as they are, strings as basic strings (JSON's escapes are TOML's)."""
    return str(value) if isinstance(value, int) else json.dumps(value, ensure_ascii=False)
