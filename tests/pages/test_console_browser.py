"""The regulator console in real headless Chromium: sign in, risk bars, and a 双随机 plan from creation to verification.

Same watchers as the public pages' browser tests (tests/pages/test_browser.py): no dialog, no script
error, no CSP violation, no request off the machine, no script element.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser

from app import store
from tests.app.test_console_plans import PLAN_NAME, RATIOS, Seeded, seed_console
from tests.pages.test_browser import DESKTOP, Watched, _watch, browser, serve  # noqa: F401  (browser is a fixture)


@dataclass(frozen=True)
class Console:
    """The running server and the data it holds."""

    url: str
    seeded: Seeded


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """The app on a SQLite store seeded for the console, served over HTTP on a free loopback port."""
    for base, seeded in serve(tmp_path_factory.mktemp("console-browser"), lambda _root: seed_console(store.session())):
        yield Console(base, seeded)


@pytest.fixture
def desktop(browser: Browser, console: Console) -> Iterator[Watched]:  # noqa: F811
    """A desktop-sized page on the console's server, with its watchers."""
    yield from _watch(browser, console.url, DESKTOP)


def test_sign_in_see_the_bars_and_run_a_plan_to_its_verification(desktop: Watched, console: Console) -> None:
    page = desktop.page
    desktop.go("/console")
    page.wait_for_url("**/console/login**")
    page.fill("input[name=token]", console.seeded.secret)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/console")
    overall = page.locator("table.risk").first
    assert overall.locator("svg rect").count() == 5  # A, B, C, D and unclassified, one bar
    assert page.locator("svg.bar rect").count() >= 15
    desktop.check()

    page.get_by_role("link", name="抽查计划").click()
    page.wait_for_url("**/console/plans")
    page.fill("input[name=name]", PLAN_NAME)
    page.check("input[name=item][value=SZ-001]")
    assert page.locator("input[name=region]").input_value() == "4403"
    for name, value in RATIOS.items():
        page.fill(f"input[name={name}]", value)
    page.get_by_role("button", name="新建抽查计划").click()
    page.wait_for_selector("#seed")
    seed = page.locator("#seed").inner_text().strip()
    assert len(seed) == 64 and "只显示这一次" in page.locator(".seed-warning").inner_text()
    desktop.check()

    page.get_by_role("link", name="已保存种子，前往计划页面").click()
    page.wait_for_url("**/console/plans/*")
    assert seed not in page.content()
    page.get_by_role("button", name="冻结名录（快照）").click()
    page.wait_for_url("**notice=snapshot**")
    assert page.locator("#snapshot-hash").count() == 1
    page.fill("input[name=seed]", "0" * 64)
    page.get_by_role("button", name="抽取", exact=True).click()
    page.wait_for_load_state()
    assert "与本计划公布的种子承诺值不符" in page.locator(".problem").inner_text()
    page.fill("input[name=seed]", seed)
    page.get_by_role("button", name="抽取", exact=True).click()
    page.wait_for_url("**notice=drawn**")
    assert page.locator("#seed").inner_text() == seed
    assert page.locator("table.tasks tbody tr").count() == 50
    page.get_by_role("button", name="验证").click()
    page.wait_for_selector(".verified")
    assert page.locator(".verified").inner_text().startswith("一致")
    desktop.check()
