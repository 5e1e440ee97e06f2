"""Sample 双随机 supervision data for a store holding the sample entities (``gongxin inspections sample``).

On the store that ``gongxin sample-data`` and ``gongxin ingest run`` filled, this classifies the
entities when no class is recorded yet, publishes eight inspection items, registers sixty officers
of four agencies (a few with declared ties to sample entities), then runs one plan over Shenzhen
through the real steps (create → snapshot → draw) and records the results of about a third of its
tasks, each published a realistic number of working days after the inspection (a few late, so the
overdue report has something to show). Names are drawn from a fixed seed; the plan's own seed is a
fresh secret, as every plan's is, and its draw verifies. Flushes, never commits.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from credit.inspection_plans import PlanFilters, create_plan, draw_plan, save_inspector, save_item, take_snapshot
from credit.inspection_results import publication_due, record_result
from credit.models import Agency, Entity, InspectionPlan, InspectionTask
from credit.risk import classify
from credit.workdays import add_working_days, load_calendar
from ingest.errors import IngestError
from ingest.sample_names import GIVEN_CHARS, INSPECTION_RESULTS, SURNAMES

NAME_SEED = 20150729  # 国办发〔2015〕58号 was issued on 29 July 2015
LIST_BASIS = "《市场监管总局关于印发〈市场监督管理总局随机抽查事项清单〉的通知》"
DRAW_BASIS = "《国务院办公厅关于推广随机抽查规范事中事后监管的通知》（国办发〔2015〕58号）"
# (id, name, division code of the agency, division codes its officers work in, officers)
AGENCIES = (
    ("sz-amr", "深圳市市场监督管理局", "440300",
     ("440300", "440304", "440303", "440305", "440306", "440307", "440309", "440310"), 30),
    ("gz-amr", "广州市市场监督管理局", "440100", ("440100", "440104", "440105", "440106", "440111", "440113"), 12),
    ("hz-amr", "杭州市市场监督管理局", "330100", ("330100", "330102", "330105", "330106", "330108"), 10),
    ("bj-amr", "北京市市场监督管理局", "110000", ("110000", "110101", "110102", "110105", "110108"), 8),
)
PLAN_AGENCY = "sz-amr"
REGION = "4403"
# (code, name, basis); the basis cites the law the item inspects under and the published list.
ITEMS = (
    ("SAMR-CC-01", "企业公示信息抽查", "《企业信息公示暂行条例》第十四条"),
    ("SAMR-DJ-02", "登记事项检查", "《中华人民共和国市场主体登记管理条例》第三十五条"),
    ("SAMR-SP-05", "食品经营许可事项检查", "《中华人民共和国食品安全法》第三十五条、第一百一十条"),
    ("SAMR-GG-03", "广告发布行为检查", "《中华人民共和国广告法》第四十九条"),
    ("SAMR-ZL-01", "产品质量监督抽查", "《中华人民共和国产品质量法》第十五条"),
    ("SAMR-TS-01", "特种设备生产、使用单位监督检查", "《中华人民共和国特种设备安全法》第五十七条"),
    ("SAMR-JG-01", "价格行为检查", "《中华人民共和国价格法》第三十三条"),
    ("SAMR-JL-02", "计量器具使用情况检查", "《中华人民共和国计量法》第十八条"),
)
PLAN_ITEMS = ("SAMR-CC-01", "SAMR-DJ-02", "SAMR-GG-03")
DRAWN_DAYS_AGO = 45  # the sample plan was drawn this many days before today
RESULT_SHARE = 3  # one task in this many gets its result
LATE_SHARE = 8  # one result in this many is published after its due day
TIES = 12  # officers with a declared tie to a sample entity


class SampleError(IngestError):
    """The store cannot take sample supervision data (no sample entities)."""


@dataclass
class SampleSupervision:
    """What the sample made: the agency to issue a console token for, the plan and its counts."""

    agency_id: str
    agency_name: str
    region: str
    plan_id: int = 0
    plan_name: str = ""
    classified: int = 0
    items: int = 0
    inspectors: int = 0
    seed_commitment: str = ""
    snapshot_hash: str = ""
    strata: list[tuple[str, int, int]] = field(default_factory=list)
    targets: int = 0
    unassigned: int = 0
    results: int = 0
    late: int = 0

    def lines(self) -> list[str]:
        """The report as lines for the console."""
        return [
            *([f"classified {self.classified:,} entities (no class was recorded yet)"] if self.classified else []),
            f"{self.items} inspection items, {self.inspectors} inspectors of {len(AGENCIES)} agencies",
            f"plan {self.plan_id} 「{self.plan_name}」 ({self.agency_name}, region {self.region})",
            f"  seed commitment {self.seed_commitment}", f"  snapshot hash   {self.snapshot_hash}",
            *(f"  {name:<14}{size:>8,} entities → {drawn:,} drawn" for name, size, drawn in self.strata),
            f"  {self.targets:,} targets, {self.unassigned:,} unassigned; {self.results:,} results recorded "
            f"({self.late} published late)",
        ]


def seed_supervision(session: Session, today: date, progress: Callable[[str], None] | None = None) -> SampleSupervision:
    """Fill the supervision registers and run one sample plan with results (see the module docstring)."""
    say = progress or (lambda _message: None)
    name = dict((a[0], a[1]) for a in AGENCIES)[PLAN_AGENCY]
    report = SampleSupervision(PLAN_AGENCY, name, REGION)
    in_region = select(Entity.id).where(Entity.division_code.startswith(REGION)).order_by(Entity.id)
    candidates = list(session.scalars(in_region.limit(400)))
    if not candidates:
        raise SampleError(f"no sample entities in region {REGION}: run `gongxin sample-data DIR` and "
                          "`gongxin ingest run` first")
    if session.scalar(select(func.count()).select_from(Entity).where(Entity.risk_class.is_not(None))) == 0:
        say("classifying the credit risk of every entity…")
        report.classified = classify(session, today).assessed
    rng = random.Random(NAME_SEED)
    _registers(session, rng, candidates, report)
    say("drawing the sample plan…")
    _plan(session, today, report)
    say("recording sample results…")
    _results(session, rng, today, report)
    return report


def _registers(session: Session, rng: random.Random, candidates: list[int], report: SampleSupervision) -> None:
    for agency_id, agency_name, division, _codes, _count in AGENCIES:
        if session.get(Agency, agency_id) is None:
            session.add(Agency(id=agency_id, name=agency_name, kind="market-regulation", division_code=division))
    session.flush()
    for code, item_name, basis in ITEMS:
        save_item(session, code, item_name, f"{basis}；{LIST_BASIS}；{DRAW_BASIS}", PLAN_AGENCY)
    report.items = len(ITEMS)
    names: set[str] = set()
    tied = set(rng.sample(range(AGENCIES[0][4]), TIES))
    for agency_id, _name, _division, codes, count in AGENCIES:
        for n in range(count):
            ties = rng.sample(candidates, rng.randint(1, 2)) if agency_id == PLAN_AGENCY and n in tied else []
            officer_id = f"{agency_id.split('-')[0].upper()}ZF{n + 1:04d}"
            save_inspector(session, officer_id, _person(rng, names), agency_id, codes[n % len(codes)], ties)
            report.inspectors += 1


def _person(rng: random.Random, taken: set[str]) -> str:
    """A Chinese name (surname and one or two given characters) not yet used in the register."""
    while True:
        given = "".join(rng.choice(GIVEN_CHARS) for _ in range(rng.choice((1, 2, 2))))
        person = rng.choice(SURNAMES) + given
        if person not in taken:
            taken.add(person)
            return person


def _plan(session: Session, today: date, report: SampleSupervision) -> None:
    start = today - timedelta(days=DRAWN_DAYS_AGO)
    quarter = (start.month - 1) // 3 + 1
    report.plan_name = f"{start.year}年第{quarter}季度深圳市市场监管领域双随机、一公开抽查计划"
    filters = PlanFilters(region_prefix=REGION, inspector_agencies=(PLAN_AGENCY,))
    plan, seed = create_plan(session, report.plan_name, PLAN_AGENCY, PLAN_ITEMS, filters, today=start)
    report.plan_id, report.seed_commitment = plan.id, plan.seed_commitment
    report.snapshot_hash = take_snapshot(session, plan.id, today=start)
    result = draw_plan(session, plan.id, seed)
    # The sample plan was drawn on the day it was snapshotted; its draw re-runs the same whatever the day.
    plan.drawn_at = datetime.combine(start, time(9, 30))
    session.flush()
    report.strata = [(s.name, s.size, s.drawn) for s in result.strata]
    report.targets, report.unassigned = len(result.targets), len(result.unassigned)


def _results(session: Session, rng: random.Random, today: date, report: SampleSupervision) -> None:
    plan = session.get(InspectionPlan, report.plan_id)
    assert plan is not None and plan.drawn_at is not None
    drawn = plan.drawn_at.date()
    tasks = list(session.scalars(select(InspectionTask).where(InspectionTask.plan_id == plan.id,
                                                               InspectionTask.status == "assigned")
                                 .order_by(InspectionTask.id)))
    texts, weights = zip(*INSPECTION_RESULTS)
    calendar = load_calendar()
    for task in tasks[::RESULT_SHARE]:
        inspected = drawn + timedelta(days=rng.randint(1, DRAWN_DAYS_AGO - 5))
        while not calendar.is_working_day(inspected):
            inspected -= timedelta(days=1)
        late = rng.randrange(LATE_SHARE) == 0
        published = min(add_working_days(inspected, rng.randint(21, 25) if late else rng.randint(1, 15)), today)
        record_result(session, task.id, rng.choices(texts, weights)[0], max(inspected, drawn), today=published,
                      recorded_by="示例数据")
        report.results += 1
        report.late += published > publication_due(max(inspected, drawn))
