"""The 双随机 inspection draw: a pure function of a seed, a snapshot of the registers and the rules.

Anyone holding the published seed, snapshot and result can re-run the draw with this
specification alone (no Python ``random``, no dict or set order is involved):

- The seed is 32 random bytes written as 64 lowercase hex digits. Before the draw the plan
  publishes its commitment, ``sha256(seed bytes)`` in hex. ``H(text)`` below is
  HMAC-SHA256 keyed with the 32 seed bytes over the UTF-8 bytes of ``text``.
- The snapshot is published as canonical JSON (``snapshot_json``: rows sorted, keys sorted,
  separators ``,`` and ``:``, UTF-8, no ASCII escaping); its hash is the sha256 of those bytes.
- Strata: each entity falls in the stratum named by its risk class, or in the rules'
  ``unclassified`` stratum when it has none. A stratum of ``s`` entities with ratio ``r`` draws
  ``floor(r·s + 1/2)`` of them (round half up, exact decimal arithmetic).
- Lottery: entity ``e`` (its id in decimal) has the key ``H("target|" + e)`` followed by the
  ASCII of ``e``; each stratum draws its entities with the lowest keys (bytewise). All targets
  together, in ascending key order, are the draw order.
- Ring: inspectors in ascending order of ``H("ring|" + id)`` followed by the UTF-8 id.
- Load cap: no inspector takes more than ``ceil(f·t·m / n)`` tasks, where ``f`` is the rules'
  ``load_cap_factor``, ``t`` the number of targets, ``m`` ``min_inspectors``, ``n`` the
  inspectors in the register.
- Assignment, target by target in draw order: the candidates are the ring (when the rules
  require local inspectors, only those whose region covers the entity, ring order kept), ``c``
  of them. With ``h = H("inspector|" + e)``: ``start`` = bytes 0–7 of ``h`` (big-endian) mod
  ``c``; ``stride`` = 1 + (bytes 8–15 mod (c − 1)), raised by one until coprime with ``c`` (1
  when ``c`` = 1). Candidates ``start``, ``start + stride``, … (mod ``c``) are visited once
  each; one with a conflict or at the cap is skipped; the first ``m`` others are taken. When
  fewer than ``m`` are found the target is reported unassigned with the reason and loads no one.
- Conflicts of inspector ``i`` with entity ``e``: ``e`` is among ``i``'s declared ties; ``i``
  inspected ``e`` on or after the snapshot day less ``recent_months`` months (the day clamped
  to the month's end); ``i``'s agency is among the agencies of ``e``'s complainants.
- Region: an inspector's division code less its trailing ``00`` pairs (``330100`` → ``3301``,
  ``110000`` → ``11``) covers every entity whose division code starts with it.
- The result is published as canonical JSON (``result_json``, the same form as the snapshot's);
  its ``result_hash`` is the sha256 of that JSON without the ``result_hash`` key.

The operator knows the seed before the draw: publishing the snapshot hash with the commitment,
before the registers could be tuned to the seed, is the plan's job (credit/inspection_plans.py).
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import math
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from credit.inspection_rules import DrawError, DrawRules, decimal_text, parse_decimal
from credit.inspection_snapshot import (
    Complaint,
    EntityRow,
    InspectionItem,
    Inspector,
    RecentInspection,
    Snapshot,
    canonical_json,
    snapshot_hash,
)
from credit.workdays import add_months

__all__ = [
    "Complaint", "DrawError", "DrawResult", "DrawRules", "EntityRow", "InspectionItem", "Inspector",
    "RecentInspection", "Snapshot", "Stratum", "Task", "Unassigned", "Verification", "draw",
    "new_seed", "result_from_dict", "result_json", "seed_commitment", "snapshot_hash", "verify",
]

RESULT_FORMAT = "gongxin-inspection-draw/1"


@dataclass(frozen=True)
class Stratum:
    """One stratum of the draw: its size, the ratio applied and how many were drawn."""

    name: str
    size: int
    ratio: Decimal
    drawn: int


@dataclass(frozen=True)
class Task:
    """A drawn target and its inspectors, the first of whom leads."""

    entity_id: int
    stratum: str
    inspector_ids: tuple[str, ...]


@dataclass(frozen=True)
class Unassigned:
    """A drawn target that could not be staffed; ``reason`` is a code, ``detail`` the counts."""

    entity_id: int
    stratum: str
    reason: str
    detail: str


@dataclass(frozen=True)
class DrawResult:
    """The outcome of one draw, bound to its seed commitment, snapshot and rules by ``result_hash``."""

    seed_commitment: str
    snapshot_hash: str
    rules: DrawRules
    strata: tuple[Stratum, ...]
    targets: tuple[Task, ...]
    unassigned: tuple[Unassigned, ...]
    result_hash: str


@dataclass(frozen=True)
class Verification:
    """Whether a published draw re-runs to the same result; each mismatch named in ``problems``."""

    ok: bool
    problems: list[str]


def new_seed() -> str:
    """A fresh secret seed: 32 random bytes as 64 hex digits."""
    return secrets.token_hex(32)


def seed_commitment(seed: str) -> str:
    """The sha256 (hex) of the seed's 32 bytes, published before the draw."""
    return hashlib.sha256(_seed_bytes(seed)).hexdigest()


def draw(seed: str, snapshot: Snapshot, rules: DrawRules) -> DrawResult:
    """Draw targets by stratum and staff them with unconflicted inspectors (see the module docstring)."""
    key = _seed_bytes(seed)
    held = snapshot_hash(snapshot)  # also refuses a register that holds an id twice
    strata, chosen = _draw_targets(key, snapshot, rules)
    tasks, unassigned = _assign(key, snapshot, rules, chosen)
    return _sealed(seed_commitment(seed), held, rules, strata, tasks, unassigned)


def verify(seed: str, commitment: str, snapshot: Snapshot, published_snapshot_hash: str,
           published: DrawResult, rules: DrawRules | None = None) -> Verification:
    """Check the seed against its commitment, the snapshot against its hash, and re-run the draw."""
    problems: list[str] = []
    try:
        actual = seed_commitment(seed)
    except DrawError as exc:
        return Verification(False, [f"seed: {exc}"])
    if actual != commitment:
        problems.append(f"seed: its hash {actual} is not the published commitment {commitment}")
    if published.seed_commitment != commitment:
        problems.append(f"result: names seed commitment {published.seed_commitment}, published {commitment}")
    held = snapshot_hash(snapshot)
    if held != published_snapshot_hash:
        problems.append(f"snapshot: its hash {held} is not the published {published_snapshot_hash} (a register changed)")
    if published.snapshot_hash != published_snapshot_hash:
        problems.append(f"result: names snapshot hash {published.snapshot_hash}, published {published_snapshot_hash}")
    if rules is not None and rules != published.rules:
        problems.append("rules: the result was drawn under rules other than the plan's")
    if _hash_of(published) != published.result_hash:
        problems.append(f"result: its hash {published.result_hash} does not match its content")
    try:
        rerun = draw(seed, snapshot, published.rules)
    except DrawError as exc:
        return Verification(False, [*problems, f"re-run: {exc}"])
    problems += _differences(published, rerun)
    return Verification(not problems, problems)


def result_json(result: DrawResult) -> str:
    """The result as canonical JSON, its hash included."""
    return canonical_json({**_result_body(result), "result_hash": result.result_hash})


def result_from_dict(data: dict[str, Any]) -> DrawResult:
    """A published result read back from its JSON (as ``json.loads`` gives it)."""
    try:
        return DrawResult(
            str(data["seed_commitment"]), str(data["snapshot_hash"]), DrawRules.from_dict(data["rules"]),
            tuple(Stratum(str(n), int(s), parse_decimal(r), int(d)) for n, s, r, d in _rows(data, "strata")),
            tuple(Task(int(e), str(s), tuple(map(str, i))) for e, s, i in _rows(data, "targets")),
            tuple(Unassigned(int(e), str(s), str(r), str(d)) for e, s, r, d in _rows(data, "unassigned")),
            str(data["result_hash"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise DrawError(f"published result is malformed: {exc!r}") from exc


def _rows(data: dict[str, Any], name: str) -> list[list[Any]]:
    rows = data[name]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise TypeError(f"{name} must be a list of rows")
    return rows


def _seed_bytes(seed: str) -> bytes:
    if not isinstance(seed, str) or len(seed) != 64 or seed.lower() != seed:
        raise DrawError("a seed is 64 lowercase hex digits")
    try:
        return bytes.fromhex(seed)
    except ValueError as exc:
        raise DrawError("a seed is 64 lowercase hex digits") from exc


def _draw_targets(key: bytes, snapshot: Snapshot, rules: DrawRules) -> tuple[list[Stratum], list[bytes]]:
    """Lottery keys per stratum; the lowest ``round(ratio × size)`` of each, merged in key order."""
    known, other = rules.ratios, rules.unclassified
    groups: dict[str, list[bytes]] = {name: [] for name in known}
    # Entities without a class fall in the unclassified stratum; a class named like it is refused.
    adders: dict[str | None, Callable[[bytes], None]] = {
        name: keys.append for name, keys in groups.items() if name != other}
    adders[None] = groups[other].append
    mac = hmac.digest
    for row in snapshot.entities:
        add = adders.get(row.risk_class)
        if add is None:
            raise DrawError(f"entity {row.entity_id}: risk class {row.risk_class!r} is not one of the rules' classes")
        ident = b"%d" % row.entity_id
        add(mac(key, b"target|" + ident, "sha256") + ident)
    strata, chosen = [], []
    for name in sorted(known):
        keys = groups[name]
        count = math.floor(Fraction(known[name]) * len(keys) + Fraction(1, 2))
        # Same outcome either way; a partial heap is quicker for small ratios.
        chosen += sorted(keys)[:count] if count * 4 > len(keys) else heapq.nsmallest(count, keys)
        strata.append(Stratum(name, len(keys), known[name], count))
    chosen.sort()
    return strata, chosen


class _Conflicts:
    """Who may not inspect whom: declared ties, recent inspections, complainants' agencies."""

    def __init__(self, snapshot: Snapshot, months: int) -> None:
        self.barred: dict[int, set[str]] = defaultdict(set)
        for inspector in snapshot.inspectors:
            for entity_id in inspector.declared_ties:
                self.barred[entity_id].add(inspector.id)
        since = add_months(snapshot.taken_on, -months)
        for visit in snapshot.recent:
            if visit.inspected_on >= since:
                self.barred[visit.entity_id].add(visit.inspector_id)
        self.agencies: dict[int, set[str]] = defaultdict(set)
        for complaint in snapshot.complainants:
            self.agencies[complaint.entity_id].add(complaint.agency)

    def between(self, inspector: Inspector, entity_id: int) -> bool:
        """Whether ``inspector`` is conflicted for ``entity_id``."""
        barred, agencies = self.barred.get(entity_id), self.agencies.get(entity_id)
        return bool(barred and inspector.id in barred) or bool(agencies and inspector.agency in agencies)


def _ring(key: bytes, inspectors: Iterable[Inspector]) -> list[Inspector]:
    ranked = []
    for inspector in inspectors:
        ident = inspector.id.encode("utf-8")
        ranked.append((hmac.digest(key, b"ring|" + ident, "sha256") + ident, inspector))
    ranked.sort(key=lambda pair: pair[0])
    return [inspector for _, inspector in ranked]


def region_prefix(division_code: str) -> str:
    """The prefix of division codes a region covers: its code less trailing ``00`` pairs."""
    code = division_code.strip()
    while len(code) > 2 and code.endswith("00"):
        code = code[:-2]
    return code


def _assign(key: bytes, snapshot: Snapshot, rules: DrawRules,
            chosen: list[bytes]) -> tuple[list[Task], list[Unassigned]]:
    ring = _ring(key, snapshot.inspectors)
    wanted = {int(lottery_key[32:]) for lottery_key in chosen}
    rows = {row.entity_id: row for row in snapshot.entities if row.entity_id in wanted} if wanted else {}
    conflicts = _Conflicts(snapshot, rules.recent_months)
    cap = math.ceil(Fraction(rules.load_cap_factor) * len(chosen) * rules.min_inspectors / len(ring)) if ring else 0
    load: dict[str, int] = defaultdict(int)
    local: dict[str | None, list[Inspector]] = {}
    tasks, unassigned = [], []
    for lottery_key in chosen:
        row = rows[int(lottery_key[32:])]
        stratum = row.risk_class or rules.unclassified
        candidates = _candidates(ring, local, row.division_code) if rules.require_local else ring
        if not candidates:
            reason = "no_division" if not row.division_code else "no_local_inspector"
            unassigned.append(Unassigned(row.entity_id, stratum, reason,
                                         f"no inspector's region covers division {row.division_code or '(none)'}"))
            continue
        picked, conflicted, capped = _walk(key, row.entity_id, candidates, conflicts, load, cap,
                                           rules.min_inspectors)
        if len(picked) < rules.min_inspectors:
            unassigned.append(Unassigned(row.entity_id, stratum, "too_few_inspectors", (
                f"{len(candidates)} candidate inspectors: {conflicted} conflicted, {capped} at the load cap "
                f"of {cap}; {len(picked)} of {rules.min_inspectors} needed")))
            continue
        for inspector_id in picked:
            load[inspector_id] += 1
        tasks.append(Task(row.entity_id, stratum, tuple(picked)))
    return tasks, unassigned


def _candidates(ring: list[Inspector], cache: dict[str | None, list[Inspector]],
                division: str | None) -> list[Inspector]:
    if division not in cache:
        cache[division] = [] if not division else [
            i for i in ring if i.division_code and division.startswith(region_prefix(i.division_code))]
    return cache[division]


def _walk(key: bytes, entity_id: int, candidates: list[Inspector], conflicts: _Conflicts,
          load: dict[str, int], cap: int, wanted: int) -> tuple[list[str], int, int]:
    """Visit the candidates from a start and stride derived from the seed; take the first free ones."""
    count = len(candidates)
    h = hmac.digest(key, b"inspector|%d" % entity_id, "sha256")
    position = int.from_bytes(h[:8], "big") % count
    stride = 1 if count == 1 else 1 + int.from_bytes(h[8:16], "big") % (count - 1)
    while math.gcd(stride, count) != 1:
        stride += 1
    picked: list[str] = []
    conflicted = capped = 0
    for _ in range(count):
        inspector = candidates[position]
        position = (position + stride) % count
        if conflicts.between(inspector, entity_id):
            conflicted += 1
        elif load[inspector.id] >= cap:
            capped += 1
        else:
            picked.append(inspector.id)
            if len(picked) == wanted:
                break
    return picked, conflicted, capped


def _result_body(result: DrawResult) -> dict[str, object]:
    return {
        "format": RESULT_FORMAT,
        "seed_commitment": result.seed_commitment,
        "snapshot_hash": result.snapshot_hash,
        "rules": result.rules.to_dict(),
        "strata": [[s.name, s.size, decimal_text(s.ratio), s.drawn] for s in result.strata],
        "targets": [[t.entity_id, t.stratum, list(t.inspector_ids)] for t in result.targets],
        "unassigned": [[u.entity_id, u.stratum, u.reason, u.detail] for u in result.unassigned],
    }


def _hash_of(result: DrawResult) -> str:
    return hashlib.sha256(canonical_json(_result_body(result)).encode("utf-8")).hexdigest()


def _sealed(commitment: str, snap_hash: str, rules: DrawRules, strata: list[Stratum],
            tasks: list[Task], unassigned: list[Unassigned]) -> DrawResult:
    result = DrawResult(commitment, snap_hash, rules, tuple(strata), tuple(tasks), tuple(unassigned), "")
    return DrawResult(commitment, snap_hash, rules, tuple(strata), tuple(tasks), tuple(unassigned),
                      _hash_of(result))


def _differences(published: DrawResult, rerun: DrawResult) -> list[str]:
    """Each way the published result differs from the re-run, named."""
    problems = []
    for old, new in zip(published.strata, rerun.strata, strict=False):
        if old != new:
            problems.append(f"stratum {new.name}: published {old.drawn} of {old.size}, re-run {new.drawn} of {new.size}")
    if [s.name for s in published.strata] != [s.name for s in rerun.strata]:
        problems.append("strata: the published strata are not the re-run's")
    problems += _compare_tasks("targets", {t.entity_id: t.inspector_ids for t in published.targets},
                               {t.entity_id: t.inspector_ids for t in rerun.targets})
    problems += _compare_tasks("unassigned", {u.entity_id: (u.reason,) for u in published.unassigned},
                               {u.entity_id: (u.reason,) for u in rerun.unassigned})
    if not problems and _hash_of(published) != rerun.result_hash:
        problems.append(f"result: the re-run's hash {rerun.result_hash} differs from the published content's")
    return problems


def _compare_tasks(what: str, old: dict[int, tuple[str, ...]], new: dict[int, tuple[str, ...]]) -> list[str]:
    problems = []
    if missing := sorted(set(new) - set(old)):
        problems.append(f"{what}: the re-run has {_few(missing)} that the published result lacks")
    if extra := sorted(set(old) - set(new)):
        problems.append(f"{what}: the published result has {_few(extra)} that the re-run lacks")
    if changed := sorted(e for e in set(old) & set(new) if old[e] != new[e]):
        first = changed[0]
        problems.append(f"{what}: {len(changed)} differ, e.g. entity {first}: published {list(old[first])}, "
                        f"re-run {list(new[first])}")
    if not problems and list(old) != list(new):
        problems.append(f"{what}: the published order is not the draw order")
    return problems


def _few(ids: list[int]) -> str:
    shown = ", ".join(map(str, ids[:5]))
    return f"entities {shown}" + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
