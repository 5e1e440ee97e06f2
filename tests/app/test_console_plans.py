"""The console's 双随机 pages: create (seed shown once), freeze, draw, verify, tamper, results, risk detail, scope."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app import store
from blacklist.tokens import issue_token
from credit.clock import beijing_today
from credit.entities import EntityIds, ensure_entities
from credit.inspection_plans import save_inspector, save_item
from credit.models import AuditEvent, Entity, InspectionPlan, InspectionTask
from credit.risk import classify
from tests.factories import new_uscc
from tests.pages.html import parse

SZ, GZ = "深圳市市场监督管理局", "广州市市场监督管理局"
CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')
SEED = re.compile(r'<code id="seed">([0-9a-f]{64})</code>')
PLAN_NAME = "2026年第一季度双随机抽查"
# 30 entities per stratum (one B classified into A by the real run): D all 30 drawn, C 18, B 6 of 29, A 2 of 31,
# unclassified 6 (at B's ratio): 62 tasks.
RATIOS = {"ratio_A": "0.05", "ratio_B": "0.2", "ratio_C": "0.6", "ratio_D": "1"}
EXPECTED_TASKS = 62


@dataclass(frozen=True)
class Seeded:
    """The tokens' secrets and the entities the console works on."""

    secret: str
    other_agency: str
    usccs: list[str]
    classified: str  # an entity with a real risk assessment
    outside: str  # an entity in Guangzhou, outside the Shenzhen token's region


def seed_console(session: Session) -> Seeded:
    """A Shenzhen and a Guangzhou token; 150 Shenzhen entities across the strata, 2 in Guangzhou;
    inspectors of both agencies, two inspection items, one entity classified for real. Commits."""
    _, secret = issue_token(session, "sz-samr", SZ, ["abnormal"], "4403", "稽查处")
    _, other = issue_token(session, "gz-samr", GZ, ["abnormal"], "4401", "稽查处")
    places = [("440304" if n % 2 else "440305", n) for n in range(150)] + [("440106", 150), ("440106", 151)]
    ids = ensure_entities(session, [EntityIds(uscc=new_uscc(1000 + n, d)) for d, n in places])
    usccs = []
    for (division, n), found in zip(places, ids, strict=True):
        risk_class = (None, "A", "B", "C", "D")[n % 5]
        uscc = new_uscc(1000 + n, division)
        usccs.append(uscc)
        session.execute(update(Entity).where(Entity.id == found.entity_id).values(
            name=f"深圳测试商贸{n}有限公司", risk_class=risk_class, division_code=division, status="存续",
            industry="批发业" if n % 3 else "零售业"))
    for j in range(6):
        save_inspector(session, f"SZ{j:03d}", f"执法员{j}", "sz-samr", "440300")
    save_inspector(session, "GZ001", "广州执法员", "gz-samr", "440100")
    save_item(session, "SZ-001", "营业执照（登记证）规范使用情况的检查", "《市场主体登记管理条例》")
    save_item(session, "SZ-002", "食品经营许可事项检查")
    session.commit()
    classify(session, date(2026, 1, 5), [ids[7].entity_id])
    session.commit()
    return Seeded(secret, other, usccs[:150], usccs[7], usccs[150])


@pytest.fixture
def seeded(app: Flask) -> Seeded:
    """The console's data in the app's store."""
    with app.app_context():
        return seed_console(store.session())


def sign_in(client: FlaskClient, secret: str) -> str:
    """Sign in; return the forms' CSRF value."""
    assert client.post("/console/login", data={"token": secret}).status_code == 302
    found = CSRF.search(client.get("/console/plans").get_data(as_text=True))
    assert found is not None
    return found.group(1)


def new_plan(client: FlaskClient, csrf: str, **changes: object) -> tuple[int, str, str]:
    """Create a plan through the form; return its id, the seed page's seed and the page's HTML."""
    form = {"csrf": csrf, "name": PLAN_NAME, "item": ["SZ-001", "SZ-002"], "region": "4403",
            "industries": "", "own_inspectors": "1", **RATIOS} | changes
    response = client.post("/console/plans", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 201, parse(html).text
    seed = SEED.search(html)
    plan_id = re.search(r"/console/plans/(\d+)", html)
    assert seed is not None and plan_id is not None
    return int(plan_id.group(1)), seed.group(1), html


def plan_page(client: FlaskClient, plan_id: int, query: str = "") -> str:
    response = client.get(f"/console/plans/{plan_id}{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def drawn_plan(client: FlaskClient, csrf: str) -> tuple[int, str]:
    plan_id, seed, _ = new_plan(client, csrf)
    assert client.post(f"/console/plans/{plan_id}/snapshot", data={"csrf": csrf}).status_code == 303
    assert client.post(f"/console/plans/{plan_id}/draw", data={"csrf": csrf, "seed": seed}).status_code == 303
    return plan_id, seed


def no_inline_code(html: str) -> None:
    assert "style=" not in html.lower() and "<script" not in html.lower()
    assert not re.search(r"\son[a-z]+=", html)


def test_a_plan_is_created_frozen_drawn_and_verified(app: Flask, client: FlaskClient, seeded: Seeded) -> None:
    csrf = sign_in(client, seeded.secret)
    form = client.get("/console/plans").get_data(as_text=True)
    text = parse(form).text
    assert "新建抽查计划" in text and "营业执照（登记证）规范使用情况的检查" in text
    assert 'name="ratio_A" value="0.03"' in form and 'name="ratio_D" value="0.7"' in form  # the policy's defaults
    assert "允许 0–0.05" in text and "允许 0.61–1" in text and 'name="region" value="4403"' in form

    plan_id, seed, seed_html = new_plan(client, csrf)
    seed_text = parse(seed_html).text
    assert "只显示这一次" in seed_text and "保密" in seed_text
    with app.app_context():
        plan = store.session().get(InspectionPlan, plan_id)
        assert plan is not None and plan.seed is None and plan.agency_id == "sz-samr"
        commitment = plan.seed_commitment
    assert commitment in seed_html

    page = plan_page(client, plan_id)
    assert seed not in page and commitment in page and "冻结名录（快照）" in page
    assert "待抽取" in parse(page).text and 'action="/console/plans/%d/draw"' % plan_id not in page
    assert client.post(f"/console/plans/{plan_id}/snapshot", data={"csrf": csrf}).status_code == 303
    page = plan_page(client, plan_id, "?notice=snapshot")
    text = parse(page).text
    assert seed not in page and "名录已冻结" in text and 'id="snapshot-hash"' in page
    assert "D 类（高风险） 30 1 30" in text and "A 类（低风险） 31 0.05 2" in text and "未分类 30 0.2 6" in text
    assert client.post(f"/console/plans/{plan_id}/snapshot", data={"csrf": csrf}).status_code == 409

    wrong = "0" * 64
    response = client.post(f"/console/plans/{plan_id}/draw", data={"csrf": csrf, "seed": wrong})
    assert response.status_code == 422 and "与本计划公布的种子承诺值不符" in parse(response.data).text
    response = client.post(f"/console/plans/{plan_id}/draw", data={"csrf": csrf, "seed": "not a seed"})
    assert response.status_code == 422 and "64 位十六进制" in parse(response.data).text
    with app.app_context():
        session = store.session()
        assert session.get(InspectionPlan, plan_id).status == "planned"  # type: ignore[union-attr]
        assert session.scalar(select(func.count()).select_from(InspectionTask)) == 0

    response = client.post(f"/console/plans/{plan_id}/draw", data={"csrf": csrf, "seed": seed.upper()})
    assert response.status_code == 303 and "notice=drawn" in response.headers["Location"]
    page = plan_page(client, plan_id, "?notice=drawn")
    text = parse(page).text
    assert f'<code id="seed">{seed}</code>' in page and 'id="result-hash"' in page and "已抽取" in text
    assert "D 类（高风险） 30 1 30" in text and f"检查任务 {EXPECTED_TASKS}" in text
    assert page.count('<tr id="task-') == 50 and 'href="/console/plans/%d?page=2"' % plan_id in page
    assert len(re.findall(r'<tr id="task-', plan_page(client, plan_id, "?page=2"))) == EXPECTED_TASKS - 50
    assert re.search(r'href="/entities/91\w{16}">深圳测试商贸\d+有限公司</a>', page)
    assert re.search(r'href="/console/entities/91\w{16}">风险详情</a>', page) and "执法员" in text
    assert client.post(f"/console/plans/{plan_id}/draw", data={"csrf": csrf, "seed": seed}).status_code == 409

    response = client.post(f"/console/plans/{plan_id}/verify", data={"csrf": csrf})
    assert response.status_code == 200 and "一致：随机种子与承诺值相符" in parse(response.data).text

    with app.app_context():
        session = store.session()
        task = session.scalars(select(InspectionTask).where(InspectionTask.plan_id == plan_id,
                                                            InspectionTask.status == "assigned")).first()
        assert task is not None
        task.inspector_ids = list(reversed(task.inspector_ids))
        session.commit()
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.target_type == "inspection_plan",
                                                                  AuditEvent.token_id.is_not(None))
                                  .order_by(AuditEvent.id)).all()
    assert actions == ["inspection_plan.create", "inspection_plan.snapshot", "inspection_plan.draw",
                       "inspection_plan.verify"]
    text = parse(client.post(f"/console/plans/{plan_id}/verify", data={"csrf": csrf}).data).text
    assert "不一致" in text and "tasks: 1 stored tasks differ from the result" in text and "一致：随机种子" not in text

    listing = parse(client.get("/console/plans").data).text
    assert f"{plan_id} {PLAN_NAME} 已抽取 {EXPECTED_TASKS} 0" in listing


def test_form_problems_name_the_field_and_create_nothing(app: Flask, client: FlaskClient, seeded: Seeded) -> None:
    csrf = sign_in(client, seeded.secret)
    cases = [({"region": "4401"}, "抽查地区：4401 不在本部门辖区 4403 之内"),
             ({"region": ""}, "抽查地区：请填写地区代码"),
             ({"region": "44x"}, "抽查地区：须为 2、4 或 6 位数字"),
             ({"ratio_A": "0.2"}, "A 类抽查比例：0.2 超出政策允许的范围 0–0.05"),
             ({"ratio_C": "很多"}, "C 类抽查比例：“很多”不是数字"),
             ({"item": []}, "抽查事项：请至少选择一项"),
             ({"item": ["SZ-404"]}, "抽查事项：抽查事项清单中没有编码为 SZ-404 的事项"),
             ({"name": "  "}, "计划名称：请填写计划名称")]
    for changes, message in cases:
        form = {"csrf": csrf, "name": PLAN_NAME, "item": ["SZ-001"], "region": "4403", **RATIOS} | changes
        response = client.post("/console/plans", data=form)
        html = response.get_data(as_text=True)
        assert response.status_code == 422, changes
        assert message in parse(html).text, (changes, parse(html).text)
        assert "计划未创建" in html and not SEED.search(html)
    # What was typed comes back, for the planner to correct.
    response = client.post("/console/plans", data={"csrf": csrf, "name": "我的计划", "item": ["SZ-002"],
                                                  "region": "4401", **RATIOS})
    html = response.get_data(as_text=True)
    assert 'value="我的计划"' in html and 'value="SZ-002" checked' in html and 'name="ratio_D" value="1"' in html
    with app.app_context():
        assert store.session().scalar(select(func.count()).select_from(InspectionPlan)) == 0


def test_a_form_without_csrf_is_refused(app: Flask, client: FlaskClient, seeded: Seeded) -> None:
    csrf = sign_in(client, seeded.secret)
    form = {"name": PLAN_NAME, "item": ["SZ-001"], "region": "4403", **RATIOS}
    assert client.post("/console/plans", data=form).status_code == 400
    assert client.post("/console/plans", data=form | {"csrf": "0" * 64}).status_code == 400
    with app.app_context():
        assert store.session().scalar(select(func.count()).select_from(InspectionPlan)) == 0
    plan_id, seed, _ = new_plan(client, csrf)
    for step in ("snapshot", "draw", "verify"):
        assert client.post(f"/console/plans/{plan_id}/{step}", data={"seed": seed}).status_code == 400
    with app.app_context():
        assert store.session().get(InspectionPlan, plan_id).snapshot_hash is None  # type: ignore[union-attr]


def test_another_agencys_plan_is_not_found(app: Flask, client: FlaskClient, seeded: Seeded) -> None:
    csrf = sign_in(client, seeded.secret)
    plan_id, seed = drawn_plan(client, csrf)
    with app.app_context():
        task_id = store.session().scalar(select(InspectionTask.id).where(InspectionTask.status == "assigned"))
    client.post("/console/logout", data={"csrf": csrf})
    other = app.test_client()
    other_csrf = sign_in(other, seeded.other_agency)
    assert other.get(f"/console/plans/{plan_id}").status_code == 404
    assert PLAN_NAME not in other.get("/console/plans").get_data(as_text=True)
    for step in ("snapshot", "draw", "verify"):
        response = other.post(f"/console/plans/{plan_id}/{step}", data={"csrf": other_csrf, "seed": seed})
        assert response.status_code == 404, step
    response = other.post(f"/console/tasks/{task_id}/result",
                          data={"csrf": other_csrf, "result": "未发现问题", "inspected_on": beijing_today().isoformat()})
    assert response.status_code == 404
    assert other.get(f"/console/entities/{seeded.classified}").status_code == 404  # a Shenzhen entity
    with app.app_context():
        session = store.session()
        assert session.get(InspectionTask, task_id).status == "assigned"  # type: ignore[union-attr]
        assert session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.agency_id == "gz-samr", AuditEvent.action.like("inspection%"))) == 0


def test_a_result_is_recorded_and_published_on_the_profile(app: Flask, client: FlaskClient, seeded: Seeded) -> None:
    csrf = sign_in(client, seeded.secret)
    plan_id, _ = drawn_plan(client, csrf)
    with app.app_context():
        task, uscc = store.session().execute(
            select(InspectionTask.id, Entity.uscc).join(Entity, Entity.id == InspectionTask.entity_id)
            .where(InspectionTask.status == "assigned").order_by(InspectionTask.id)).first()  # type: ignore[misc]
    page = plan_page(client, plan_id)
    assert f'action="/console/tasks/{task}/result"' in page
    today = beijing_today().isoformat()
    response = client.post(f"/console/tasks/{task}/result", data={"csrf": csrf, "result": "", "inspected_on": today})
    assert response.status_code == 422 and f"任务 {task} 的检查结果：请填写" in parse(response.data).text
    response = client.post(f"/console/tasks/{task}/result",
                           data={"csrf": csrf, "result": "未发现问题", "inspected_on": "2999-01-01"})
    assert response.status_code == 422 and "不能晚于今天" in parse(response.data).text
    assert 'value="未发现问题"' in response.get_data(as_text=True)  # the typed result is kept
    response = client.post(f"/console/tasks/{task}/result",
                           data={"csrf": csrf, "result": "未发现问题", "inspected_on": "昨天"})
    assert response.status_code == 422 and f"任务 {task} 的检查日期" in parse(response.data).text
    response = client.post(f"/console/tasks/{task}/result",
                           data={"csrf": csrf, "result": "未发现问题", "inspected_on": today, "page": "1"})
    assert response.status_code == 303 and "notice=recorded" in response.headers["Location"]
    text = parse(client.get(response.headers["Location"]).data).text
    assert "检查结果已记录" in text and f"未发现问题 检查日期 {today}" in text and "已检查 1 户" in text
    section = re.search(r'<section class="part" id="inspections">.*?</section>',
                        client.get(f"/entities/{uscc}").get_data(as_text=True), re.S)
    assert section is not None
    published = parse(section.group(0)).text
    assert "抽查检查结果" in published and "未发现问题" in published and PLAN_NAME in published
    # A recorded result leaves the draw intact.
    verified = client.post(f"/console/plans/{plan_id}/verify", data={"csrf": csrf})
    assert "一致：随机种子与承诺值相符" in parse(verified.data).text
    with app.app_context():
        session = store.session()
        found = session.get(InspectionTask, task)
        assert found is not None and found.status == "done" and found.result_on == date.fromisoformat(today)
        event = session.scalars(select(AuditEvent).where(AuditEvent.target_type == "inspection_task",
                                                         AuditEvent.target_id == str(task))).one()
        assert event.agency_id == "sz-samr" and event.after is not None and "token" in event.after["by"]


def test_the_risk_page_explains_the_score(app: Flask, client: FlaskClient, seeded: Seeded) -> None:
    csrf = sign_in(client, seeded.secret)
    response = client.get(f"/console/entities/{seeded.classified}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    no_inline_code(html)
    points = [int(p) for p in re.findall(r'<td data-label="得分" class="points">([+-]\d+)</td>', html)]
    total = re.search(r'class="points total">(-?\d+)</td>', html)
    score = re.search(r"，(-?\d+) 分，评定日", parse(html).text)
    assert points and total is not None and score is not None
    assert sum(points) == int(total.group(1)) == int(score.group(1))
    assert "分类历史 1" in parse(html).text and "2026-01-05" in html
    assert client.get(f"/console/entities/{seeded.outside}").status_code == 404  # Guangzhou: outside the token
    assert client.get("/console/entities/not-an-id").status_code == 404
    # Once drawn, the entity's tasks of this agency are listed on it.
    plan_id, _ = drawn_plan(client, csrf)
    with app.app_context():
        uscc = store.session().scalar(select(Entity.uscc).join(InspectionTask, InspectionTask.entity_id == Entity.id)
                                      .order_by(InspectionTask.id))
    text = parse(client.get(f"/console/entities/{uscc}").data).text
    assert "本部门的抽查任务 1" in text and f"{PLAN_NAME} " in text and "待检查" in text
    assert client.get(f"/console/plans/{plan_id}").status_code == 200


def test_no_console_page_has_inline_style_or_script(app: Flask, client: FlaskClient, seeded: Seeded) -> None:
    csrf = sign_in(client, seeded.secret)
    pages = [client.get("/console").get_data(as_text=True), client.get("/console/plans").get_data(as_text=True)]
    plan_id, seed, seed_html = new_plan(client, csrf)
    pages += [seed_html, plan_page(client, plan_id)]
    client.post(f"/console/plans/{plan_id}/snapshot", data={"csrf": csrf})
    pages.append(plan_page(client, plan_id))
    wrong = client.post(f"/console/plans/{plan_id}/draw", data={"csrf": csrf, "seed": "f" * 64})
    pages.append(wrong.get_data(as_text=True))
    client.post(f"/console/plans/{plan_id}/draw", data={"csrf": csrf, "seed": seed})
    pages.append(plan_page(client, plan_id))
    pages.append(client.post(f"/console/plans/{plan_id}/verify", data={"csrf": csrf}).get_data(as_text=True))
    pages.append(client.post("/console/plans", data={"csrf": csrf, "region": "99"}).get_data(as_text=True))
    pages.append(client.get(f"/console/entities/{seeded.classified}").get_data(as_text=True))
    for html in pages:
        no_inline_code(html)
        assert 'href="/console/plans">抽查计划</a>' in html  # the nav link
    missing = client.get("/console/plans/999999")
    assert missing.status_code == 404
    no_inline_code(missing.get_data(as_text=True))
