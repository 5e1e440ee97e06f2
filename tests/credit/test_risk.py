"""Credit risk classes: each factor moves the score as the policy file says, classes by thresholds,
the policy by date, clear errors for a bad policy file, history on change, incremental runs.

Expected points are read from the policy file (``P``), never copied from the classifier's output.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from credit.changelog import last_seq
from credit.clock import beijing_today, utcnow
from credit.claims import ClaimIn, apply_claims
from credit.facts import FactIn, apply_facts
from credit.listings import ListEntryIn, apply_list_entries
from credit.models import CreditRepair, Entity, Fact, Objection, RiskRun
from credit.risk import classify, classify_changed, explain, history, watermark
from credit.risk_inputs import report_years
from credit.risk_policy import RISK_FILE, RiskPolicyError, load_risk_policy
from credit.workdays import add_months
from tests.factories import REGISTRY, REGISTRY_RANK, make_entity, penalty

AS_OF = date(2025, 9, 1)
P = load_risk_policy().on(AS_OF)
DAY = timedelta(days=1)
BASE = {"entity_type": "有限责任公司", "status": "存续", "registered_capital": "500", "established_on": "2010-01-01"}


def entity(session: Session, seed: int, reports: bool = True, as_of: date = AS_OF, **attributes: str | None) -> int:
    """An entity that scores nothing by itself as of ``as_of``: old, well capitalised, operating, reports on time."""
    values = {"name": f"深圳市风险测试{seed}号科技有限公司", **BASE, **attributes}
    eid = make_entity(session, seed, **{k: v for k, v in values.items() if v is not None})
    if reports:
        policy = load_risk_policy().on(as_of)
        apply_facts(session, [report(eid, year, policy.annual_reports.due_on(year))
                              for year in report_years(policy, as_of)])
    return eid


def report(eid: int, year: int | str, filed: date | None) -> FactIn:
    return FactIn(eid, "samr-annual-report", f"{eid}-{year}", "annual_report", body={"year": year}, decided_on=filed)


def inspection(eid: int, key: str, result: str, on: date) -> FactIn:
    return FactIn(eid, "samr-inspection", f"{eid}-{key}", "inspection", decided_on=on,
                  body={"result": result, "item": "企业公示信息情况", "task": key})


def entry(eid: int, list_id: str, key: str, listed_on: date, removed_on: date | None = None,
          change: str = "i") -> ListEntryIn:
    return ListEntryIn(eid, list_id, "samr-lists", f"{eid}-{key}", listed_on=listed_on, removed_on=removed_on,
                       reason="测试列入事由", listed_by="深圳市市场监督管理局", change=change)


def scored(session: Session, eid: int, as_of: date = AS_OF) -> tuple[int, str, list[dict[str, object]]]:
    """Classify the entity and return its score, class and explanation; the points must add up."""
    classify(session, as_of, [eid])
    session.commit()
    found = explain(session, eid)
    assert found is not None
    assert sum(int(item["points"]) for item in found.explanation) == found.score  # type: ignore[call-overload]
    assert all(isinstance(item["points"], int) and item["points"] for item in found.explanation)
    return found.score, found.risk_class, found.explanation


def factors(explanation: list[dict[str, object]], family: str) -> int:
    return sum(int(i["points"]) for i in explanation if i["factor"] == family)  # type: ignore[call-overload]


def test_an_old_capitalised_operating_entity_with_its_reports_filed_scores_nothing(session: Session) -> None:
    eid = entity(session, 1)
    session.commit()
    assert scored(session, eid) == (0, P.classes[0].name, [])


def test_registration_attributes_score_by_the_policy_bands_and_phrases(session: Session) -> None:
    young = entity(session, 2, established_on=(AS_OF - 200 * DAY).isoformat())
    poor = entity(session, 3, registered_capital="5")
    revoked = entity(session, 4, status="吊销，未注销")
    unknown = entity(session, 5, established_on=None, registered_capital=None)
    cooperative = entity(session, 6, entity_type="农民专业合作社")
    session.commit()
    rules = P.registration
    assert 200 / 365 < rules.age[0].limit and 5 < rules.capital[0].limit
    assert scored(session, young)[0] == rules.age[0].points
    assert scored(session, poor)[0] == rules.capital[0].points
    assert scored(session, revoked)[0] == next(p.points for p in rules.status if p.phrase == "吊销")
    assert scored(session, unknown)[0] == rules.age_unknown + rules.capital_unknown
    assert scored(session, cooperative)[0] == next(p.points for p in rules.entity_type if p.phrase == "合作社")


def test_status_changes_within_the_window_count_and_older_ones_do_not(session: Session) -> None:
    recent = entity(session, 10)  # first status claim at T0 (2025-01-01, inside the window): not a change
    apply_claims(session, [ClaimIn(recent, "status", "在业", REGISTRY, REGISTRY_RANK, datetime(2025, 3, 1)),
                           ClaimIn(recent, "status", "开业", REGISTRY, REGISTRY_RANK, datetime(2025, 5, 1))])
    old = entity(session, 11, status=None)
    start = add_months(AS_OF, -P.status_changes.window_months)
    apply_claims(session, [ClaimIn(old, "status", "存续", REGISTRY, REGISTRY_RANK, datetime(2019, 1, 1)),
                           ClaimIn(old, "status", "在业", REGISTRY, REGISTRY_RANK, datetime(2020, 1, 1)),
                           ClaimIn(old, "status", "开业", REGISTRY, REGISTRY_RANK,
                                   datetime.combine(start + 10 * DAY, datetime.min.time()))])
    session.commit()
    rules = P.status_changes
    assert scored(session, recent)[0] == min(2 * rules.points_each, rules.max_points)
    assert scored(session, old)[0] == rules.points_each


def test_missing_and_late_annual_reports_score_from_the_year_of_establishment(session: Session) -> None:
    years = report_years(P, AS_OF)
    assert len(years) == 3 and AS_OF > P.annual_reports.due_on(years[-1])
    mixed = entity(session, 20, reports=False)
    apply_facts(session, [report(mixed, years[1], P.annual_reports.due_on(years[1]) + DAY),  # late by a day
                          report(mixed, str(years[2]), None)])  # undated: on time; the year as text
    founded = date(years[1], 3, 1)
    newer = entity(session, 21, reports=False, established_on=founded.isoformat())
    closed = entity(session, 22, reports=False, status="注销")
    session.commit()
    rules = P.annual_reports
    assert scored(session, mixed)[0] == rules.missing_each + rules.late_each
    age = next(b.points for b in P.registration.age if (AS_OF - founded).days / 365.25 < b.limit)
    assert scored(session, newer)[0] == 2 * rules.missing_each + age  # years[0] was before it existed
    assert scored(session, closed)[0] == next((p.points for p in P.registration.status if p.phrase in "注销"),
                                              P.registration.status_default)


def test_penalties_score_by_severity_and_window_and_withdrawn_or_repaired_ones_do_not(session: Session) -> None:
    rules = P.penalties
    first, second = (add_months(AS_OF, -m) for m in rules.windows_months[:2])
    eid = entity(session, 30)
    apply_facts(session, [
        penalty(eid, "P1", severity="serious", decided_on=first + DAY),  # just inside the first window
        penalty(eid, "P2", severity="serious", decided_on=first),  # on its edge: the second window
        penalty(eid, "P3", severity="minor", decided_on=second + DAY),
        penalty(eid, "P4", severity=None, decided_on=AS_OF),  # no severity: the policy's unknown_severity
        penalty(eid, "P5", severity="ordinary", decided_on=AS_OF + DAY),  # after the day: not yet
        penalty(eid, "P6", severity="serious", decided_on=AS_OF - 30 * DAY),
        penalty(eid, "P7", severity="serious", decided_on=AS_OF - 40 * DAY),
        penalty(eid, "P8", severity="ordinary", decided_on=add_months(AS_OF, -rules.windows_months[-1])),
    ])
    apply_facts(session, [penalty(eid, "P6", severity="serious", decided_on=AS_OF - 30 * DAY, change="d")])
    session.flush()
    repaired = session.scalars(select(Fact).where(Fact.source_key == "P7")).one()
    session.add(CreditRepair(fact_id=repaired.id, status="active", applied_on=AS_OF - 10 * DAY,
                             repaired_on=AS_OF - 5 * DAY, decision_no="深市监修〔2025〕1号",
                             decided_by="深圳市市场监督管理局", agency_id="samr-sz"))
    session.commit()
    expected = (rules.points["serious"][0] + rules.points["serious"][1] + rules.points["minor"][1]
                + rules.points[rules.unknown_severity][0])
    score, _, explanation = scored(session, eid)
    assert score == min(expected, rules.max_points) and factors(explanation, "penalties") == score


def test_a_family_over_its_limit_is_cut_to_it_and_the_cut_is_shown(session: Session) -> None:
    rules = P.penalties
    eid = entity(session, 31)
    count = rules.max_points // rules.points["serious"][0] + 2
    apply_facts(session, [penalty(eid, f"S{i}", severity="serious", decided_on=AS_OF - DAY) for i in range(count)])
    session.commit()
    score, _, explanation = scored(session, eid)
    assert score == rules.max_points
    assert explanation[-1]["points"] == rules.max_points - count * rules.points["serious"][0]
    assert f"上限{rules.max_points}分" in str(explanation[-1]["detail"])


def test_lists_active_and_recent_past_score_by_list_and_withdrawn_or_old_ones_do_not(session: Session) -> None:
    rules = P.lists
    eid = entity(session, 40)
    long_ago = add_months(AS_OF, -rules.past_window_months)
    apply_list_entries(session, [
        entry(eid, "abnormal", "a1", date(2025, 1, 10)),
        entry(eid, "abnormal", "a2", date(2025, 2, 10)),  # a second entry on the same list: once per list
        entry(eid, "serious-illegal", "s1", date(2021, 1, 1), removed_on=long_ago + DAY),
        entry(eid, "court-defaulters", "c1", date(2020, 1, 1), removed_on=long_ago),
        entry(eid, "taxpayer-a-grade", "t1", date(2025, 4, 1)),
        entry(eid, "food-drug-blacklist", "f1", date(2025, 4, 1)),
        entry(eid, "some-new-list", "n1", date(2025, 4, 1), removed_on=AS_OF + DAY),  # removed after the day
        entry(eid, "customs-dishonest", "x1", date(2025, 10, 1)),  # listed after the day
    ])
    apply_list_entries(session, [entry(eid, "food-drug-blacklist", "f1", date(2025, 4, 1), change="d")])
    session.commit()
    expected = (rules.active_points("abnormal") + rules.past_points("serious-illegal")
                + rules.active_points("taxpayer-a-grade") + rules.active["default"])
    assert rules.active_points("taxpayer-a-grade") < 0  # a commendation lowers the risk
    assert scored(session, eid)[0] == min(expected, rules.max_points)


def test_inspection_results_score_by_phrase_within_the_window(session: Session) -> None:
    rules = P.inspections
    eid = entity(session, 50)
    start = add_months(AS_OF, -rules.window_months)
    apply_facts(session, [
        inspection(eid, "i1", "未发现问题", AS_OF - 100 * DAY),
        inspection(eid, "i2", "通过登记的住所（经营场所）无法联系", AS_OF - 50 * DAY),
        inspection(eid, "i3", "通过登记的住所（经营场所）无法联系", start + DAY),
        inspection(eid, "i4", "其他需要说明的情况", AS_OF),
        inspection(eid, "i5", "公示信息隐瞒真实情况、弄虚作假", start),  # outside the window
    ])
    session.commit()
    unreachable = next(p.points for p in rules.results if p.phrase == "无法联系")
    clean = next(p.points for p in rules.results if p.phrase == "未发现问题")
    assert scored(session, eid)[0] == min(clean + 2 * unreachable + rules.other_points, rules.max_points)


def test_objections_count_while_unanswered_on_the_day(session: Session) -> None:
    eid = entity(session, 60)
    before = datetime(2025, 8, 1, 2, 0)
    session.add_all([
        Objection(entity_id=eid, target_type="fact", text="记录有误", status="open", submitted_at=before),
        Objection(entity_id=eid, target_type="fact", text="记录有误", status="refused", submitted_at=before,
                  answered_at=datetime(2025, 8, 10)),
        Objection(entity_id=eid, target_type="fact", text="记录有误", status="accepted", submitted_at=before,
                  answered_at=datetime(2025, 10, 10)),  # answered after the day: open on it
        Objection(entity_id=eid, target_type="fact", text="记录有误", status="open",
                  submitted_at=datetime(2025, 9, 1, 17, 0)),  # 2025-09-02 01:00 in Beijing: after the day
    ])
    session.commit()
    assert scored(session, eid)[0] == min(2 * P.objections.open_each, P.objections.max_points)


@pytest.mark.parametrize("version", load_risk_policy().versions, ids=lambda v: v.id)
def test_thresholds_map_scores_to_classes_at_their_boundaries(version: object) -> None:
    classes = version.classes  # type: ignore[attr-defined]
    assert [c.name for c in classes] == ["A", "B", "C", "D"]
    assert version.class_of(-10) == "A"  # type: ignore[attr-defined]
    for lower, upper in zip(classes, classes[1:]):
        assert version.class_of(upper.min_score - 1) == lower.name  # type: ignore[attr-defined]
        assert version.class_of(upper.min_score) == upper.name  # type: ignore[attr-defined]


def test_an_entity_scoring_exactly_a_threshold_gets_that_class(session: Session, tmp_path: Path) -> None:
    eid = entity(session, 70, registered_capital="5")
    session.commit()
    points = P.registration.capital[0].points
    text = RISK_FILE.read_text(encoding="utf-8")
    path = tmp_path / "risk.toml"
    path.write_text(re.sub(r'(name = "B"\nlabel = "[^"]+"\nmin_score = )\d+', rf"\g<1>{points}", text), "utf-8")
    policies = load_risk_policy(path)
    assert policies.on(AS_OF).classes[1].min_score == points
    classify(session, AS_OF, [eid], policies=policies)
    assert (session.get(Entity, eid).risk_class, explain(session, eid).score) == ("B", points)  # type: ignore[union-attr]
    above = tmp_path / "risk-above.toml"  # another file: policies are cached by path
    above.write_text(re.sub(r'(name = "B"\nlabel = "[^"]+"\nmin_score = )\d+', rf"\g<1>{points + 1}", text), "utf-8")
    classify(session, AS_OF, [eid], policies=load_risk_policy(above))
    assert session.get(Entity, eid).risk_class == "A"  # type: ignore[union-attr]


def test_the_version_in_force_on_the_day_applies(session: Session) -> None:
    policies = load_risk_policy()
    old_day, new_day = date(2024, 9, 1), AS_OF
    old, new = policies.on(old_day), policies.on(new_day)
    assert old.id != new.id and old.effective_from < new.effective_from <= new_day
    eid = entity(session, 80, reports=False, established_on="2010-01-01")
    apply_facts(session, [report(eid, y, date(y + 1, 1, 5)) for y in range(2013, 2025)])
    apply_facts(session, [penalty(eid, "old", severity="ordinary", decided_on=date(2024, 8, 1)),
                          penalty(eid, "new", severity="ordinary", decided_on=date(2025, 8, 1))])
    session.commit()
    assert scored(session, eid, old_day)[0] == old.penalties.points["ordinary"][0]
    assert explain(session, eid).policy_version == old.id  # type: ignore[union-attr]
    years = [m for m in new.penalties.windows_months]
    second = next(i for i, m in enumerate(years) if add_months(new_day, -m) < date(2024, 8, 1))
    assert scored(session, eid, new_day)[0] == (new.penalties.points["ordinary"][0]
                                                + new.penalties.points["ordinary"][second])
    assert explain(session, eid).policy_version == new.id  # type: ignore[union-attr]
    with pytest.raises(RiskPolicyError, match="no risk policy version in force on 2021-12-31"):
        classify(session, date(2021, 12, 31))


BAD_POLICIES = [
    ("not toml = = 1", "risk.toml"),
    ("", r"no \[\[version\]\] table"),
    ('[[version]]\nid = "x"\n', r"missing \['annual_reports'"),
]


@pytest.mark.parametrize("content, message", BAD_POLICIES)
def test_a_broken_policy_file_is_refused_naming_it(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "risk.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RiskPolicyError, match=message):
        load_risk_policy(path)


EDITS = [
    ("min_score = 40", "min_score = 10", r"\(samr-2022\) \[classes 3\] min_score: must be above the previous"),
    ("serious = [20, 10]", "serious = [20]", r"\(samr-2022\) \[penalties\] serious: must be 2 whole numbers"),
    ('unknown_severity = "ordinary"', 'unknown_severity = "heavy"', r"\[penalties\] unknown_severity"),
    ("points_each = 3", "points_each = 3.5", r"\[status_changes\] points_each: must be a whole number"),
    ("[version.lists.past]\nserious-illegal = 10", "[version.lists.past]\nserious-illegal = 10\ndefault = 1",
     "Cannot overwrite|already exists|Duplicate"),
    ("taxpayer-a-grade = 0\ndefault = 4", "taxpayer-a-grade = 0", r"\[lists\] past: must be a table of list id"),
    ("effective_from = 2025-01-01", 'effective_from = "2025"', r"effective_from: must be a date"),
    ("effective_from = 2025-01-01", "effective_from = 2022-01-13", "take effect on the same day"),
    ("due = [6, 30]", "due = [6, 31]", r"\[annual_reports\] due: is not a day of the year"),
    ("age_unknown = 3", "age_unknown = 3\nage_bonus = 1", r"\[registration\]: missing \[\], unknown \['age_bonus'\]"
     r"|registration: missing \[\], unknown \['age_bonus'\]"),
    ('{ under_years = 1, points = 6 }, { under_years = 3, points = 3 }',
     '{ under_years = 3, points = 6 }, { under_years = 1, points = 3 }', r"age: bands must be in increasing order"),
    ('name = "D"', 'name = "DDD"', r"\[classes 4\] name: must be at most 2 characters"),
]


@pytest.mark.parametrize("old, new, message", EDITS)
def test_a_wrong_entry_is_refused_naming_the_file_version_and_key(tmp_path: Path, old: str, new: str,
                                                                   message: str) -> None:
    text = RISK_FILE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "risk.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(RiskPolicyError, match=message) as caught:
        load_risk_policy(path)
    assert str(path) in str(caught.value)


def test_history_grows_only_when_the_score_or_class_changes(session: Session) -> None:
    eid = entity(session, 90)
    session.commit()
    for _ in range(2):
        classify(session, AS_OF)
        session.commit()
    assert len(history(session, eid)) == 1 and session.get(Entity, eid).risk_class == "A"  # type: ignore[union-attr]
    apply_facts(session, [penalty(eid, "H1", severity="serious", decided_on=AS_OF - DAY)])
    session.commit()
    seq = last_seq(session)
    classify(session, AS_OF)
    classify(session, AS_OF)
    session.commit()
    past = history(session, eid)
    assert [a.score for a in past] == [0, P.penalties.points["serious"][0]]
    assert session.get(Entity, eid).risk_class == P.class_of(past[-1].score)  # type: ignore[union-attr]
    assert last_seq(session) == seq  # a class change never reaches the change log (the public feed)


def test_incremental_runs_classify_only_the_entities_changed_since_the_last_run(session: Session) -> None:
    today = beijing_today()  # objections are picked up by when they were submitted: now
    policy = load_risk_policy().on(today)
    ids = [entity(session, 100 + i, as_of=today) for i in range(3)]
    session.commit()
    first = classify_changed(session, today)
    session.commit()
    assert first.assessed == 3 and first.last_seq == last_seq(session) == watermark(session)[0]
    assert classify_changed(session, today).assessed == 0
    session.commit()
    apply_facts(session, [penalty(ids[0], "C1", severity="serious", decided_on=today - DAY)])
    session.add(Objection(entity_id=ids[2], target_type="fact", text="异议", status="open",
                          submitted_at=utcnow()))
    session.commit()
    again = classify_changed(session, today)
    session.commit()
    assert (again.assessed, again.changed) == (2, 2)
    assert [len(history(session, i)) for i in ids] == [2, 1, 2]
    assert classify_changed(session, today).assessed == 0
    runs = session.scalars(select(RiskRun).order_by(RiskRun.id)).all()
    assert [r.scope for r in runs] == ["changed"] * 4
    classes = [policy.class_of(policy.penalties.points["serious"][0]), policy.class_of(policy.objections.open_each)]
    assert runs[2].counts == {c: classes.count(c) for c in classes}
    full = classify(session, today)
    assert full.scope == "full" and full.assessed == 3 and full.changed == 0
    some = classify(session, today, [ids[1]])
    assert some.scope == "some" and watermark(session)[0] == full.last_seq
