"""An entity's public profile as sections: the public facts and lists, and who said what when.

``blacklist.visibility.public_profile`` loads what the public may see (the same loader as the
public API); ``profile_view`` turns it into sections to draw.
"""

from __future__ import annotations

from collections.abc import Mapping

from app.pages.formatting import beijing, day, names, region, wan
from app.pages.records import (
    FACT_KINDS, entry_record, fact_record, is_commendation, list_name, source_label, text,
)
from app.pages.view import Badge, ProfileView, Record, Section, Table, items
from blacklist.catalogue import Catalogue
from credit.models import Entity, Fact, ListEntry
from credit.profile import Profile

ABNORMAL_LISTS = ("abnormal", "abnormal-mark")
SERIOUS_LISTS = ("serious-illegal",)
FIELDS = {"name": "企业名称", "former_names": "曾用名", "entity_type": "类型", "status": "登记状态",
          "legal_rep": "法定代表人", "registered_capital": "注册资本（万元）", "established_on": "成立日期",
          "address": "住所", "reg_authority": "登记机关", "industry": "行业"}
PENALTY_NOTE = "公示期满或已完成信用修复的行政处罚不再向社会公示（依据国家发展改革委信用修复办法和市场监管总局公示规定）。"
SOURCES_NOTE = "每项信息由哪个部门报送、何时首次出现、何时最近一次出现；“采用”为按来源优先级显示在基本信息中的值。"


def profile_view(profile: Profile, catalogue: Catalogue, agencies: Mapping[str, str]) -> ProfileView:
    """The sections of a public profile, in the order of the national publicity system."""
    entity = profile.entity
    facts: dict[str, list[Fact]] = {}
    for fact in profile.facts:
        facts.setdefault(fact.kind, []).append(fact)
    entries = _entries_by_group(profile.lists, catalogue)

    def fact_section(key: str, kind: str, empty: str, note: str = "") -> Section:
        return Section(key, FACT_KINDS[kind], tuple(fact_record(f, agencies) for f in facts.pop(kind, [])),
                       empty=empty, note=note)

    def entry_section(key: str, title: str, group: str, empty: str, note: str = "") -> Section:
        return Section(key, title, tuple(entry_record(e, catalogue, agencies) for e in entries[group]),
                       empty=empty, note=note)

    reports = sorted(facts.pop("annual_report", []), key=lambda f: text(f.body.get("year")), reverse=True)
    commendations = [fact_record(f, agencies) for f in facts.pop("commendation", [])]
    sections = [
        Section("basic", "基本信息", (_basic_record(entity),)),
        fact_section("licences", "licence", "暂无行政许可信息"),
        fact_section("penalties", "penalty", "暂无公示中的行政处罚信息", PENALTY_NOTE),
        entry_section("abnormal", "经营异常名录", "abnormal", "未被列入经营异常名录", "含列入与移出的全部历史记录。"),
        entry_section("serious", "严重违法失信名单", "serious", "未被列入严重违法失信名单"),
        entry_section("other-lists", "其他名单", "other", "未被列入其他失信名单"),
        fact_section("inspections", "inspection", "暂无抽查检查结果"),
        Section("annual-reports", "年报", tuple(fact_record(f, agencies) for f in reports), empty="暂无年报信息"),
        Section("commendations", "守信激励", tuple(commendations) + tuple(
            entry_record(e, catalogue, agencies) for e in entries["good"]), empty="暂无守信激励信息"),
    ]
    rest = tuple(fact_record(f, agencies) for kind in sorted(facts) for f in facts[kind])
    if rest:
        sections.append(Section("other-records", "其他信用记录", rest))
    sections.append(Section("sources", "数据来源", table=provenance_table(profile, catalogue, agencies),
                            empty="暂无数据来源记录", note=SOURCES_NOTE))
    return ProfileView(identifier=entity.uscc or entity.reg_no or entity.org_code or "", name=entity.name,
                       uscc=entity.uscc or "", status=entity.status or "", region=region(entity.division_code),
                       badges=badges(profile.lists, catalogue), sections=tuple(sections))


def _entries_by_group(entries: list[ListEntry], catalogue: Catalogue) -> dict[str, list[ListEntry]]:
    """Entries split into abnormal, serious, other blacklists and commendation lists."""
    groups: dict[str, list[ListEntry]] = {"abnormal": [], "serious": [], "other": [], "good": []}
    for entry in entries:
        if entry.list_id in ABNORMAL_LISTS:
            groups["abnormal"].append(entry)
        elif entry.list_id in SERIOUS_LISTS:
            groups["serious"].append(entry)
        else:
            groups["good" if is_commendation(entry.list_id, catalogue) else "other"].append(entry)
    return groups


def _basic_record(entity: Entity) -> Record:
    capital = entity.registered_capital
    return Record(entity.name, items(
        ("统一社会信用代码", entity.uscc or ""), ("注册号", entity.reg_no or ""),
        ("组织机构代码", entity.org_code or ""), ("企业名称", entity.name),
        ("曾用名", names(entity.former_names or [])), ("类型", entity.entity_type or ""),
        ("登记状态", entity.status or ""), ("法定代表人", entity.legal_rep or ""),
        ("注册资本", wan(capital) if capital is not None else ""), ("成立日期", day(entity.established_on)),
        ("住所", entity.address or ""), ("所属地区", region(entity.division_code)),
        ("行业", entity.industry or ""), ("登记机关", entity.reg_authority or ""),
    ), tag=entity.status or "")


def badges(entries: list[ListEntry], catalogue: Catalogue) -> tuple[Badge, ...]:
    """The lists the entity is on now, once each, in the catalogue's order."""
    on = {e.list_id for e in entries if e.status == "active"}
    order = {spec.id: n for n, spec in enumerate(catalogue.lists)}
    return tuple(Badge(list_id, list_name(list_id, catalogue),
                       "good" if is_commendation(list_id, catalogue) else "bad")
                 for list_id in sorted(on, key=lambda i: (order.get(i, len(order)), i)))


def flag_badges(flags: tuple[str, ...] | list[str], catalogue: Catalogue) -> tuple[Badge, ...]:
    """Badges for a search hit's list flags (the lists it is on now)."""
    return tuple(Badge(f, list_name(f, catalogue), "good" if is_commendation(f, catalogue) else "bad")
                 for f in flags)


def provenance_table(profile: Profile, catalogue: Catalogue, agencies: Mapping[str, str]) -> Table:
    """Which source said what, first and last seen: every claim, public fact and public list entry."""
    chosen = {c.id for c in profile.chosen_claims()}
    rows = [(FIELDS.get(c.field, c.field) + ("（采用）" if c.id in chosen else ""),
             names(c.value) if c.field == "former_names" else c.value,
             source_label(c.source, agencies), beijing(c.first_seen), beijing(c.last_seen))
            for c in profile.claims]
    rows += [(FACT_KINDS.get(f.kind, f.kind), _fact_title(f), source_label(f.source, agencies),
              beijing(f.first_seen), beijing(f.updated_at)) for f in profile.facts]
    rows += [(list_name(e.list_id, catalogue), text(e.reason),
              source_label(e.source, agencies) or text(e.listed_by), beijing(e.created_at), beijing(e.updated_at))
             for e in profile.lists]
    return Table(("信息项", "内容", "数据来源", "首次出现", "最近出现或更新"), tuple(rows))


def _fact_title(fact: Fact) -> str:
    return fact_record(fact, {}).title

