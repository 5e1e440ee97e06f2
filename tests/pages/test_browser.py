"""The pages in real headless Chromium (Debian's ``chromium``, driven by playwright) against a real server.

The server is werkzeug on 127.0.0.1 with a free port, on a SQLite store seeded as in
``tests.pages.data`` and a real search index. Every page is watched for dialogs (a script that
ran), console errors (a CSP violation among them), script errors and requests that leave the
machine. These tests fail, not skip, when Chromium is missing: ``make test`` installs it.
They also write the screenshots that README.md shows (docs/screenshots/).
"""

from __future__ import annotations

import io
import os
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, Route, ViewportSize, sync_playwright
from pypdf import PdfReader
from werkzeug.serving import make_server

from app import create_app, search, store
from config import Settings
from credit.db import make_engine
from credit.schema import upgrade
from search_index.maintain import rebuild
from tests.pages import data

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# The pages show run times and ages, so every run draws slightly different pixels: the README's
# screenshots are rewritten only when asked (``make screenshots``), into a scratch folder otherwise.
SCREENSHOTS_WANTED = os.environ.get("GONGXIN_SCREENSHOTS") == "1"
T = TypeVar("T")


@dataclass(frozen=True)
class Served:
    """The running server: its base URL and what it holds."""

    url: str
    seeded: data.Seeded


@dataclass
class Watched:
    """A browser page and everything suspicious it saw."""

    page: Page
    base: str
    problems: list[str] = field(default_factory=list)

    def go(self, path: str) -> None:
        """Open a path of the server and wait until it has loaded."""
        self.page.goto(self.base + path)

    def check(self) -> None:
        """No dialog, no script error, no policy violation, no request off the machine, no script element."""
        assert self.problems == []
        assert self.page.locator("script").count() == 0


def serve(root: Path, seed: Callable[[Path], T]) -> Iterator[tuple[str, T]]:
    """The app on a new SQLite store under ``root``, filled by ``seed`` inside an app context, served
    over HTTP on a free loopback port: yields (base URL, what ``seed`` returned), then stops it."""
    url = f"sqlite:///{root / 'store.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    app = create_app(Settings(database_url=url, index_dir=root / "index", sources=root / "sources.toml",
                              testing=True))
    with app.app_context():
        seeded = seed(root)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", seeded
    server.shutdown()
    thread.join(10)
    with app.app_context():
        store.engine().dispose()


def _seed_pages(root: Path) -> data.Seeded:
    seeded = data.build(store.session_factory(), root)
    rebuild(store.session(), search.index())
    return seeded


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The app on a seeded SQLite store with a real index, served over HTTP on a free loopback port."""
    for base, seeded in serve(tmp_path_factory.mktemp("browser"), _seed_pages):
        yield Served(base, seeded)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium from the system; its absence is a failure, never a skip."""
    assert CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK), \
        "Chromium is missing at /usr/bin/chromium: `make test` installs it (apt-get install chromium fonts-wqy-zenhei)"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield chromium
        chromium.close()


def _watch(browser: Browser, base: str, viewport: ViewportSize) -> Iterator[Watched]:
    context = browser.new_context(viewport=viewport, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    watched = Watched(page, base)

    def dialog(d: Dialog) -> None:
        watched.problems.append(f"dialog: {d.message}")
        d.dismiss()

    def console(message: ConsoleMessage) -> None:
        # Error pages answer 400/404 on purpose; anything else logged as an error is a problem.
        if message.type == "error" and "the server responded with a status of" not in message.text:
            watched.problems.append(f"console: {message.text}")

    def leave(route: Route) -> None:
        if route.request.url.startswith(base + "/") or route.request.url.startswith("data:"):
            route.continue_()
        else:
            watched.problems.append(f"request off the machine: {route.request.url}")
            route.abort()

    page.on("dialog", dialog)
    page.on("console", console)
    page.on("pageerror", lambda exc: watched.problems.append(f"page error: {exc}"))
    context.route("**/*", leave)
    yield watched
    context.close()


@pytest.fixture
def desktop(browser: Browser, served: Served) -> Iterator[Watched]:
    """A desktop-sized page (1280×800) with its watchers."""
    yield from _watch(browser, served.url, DESKTOP)


def test_search_results_profile_and_credit_report(desktop: Watched, served: Served) -> None:
    page = desktop.page
    desktop.go("/")
    page.fill("input[name=q]", "腾云")
    page.press("input[name=q]", "Enter")
    page.wait_for_url("**/search?q=*")
    hit = page.locator("li.hit").first
    assert hit.locator("h2").inner_text() == data.MAIN_NAME
    assert hit.locator("mark").all_inner_texts() == ["腾云"]
    assert served.seeded.main in hit.inner_text()
    hit.locator("h2 a").click()
    page.wait_for_url(f"**/entities/{served.seeded.main}")
    assert page.locator("h1").inner_text() == data.MAIN_NAME
    assert data.FORMER_NAME in page.locator("#basic").inner_text()
    desktop.check()
    page.get_by_role("link", name="信用报告").click()
    page.wait_for_url(f"**/entities/{served.seeded.main}/report")
    assert page.locator("h1").inner_text().replace(" ", "") == "企业信用报告"
    assert page.locator(".report-title .subject").inner_text() == data.MAIN_NAME
    assert data.OPEN_DECISION in page.locator("#penalties").inner_text()
    with page.expect_download() as info:
        page.get_by_role("link", name="下载 PDF").click()
    pdf = Path(info.value.path()).read_bytes()
    reader = PdfReader(io.BytesIO(pdf))
    text = "".join("".join((p.extract_text() or "").split()) for p in reader.pages)
    assert "企业信用报告" in text and data.MAIN_NAME in text and data.OPEN_DECISION in text
    assert data.EXPIRED_DECISION not in text
    assert any(str(f.get_object()["/BaseFont"]) == "/STSong-Light"
               for p in reader.pages for f in p["/Resources"]["/Font"].values())
    desktop.check()


def test_pagination_keeps_the_filters(desktop: Watched) -> None:
    page = desktop.page
    desktop.go("/search?q=科技")
    page.fill("input[name=region]", "44")
    page.press("input[name=q]", "Enter")
    page.wait_for_url("**region=44**")
    assert "共找到 27 家企业" in page.locator(".summary").inner_text()
    first = page.locator("li.hit h2").all_inner_texts()
    page.get_by_role("link", name="下一页").click()
    page.wait_for_url("**page=2**")
    query = parse_qs(urlsplit(page.url).query)
    assert query["q"] == ["科技"] and query["region"] == ["44"] and query["page"] == ["2"]
    assert "当前第 21–27 家" in page.locator(".summary").inner_text()
    second = page.locator("li.hit h2").all_inner_texts()
    assert len(first) == 20 and len(second) == 7 and not set(first) & set(second)
    assert all("广东省" in m for m in page.locator("li.hit .meta").all_inner_texts())
    assert page.locator("input[name=region]").input_value() == "44"
    desktop.check()


@pytest.mark.parametrize("query, name", [("测试贸易", data.SCRIPT_NAME), ("恶意名称", data.IMG_NAME)])
def test_hostile_names_render_as_text_and_run_nothing(desktop: Watched, served: Served, query: str,
                                                      name: str) -> None:
    page = desktop.page
    desktop.go(f"/search?q={query}")
    assert page.locator("li.hit h2").inner_text() == name
    assert page.locator("li.hit img").count() == 0
    page.locator("li.hit h2 a").click()
    page.wait_for_url("**/entities/*")
    assert page.locator("h1").inner_text() == name
    assert page.locator("img").count() == 0
    if name == data.SCRIPT_NAME:
        assert data.HOSTILE_REASON in page.locator("#other-lists").inner_text()
        assert data.HOSTILE_FACTS in page.locator("#penalties").inner_text()
    desktop.check()


def test_profile_hides_the_penalty_whose_publicity_period_ended(desktop: Watched, served: Served) -> None:
    desktop.go(f"/entities/{served.seeded.main}")
    penalties = desktop.page.locator("#penalties")
    assert penalties.locator("article.record").count() == 1
    assert data.OPEN_DECISION in penalties.inner_text()
    assert data.EXPIRED_DECISION not in desktop.page.content()
    assert data.MINOR_DECISION not in desktop.page.content()
    desktop.check()


def test_the_site_works_without_javascript(browser: Browser, served: Served) -> None:
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    page.goto(served.url + "/")
    page.fill("input[name=q]", "黑石")
    page.press("input[name=q]", "Enter")
    page.wait_for_url("**/search?q=*")
    page.locator("li.hit h2 a").click()
    page.wait_for_url(f"**/entities/{served.seeded.serious}")
    assert "严重违法失信名单 在列" in page.locator("#serious").inner_text()
    context.close()


@pytest.mark.parametrize("width, viewport", [("phone", PHONE), ("desktop", DESKTOP)])
def test_screenshots(browser: Browser, served: Served, width: str, viewport: ViewportSize,
                     tmp_path: Path) -> None:
    shots = {"home": "/", "results": "/search?q=科技", "profile": f"/entities/{served.seeded.main}"}
    folder = DOCS_SCREENSHOTS if SCREENSHOTS_WANTED else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    for watched in _watch(browser, served.url, viewport):
        for name, path in shots.items():
            watched.go(path)
            target = folder / f"{name}-{width}.png"
            watched.page.screenshot(path=str(target))
            assert _png_size(target) == (viewport["width"], viewport["height"])
            # The page fits the width: nothing wider than the screen that would force sideways scrolling.
            assert watched.page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        watched.check()


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    return width, height
