"""The 新建抽查计划 form: what was typed, and its problems in Chinese, each naming its field.

Checked here before ``create_plan`` so that the planner reads which field is wrong and why; the
domain checks the same things again (the policy's ratio bounds, known items, the region's form).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from werkzeug.datastructures import MultiDict

from credit.inspection_rules import InspectionPolicy, decimal_text, parse_decimal
from credit.models import NAME_LENGTH, ApiToken

SEPARATORS = re.compile(r"[,，、;；\s]+")
MAX_INDUSTRIES = 50
MAX_FIELD = 2000
REGION = re.compile(r"\d{2}|\d{4}|\d{6}")


@dataclass(frozen=True)
class PlanForm:
    """The form as typed, to be shown again with its problems."""

    name: str = ""
    items: tuple[str, ...] = ()
    region: str = ""
    industries: str = ""
    ratios: tuple[tuple[str, str], ...] = ()
    require_local: bool = False
    own_inspectors: bool = True

    @property
    def industry_list(self) -> tuple[str, ...]:
        """The industries named, in the order typed, without repeats."""
        return tuple(dict.fromkeys(part for part in SEPARATORS.split(self.industries) if part))

    def ratio(self, risk_class: str) -> str:
        """The ratio typed for this class."""
        return dict(self.ratios).get(risk_class, "")

    @classmethod
    def blank(cls, token: ApiToken, policy: InspectionPolicy) -> PlanForm:
        """A new form: the token's region, the policy's default ratios and local-inspector rule."""
        return cls(region=token.region_prefix or "", require_local=policy.require_local_inspectors,
                   ratios=tuple((c, decimal_text(policy.default_ratios[c])) for c in policy.classes))

    @classmethod
    def posted(cls, form: MultiDict[str, str], policy: InspectionPolicy) -> PlanForm:
        """The form as posted (unchecked boxes are absent, so they read as off)."""
        def text(name: str) -> str:
            return form.get(name, "").strip()[:MAX_FIELD]

        return cls(text("name"), tuple(dict.fromkeys(v.strip() for v in form.getlist("item") if v.strip())),
                   text("region"), text("industries"), tuple((c, text(f"ratio_{c}")) for c in policy.classes),
                   form.get("require_local") == "1", form.get("own_inspectors") == "1")


def plan_problems(form: PlanForm, token: ApiToken, policy: InspectionPolicy, items: Mapping[str, str]) -> list[str]:
    """Every problem of the form, in Chinese, each starting with the field's name; empty when it may be created."""
    problems = []
    if not form.name:
        problems.append("计划名称：请填写计划名称。")
    elif len(form.name) > NAME_LENGTH:
        problems.append(f"计划名称：不超过 {NAME_LENGTH} 字。")
    if not form.items:
        problems.append("抽查事项：请至少选择一项抽查事项。")
    elif unknown := [code for code in form.items if code not in items]:
        problems.append(f"抽查事项：抽查事项清单中没有编码为 {'、'.join(unknown[:5])} 的事项。")
    problems += region_problems(form.region, token.region_prefix or "")
    if len(form.industry_list) > MAX_INDUSTRIES:
        problems.append(f"行业：最多填写 {MAX_INDUSTRIES} 个行业。")
    problems += [p for c in policy.classes if (p := ratio_problem(policy, c, form.ratio(c)))]
    return problems


def region_problems(region: str, prefix: str) -> list[str]:
    """Why ``region`` cannot be a plan's region for a token of the region ``prefix`` (empty: it can)."""
    if not region:
        return [f"抽查地区：请填写地区代码（本部门辖区为 {prefix}）。"] if prefix else []
    if not REGION.fullmatch(region):
        return ["抽查地区：须为 2、4 或 6 位数字的行政区划代码，如 44、4403 或 440305。"]
    if not region.startswith(prefix):
        return [f"抽查地区：{region} 不在本部门辖区 {prefix} 之内，只能抽查本辖区的市场主体。"]
    return []


def ratio_problem(policy: InspectionPolicy, risk_class: str, typed: str) -> str:
    """Why ``typed`` cannot be the ratio of ``risk_class`` under the policy ("" when it can)."""
    name = f"{risk_class} 类抽查比例"
    low, high = (decimal_text(b) for b in policy.ratio_bounds[risk_class])
    if not typed:
        return f"{name}：请填写 {low} 至 {high} 之间的小数。"
    try:
        value = parse_decimal(typed)
    except ValueError:
        return f"{name}：“{typed[:20]}”不是数字，请填写 {low} 至 {high} 之间的小数。"
    bounds = policy.ratio_bounds[risk_class]
    if not bounds[0] <= value <= bounds[1]:
        return f"{name}：{typed[:20]} 超出政策允许的范围 {low}–{high}。"
    return ""
