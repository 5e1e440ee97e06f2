"""``gongxin inspections``: 双随机 inspection planning and the credit risk classes it draws by.

Each command is a thin wrapper over one domain function; add new ones to ``inspections_group``.
Risk classes are for regulators only: these commands run on the server, never behind a public route.
The registers (items, inspectors) and results are here; plans, the draw and its verification are in
app/cli_plans.py, added to the same group.
"""

from __future__ import annotations

import csv
import sys
from datetime import date
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import store
from app.cli_plans import PLAN_COMMANDS, unit_of_work
from credit.clock import beijing_today
from credit.errors import CreditError
from credit.inspection_plans import save_inspector, save_item
from credit.inspection_results import overdue_tasks, publication_due, record_result
from credit.models import Entity, InspectionItemRecord, InspectorRecord
from credit.profile import entity_by_identifier
from credit.risk import RiskReport, classify, classify_changed, count_entities, explain, history
from credit.risk_policy import load_risk_policy
from credit.risk_score import FAMILY_LABELS

# An internal id is a plain number shorter than any identifier (registration numbers have 15 digits).
MAX_ID_DIGITS = 14


@click.group("inspections")
def inspections_group() -> None:
    """双随机 inspections and credit risk classes."""


@inspections_group.command("classify")
@click.option("--full", is_flag=True, help="classify every entity (default: only those changed since the last run)")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="the day to classify as of (YYYY-MM-DD; default: today in Beijing)")
@with_appcontext
def classify_command(full: bool, as_of: object) -> None:
    """Compute the credit risk classes (A–D) by the dated policy; record changed classes and their history."""
    day: date = as_of.date() if as_of is not None else beijing_today()  # type: ignore[attr-defined]
    session = store.session()
    try:
        if full:
            total = count_entities(session)
            with click.progressbar(length=total, label=f"classifying {total:,} entities as of {day}",
                                   file=sys.stderr, show_pos=True) as bar:
                report = classify(session, day, progress=bar.update)
        else:
            report = classify_changed(session, day, progress=lambda n: click.echo(f"  {n:,} classified", err=True))
        session.commit()
    except CreditError as exc:
        session.rollback()
        raise click.ClickException(str(exc)) from exc
    _echo_report(report)


def _echo_report(report: RiskReport) -> None:
    policy = load_risk_policy().on(report.as_of)
    what = "all entities" if report.scope == "full" else "entities changed since the last run"
    click.echo(f"risk classes as of {report.as_of} (policy {report.policy_version}), {what}:")
    for risk_class in policy.classes:
        click.echo(f"  {risk_class.name}  {report.counts.get(risk_class.name, 0):>10,}  {risk_class.label}")
    click.echo(f"  {report.assessed:,} assessed, {report.changed:,} with a new class or score recorded;"
               f" change log covered up to seq {report.last_seq:,}")


@inspections_group.command("explain")
@click.argument("entity")
@click.option("--history", "show_history", is_flag=True, help="also list every earlier recorded class")
@with_appcontext
def explain_command(entity: str, show_history: bool) -> None:
    """Show an entity's latest risk class and the factors behind it (ENTITY: USCC, registration number,
    organisation code or internal id)."""
    session = store.session()
    found = _entity(entity)
    assessment = explain(session, found.id)
    click.echo(f"{found.name or '（无名称）'}  {found.uscc or found.reg_no or found.org_code or ''}  (id {found.id})")
    if assessment is None:
        raise click.ClickException("this entity has not been classified yet; run `gongxin inspections classify`")
    label = load_risk_policy().on(assessment.assessed_on).label_of(assessment.risk_class)
    click.echo(f"class {assessment.risk_class} {label}, score {assessment.score}, as of {assessment.assessed_on}"
               f" (policy {assessment.policy_version})")
    if not assessment.explanation:
        click.echo("  no risk factor scored")
    for item in assessment.explanation:
        click.echo(f"  {item['points']:>+5}  {FAMILY_LABELS.get(item['factor'], item['factor'])}：{item['detail']}")
    click.echo(f"  {assessment.score:>5}  合计")
    if show_history:
        click.echo("history:")
        for past in history(session, found.id):
            click.echo(f"  {past.assessed_on}  {past.risk_class}  {past.score:>4}  {past.policy_version}")


def _entity(identifier: str) -> Entity:
    session = store.session()
    text = identifier.strip()
    try:
        if text.isdigit() and len(text) <= MAX_ID_DIGITS:
            found = session.get(Entity, int(text))
        else:
            found = session.execute(entity_by_identifier(text)).scalar_one_or_none()
    except CreditError as exc:
        raise click.ClickException(str(exc)) from exc
    if found is None:
        raise click.ClickException(f"no entity {identifier}")
    return found



@inspections_group.group("items")
def items_group() -> None:
    """The published inspection list (抽查事项清单): what may be inspected, on which legal basis."""


@items_group.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--basis", default="", help="the legal basis of the item, e.g. 《企业信息公示暂行条例》")
@click.option("--agency", "agency_id", default=None, help="id of the agency owning the item")
@with_appcontext
def items_add_command(code: str, name: str, basis: str, agency_id: str | None) -> None:
    """Add an item to the inspection list, or update the item with this CODE."""
    if not code.strip() or not name.strip():
        raise click.ClickException("an item needs a non-empty CODE and NAME")
    with unit_of_work() as session:
        save_item(session, code.strip(), name.strip(), basis.strip(), agency_id)
    click.echo(f"item {code.strip()} 「{name.strip()}」 saved")


@items_group.command("list")
@with_appcontext
def items_list_command() -> None:
    """List the inspection items: code, name, agency, basis."""
    for item in store.session().scalars(select(InspectionItemRecord).order_by(InspectionItemRecord.code)):
        click.echo(f"{item.code}\t{item.name}\t{item.agency_id or '-'}\t{item.basis}")


@inspections_group.group("inspectors")
def inspectors_group() -> None:
    """The inspector register (执法检查人员名录): officers, their agency, region and declared ties."""


INSPECTOR_COLUMNS = ("id", "name", "agency", "division", "ties")


@inspectors_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def inspectors_import_command(path: Path) -> None:
    """Add or update officers from a UTF-8 CSV with columns id,name,agency,division,ties (ties: USCCs or
    entity ids separated by ;). Bad rows are reported with their row number and reason; good rows are kept."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in INSPECTOR_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise click.ClickException(f"{path}: missing column(s) {', '.join(missing)} "
                                           f"(expected {','.join(INSPECTOR_COLUMNS)})")
            rows = [(reader.line_num, row) for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise click.ClickException(f"{path}: cannot be read as a UTF-8 CSV ({exc})") from exc
    with unit_of_work() as session:
        saved, rejected = _import_inspectors(session, rows)
    click.echo(f"{saved} inspector(s) saved, {len(rejected)} row(s) rejected")
    for line, reason in rejected:
        click.echo(f"  row {line}: {reason}")


def _import_inspectors(session: Session, rows: list[tuple[int, dict[str, Any]]]) -> tuple[int, list[tuple[int, str]]]:
    """Save the good rows; return how many and the (row, reason) of the others."""
    rejected, seen, saved = [], set(), 0
    for line, row in rows:
        values = {c: (row.get(c) or "").strip() for c in INSPECTOR_COLUMNS}
        reason = _inspector_problem(values, seen)
        ties, unknown = _ties(session, values["ties"])
        reason = reason or (f"ties: no entity {', '.join(unknown)}" if unknown else None)
        if reason:
            rejected.append((line, reason))
            continue
        seen.add(values["id"])
        save_inspector(session, values["id"], values["name"], values["agency"], values["division"] or None, ties)
        saved += 1
    return saved, rejected


def _inspector_problem(values: dict[str, str], seen: set[str]) -> str | None:
    if not values["id"] or len(values["id"]) > 64:
        return "id must be 1–64 characters"
    if values["id"] in seen:
        return f"id {values['id']} appears twice in the file"
    if not values["name"] or len(values["name"]) > 200:
        return "name must be 1–200 characters"
    if not values["agency"] or len(values["agency"]) > 64:
        return "agency must be an agency id of 1–64 characters"
    if values["division"] and not (values["division"].isdigit() and len(values["division"]) == 6):
        return f"division {values['division']!r} is not a 6-digit division code"
    return None


def _ties(session: Session, text: str) -> tuple[list[int], list[str]]:
    """Entity ids of the ;-separated USCCs or ids, and the pieces that name no entity."""
    pieces = [p.strip().upper() for p in text.replace("；", ";").split(";") if p.strip()]
    ids = [int(p) for p in pieces if p.isdigit() and len(p) <= MAX_ID_DIGITS]
    usccs = [p for p in pieces if not (p.isdigit() and len(p) <= MAX_ID_DIGITS)]
    found_ids = set(session.scalars(select(Entity.id).where(Entity.id.in_(ids)))) if ids else set()
    by_uscc = dict(session.execute(select(Entity.uscc, Entity.id).where(Entity.uscc.in_(usccs))).tuples().all()) \
        if usccs else {}
    unknown = [str(i) for i in ids if i not in found_ids] + [u for u in usccs if u not in by_uscc]
    return sorted(found_ids | set(by_uscc.values())), unknown


@inspectors_group.command("list")
@click.option("--agency", "agency_id", default=None, help="only this agency's officers")
@with_appcontext
def inspectors_list_command(agency_id: str | None) -> None:
    """List the officers: id, name, agency, division, active, number of declared ties."""
    query = select(InspectorRecord).order_by(InspectorRecord.id)
    if agency_id:
        query = query.where(InspectorRecord.agency_id == agency_id)
    for officer in store.session().scalars(query):
        click.echo(f"{officer.id}\t{officer.name}\t{officer.agency_id}\t{officer.division_code or '-'}\t"
                   f"{'active' if officer.active else 'inactive'}\t{len(officer.declared_ties)} tie(s)")


@inspections_group.command("result")
@click.argument("task_id", type=int)
@click.option("--result", "text", required=True, help="the result as published, e.g. 未发现问题")
@click.option("--on", "on", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="the day of the inspection (YYYY-MM-DD)")
@click.option("--by", "recorded_by", default="cli", show_default=True, help="who records it (kept in the audit trail)")
@with_appcontext
def result_command(task_id: int, text: str, on: Any, recorded_by: str) -> None:
    """Record (or correct) a drawn task's result and publish it on the entity's public profile at once."""
    today = beijing_today()
    with unit_of_work() as session:
        task = record_result(session, task_id, text, on.date(), today=today, recorded_by=recorded_by)
    click.echo(f"task {task.id}: result of {task.result_on} published on {task.published_on} "
               f"(due by {publication_due(on.date())})")


@inspections_group.command("overdue")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="the day to check as of (YYYY-MM-DD; default: today in Beijing)")
@with_appcontext
def overdue_command(as_of: Any) -> None:
    """List tasks late with their result: published after the policy's working days, or still without one."""
    day = as_of.date() if as_of is not None else beijing_today()
    late = overdue_tasks(store.session(), day)
    for item in late:
        what = ("published on " + str(item.task.published_on) if item.reason == "published-late"
                else "no result yet")
        click.echo(f"{item.task.id}\tplan {item.task.plan_id}\tentity {item.task.entity_id}\t{item.reason}\t"
                   f"due {item.due}\t{what}")
    click.echo(f"{len(late)} overdue task(s) as of {day}")


for _command in PLAN_COMMANDS:
    inspections_group.add_command(_command)
