"""Browser tests: Playwright drives Debian's Chromium (/usr/bin/chromium) against
pytest-django's live server, or against a real `messagecenter serve` (uvicorn) where a page
must stream (`streaming_server`). Under CI=true a missing Chromium fails instead of
skipping."""

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import connection
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from messagecenter.accounts.models import User
from messagecenter.demo import story
from tests.conftest import IN_CI
from tests.e2e.helpers import STEP_MS
from tests.realtime.servers import Server, running_server

# The sync Playwright API runs an event loop in this thread; Django's ORM calls made by the
# test itself (fixtures, assertions) would otherwise refuse to run next to it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
expect.set_options(timeout=STEP_MS)

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# Every page of every browser test reports what its Content-Security-Policy blocked: an
# inline script or style attribute, a resource from elsewhere. The test fails on any.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportContentSecurityPolicyViolation(
    `${event.effectiveDirective} blocked ${event.blockedURI || "inline"} on ${event.documentURI}`
    + (event.sourceFile ? ` (${event.sourceFile}:${event.lineNumber})` : "")
  );
});
"""


@pytest.fixture
def csp_violations() -> Iterator[list[str]]:
    violations: list[str] = []
    yield violations
    assert violations == [], "Content-Security-Policy violations:\n" + "\n".join(violations)


def watch_content_security_policy(context: BrowserContext, violations: list[str]) -> None:
    context.expose_binding(
        "reportContentSecurityPolicyViolation",
        lambda source, violation: violations.append(str(violation)),
    )
    context.add_init_script(CSP_LISTENER)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        if IN_CI:
            pytest.fail(f"Chromium is required under CI=true and is not at {CHROMIUM}")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _context(
    browser: Browser, violations: list[str], request: pytest.FixtureRequest, **options: Any
) -> BrowserContext:
    context = browser.new_context(**options)
    context.set_default_timeout(STEP_MS)
    watch_content_security_policy(context, violations)
    _keep_a_log(context, request.node, request.fixturename or "browser")
    return context


# What the browser did, for a failing test's report (pytest_runtest_makereport below): a
# step that waited in vain says only what it waited for, not where the page was by then.
BROWSER_LOG = pytest.StashKey[list[str]]()
BROWSER_LOG_STARTED = pytest.StashKey[float]()


def _keep_a_log(context: BrowserContext, node: pytest.Item, name: str) -> None:
    """Each line says which browser (the fixture: page, phone, other_device) and tab, on
    one clock for the whole test, so two devices' steps read in the order they happened."""
    log = node.stash.setdefault(BROWSER_LOG, [])
    started = node.stash.setdefault(BROWSER_LOG_STARTED, time.monotonic())

    def note(line: str) -> None:
        log.append(f"{time.monotonic() - started:7.2f}s {line}")

    def watch(page: Page) -> None:
        tab = f"{name} tab {len(context.pages)}"
        page.on(
            "framenavigated",
            lambda frame: note(f"{tab} at {frame.url}") if frame == page.main_frame else None,
        )
        # A navigation that never gets an answer shows as asked, with nothing after it.
        page.on(
            "request",
            lambda r: (
                note(f"{tab} {r.method} {r.url} asked") if r.resource_type == "document" else None
            ),
        )
        page.on("load", lambda loaded: note(f"{tab} loaded"))
        page.on("requestfailed", lambda r: note(f"{tab} {r.method} {r.url} failed: {r.failure}"))
        page.on(
            "response",
            lambda r: (
                note(f"{tab} {r.request.method} {r.url} → {r.status}")
                if r.status >= 400 or r.request.resource_type == "document"
                else None
            ),
        )
        page.on("console", lambda m: note(f"{tab} console.{m.type}: {m.text}"))
        page.on("pageerror", lambda error: note(f"{tab} script error: {error}"))

    context.on("page", watch)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    log = item.stash.get(BROWSER_LOG, None)
    if report.failed and log:
        report.sections.append(("What the browser did", "\n".join(log[-200:])))
    return report


@pytest.fixture
def page(
    browser: Browser, csp_violations: list[str], request: pytest.FixtureRequest
) -> Iterator[Page]:
    context = _context(browser, csp_violations, request, viewport={"width": 1280, "height": 860})
    yield context.new_page()
    context.close()


@pytest.fixture
def phone(
    browser: Browser, csp_violations: list[str], request: pytest.FixtureRequest
) -> Iterator[Page]:
    context = _context(
        browser,
        csp_violations,
        request,
        viewport={"width": 375, "height": 812},
        is_mobile=True,
        has_touch=True,
    )
    yield context.new_page()
    context.close()


@pytest.fixture
def other_device(
    browser: Browser, csp_violations: list[str], request: pytest.FixtureRequest
) -> Iterator[Page]:
    """A second browser (its own cookies, so its own sign-in): the same person's other
    device, next to `page`."""
    context = _context(browser, csp_violations, request, viewport={"width": 1280, "height": 860})
    yield context.new_page()
    context.close()


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The static files, collected once as an operator's deployment does (2–3 s of CPU,
    which each module's server paid before)."""
    var_dir = tmp_path_factory.mktemp("collected-static")
    subprocess.run(
        [sys.executable, "-m", "messagecenter", "collectstatic", "--noinput", "--verbosity", "0"],
        env={**os.environ, "MESSAGECENTER_VAR_DIR": str(var_dir)},
        check=True,
        timeout=120,
    )
    return var_dir / "static"


@pytest.fixture(scope="module")
def streaming_server(
    tmp_path_factory: pytest.TempPathFactory,
    django_db_setup: None,
    django_db_blocker: Any,
    collected_static: Path,
) -> Iterator[Server]:
    """`messagecenter serve` on a free loopback port, on the test database: the event
    stream really streams here (pytest-django's live server is WSGI, where it polls).
    It serves the collected static files. Checks are an hour apart, so whatever reaches a
    page within the test came by a wake-up."""
    var_dir = tmp_path_factory.mktemp("streaming-server")
    (var_dir / "static").symlink_to(collected_static, target_is_directory=True)
    with (
        django_db_blocker.unblock(),
        running_server(
            var_dir,
            PUBSUB_URL="memory://",
            REALTIME_AUTH_CHECK_SECONDS="3600",
        ) as server,
    ):
        yield server


@pytest.fixture(scope="session")
def _demo_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where this process keeps a copy of its test database with the demo just loaded."""
    return tmp_path_factory.mktemp("demo-database") / "demo.sqlite3"


@pytest.fixture
def demo(transactional_db: None, _demo_database: Path) -> None:
    """The demo marketplace (messagecenter.demo.story.load_demo()) in this test's database,
    which a browser test empties when it ends. Loading it cost each of the two dozen tests
    that start from it 1.4 s of CPU (10 s and more with the two passes of `make test` side
    by side): on SQLite, the first of them in each process loads it and keeps a copy of
    the database, and the others get that copy back with SQLite's backup API (0.1 s), as
    the test databases are copied from their template (tests/databases.py). The copy's
    dates are its load's, minutes old, in a story told in days. On PostgreSQL (--every-test)
    each test loads it."""
    if User.objects.exists():
        pytest.fail("demo starts from an empty database: ask for it before what adds people")
    if connection.vendor != "sqlite":
        story.load_demo()
        return
    test_database = str(connection.settings_dict["NAME"])
    if not _demo_database.exists():
        story.load_demo()
        _back_up(test_database, str(_demo_database))
        return
    _back_up(str(_demo_database), test_database)
    # What this process remembers of the rows it read before: the copy's rows may have the
    # ids of other rows by now, and a cache key with a conversation's id (typing.py) must
    # not reach the copy's one.
    ContentType.objects.clear_cache()
    cache.clear()


def _back_up(source: str, target: str) -> None:
    """SQLite's backup API: a consistent copy (the write-ahead log included) written through
    the target's own pager, so the connections open on it (this test's, the live server's)
    read the new rows at their next query."""
    with closing(sqlite3.connect(source)) as origin, closing(sqlite3.connect(target)) as copy:
        origin.backup(copy)
