"""``/`` (search box, counts, freshness) and ``/sources`` (each source's agency, last run, counts, rejects)."""

from __future__ import annotations

import random
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert

from app import store
from credit.entities import EntityIds, ensure_entities
from credit.identifiers import generate_uscc
from credit.models import Entity

from tests.pages import data
from tests.pages.html import parse


def test_home_has_the_search_box_the_counts_and_each_sources_freshness(client: FlaskClient,
                                                                       seeded: data.Seeded) -> None:
    response = client.get("/")
    assert response.status_code == 200
    page = parse(response.data)
    assert any(f.get("action") == "/search" and f.get("method") == "get" for f in page.tags("form"))
    assert any(i.get("name") == "q" for i in page.tags("input"))
    text = page.text
    # 30 from the ingested file (its bad row rejected) and 5 more: nothing counted twice.
    assert "35 市场主体" in text
    assert "2 经营异常名录" in text and "1 严重违法失信名单" in text and "1 失信被执行人名单" in text
    assert "0 重大税收违法失信主体名单" in text and "1 纳税信用A级纳税人名单" in text
    assert f"samr-registration {data.AGENCY}" in text and "成功" in text
    assert f"samr-inspection {data.AGENCY}" in text and "失败" in text
    assert f"tax-sz {data.TAX_AGENCY} 尚未运行" in text


def test_home_on_an_empty_store(client: FlaskClient) -> None:
    text = parse(client.get("/").data).text
    assert "0 市场主体" in text and "尚无数据来源" in text


def test_sources_show_counts_rejected_rows_and_failures(client: FlaskClient, seeded: data.Seeded,
                                                        tmp_path: Path) -> None:
    response = client.get("/sources")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    text = parse(body).text
    registration = text[text.index("samr-registration"):text.index("samr-inspection")]
    assert f"报送部门 {data.AGENCY}" in registration and "文件 reg-2026-11-27.csv" in registration
    assert "读取 新增 更新 未变 撤回 拒收 待匹配 补匹配 31 30 0 0 0 1 0 0" in registration
    assert "拒收的行按字段：统一社会信用代码 1 行" in registration
    inspection = text[text.index("samr-inspection"):text.index("tax-sz")]
    # The failure is told in Chinese; the technical message stays under 技术详情.
    assert "失败原因 文件缺少本来源映射所需的列，整份文件未导入 技术详情" in inspection
    assert "missing columns 检查结果" in inspection
    assert "最近一次运行 尚未运行" in text[text.index("tax-sz"):]
    assert str(tmp_path) not in body  # where files live on the server is not the public's business


def test_home_counts_follow_the_change_log_and_are_not_recounted_without_it(
        app: Flask, client: FlaskClient, seeded: data.Seeded) -> None:
    assert "35 市场主体" in parse(client.get("/").data).text
    with app.app_context():
        session = store.session()
        # A row written behind the change log's back: the counts are kept, not recounted per visit.
        session.execute(insert(Entity).values(name="未记入变更日志的测试有限公司", name_norm="未记入变更日志的测试有限公司"))
        session.commit()
    assert "35 市场主体" in parse(client.get("/").data).text
    with app.app_context():
        session = store.session()
        ensure_entities(session, [EntityIds(uscc=generate_uscc(random.Random(7), division_code="440300"))])
        session.commit()
    # A logged write moves the log: both new entities are counted now.
    assert "37 市场主体" in parse(client.get("/").data).text
