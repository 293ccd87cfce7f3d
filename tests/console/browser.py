"""What every browser test of the console shares: Debian's chromium driven by Playwright, the API in a
uvicorn process of its own, a 1280x800 tab that fails the test on an unexpected console error, and
the steps every test takes (sign in, a screenshot, no sideways scrolling). The fixtures are in
conftest.py."""
from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from playwright.sync_api import Page, expect

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "console"
CHROMIUM = os.environ.get("PULSE_CHROMIUM", "/usr/bin/chromium")
# As root, in a closed network: no sandbox, and none of Chromium's own background connections.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
# Chromium logs every 4xx answer as a console error; the steps that expect one (a wrong key, a
# cancel that races the job's end) are the only ones allowed. A test that provokes another status on
# purpose says so with @pytest.mark.console_errors("422").
EXPECTED_STATUSES = ("401", "409")
FAILED_LOAD = "Failed to load resource: the server responded with a status of "


def expected_console_errors(*statuses: str) -> re.Pattern[str]:
    return re.compile(re.escape(FAILED_LOAD) + "(" + "|".join(EXPECTED_STATUSES + statuses) + ")")


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, key: str) -> None:
    page.goto("/")
    page.get_by_label("API key or token").fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("tenant")).to_be_visible()


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280, f"the page is {width} px wide in a 1280 px window: something scrolls sideways"




class ApiContract:
    """The API's routes as its OpenAPI document declares them, to check every call the console makes:
    a path and method that exist, and only query parameters the route takes (FastAPI ignores an unknown
    one silently, so a misspelt filter would show unfiltered data)."""

    def __init__(self, spec: dict):
        self.routes = []
        for template, methods in spec["paths"].items():
            pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")
            for method, operation in methods.items():
                params = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
                self.routes.append((pattern, method.upper(), template, params))

    def problem(self, method: str, url: str) -> str | None:
        """What is wrong with this call, or None when the API documents it."""
        parts = urlsplit(url)
        if not parts.path.startswith("/api/v1/"):
            return None
        matches = [r for r in self.routes if r[0].match(parts.path) and r[1] == method]
        if not matches:
            return f"{method} {parts.path}: no such route in the API"
        # The most specific template wins (a literal segment over a {parameter}).
        _, _, template, params = max(matches, key=lambda r: r[2].count("/") * 100 - r[2].count("{"))
        unknown = sorted({name for name, _ in parse_qsl(parts.query, keep_blank_values=True)} - params)
        return f"{method} {template}: query parameters the route does not take: {unknown}" if unknown else None
