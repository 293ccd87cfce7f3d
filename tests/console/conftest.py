"""Fixtures of the browser tests: the API in a uvicorn process (module-wide), Debian's chromium, and
a fresh 1280x800 tab per test that fails it on an unexpected console error or on a call to the API
that its OpenAPI document does not declare."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from api.main import app
from tests.console.browser import CHROMIUM, CHROMIUM_ARGS, ApiContract, expected_console_errors
from tests.servers import running_api

API_CONTRACT = ApiContract(app.openapi())


def pytest_configure(config):
    config.addinivalue_line("markers", "console_errors(*statuses): HTTP statuses a browser test provokes on purpose")


@pytest.fixture(scope="module")
def console_url(database, tmp_path_factory):
    """The API (and the console it serves) in a uvicorn process of its own, as an operator runs it."""
    with running_api(os.environ.copy(), tmp_path_factory.mktemp("console") / "uvicorn.log") as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no browser at {CHROMIUM}: install Debian's chromium (apt-get install chromium), as .ci/run does")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, console_url, request):
    """A fresh 1280x800 tab that records console errors; the test fails on any it did not expect."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=console_url)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    calls: list[tuple[str, str]] = []
    tab.on("request", lambda req: calls.append((req.method, req.url)))
    tab.set_default_timeout(30_000)
    yield tab
    context.close()
    marker = request.node.get_closest_marker("console_errors")
    expected = expected_console_errors(*(marker.args if marker else ()))
    unexpected = [e for e in errors if not expected.search(e)]
    assert not unexpected, f"console errors: {unexpected}"
    # Every call the console made is one the API documents (this replaces the old /dashboard page's
    # static check of its script's routes).
    problems = sorted({p for p in (API_CONTRACT.problem(method, url) for method, url in calls) if p})
    assert not problems, f"the console called what the API does not document: {problems}"
