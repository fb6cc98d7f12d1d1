"""Browser-test fixtures: the demo database built once per session, dashboards served from threads,
one headless Chromium per module, a fresh page per test that records console errors."""

from __future__ import annotations

import io
import logging
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run"]
SCREENSHOTS = Path(os.environ.get("DIPWATCH_SCREENSHOTS") or Path(__file__).parent / "screenshots")


@dataclass
class Served:
    """A dashboard served from a thread: its base URL, its log, and its database file."""

    url: str
    log: io.StringIO
    db_path: Path


@dataclass
class Page:
    """A browser page and the problems it reported (console errors, page errors, dialogs)."""

    page: object
    problems: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def assert_clean(self, served: Served) -> None:
        assert self.dialogs == [], f"a post's markup ran as script: {self.dialogs}"
        log = served.log.getvalue()
        assert self.problems == [], "\n".join(self.problems) + "\n--- server log ---\n" + log


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """The demo database, built once per session (about 8 s)."""
    from dipwatch.jobs.demo import build_demo
    from dipwatch.store import Store

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    with Store(f"sqlite:///{path}") as store:
        build_demo(store)
    return path


def _serve(db_path: Path) -> Iterator[Served]:
    from werkzeug.serving import make_server

    from dashboard.app import create_app
    from dipwatch.core.config import Settings
    from dipwatch.store import Store

    db_url = f"sqlite:///{db_path}"
    log = io.StringIO()
    handler = logging.StreamHandler(log)
    handler.setLevel(logging.WARNING)  # request lines are noise; errors and tracebacks are not
    with Store(db_url) as store:
        app = create_app(Settings(db_url=db_url), store, env={})
        loggers = [logging.getLogger("werkzeug"), app.server.logger]  # Flask logs callback errors
        for logger in loggers:
            logger.addHandler(handler)
        httpd = make_server("127.0.0.1", 0, app.server, threaded=True)
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield Served(f"http://127.0.0.1:{httpd.server_port}", log, db_path)
        finally:
            httpd.shutdown()
            thread.join(timeout=10)
            for logger in loggers:
                logger.removeHandler(handler)


@pytest.fixture(scope="session")
def server(demo_db) -> Iterator[Served]:
    """The demo dashboard, shared by the tests that only read."""
    yield from _serve(demo_db)


@pytest.fixture
def writable_server(demo_db, tmp_path) -> Iterator[Served]:
    """A dashboard on a copy of the demo database, for tests that change outage windows."""
    copy = tmp_path / "demo.db"
    shutil.copyfile(demo_db, copy)
    yield from _serve(copy)


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module: Playwright's sync API allows one running instance per thread,
    and other modules (test_report_html.py) start their own."""
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="playwright is not installed (CI installs it)")
    if not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} is missing (apt-get install -y chromium; CI installs it)"
        print(reason)
        pytest.skip(reason)
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser) -> Iterator[Page]:
    context = browser.new_context(accept_downloads=True, viewport={"width": 1366, "height": 900})
    opened = Page(context.new_page())
    opened.page.on("console", lambda m: m.type == "error" and opened.problems.append(f"console: {m.text}"))
    opened.page.on("pageerror", lambda e: opened.problems.append(f"page error: {e}"))
    opened.page.on("dialog", lambda d: (opened.dialogs.append(d.message), d.dismiss()))
    try:
        yield opened
    finally:
        context.close()


def screenshot(page, name: str) -> None:
    """Save the whole page as ``$DIPWATCH_SCREENSHOTS/<name>.png`` for people to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
