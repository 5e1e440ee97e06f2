"""Pure scoring: an entity's inputs and the policy → its score, class and explanation.

Points are whole numbers and the explanation lists every factor that scored (non-zero), so the
points of the explanation always add up exactly to the score. Details are Chinese, for regulators.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from credit.risk_inputs import EntityRow, Inputs, report_years
from credit.risk_policy import AnnualReports, Phrase, RiskPolicy
from credit.status import is_operating
from credit.text import normalise_text

FAMILY_LABELS = {
    "registration": "登记信息", "status_changes": "登记状态变更", "annual_reports": "年度报告",
    "penalties": "行政处罚", "lists": "名单记录", "inspections": "抽查检查", "objections": "未办结异议",
}
SEVERITY_LABELS = {"minor": "轻微", "ordinary": "一般", "serious": "严重"}
Item = dict[str, Any]  # {"factor": family, "detail": 中文说明, "points": int}


@dataclass(frozen=True)
class Scored:
    """One entity's score, class and the factors that made them."""

    entity_id: int
    score: int
    risk_class: str
    explanation: list[Item]


def score_entity(policy: RiskPolicy, as_of: date, entity: EntityRow, inputs: Inputs) -> Scored:
    """Score one entity of a loaded chunk (families without inputs are skipped: most entities have few)."""
    eid = entity.id
    items = _capped(policy.registration.max_points, "registration", _registration(policy, as_of, entity))
    if eid in inputs.status_changes:
        items += _capped(policy.status_changes.max_points, "status_changes",
                         _status_changes(policy, inputs.status_changes[eid]))
    if entity.established_on is not None and is_operating(entity.status):
        items += _capped(policy.annual_reports.max_points, "annual_reports",
                         _annual_reports(policy, as_of, entity, inputs.reports.get(eid, {})))
    if eid in inputs.penalties:
        items += _capped(policy.penalties.max_points, "penalties", _penalties(policy, inputs.penalties[eid]))
    if eid in inputs.lists:
        items += _capped(policy.lists.max_points, "lists", _lists(policy, inputs.lists[eid]))
    if eid in inputs.inspections:
        items += _capped(policy.inspections.max_points, "inspections", _inspections(policy, inputs.inspections[eid]))
    if eid in inputs.objections:
        items += _capped(policy.objections.max_points, "objections", _objections(policy, inputs.objections[eid]))
    score = sum(item["points"] for item in items)
    return Scored(eid, score, policy.class_of(score), items)


def _item(factor: str, detail: str, points: int) -> Item:
    return {"factor": factor, "detail": detail, "points": points}


def _capped(limit: int, family: str, scored: list[tuple[str, int]]) -> list[Item]:
    """The family's non-zero items, and a cut to its limit when their total exceeds it."""
    if not scored:
        return []
    items = [_item(family, detail, points) for detail, points in scored if points]
    total = sum(item["points"] for item in items)
    if total > limit:
        items.append(_item(family, f"{FAMILY_LABELS[family]}合计{total}分，超过上限{limit}分，按上限计", limit - total))
    return items


def _registration(policy: RiskPolicy, as_of: date, entity: EntityRow) -> list[tuple[str, int]]:
    rules = policy.registration
    found = []
    if entity.established_on is None:
        found.append(("成立日期不详", rules.age_unknown))
    else:
        years = _whole_years(entity.established_on, as_of)
        band = next((b for b in rules.age if years < b.limit), None)
        if band is not None:
            found.append((f"成立不满{band.limit:f}年（{entity.established_on.isoformat()}成立）", band.points))
    if entity.registered_capital is None:
        found.append(("注册资本不详", rules.capital_unknown))
    else:
        band = next((b for b in rules.capital if entity.registered_capital < b.limit), None)
        if band is not None:
            found.append((f"注册资本低于{band.limit:f}万元", band.points))
    if entity.entity_type:
        found.append((f"企业类型为“{entity.entity_type}”", _phrase_points(rules.entity_type, entity.entity_type,
                                                                       rules.entity_type_default)))
    if entity.status:
        found.append((f"登记状态为“{entity.status}”", _phrase_points(rules.status, entity.status, rules.status_default)))
    return found


def _whole_years(start: date, day: date) -> int:
    return day.year - start.year - ((day.month, day.day) < (start.month, start.day))


def _status_changes(policy: RiskPolicy, changes: int) -> list[tuple[str, int]]:
    rules = policy.status_changes
    if not changes:
        return []
    return [(f"近{rules.window_months}个月登记状态变更{changes}次", changes * rules.points_each)]


def _annual_reports(policy: RiskPolicy, as_of: date, entity: EntityRow,
                    filed: dict[int, str]) -> list[tuple[str, int]]:
    rules = policy.annual_reports
    assert entity.established_on is not None
    found: list[tuple[str, int]] = []
    for year, due in _deadlines(policy, as_of):
        if year < entity.established_on.year:
            continue
        day = filed.get(year)
        if day is None:
            found.append((f"{year}年度年报截至{as_of.isoformat()}未报送", rules.missing_each))
        elif day > due:
            found.append((f"{year}年度年报逾期报送（{day}报送）", rules.late_each))
    return found


_DEADLINES: dict[tuple[AnnualReports, date], tuple[tuple[int, str], ...]] = {}


def _deadlines(policy: RiskPolicy, as_of: date) -> tuple[tuple[int, str], ...]:
    """The report years looked at and their deadlines as ISO days (memoised per policy and day)."""
    key = (policy.annual_reports, as_of)
    found = _DEADLINES.get(key)
    if found is None:
        if len(_DEADLINES) > 1000:
            _DEADLINES.clear()
        found = _DEADLINES[key] = tuple((y, policy.annual_reports.due_on(y).isoformat())
                                        for y in report_years(policy, as_of))
    return found


def _penalties(policy: RiskPolicy, rows: Any) -> list[tuple[str, int]]:
    rules = policy.penalties
    counts: dict[tuple[str, int], int] = {}
    for severity, by_window in rows:
        known = severity if severity in rules.points else rules.unknown_severity
        for window, count in enumerate(by_window):
            if count:
                counts[(known, window)] = counts.get((known, window), 0) + count
    found = []
    for (severity, window), count in sorted(counts.items(), key=lambda kv: (kv[0][1], -_rank(kv[0][0]))):
        since = f"近{rules.windows_months[window]}个月" if window == 0 else \
            f"{rules.windows_months[window - 1]}至{rules.windows_months[window]}个月前"
        found.append((f"{since}{SEVERITY_LABELS[severity]}行政处罚{count}件", count * rules.points[severity][window]))
    return found


def _rank(severity: str) -> int:
    return tuple(SEVERITY_LABELS).index(severity)


def _lists(policy: RiskPolicy, rows: Any) -> list[tuple[str, int]]:
    rules = policy.lists
    found = []
    for list_id, active, past in sorted(rows):
        if active:
            found.append((f"现列入名单（{list_id}）", rules.active_points(list_id)))
        elif past:
            found.append((f"近{rules.past_window_months}个月曾列入名单（{list_id}），已移出", rules.past_points(list_id)))
    return found


def _inspections(policy: RiskPolicy, rows: Any) -> list[tuple[str, int]]:
    rules = policy.inspections
    return [(f"近{rules.window_months}个月抽查检查结果“{result or '未填写'}”{count}次",
             count * _phrase_points(rules.results, result, rules.other_points)) for result, count in sorted(rows)]


def _objections(policy: RiskPolicy, count: int) -> list[tuple[str, int]]:
    return [(f"未办结异议{count}件", count * policy.objections.open_each)] if count else []


_LOOKUPS: dict[tuple[tuple[Phrase, ...], str, int], int] = {}
_LOOKUP_LIMIT = 100_000


def _phrase_points(phrases: tuple[Phrase, ...], text: str, default: int) -> int:
    """The points of the first phrase the folded ``text`` holds; memoised, as few distinct texts recur
    (phrases hash by identity, so the key is cheap to hash)."""
    key = (phrases, text, default)
    found = _LOOKUPS.get(key)
    if found is None:
        if len(_LOOKUPS) > _LOOKUP_LIMIT:
            _LOOKUPS.clear()
        folded = normalise_text(text)
        found = _LOOKUPS[key] = next((p.points for p in phrases if p.phrase in folded), default)
    return found
