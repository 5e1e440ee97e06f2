"""``gongxin inspections``: 双随机 inspection planning and the credit risk classes it draws by.

Each command is a thin wrapper over one domain function; add new ones to ``inspections_group``.
Risk classes are for regulators only: these commands run on the server, never behind a public route.
"""

from __future__ import annotations

import sys
from datetime import date

import click
from flask.cli import with_appcontext

from app import store
from app.jobs import beijing_today
from credit.errors import CreditError
from credit.models import Entity
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

