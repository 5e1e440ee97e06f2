"""A small Chinese store for the pages: one full profile, hostile names, enough companies to page through.

Registrations of the many companies arrive through a real ingest run of a regulator's CSV file
(with one bad row, so the sources page has a rejected row to show); a second source fails on a
file that lacks a column; the rest is written through the store's own bulk functions.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from credit.claims import ClaimIn, apply_claims
from credit.entities import EntityIds, ensure_entities
from credit.facts import FactIn, apply_facts
from credit.identifiers import generate_reg_no
from credit.listings import ListEntryIn, apply_list_entries
from ingest.registry import load_registry
from ingest.runs import run_source
from tests.factories import OTHER_RANK, REGISTRY, REGISTRY_RANK, T0, new_uscc
from tests.ingest.builders import source, write_registry, write_rows

MAIN_NAME = "深圳市腾云数据科技有限公司"
FORMER_NAME = "深圳市腾云网络技术有限公司"
SCRIPT_NAME = "<script>alert(1)</script>测试贸易有限公司"
IMG_NAME = "<img src=x onerror=alert(1)>恶意名称科技有限公司"
SERIOUS_NAME = "深圳市黑石食品有限公司"
LEGACY_NAME = "深圳市老字号科技商行"
OPEN_DECISION = "深市监罚〔2026〕1207号"
EXPIRED_DECISION = "深市监罚〔2024〕0388号"
MINOR_DECISION = "深市监罚〔2026〕轻微01号"  # minor: the 2026 measures do not publish it
HOSTILE_REASON = "<script>alert('reason')</script>拒不履行生效法律文书确定的义务"
HOSTILE_FACTS = "<img src=x onerror=alert(2)>未按规定标注产品信息"
AGENCY = "深圳市市场监督管理局"
TAX_AGENCY = "国家税务总局深圳市税务局"
# Company names of the paging set: 24 in Shenzhen (440300), 6 in Beijing (110108).
WORDS = ("云帆", "星河", "海纳", "恒信", "启明", "华锐", "智远", "同创", "博雅", "中科", "天元", "瑞丰",
         "嘉禾", "明德", "新航", "青松", "金桥", "远景", "凌云", "鼎盛", "汇通", "宏图", "安达", "正泰",
         "立信", "长风", "北辰", "未名", "燕园", "京华")
SHENZHEN_MANY = 24
REGISTRATION_HEADERS = {"uscc": "统一社会信用代码", "name": "企业名称", "entity_type": "企业类型",
                        "status": "登记状态", "legal_rep": "法定代表人", "established_on": "成立日期"}


@dataclass(frozen=True)
class Seeded:
    """What the pages' tests look for."""

    main: str
    script: str
    img: str
    serious: str
    legacy_reg_no: str
    many: tuple[str, ...]
    registry: Path


def many_name(n: int) -> str:
    """The n-th company of the paging set."""
    return f"深圳市{WORDS[n]}科技有限公司" if n < SHENZHEN_MANY else f"北京{WORDS[n]}科技有限公司"


def build(factory: sessionmaker[Session], directory: Path) -> Seeded:
    """Write the registry and files under ``directory``, ingest them, then add the rest; commits."""
    registry = _ingest(factory, directory)
    with factory() as session:
        seeded = _seed(session, registry)
        session.commit()
    return seeded


def _ingest(factory: sessionmaker[Session], directory: Path) -> Path:
    rows = [[new_uscc(800 + n, "440300" if n < SHENZHEN_MANY else "110108"), many_name(n), "有限责任公司",
             "存续" if n % 5 else "在业", "张伟", f"201{n % 10}-0{n % 9 + 1}-15"] for n in range(len(WORDS))]
    rows.insert(7, ["91440300MA5FXXXXXI", "深圳市坏行数据有限公司", "有限责任公司", "存续", "王芳", "2019-02-30"])
    write_rows(directory / "drop" / "reg-2026-11-27.csv", list(REGISTRATION_HEADERS.values()), rows)
    write_rows(directory / "drop" / "inspection-2026-11-27.csv", ["统一社会信用代码", "检查日期"],
               [[new_uscc(800), "2026-11-01"]])
    path = write_registry(directory, [
        source("samr-registration", "registration", "drop/reg-*.csv", REGISTRATION_HEADERS),
        source("samr-inspection", "inspection", "drop/inspection-*.csv",
               {"uscc": "统一社会信用代码", "inspected_on": "检查日期", "result": "检查结果"}),
        source("tax-sz", "registration", "drop/tax-*.csv", {"uscc": "纳税人识别号", "name": "纳税人名称"},
               agency=TAX_AGENCY, rank=OTHER_RANK),
    ])
    for spec in load_registry(path).sources:
        run_source(factory, spec)
    return path


def _entity(session: Session, seed: int, division: str = "440300", **attributes: str) -> tuple[int, str]:
    uscc = new_uscc(seed, division)
    entity_id = ensure_entities(session, [EntityIds(uscc=uscc)])[0].entity_id
    assert entity_id is not None
    apply_claims(session, [ClaimIn(entity_id, f, v, REGISTRY, REGISTRY_RANK, T0) for f, v in attributes.items()])
    return entity_id, uscc


def _seed(session: Session, registry: Path) -> Seeded:
    main_id, main = _entity(
        session, 601, name=MAIN_NAME, former_names=json.dumps([FORMER_NAME], ensure_ascii=False),
        entity_type="有限责任公司（自然人投资或控股）", status="存续", legal_rep="李明", registered_capital="1000",
        established_on="2015-06-18", address="深圳市南山区粤海街道科技中一路 1 号", industry="软件和信息技术服务业",
        reg_authority="深圳市市场监督管理局南山监管局")
    apply_claims(session, [ClaimIn(main_id, "address", "深圳市南山区科技园南区 8 栋", "tax-sz", OTHER_RANK,
                                   T0 + timedelta(days=30))])
    script_id, script = _entity(session, 602, name=SCRIPT_NAME, status="存续", legal_rep="<b>赵六</b>")
    _, img = _entity(session, 603, name=IMG_NAME, status="存续")
    serious_id, serious = _entity(session, 604, name=SERIOUS_NAME, status="吊销，未注销")
    legacy = generate_reg_no(random.Random(605), "440300")
    legacy_id = ensure_entities(session, [EntityIds(reg_no=legacy)])[0].entity_id
    assert legacy_id is not None
    apply_claims(session, [ClaimIn(legacy_id, "name", LEGACY_NAME, REGISTRY, REGISTRY_RANK, T0),
                           ClaimIn(legacy_id, "status", "注销", REGISTRY, REGISTRY_RANK, T0)])
    apply_facts(session, _main_facts(main_id) + _hostile_facts(script_id))
    apply_list_entries(session, _main_entries(main_id) + _other_entries(script_id, serious_id))
    many = tuple(new_uscc(800 + n, "440300" if n < SHENZHEN_MANY else "110108") for n in range(len(WORDS)))
    return Seeded(main, script, img, serious, legacy, many, registry)


def _main_facts(eid: int) -> list[FactIn]:
    today = date.today()
    return [
        FactIn(eid, "samr-licence", "L-1", "licence", authority=AGENCY, decided_on=date(2024, 3, 5),
               valid_from=date(2024, 3, 5), valid_to=date(2099, 12, 31),
               body={"decision_no": "深市监许〔2024〕015号", "licence_type": "普通", "licence_name": "食品经营许可证",
                     "licence_no": "JY14403050012345", "content": "预包装食品销售", "status": "有效"}),
        FactIn(eid, "samr-penalty", "P-open", "penalty", authority=AGENCY, decided_on=today - timedelta(days=40),
               severity="ordinary",
               body={"decision_no": OPEN_DECISION, "violation_type": "广告违法",
                     "facts": "在官方网站发布含有“国家级”用语的广告", "basis": "《中华人民共和国广告法》第五十七条",
                     "penalty_type": "罚款", "content": "罚款人民币二万五千元", "fine_amount": "2.5"}),
        FactIn(eid, "samr-penalty", "P-ended", "penalty", authority=AGENCY, decided_on=date(2024, 5, 10),
               publicity_until=date(2025, 5, 10), severity="ordinary",
               body={"decision_no": EXPIRED_DECISION, "violation_type": "未按规定公示信息",
                     "penalty_type": "罚款", "fine_amount": "0.5"}),
        FactIn(eid, "samr-penalty", "P-minor", "penalty", authority=AGENCY, severity="minor",
               decided_on=max(date(2026, 4, 1), today - timedelta(days=10)),
               body={"decision_no": MINOR_DECISION, "penalty_type": "警告", "violation_type": "未按规定亮照经营"}),
        FactIn(eid, "samr-inspection", "I-1", "inspection", authority="深圳市市场监督管理局南山监管局",
               decided_on=date(2025, 9, 12),
               body={"plan": "2025年度双随机抽查计划", "task": "企业公示信息抽查", "inspection_type": "定向抽查",
                     "item": "年度报告公示信息", "result": "未发现问题"}),
        FactIn(eid, "samr-annual-report", "A-2024", "annual_report", authority=AGENCY,
               decided_on=date(2025, 5, 20), body={"year": "2024", "filed_on": "2025-05-20"}),
        FactIn(eid, "samr-annual-report", "A-2025", "annual_report", authority=AGENCY,
               decided_on=date(2026, 6, 3), body={"year": "2025", "filed_on": "2026-06-03"}),
        FactIn(eid, "gd-commendation", "C-1", "commendation", authority="广东省市场监督管理局",
               decided_on=date(2024, 12, 1), valid_to=date(2027, 11, 30),
               body={"title": "广东省守合同重信用企业", "listed_by": "广东省市场监督管理局"}),
    ]


def _hostile_facts(eid: int) -> list[FactIn]:
    return [FactIn(eid, "samr-penalty", "P-hostile", "penalty", authority="<i>某局</i>",
                   decided_on=date.today() - timedelta(days=20), severity="ordinary",
                   body={"decision_no": "深市监罚〔2026〕<b>9</b>号", "facts": HOSTILE_FACTS, "fine_amount": "1"})]


def _main_entries(eid: int) -> list[ListEntryIn]:
    return [
        ListEntryIn(eid, "abnormal", "samr-abnormal", "AB-2023", listed_on=date(2023, 7, 10), reason_code="1",
                    reason="未按照《企业信息公示暂行条例》第八条规定的期限公示年度报告", listed_by=AGENCY,
                    removed_on=date(2023, 9, 20), removal_reason="补报未报年份的年度报告并公示", removed_by=AGENCY),
        ListEntryIn(eid, "abnormal", "samr-abnormal", "AB-2026", listed_on=date(2026, 7, 8), reason_code="4",
                    reason="通过登记的住所或者经营场所无法联系", listed_by=AGENCY, decision_no="深市监异〔2026〕77号"),
        ListEntryIn(eid, "court-defaulters", "court-sz", "CD-1", listed_on=date(2022, 1, 5),
                    reason="未履行生效判决确定的给付义务", listed_by="深圳市南山区人民法院",
                    removed_on=date(2022, 6, 1), removal_reason="已全部履行", removed_by="深圳市南山区人民法院"),
        ListEntryIn(eid, "taxpayer-a-grade", "tax-sz", "TA-2024", listed_on=date(2025, 4, 1),
                    reason="2024年度纳税信用评价为A级", listed_by=TAX_AGENCY),
    ]


def _other_entries(script_id: int, serious_id: int) -> list[ListEntryIn]:
    return [
        ListEntryIn(script_id, "court-defaulters", "court-sz", "CD-2", listed_on=date(2026, 2, 3),
                    reason=HOSTILE_REASON, listed_by="深圳市福田区人民法院"),
        ListEntryIn(serious_id, "serious-illegal", "samr-serious", "SI-1", listed_on=date(2025, 8, 18),
                    reason="生产经营不符合食品安全标准的食品，被处以吊销许可证的行政处罚",
                    listed_by=AGENCY, decision_no="深市监严〔2025〕3号"),
        ListEntryIn(serious_id, "abnormal", "samr-abnormal", "AB-S1", listed_on=date(2025, 3, 1), reason_code="4",
                    reason="通过登记的住所或者经营场所无法联系", listed_by=AGENCY),
    ]
