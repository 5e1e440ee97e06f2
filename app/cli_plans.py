"""``gongxin inspections plan … | verify | plans | tasks | sample``: 双随机 plans from the command line.

A plan's life is create → snapshot → draw (→ results); ``verify`` re-runs a draw from the store or
from an exported document alone, so that anyone holding the export can check the lottery.
These commands are added to ``inspections_group`` by app/cli_inspections.py.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask import current_app
from flask.cli import ScriptInfo, with_appcontext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import store
from credit.clock import beijing_today
from blacklist.errors import BlacklistError
from credit.errors import CreditError
from credit.inspection_plans import (
    PlanFilters,
    create_plan,
    draw_plan,
    export_plan,
    stored_snapshot,
    take_snapshot,
    verify_document,
    verify_plan,
)
from credit.inspection_rules import DrawRules
from credit.inspections import Verification
from credit.models import Entity, InspectionPlan, InspectionTask

TASK_STATUSES = ("assigned", "unassigned", "done")
SAMPLE_TOKEN_LABEL = "示例工作台令牌"


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """The command's session, committed at the end; a domain error rolls back and becomes a ClickException."""
    session = store.session()
    try:
        yield session
        session.commit()
    except (CreditError, BlacklistError) as exc:
        session.rollback()
        raise click.ClickException(str(exc)) from exc


@click.group("plan")
def plan_group() -> None:
    """Create a 双随机 plan, freeze its registers, draw it, export it (create → snapshot → draw)."""


def _ratios(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    ratios = {}
    for value in values:
        risk_class, sep, ratio = value.partition("=")
        if not sep or not risk_class.strip() or not ratio.strip():
            raise click.BadParameter(f"{value!r} is not CLASS=RATIO (e.g. A=0.03)")
        ratios[risk_class.strip()] = ratio.strip()
    return ratios


@plan_group.command("create")
@click.option("--name", required=True, help="the plan's name, e.g. 2025年第三季度双随机抽查计划")
@click.option("--agency", "agency_id", required=True, help="id of the agency running the plan")
@click.option("--item", "items", required=True, multiple=True, help="code of an inspection item (repeatable)")
@click.option("--region", default="", help="draw only entities whose division code starts with this (2–6 digits)")
@click.option("--industry", "industries", multiple=True, help="draw only entities of this industry (repeatable)")
@click.option("--ratio", "ratios", multiple=True, callback=_ratios,
              help="CLASS=RATIO, e.g. A=0.03 (repeatable; classes left out take the policy's default)")
@click.option("--local/--any-inspector", "local", default=None,
              help="only inspectors whose region covers the entity (default: the policy's setting)")
@with_appcontext
def create_command(name: str, agency_id: str, items: tuple[str, ...], region: str, industries: tuple[str, ...],
                   ratios: dict[str, str], local: bool | None) -> None:
    """Record a plan and print its seed commitment (publish it now) and its seed (shown once: keep it secret)."""
    with unit_of_work() as session:
        plan, seed = create_plan(session, name, agency_id, items, PlanFilters(region, tuple(industries)),
                                 dict(ratios), local, today=beijing_today())
    click.echo(f"plan {plan.id} 「{plan.name}」 created for {agency_id}; items {', '.join(plan.item_codes)}; "
               f"ratios {', '.join(f'{k}={v}' for k, v in plan.ratios.items())}")
    click.echo(f"seed commitment: {plan.seed_commitment}   (publish it now, with the snapshot hash)")
    click.echo(f"seed: {seed}")
    click.echo("WARNING: keep this seed secret until the draw. It is shown only this once and cannot be read "
               "back; whoever knows it before the draw can predict the targets.", err=True)


@plan_group.command("snapshot")
@click.argument("plan_id", type=int)
@with_appcontext
def snapshot_command(plan_id: int) -> None:
    """Freeze the plan's registers (entities, inspectors, recent inspections, items) once; print the hash to publish."""
    click.echo(f"plan {plan_id}: taking the snapshot of the registers…", err=True)
    with unit_of_work() as session:
        digest = take_snapshot(session, plan_id, today=beijing_today())
        plan = session.get(InspectionPlan, plan_id)
        assert plan is not None
        snapshot, rules = stored_snapshot(plan), DrawRules.from_dict(plan.rules)
    click.echo(f"snapshot hash: {digest}   (publish it beside the seed commitment before the draw)")
    strata = Counter(e.risk_class or rules.unclassified for e in snapshot.entities)
    for name in rules.ratios:
        click.echo(f"  {name:<14}{strata.get(name, 0):>10,} entities")
    click.echo(f"  {len(snapshot.entities):,} entities, {len(snapshot.inspectors):,} inspectors, "
               f"{len(snapshot.recent):,} recent inspections, {len(snapshot.items)} items")


@plan_group.command("draw")
@click.argument("plan_id", type=int)
@click.option("--seed", required=True, prompt="seed", hide_input=True,
              help="the seed printed by `plan create` (prompted for, unechoed, when left out)")
@with_appcontext
def draw_command(plan_id: int, seed: str) -> None:
    """Draw the plan's targets and inspectors with its seed (checked against the commitment); record the tasks."""
    click.echo(f"plan {plan_id}: drawing…", err=True)
    with unit_of_work() as session:
        result = draw_plan(session, plan_id, seed.strip())
    click.echo(f"plan {plan_id} drawn; result hash {result.result_hash}")
    for stratum in result.strata:
        click.echo(f"  {stratum.name:<14}{stratum.size:>10,} entities × {stratum.ratio} → {stratum.drawn:,} drawn")
    click.echo(f"  {len(result.targets):,} targets assigned, {len(result.unassigned):,} unassigned")
    for reason, count in sorted(Counter(u.reason for u in result.unassigned).items()):
        click.echo(f"    unassigned, {reason}: {count:,}")


@plan_group.command("export")
@click.argument("plan_id", type=int)
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True, path_type=Path), default=None,
              help="write the document here (default: standard output)")
@with_appcontext
def export_command(plan_id: int, out: Path | None) -> None:
    """Export a drawn plan as JSON: commitment, seed, snapshot, rules and result, to verify offline."""
    with unit_of_work() as session:
        document = export_plan(session, plan_id)
    text = json.dumps(document, ensure_ascii=False, sort_keys=True, indent=1) + "\n"
    if out is None:
        click.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    click.echo(f"plan {plan_id} written to {out}; anyone can check it with `gongxin inspections verify --file {out}`",
               err=True)


@click.command("verify")
@click.argument("plan_id", type=int, required=False)
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="verify an exported plan document without the database")
def verify_command(plan_id: int | None, path: Path | None) -> None:
    """Re-run a drawn plan's draw (from the store, or from an export with --file); exit 1 naming each problem."""
    if (plan_id is None) == (path is None):
        raise click.UsageError("give either PLAN_ID or --file FILE")
    if path is not None:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise click.ClickException(f"{path}: not a readable JSON document ({exc})") from exc
        _report(f"{path}", verify_document(document))
        return
    app = click.get_current_context().ensure_object(ScriptInfo).load_app()
    with app.app_context(), unit_of_work() as session:
        check = verify_plan(session, plan_id)  # type: ignore[arg-type]
    _report(f"plan {plan_id}", check)


def _report(what: str, check: Verification) -> None:
    if check.ok:
        click.echo(f"{what}: the draw re-runs to the published result; it matches")
        return
    click.echo(f"{what}: does NOT match ({len(check.problems)} problem(s)):")
    for problem in check.problems:
        click.echo(f"  - {problem}")
    sys.exit(1)


@click.command("plans")
@with_appcontext
def plans_command() -> None:
    """List the plans: id, status, agency, name, created, snapshot hash and their tasks by status."""
    session = store.session()
    counts: dict[int, Counter[str]] = {}
    for plan_id, status, n in session.execute(select(InspectionTask.plan_id, InspectionTask.status, func.count())
                                              .group_by(InspectionTask.plan_id, InspectionTask.status)):
        counts.setdefault(plan_id, Counter())[status] = n
    for plan in session.scalars(select(InspectionPlan).order_by(InspectionPlan.id)):
        tally = counts.get(plan.id, Counter())
        tasks = ", ".join(f"{tally[s]} {s}" for s in TASK_STATUSES if tally[s]) or "no tasks"
        click.echo(f"{plan.id}\t{plan.status}\t{plan.agency_id}\t{plan.name}\t{plan.created_at:%Y-%m-%d}\t"
                   f"snapshot {(plan.snapshot_hash or '-')[:12]}\t{tasks}")


@click.command("tasks")
@click.argument("plan_id", type=int)
@click.option("--status", type=click.Choice(TASK_STATUSES), default=None, help="only tasks in this state")
@with_appcontext
def tasks_command(plan_id: int, status: str | None) -> None:
    """List a plan's tasks: task id, status, stratum, entity, inspectors, result (or why unassigned)."""
    session = store.session()
    if session.get(InspectionPlan, plan_id) is None:
        raise click.ClickException(f"no inspection plan {plan_id}")
    query = (select(InspectionTask, Entity.uscc, Entity.name).join(Entity, Entity.id == InspectionTask.entity_id)
             .where(InspectionTask.plan_id == plan_id).order_by(InspectionTask.id))
    if status:
        query = query.where(InspectionTask.status == status)
    for task, uscc, name in session.execute(query):
        outcome = f"{task.result_on} {task.result}" if task.status == "done" else task.reason or ""
        click.echo(f"{task.id}\t{task.status}\t{task.stratum}\t{uscc or task.entity_id}\t{name}\t"
                   f"{','.join(task.inspector_ids) or '-'}\t{outcome}")


@click.command("sample")
@click.option("--if-empty", is_flag=True, help="do nothing when a plan already exists (for `make run`)")
@click.option("--host", default="127.0.0.1", show_default=True, help="host shown in the console address")
@click.option("--port", default=5000, show_default=True, type=int, help="port shown in the console address")
@with_appcontext
def sample_command(if_empty: bool, host: str, port: int) -> None:
    """Sample supervision data on the sample store: items, inspectors, a drawn plan with some results,
    and a console token for a sample agency (written to <instance>/console-token.txt)."""
    from ingest.sample_supervision import SampleError, seed_supervision

    path = Path(current_app.instance_path) / "console-token.txt"
    with unit_of_work() as session:
        if if_empty and session.scalar(select(func.count()).select_from(InspectionPlan)):
            click.echo("inspection plans already exist; sample supervision data left as it is")
            if path.exists():
                click.echo(f"console: http://{host}:{port}/console — sign in with the token in instance/{path.name}")
            return
        try:
            report = seed_supervision(session, beijing_today(), progress=lambda m: click.echo(m, err=True))
        except SampleError as exc:
            raise click.ClickException(str(exc)) from exc
        secret = _sample_token(session, report.agency_id, report.agency_name, report.region)
    for line in report.lines():
        click.echo(line)
    if secret is not None:
        _write_secret(path, secret)
    elif not path.exists():
        click.echo(f"a token labelled {SAMPLE_TOKEN_LABEL} exists but {path} does not; its secret cannot be shown "
                   "again: issue one with `gongxin tokens issue`", err=True)
        return
    click.echo(f"console: http://{host}:{port}/console — sign in with the token in instance/{path.name}")


def _sample_token(session: Session, agency_id: str, agency_name: str, region: str) -> str | None:
    """A console token for the sample agency, unless one with the sample label exists; its secret or None."""
    from blacklist.tokens import issue_token
    from credit.models import ApiToken

    if session.scalar(select(ApiToken.id).where(ApiToken.label == SAMPLE_TOKEN_LABEL).limit(1)) is not None:
        return None
    _token, secret = issue_token(session, agency_id, agency_name, ["abnormal", "serious-illegal"], region,
                                 SAMPLE_TOKEN_LABEL)
    return secret


def _write_secret(path: Path, secret: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secret + "\n")
    os.chmod(path, 0o600)


PLAN_COMMANDS = (plan_group, verify_command, plans_command, tasks_command, sample_command)
