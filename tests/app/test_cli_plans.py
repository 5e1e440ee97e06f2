"""``gongxin inspections items | inspectors | plan | verify | plans | tasks | result | overdue`` end to end."""

from __future__ import annotations

import base64
import json
import re
import zlib
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from credit.clock import beijing_today
from credit.models import Entity, Fact, InspectionPlan, InspectionTask, InspectorRecord
from tests.factories import make_entity, new_uscc

Cli = Callable[..., Result]
AGENCY = "sz-amr"


def _entities(session: Session, count: int = 30) -> list[int]:
    """Shenzhen entities of class D (all drawn at ratio 1), and a few of class A."""
    ids = [make_entity(session, n, name=f"深圳市南山区星河{n}号科技有限公司", status="存续") for n in range(count)]
    session.execute(update(Entity).where(Entity.id.in_(ids[:count - 4])).values(risk_class="D"))
    session.execute(update(Entity).where(Entity.id.in_(ids[count - 4:])).values(risk_class="A"))
    session.commit()
    return ids


def _registers(cli: Cli, session: Session, tmp_path: Path) -> list[int]:
    ids = _entities(session)
    for code, name in (("SC-01", "企业公示信息抽查"), ("SC-02", "广告发布行为检查")):
        added = cli("inspections", "items", "add", code, name, "--basis", "国办发〔2015〕58号", "--agency", AGENCY)
        assert added.exit_code == 0, added.output
    csv = tmp_path / "inspectors.csv"
    rows = ["id,name,agency,division,ties"]
    rows += [f"SZZF{n:04d},{name},{AGENCY},440305,{new_uscc(n) if n < 2 else ''}"
             for n, name in enumerate(["王建国", "李秀英", "张伟", "刘芳", "陈静", "杨磊", "赵敏", "黄勇"])]
    rows += [f"SZZF0100,周杰,{AGENCY},44030,", f"SZZF0101,吴娟,{AGENCY},440305,{new_uscc(999)}",
             f"SZZF0000,重复,{AGENCY},440305,", f"SZZF0102,郑涛,{AGENCY},440305,{ids[3]};{ids[4]}"]
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    imported = cli("inspections", "inspectors", "import", str(csv))
    assert imported.exit_code == 0, imported.output
    assert "9 inspector(s) saved, 3 row(s) rejected" in imported.output
    assert "row 10: division '44030' is not a 6-digit division code" in imported.output
    assert f"row 11: ties: no entity {new_uscc(999)}" in imported.output
    assert "row 12: id SZZF0000 appears twice in the file" in imported.output
    tied = session.get(InspectorRecord, "SZZF0102")
    assert tied is not None and tied.declared_ties == sorted([ids[3], ids[4]])
    assert session.get(InspectorRecord, "SZZF0000").declared_ties == [ids[0]]  # type: ignore[union-attr]
    session.rollback()  # end the read, so that the commands can write to the SQLite file
    return ids


def _created(cli: Cli) -> tuple[int, str]:
    created = cli("inspections", "plan", "create", "--name", "2025年第三季度深圳市双随机抽查计划", "--agency", AGENCY,
                  "--item", "SC-01", "--item", "SC-02", "--region", "4403", "--ratio", "D=1", "--ratio", "A=0.05")
    assert created.exit_code == 0, created.output
    plan_id = int(re.search(r"plan (\d+) 「", created.output).group(1))  # type: ignore[union-attr]
    seed = re.search(r"^seed: ([0-9a-f]{64})$", created.output, re.M).group(1)  # type: ignore[union-attr]
    assert re.search(r"seed commitment: [0-9a-f]{64}", created.output)
    assert "keep this seed secret until the draw" in created.output
    return plan_id, seed


def _drawn(cli: Cli, session: Session, tmp_path: Path) -> tuple[int, str]:
    _registers(cli, session, tmp_path)
    plan_id, seed = _created(cli)
    snapshot = cli("inspections", "plan", "snapshot", str(plan_id))
    assert snapshot.exit_code == 0, snapshot.output
    assert re.search(r"snapshot hash: [0-9a-f]{64}", snapshot.output)
    assert re.search(r"D\s+26 entities", snapshot.output) and "30 entities, 9 inspectors" in snapshot.output
    wrong = cli("inspections", "plan", "draw", str(plan_id), "--seed", "0" * 64)
    assert wrong.exit_code == 1 and "does not match the published commitment" in wrong.output
    drawn = cli("inspections", "plan", "draw", str(plan_id), "--seed", seed)
    assert drawn.exit_code == 0, drawn.output
    assert re.search(r"D\s+26 entities × 1 → 26 drawn", drawn.output)
    assert "targets assigned" in drawn.output
    return plan_id, seed


def test_a_plan_is_created_snapshotted_drawn_and_verifies_until_its_tasks_are_tampered_with(
        cli: Cli, session: Session, tmp_path: Path) -> None:
    plan_id, _seed = _drawn(cli, session, tmp_path)
    verified = cli("inspections", "verify", str(plan_id))
    assert verified.exit_code == 0 and "matches" in verified.output, verified.output
    session.rollback()
    listed = cli("inspections", "plans")
    assert f"{plan_id}\tdrawn\t{AGENCY}\t2025年第三季度深圳市双随机抽查计划" in listed.output
    task = session.scalars(select(InspectionTask).where(InspectionTask.plan_id == plan_id,
                                                         InspectionTask.status == "assigned")).first()
    assert task is not None
    session.execute(update(InspectionTask).where(InspectionTask.id == task.id).values(inspector_ids=["SZZF0007", "X"]))
    session.commit()
    tampered = cli("inspections", "verify", str(plan_id))
    assert tampered.exit_code == 1 and "does NOT match" in tampered.output
    assert f"entity {task.entity_id}" in tampered.output and "tasks:" in tampered.output


def test_a_changed_snapshot_in_the_store_fails_verification_naming_it(cli: Cli, session: Session,
                                                                       tmp_path: Path) -> None:
    plan_id, _seed = _drawn(cli, session, tmp_path)
    plan = session.get(InspectionPlan, plan_id)
    assert plan is not None and plan.snapshot is not None
    data = json.loads(zlib.decompress(base64.b64decode(plan.snapshot)))
    data["entities"]["rows"][0][-1] = "深圳市被改名的公司"
    packed = base64.b64encode(zlib.compress(json.dumps(data, ensure_ascii=False).encode())).decode()
    session.execute(update(InspectionPlan).where(InspectionPlan.id == plan_id).values(snapshot=packed))
    session.commit()
    tampered = cli("inspections", "verify", str(plan_id))
    assert tampered.exit_code == 1 and "snapshot: its hash" in tampered.output, tampered.output


def test_an_exported_plan_verifies_offline_and_an_edited_export_does_not(cli: Cli, session: Session,
                                                                         tmp_path: Path) -> None:
    plan_id, seed = _drawn(cli, session, tmp_path)
    out = tmp_path / "plan.json"
    exported = cli("inspections", "plan", "export", str(plan_id), "--out", str(out))
    assert exported.exit_code == 0, exported.output
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["seed"] == seed and document["snapshot_hash"] == document["result"]["snapshot_hash"]
    assert {"seed_commitment", "snapshot", "rules", "result", "result_hash"} <= set(document)
    ok = cli("inspections", "verify", "--file", str(out))
    assert ok.exit_code == 0 and "matches" in ok.output, ok.output
    for edit, named in ((lambda d: d["snapshot"]["inspectors"]["rows"].pop(), "snapshot: its hash"),
                        (lambda d: d.update(seed="1" * 64), "seed: its hash"),
                        (lambda d: d["result"]["targets"].pop(), "result: its hash")):
        changed = json.loads(out.read_text(encoding="utf-8"))
        edit(changed)
        path = tmp_path / "edited.json"
        path.write_text(json.dumps(changed, ensure_ascii=False), encoding="utf-8")
        failed = cli("inspections", "verify", "--file", str(path))
        assert failed.exit_code == 1 and named in failed.output, failed.output
    both = cli("inspections", "verify", str(plan_id), "--file", str(out))
    assert both.exit_code == 2 and "either PLAN_ID or --file" in both.output


def test_results_are_recorded_listed_and_refused_from_the_command_line(cli: Cli, session: Session,
                                                                       tmp_path: Path) -> None:
    plan_id, _seed = _drawn(cli, session, tmp_path)
    task = session.scalars(select(InspectionTask).where(InspectionTask.plan_id == plan_id,
                                                         InspectionTask.status == "assigned")).first()
    assert task is not None
    task_id, entity_id, inspectors = task.id, task.entity_id, task.inspector_ids
    entity = session.get(Entity, entity_id)
    assert entity is not None
    uscc, name = entity.uscc, entity.name
    session.rollback()
    today = beijing_today()
    recorded = cli("inspections", "result", str(task_id), "--result", "未发现问题", "--on", today.isoformat())
    assert recorded.exit_code == 0, recorded.output
    assert f"task {task_id}: result of {today} published on {today}" in recorded.output
    fact = session.scalars(select(Fact).where(Fact.source == "inspection-plan")).one()
    assert fact.body["result"] == "未发现问题" and fact.entity_id == entity_id
    session.rollback()
    future = cli("inspections", "result", str(task_id), "--result", "未发现问题", "--on",
                 (today + timedelta(days=1)).isoformat())
    assert future.exit_code == 1 and "after today" in future.output
    unknown = cli("inspections", "result", "999999", "--result", "未发现问题", "--on", today.isoformat())
    assert unknown.exit_code == 1 and "no inspection task 999999" in unknown.output
    done = cli("inspections", "tasks", str(plan_id), "--status", "done")
    assert done.output.splitlines() == [f"{task_id}\tdone\tD\t{uscc}\t{name}\t{','.join(inspectors)}\t{today} 未发现问题"]
    assert len(cli("inspections", "tasks", str(plan_id)).output.splitlines()) == 26  # A: 0.05 × 4 rounds to 0
    pending = session.scalars(select(InspectionTask.id).where(InspectionTask.plan_id == plan_id,
                                                                InspectionTask.status == "assigned")).all()
    session.rollback()
    assert cli("inspections", "overdue").output.strip() == f"0 overdue task(s) as of {today}"
    later = today + timedelta(days=365)
    overdue = cli("inspections", "overdue", "--as-of", later.isoformat())
    assert overdue.exit_code == 0 and f"{len(pending)} overdue task(s) as of {later}" in overdue.output
    assert {int(line.split("\t")[0]) for line in overdue.output.splitlines()[:-1]} == set(pending)


def test_items_and_inspectors_are_listed_and_a_file_without_the_columns_is_refused(cli: Cli, session: Session,
                                                                                   tmp_path: Path) -> None:
    _registers(cli, session, tmp_path)
    items = cli("inspections", "items", "list")
    assert items.output.splitlines()[0] == f"SC-01\t企业公示信息抽查\t{AGENCY}\t国办发〔2015〕58号"
    officers = cli("inspections", "inspectors", "list", "--agency", AGENCY)
    assert len(officers.output.splitlines()) == 9 and "SZZF0102\t郑涛\tsz-amr\t440305\tactive\t2 tie(s)" in officers.output
    bad = tmp_path / "bad.csv"
    bad.write_text("id,name,agency\nX,王五,sz-amr\n", encoding="utf-8")
    refused = cli("inspections", "inspectors", "import", str(bad))
    assert refused.exit_code == 1 and "missing column(s) division, ties" in refused.output
    unknown = cli("inspections", "plan", "create", "--name", "x", "--agency", AGENCY, "--item", "NOPE")
    assert unknown.exit_code == 1 and "unknown: ['NOPE']" in unknown.output
    ratio = cli("inspections", "plan", "create", "--name", "x", "--agency", AGENCY, "--item", "SC-01", "--ratio", "A")
    assert ratio.exit_code == 2 and "CLASS=RATIO" in ratio.output


@pytest.mark.parametrize("command", [
    ("plan", "create"), ("plan", "snapshot"), ("plan", "draw"), ("plan", "export"), ("verify",), ("plans",),
    ("tasks",), ("result",), ("overdue",), ("items", "add"), ("inspectors", "import"), ("sample",),
])
def test_every_command_explains_itself(cli: Cli, command: tuple[str, ...]) -> None:
    shown = cli("inspections", *command, "--help")
    assert shown.exit_code == 0 and len(shown.output.splitlines()) > 4
