"""The 双随机 draw: determinism, strata, conflicts, unassigned targets, verification, policy.

Pure: no database. The property tests draw over random registers and check each result against
an independent re-implementation of the module docstring's specification (``reference_draw``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import math
import random
from collections import Counter
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from credit.errors import CreditError
from credit.inspection_rules import (
    POLICY_FILE,
    DrawRules,
    InspectionPolicyError,
    RatioError,
    load_inspection_policy,
)
from credit.inspection_snapshot import snapshot_from_dict, snapshot_json
from credit.inspections import (
    Complaint,
    DrawError,
    DrawResult,
    EntityRow,
    InspectionItem,
    Inspector,
    RecentInspection,
    Snapshot,
    draw,
    new_seed,
    result_from_dict,
    result_json,
    seed_commitment,
    snapshot_hash,
    verify,
)

TAKEN_ON = date(2025, 6, 30)
SEED = "5e" * 32
OTHER_SEED = "a7" * 32
DIVISIONS = ["330102", "330106", "330205", "110105", None]
REGIONS = ["330000", "330100", "330200", "330102", "110000", None]
AGENCIES = ["杭州市市场监督管理局", "宁波市市场监督管理局", "浙江省药品监督管理局"]
PROPERTY = settings(max_examples=150, deadline=None)


# -- an independent reading of the specification ---------------------------------------------

def _h(seed: str, text: str) -> bytes:
    return hmac.new(bytes.fromhex(seed), text.encode("utf-8"), hashlib.sha256).digest()


def _covers(inspector: Inspector, division: str | None) -> bool:
    if not inspector.division_code or not division:
        return False
    prefix = inspector.division_code
    while len(prefix) > 2 and prefix.endswith("00"):
        prefix = prefix[:-2]
    return division.startswith(prefix)


def conflicted(inspector: Inspector, entity_id: int, snapshot: Snapshot, months: int) -> bool:
    """Declared tie, an inspection within ``months`` of the snapshot day, or a complainant's agency."""
    since = snapshot.taken_on - relativedelta(months=months)
    return (entity_id in inspector.declared_ties
            or any(r.entity_id == entity_id and r.inspector_id == inspector.id and r.inspected_on >= since
                   for r in snapshot.recent)
            or any(c.entity_id == entity_id and c.agency == inspector.agency for c in snapshot.complainants))


def reference_draw(seed: str, snapshot: Snapshot, rules: DrawRules) -> tuple[dict[str, tuple[int, int]], list[Any], list[int]]:
    """The draw as the module docstring specifies it, written plainly: strata, tasks, unassigned ids."""
    def lottery(e: EntityRow) -> bytes:
        return _h(seed, f"target|{e.entity_id}") + str(e.entity_id).encode()

    counts, targets = {}, []
    for name, ratio in rules.ratios.items():
        members = sorted((e for e in snapshot.entities if (e.risk_class or rules.unclassified) == name), key=lottery)
        wanted = int((ratio * len(members)).to_integral_value(rounding=ROUND_HALF_UP))
        counts[name] = (len(members), wanted)
        targets += members[:wanted]
    targets.sort(key=lottery)
    ring = sorted(snapshot.inspectors, key=lambda i: _h(seed, f"ring|{i.id}") + i.id.encode())
    m = rules.min_inspectors
    cap = math.ceil(Decimal(rules.load_cap_factor) * len(targets) * m / len(ring)) if ring else 0
    load: Counter[str] = Counter()
    tasks, unassigned = [], []
    for e in targets:
        candidates = [i for i in ring if _covers(i, e.division_code)] if rules.require_local else ring
        c = len(candidates)
        picked: list[str] = []
        if c:
            h = _h(seed, f"inspector|{e.entity_id}")
            start = int.from_bytes(h[:8], "big") % c
            stride = 1 if c == 1 else 1 + int.from_bytes(h[8:16], "big") % (c - 1)
            while math.gcd(stride, c) != 1:
                stride += 1
            for k in range(c):
                inspector = candidates[(start + k * stride) % c]
                if len(picked) < m and not conflicted(inspector, e.entity_id, snapshot, rules.recent_months) \
                        and load[inspector.id] < cap:
                    picked.append(inspector.id)
        if len(picked) < m:
            unassigned.append(e.entity_id)
        else:
            load.update(picked)
            tasks.append((e.entity_id, tuple(picked)))
    return counts, tasks, unassigned


# -- random registers --------------------------------------------------------------------------

@st.composite
def snapshots(draw_: Any, max_entities: int = 60, max_inspectors: int = 10) -> Snapshot:
    ids = sorted(draw_(st.sets(st.integers(1, 10**9), max_size=max_entities)))
    entities = tuple(EntityRow(i, None, draw_(st.sampled_from(["A", "B", "C", "D", None])),
                               draw_(st.sampled_from(DIVISIONS)), "餐饮业", "有限责任公司", f"杭州测试餐饮{n}有限公司")
                     for n, i in enumerate(ids))
    some_entity = st.sampled_from(ids) if ids else st.just(1)
    count = draw_(st.integers(0, max_inspectors))
    inspectors = tuple(Inspector(f"ZF{j:03d}", f"执法员{j}", draw_(st.sampled_from(AGENCIES)),
                                 draw_(st.sampled_from(REGIONS)), frozenset(draw_(st.lists(some_entity, max_size=3))))
                       for j in range(count))
    some_inspector = st.sampled_from([i.id for i in inspectors]) if inspectors else st.just("ZF999")
    recent = tuple(RecentInspection(draw_(some_entity), draw_(some_inspector),
                                    TAKEN_ON - timedelta(days=draw_(st.integers(0, 900))))
                   for _ in range(draw_(st.integers(0, 15))))
    complaints = tuple(Complaint(draw_(some_entity), draw_(st.sampled_from(AGENCIES)))
                       for _ in range(draw_(st.integers(0, 8))))
    return Snapshot(entities, inspectors, recent, complaints, (InspectionItem("ZJ-001", "食品经营许可事项检查"),), TAKEN_ON)


def _ratio(low: str, high: str) -> st.SearchStrategy[Decimal]:
    return st.decimals(Decimal(low), Decimal(high), places=3)


@st.composite
def draw_rules(draw_: Any) -> DrawRules:
    ratios = {"A": draw_(_ratio("0", "0.05")), "B": draw_(_ratio("0.05", "0.2")), "C": draw_(_ratio("0.21", "0.6")),
              "D": draw_(_ratio("0.61", "1")), "unclassified": draw_(_ratio("0", "1"))}
    return DrawRules(ratios, "unclassified", draw_(st.integers(2, 3)), draw_(st.integers(0, 24)),
                     draw_(st.sampled_from([Decimal("1"), Decimal("1.5"), Decimal("3")])), draw_(st.booleans()))


seeds = st.binary(min_size=32, max_size=32).map(bytes.hex)


def _shuffled(snapshot: Snapshot, rng: random.Random) -> Snapshot:
    def mixed(rows: tuple[Any, ...]) -> tuple[Any, ...]:
        out = list(rows)
        rng.shuffle(out)
        return tuple(out)

    return Snapshot(mixed(snapshot.entities), mixed(snapshot.inspectors), mixed(snapshot.recent),
                    mixed(snapshot.complainants), mixed(snapshot.items), snapshot.taken_on)


# -- properties --------------------------------------------------------------------------------

@PROPERTY
@given(seeds, snapshots(), draw_rules(), st.randoms(use_true_random=False))
def test_the_same_seed_and_registers_give_the_same_draw_in_any_order(
        seed: str, snapshot: Snapshot, rules: DrawRules, rng: random.Random) -> None:
    first = draw(seed, snapshot, rules)
    shuffled = _shuffled(snapshot, rng)
    assert snapshot_hash(shuffled) == snapshot_hash(snapshot)
    assert draw(seed, shuffled, rules) == first == draw(seed, snapshot, rules)


@PROPERTY
@given(seeds, snapshots(), draw_rules())
def test_the_draw_follows_its_published_specification(seed: str, snapshot: Snapshot, rules: DrawRules) -> None:
    result = draw(seed, snapshot, rules)
    counts, tasks, unassigned = reference_draw(seed, snapshot, rules)
    assert {s.name: (s.size, s.drawn) for s in result.strata} == counts
    assert [(t.entity_id, t.inspector_ids) for t in result.targets] == tasks
    assert [u.entity_id for u in result.unassigned] == unassigned


@PROPERTY
@given(seeds, snapshots(), draw_rules())
def test_each_stratum_draws_its_ratio_of_its_size_within_one(seed: str, snapshot: Snapshot, rules: DrawRules) -> None:
    result = draw(seed, snapshot, rules)
    sizes = Counter(e.risk_class or "unclassified" for e in snapshot.entities)
    drawn = Counter(t.stratum for t in (*result.targets, *result.unassigned))
    for stratum in result.strata:
        assert stratum.size == sizes[stratum.name]
        assert abs(stratum.drawn - stratum.ratio * stratum.size) <= Decimal("0.5")
        assert drawn[stratum.name] == stratum.drawn
    by_id = {e.entity_id: e for e in snapshot.entities}
    assert all((by_id[t.entity_id].risk_class or "unclassified") == t.stratum for t in result.targets)


@PROPERTY
@given(seeds, snapshots(max_entities=80, max_inspectors=12), draw_rules())
def test_no_conflicted_inspector_is_ever_assigned(seed: str, snapshot: Snapshot, rules: DrawRules) -> None:
    result = draw(seed, snapshot, rules)
    inspectors = {i.id: i for i in snapshot.inspectors}
    divisions = {e.entity_id: e.division_code for e in snapshot.entities}
    for task in result.targets:
        assert len(set(task.inspector_ids)) == len(task.inspector_ids) >= rules.min_inspectors
        for inspector_id in task.inspector_ids:
            assert not conflicted(inspectors[inspector_id], task.entity_id, snapshot, rules.recent_months)
            assert not rules.require_local or _covers(inspectors[inspector_id], divisions[task.entity_id])
    for gap in result.unassigned:
        assert gap.reason in {"too_few_inspectors", "no_local_inspector", "no_division"} and gap.detail
    drawn = [t.entity_id for t in result.targets] + [u.entity_id for u in result.unassigned]
    assert len(drawn) == len(set(drawn)) == sum(s.drawn for s in result.strata)


@PROPERTY
@given(seeds, snapshots(max_entities=80), draw_rules())
def test_work_spreads_under_the_load_cap(seed: str, snapshot: Snapshot, rules: DrawRules) -> None:
    result = draw(seed, snapshot, rules)
    drawn = len(result.targets) + len(result.unassigned)
    loads = Counter(i for t in result.targets for i in t.inspector_ids)
    if loads:
        cap = math.ceil(rules.load_cap_factor * drawn * rules.min_inspectors / len(snapshot.inspectors))
        assert max(loads.values()) <= cap


@PROPERTY
@given(seeds, snapshots(), draw_rules())
def test_verify_passes_on_the_genuine_draw_read_back_from_its_json(
        seed: str, snapshot: Snapshot, rules: DrawRules) -> None:
    result = draw(seed, snapshot, rules)
    published = result_from_dict(json.loads(result_json(result)))
    registers = snapshot_from_dict(json.loads(snapshot_json(snapshot)))
    assert published == result and snapshot_hash(registers) == snapshot_hash(snapshot)
    check = verify(seed, seed_commitment(seed), registers, snapshot_hash(snapshot), published, rules)
    assert check.ok and check.problems == []


@PROPERTY
@given(seeds, snapshots(max_entities=30, max_inspectors=6).filter(lambda s: s.entities and s.inspectors),
       draw_rules(), st.data())
def test_verify_fails_when_any_register_row_changes(seed: str, snapshot: Snapshot, rules: DrawRules,
                                                   data: st.DataObject) -> None:
    result = draw(seed, snapshot, rules)
    changed = data.draw(st.sampled_from(list(_register_changes(snapshot))))
    check = verify(seed, seed_commitment(seed), changed, snapshot_hash(snapshot), result, rules)
    assert not check.ok
    assert any(p.startswith("snapshot:") for p in check.problems)


def _register_changes(snapshot: Snapshot) -> Any:
    """One changed copy of the snapshot per register: an edited, added or removed row."""
    first, inspector = snapshot.entities[0], snapshot.inspectors[0]
    other_class = "D" if first.risk_class != "D" else "A"
    yield dataclasses.replace(snapshot, entities=(dataclasses.replace(first, risk_class=other_class),
                                                  *snapshot.entities[1:]))
    yield dataclasses.replace(snapshot, entities=snapshot.entities[1:])
    yield dataclasses.replace(snapshot, inspectors=(dataclasses.replace(inspector, agency="某县农业农村局"),
                                                    *snapshot.inspectors[1:]))
    yield dataclasses.replace(snapshot, inspectors=(dataclasses.replace(
        inspector, declared_ties=inspector.declared_ties ^ {first.entity_id}), *snapshot.inspectors[1:]))
    yield dataclasses.replace(snapshot, recent=(*snapshot.recent, RecentInspection(first.entity_id, inspector.id,
                                                                                   date(1999, 1, 1))))
    yield dataclasses.replace(snapshot, complainants=(*snapshot.complainants, Complaint(first.entity_id, "某协会")))
    yield dataclasses.replace(snapshot, items=(*snapshot.items, InspectionItem("ZJ-002", "广告发布行为检查")))
    yield dataclasses.replace(snapshot, taken_on=TAKEN_ON + timedelta(days=1))


# -- examples ----------------------------------------------------------------------------------

def _register(entities: int = 400, inspectors: int = 12) -> Snapshot:
    rows = tuple(EntityRow(i, None, "ABCD"[i % 4] if i % 9 else None, DIVISIONS[i % 4], "零售业", "有限责任公司",
                           f"宁波测试商贸{i}有限公司") for i in range(1, entities + 1))
    people = tuple(Inspector(f"ZF{j:03d}", f"执法员{j}", AGENCIES[j % 3], "330000", frozenset({j + 1}))
                   for j in range(inspectors))
    recent = (RecentInspection(5, "ZF001", TAKEN_ON - timedelta(days=30)),)
    return Snapshot(rows, people, recent, (Complaint(6, AGENCIES[0]),), (InspectionItem("ZJ-001", "登记事项检查"),),
                    TAKEN_ON)


RULES = load_inspection_policy().rules({"A": "0.05", "B": "0.2", "C": "0.5", "D": "0.9"})


def test_a_different_seed_gives_a_different_draw() -> None:
    snapshot = _register()
    picked = {tuple(t.entity_id for t in draw(seed, snapshot, RULES).targets)
              for seed in (SEED, OTHER_SEED, "00" * 32, "ff" * 32)}
    assert len(picked) == 4


def test_a_seed_is_64_hex_digits_committed_by_the_sha256_of_its_bytes() -> None:
    seed = new_seed()
    assert len(seed) == 64 and int(seed, 16) >= 0 and new_seed() != seed
    assert seed_commitment("00" * 32) == hashlib.sha256(bytes(32)).hexdigest()
    for bad in ("00" * 31, "0G" * 32, "AB" * 32, ""):
        with pytest.raises(DrawError, match="64 lowercase hex"):
            draw(bad, _register(10), RULES)


def _published() -> tuple[Snapshot, DrawResult]:
    snapshot = _register()
    return snapshot, draw(SEED, snapshot, RULES)


def _verify(result: DrawResult, seed: str = SEED, snapshot: Snapshot | None = None) -> list[str]:
    held = _register() if snapshot is None else snapshot
    check = verify(seed, seed_commitment(SEED), held, snapshot_hash(_register()), result, RULES)
    assert check.ok is not check.problems
    return check.problems


def test_verify_names_a_wrong_seed() -> None:
    _, result = _published()
    problems = _verify(result, seed=OTHER_SEED)
    assert any(p.startswith("seed: its hash") for p in problems)
    assert any(p.startswith("targets:") for p in problems)
    assert _verify(result, seed="not a seed") == ["seed: a seed is 64 lowercase hex digits"]


def test_verify_names_a_changed_register() -> None:
    snapshot, result = _published()
    changed = dataclasses.replace(snapshot, inspectors=snapshot.inspectors[:-1])
    problems = _verify(result, snapshot=changed)
    assert problems[0].startswith("snapshot: its hash") and "a register changed" in problems[0]


def test_verify_names_each_change_to_the_result() -> None:
    _, result = _published()
    task = result.targets[0]
    swapped = dataclasses.replace(task, inspector_ids=task.inspector_ids[::-1])
    cases = {
        "targets: 1 differ, e.g. entity": dataclasses.replace(result, targets=(swapped, *result.targets[1:])),
        "targets: the re-run has entities": dataclasses.replace(result, targets=result.targets[1:]),
        "targets: the published order": dataclasses.replace(result, targets=result.targets[::-1]),
        "stratum A: published": dataclasses.replace(result, strata=(
            dataclasses.replace(result.strata[0], drawn=result.strata[0].drawn + 1), *result.strata[1:])),
        "result: names snapshot hash": dataclasses.replace(result, snapshot_hash="0" * 64),
        "result: names seed commitment": dataclasses.replace(result, seed_commitment="0" * 64),
    }
    for named, changed in cases.items():
        problems = _verify(changed)
        assert any(p.startswith(named) for p in problems), (named, problems)
        assert "result: its hash" in " ".join(problems)
    assert _verify(dataclasses.replace(result, result_hash="0" * 64)) == [
        f"result: its hash {'0' * 64} does not match its content"]


def test_verify_names_rules_other_than_the_plans() -> None:
    snapshot, _ = _published()
    other = load_inspection_policy().rules({"A": "0.01"})
    result = draw(SEED, snapshot, other)
    problems = _verify(result)
    assert problems == ["rules: the result was drawn under rules other than the plan's"]


def test_a_target_without_enough_free_inspectors_is_reported_not_dropped() -> None:
    snapshot = dataclasses.replace(_register(100, 1))
    result = draw(SEED, snapshot, RULES)
    assert not result.targets and len(result.unassigned) == sum(s.drawn for s in result.strata) > 0
    assert {u.reason for u in result.unassigned} == {"too_few_inspectors"}
    assert "1 candidate inspectors" in result.unassigned[0].detail
    assert "1 of 2 needed" in result.unassigned[0].detail


def test_local_inspectors_only_cover_their_region() -> None:
    entities = (EntityRow(1, None, "D", "330102", None, None), EntityRow(2, None, "D", "110105", None, None),
                EntityRow(3, None, "D", None, None, None))
    people = tuple(Inspector(f"ZF{j}", "执法员", AGENCIES[j % 3], code) for j, code in
                   enumerate(["330100", "330000", "330102", "330200"]))
    snapshot = Snapshot(entities, people, (), (), (), TAKEN_ON)
    result = draw(SEED, snapshot, load_inspection_policy().rules({"D": "1"}, require_local=True))
    assert [t.entity_id for t in result.targets] == [1]
    assert set(result.targets[0].inspector_ids) <= {"ZF0", "ZF1", "ZF2"}
    assert {u.entity_id: u.reason for u in result.unassigned} == {2: "no_local_inspector", 3: "no_division"}


def test_an_inspection_exactly_n_months_ago_still_conflicts() -> None:
    entities = (EntityRow(1, None, "D", "330102", None, None),)
    people = tuple(Inspector(f"ZF{j}", "执法员", f"agency-{j}", "330000") for j in range(2))
    rules = load_inspection_policy().rules({"D": "1"})
    assert rules.recent_months == 12

    def staffed(day: date) -> bool:
        recent = (RecentInspection(1, "ZF0", day),)
        return bool(draw(SEED, Snapshot(entities, people, recent, (), (), TAKEN_ON), rules).targets)

    assert not staffed(date(2024, 6, 30)) and not staffed(date(2025, 6, 30))
    assert staffed(date(2024, 6, 29))
    # 31 May less 3 months is 28 February (the day clamped to the shorter month).
    short = dataclasses.replace(rules, recent_months=3)
    snap = Snapshot(entities, people, (RecentInspection(1, "ZF0", date(2025, 2, 28)),), (), (), date(2025, 5, 31))
    assert not draw(SEED, snap, short).targets
    snap = dataclasses.replace(snap, recent=(RecentInspection(1, "ZF0", date(2025, 2, 27)),))
    assert draw(SEED, snap, short).targets


def test_registers_the_rules_do_not_know_are_refused() -> None:
    with pytest.raises(DrawError, match="risk class 'E'"):
        draw(SEED, Snapshot((EntityRow(1, None, "E", None, None, None),), (), (), (), (), TAKEN_ON), RULES)
    twice = (EntityRow(1, None, "A", None, None, None),) * 2
    with pytest.raises(DrawError, match="twice"):
        draw(SEED, Snapshot(twice, (), (), (), (), TAKEN_ON), RULES)
    people = (Inspector("ZF1", "执法员", AGENCIES[0], None), Inspector("ZF1", "执法员", AGENCIES[1], None))
    with pytest.raises(DrawError, match="inspector register holds 'ZF1' twice"):
        draw(SEED, Snapshot((), people, (), (), (), TAKEN_ON), RULES)
    with pytest.raises(DrawError, match="snapshot is malformed"):
        snapshot_from_dict({"format": "gongxin-inspection-snapshot/1"})


def test_an_empty_register_draws_nothing() -> None:
    result = draw(SEED, Snapshot((), (), (), (), (), TAKEN_ON), RULES)
    assert result.targets == result.unassigned == () and all(s.drawn == 0 for s in result.strata)


# -- policy ------------------------------------------------------------------------------------

def test_the_shipped_policy_cites_its_basis_and_keeps_its_defaults_in_bounds() -> None:
    policy = load_inspection_policy()
    assert "国办发〔2015〕58号" in policy.legal_basis and "国市监信发〔2022〕6号" in policy.ratio_basis
    assert policy.min_inspectors >= 2 and policy.publication_working_days == 20
    rules = policy.rules()
    assert rules.ratios["unclassified"] == rules.ratios[policy.unclassified_ratio_of]
    for name, (low, high) in policy.ratio_bounds.items():
        assert low <= rules.ratios[name] <= high


@pytest.mark.parametrize("ratios, named", [
    ({"A": "0.06"}, "ratio for class A is 0.06, outside the policy's bounds 0–0.05"),
    ({"C": 0.2}, "ratio for class C is 0.2, outside"),
    ({"D": "1.01"}, "class D is 1.01"),
    ({"E": "0.1"}, "unknown risk class 'E'"),
    ({"B": "lots"}, "ratio for class B: 'lots' is not a number"),
    ({"B": True}, "ratio for class B: True is not a number"),
])
def test_ratios_outside_the_policy_are_refused(ratios: dict[str, object], named: str) -> None:
    with pytest.raises(RatioError, match=named):
        load_inspection_policy().rules(ratios)


def test_a_plan_before_the_policy_is_in_force_is_refused() -> None:
    with pytest.raises(InspectionPolicyError, match="in force from 2022-01-13"):
        load_inspection_policy().rules(on=date(2021, 12, 31))


@pytest.mark.parametrize("edit, named", [
    (("min_inspectors = 2", "min_inspectors = 1"), "min_inspectors must be a whole number of at least 2"),
    (('D = ["0.61", "1"]', 'D = ["0.61", "0.5"]'), "ratio_bounds.D must be [lowest, highest]"),
    (('C = "0.30"', 'C = "0.70"'), "default_ratios: ratio for class C is 0.7"),
    (('unclassified_ratio_of = "B"', 'unclassified_ratio_of = "X"'), "unclassified_ratio_of must be one of"),
    (("recent_inspection_months = 12", "recent_inspection_months = 12\nextra = 1"), "unknown ['extra']"),
    (("publication_working_days = 20\n", ""), "missing ['publication_working_days']"),
    (('load_cap_factor = "1.5"', 'load_cap_factor = "0.5"'), "load_cap_factor must be at least 1"),
    (("effective_from = 2022-01-13", 'effective_from = "soon"'), "effective_from must be a date"),
    (("[draw]\n", "[drew]\n"), "[draw] missing ['classes', 'effective_from'"),
    (("[draw.ratio_bounds]", "[drew.ratio_bounds]"), "[draw] missing ['ratio_bounds']"),
    (("[draw]", "[draw"), "Expected ']'"),
])
def test_a_wrong_policy_file_is_refused_naming_file_and_key(tmp_path: Path, edit: tuple[str, str], named: str) -> None:
    text = POLICY_FILE.read_text(encoding="utf-8")
    assert edit[0] in text
    path = tmp_path / "inspection_policy.toml"
    path.write_text(text.replace(edit[0], edit[1], 1), encoding="utf-8")
    with pytest.raises(InspectionPolicyError) as caught:
        load_inspection_policy(path)
    assert str(path) in str(caught.value) and named in str(caught.value)
    assert isinstance(caught.value, CreditError)
