"""One stored fact or list entry as a record to read: Chinese labels, dates, amounts, its source."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.pages.formatting import day, validity, wan
from app.pages.view import Record, items
from blacklist.catalogue import Catalogue
from credit.inspection_results import SOURCE as INSPECTION_RESULTS
from credit.models import Fact, ListEntry

SEVERITY = {"minor": "轻微", "ordinary": "一般", "serious": "严重"}
FACT_KINDS = {"licence": "行政许可", "penalty": "行政处罚", "inspection": "抽查检查结果",
              "annual_report": "年报", "commendation": "守信激励"}


def text(value: Any) -> str:
    """A body value as text; nothing for None."""
    return "" if value is None else str(value).strip()


# Sources that are no regulator's file: results of inspections drawn in Gongxin's own plans.
OWN_SOURCES = {INSPECTION_RESULTS: "双随机抽查计划（检查部门见记录）"}


def source_label(source: str | None, agencies: Mapping[str, str]) -> str:
    """Who said it: the agency behind a source id, with the id; the bare id when the agency is unknown."""
    if not source:
        return ""
    agency = agencies.get(source) or OWN_SOURCES.get(source)
    return f"{agency}（{source}）" if agency else source


def list_name(list_id: str, catalogue: Catalogue) -> str:
    """The list's Chinese name from the catalogue; its id when the catalogue does not know it."""
    return next((spec.name for spec in catalogue.lists if spec.id == list_id), list_id)


def is_commendation(list_id: str, catalogue: Catalogue) -> bool:
    """Whether the list is a commendation (red) list rather than a blacklist."""
    return any(spec.id == list_id and spec.kind == "commendation" for spec in catalogue.lists)


def licence_record(fact: Fact, agencies: Mapping[str, str]) -> Record:
    """An administrative licence (行政许可) as the national layout names its parts."""
    b = fact.body or {}
    title = text(b.get("licence_name")) or text(b.get("licence_type")) or "行政许可"
    return Record(title, items(
        ("决定文书号", text(b.get("decision_no"))), ("许可类别", text(b.get("licence_type"))),
        ("许可证书名称", text(b.get("licence_name"))), ("许可编号", text(b.get("licence_no"))),
        ("许可内容", text(b.get("content"))), ("许可决定日期", day(fact.decided_on)),
        ("有效期", validity(fact.valid_from, fact.valid_to)), ("许可机关", text(fact.authority)),
        ("当前状态", text(b.get("status"))), ("数据来源", source_label(fact.source, agencies)),
    ), tag=text(b.get("status")))


def penalty_record(fact: Fact, agencies: Mapping[str, str]) -> Record:
    """An administrative penalty (行政处罚) the public may see."""
    b = fact.body or {}
    severity = SEVERITY.get(fact.severity or "", text(fact.severity))
    return Record(text(b.get("decision_no")) or "行政处罚", items(
        ("违法行为类型", text(b.get("violation_type"))), ("违法事实", text(b.get("facts"))),
        ("处罚依据", text(b.get("basis"))), ("处罚类别", text(b.get("penalty_type"))),
        ("处罚内容", text(b.get("content"))), ("罚款金额", wan(b.get("fine_amount"))),
        ("没收金额", wan(b.get("confiscated_amount"))), ("处罚决定日期", day(fact.decided_on)),
        ("公示截止日期", day(fact.publicity_until)), ("处罚机关", text(fact.authority)),
        ("数据来源", source_label(fact.source, agencies)),
    ), tag=f"{severity}违法" if severity else "", tone="bad" if fact.severity == "serious" else "")


def inspection_record(fact: Fact, agencies: Mapping[str, str]) -> Record:
    """A spot check or inspection (抽查检查) and its result."""
    b = fact.body or {}
    return Record(text(b.get("task")) or text(b.get("plan")) or "抽查检查", items(
        ("检查计划", text(b.get("plan"))), ("检查类型", text(b.get("inspection_type"))),
        ("检查实施机关", text(fact.authority)), ("检查日期", day(fact.decided_on)),
        ("检查事项", text(b.get("item"))), ("检查结果", text(b.get("result"))),
        ("数据来源", source_label(fact.source, agencies)),
    ), tag=text(b.get("result")))


def annual_report_record(fact: Fact, agencies: Mapping[str, str]) -> Record:
    """An annual report (年报) filing: the year and when it was filed."""
    year = text((fact.body or {}).get("year"))
    return Record(f"{year} 年度报告" if year else "年度报告", items(
        ("报送日期", day(fact.decided_on)), ("数据来源", source_label(fact.source, agencies)),
    ), tag="已公示")


def commendation_record(fact: Fact, agencies: Mapping[str, str]) -> Record:
    """A commendation (守信激励) sent as a record rather than as a list entry."""
    b = fact.body or {}
    return Record(text(b.get("title")) or "守信激励", items(
        ("认定日期", day(fact.decided_on)), ("认定机关", text(b.get("listed_by")) or text(fact.authority)),
        ("有效期至", day(fact.valid_to)), ("数据来源", source_label(fact.source, agencies)),
    ), tag="守信激励", tone="good")


def other_record(fact: Fact, agencies: Mapping[str, str]) -> Record:
    """A record of a kind the pages have no layout for: its dates, authority and source."""
    return Record(FACT_KINDS.get(fact.kind, fact.kind), items(
        ("决定日期", day(fact.decided_on)), ("决定机关", text(fact.authority)),
        ("有效期", validity(fact.valid_from, fact.valid_to)),
        ("数据来源", source_label(fact.source, agencies)),
    ))


FACT_RECORDS = {"licence": licence_record, "penalty": penalty_record, "inspection": inspection_record,
                "annual_report": annual_report_record, "commendation": commendation_record}


def fact_record(fact: Fact, agencies: Mapping[str, str]) -> Record:
    """The record of a fact, laid out by its kind."""
    return FACT_RECORDS.get(fact.kind, other_record)(fact, agencies)


def entry_record(entry: ListEntry, catalogue: Catalogue, agencies: Mapping[str, str]) -> Record:
    """A list entry: its listing and, once removed, its removal."""
    removed = entry.status == "removed"
    good = is_commendation(entry.list_id, catalogue)
    return Record(list_name(entry.list_id, catalogue), items(
        ("列入原因", text(entry.reason)), ("列入日期", day(entry.listed_on)),
        ("列入决定机关", text(entry.listed_by)), ("决定书文号", text(entry.decision_no)),
        ("列入依据", text(entry.basis)), ("移出原因", text(entry.removal_reason)),
        ("移出日期", day(entry.removed_on)), ("移出决定机关", text(entry.removed_by)),
        ("数据来源", source_label(entry.source, agencies)),
    ), tag="已移出" if removed else "在列", tone="" if removed else ("good" if good else "bad"))
