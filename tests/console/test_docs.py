"""/docs and /redoc render in a real browser with no internet (this machine has none): their scripts
and styles come from the API itself (api/routers/docs.py), not from a CDN."""
from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import expect

from tests.console.browser import shot


def requests_of(page) -> list[str]:
    """Every URL the page asks for from now on."""
    requested: list[str] = []
    page.on("request", lambda req: requested.append(req.url))
    return requested


def outside(requested: list[str], base: str) -> list[str]:
    return [url for url in requested
            if urlsplit(url).netloc != urlsplit(base).netloc and not url.startswith(("data:", "blob:"))]


def test_swagger_ui_renders_the_api_from_local_assets(page, console_url):
    requested = requests_of(page)
    page.goto("/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("pulse-etl")
    expect(page.get_by_text("/api/v1/etl/jobs/{job_id}").first).to_be_visible()
    shot(page, "docs-01-swagger-ui")
    assert not outside(requested, console_url), f"/docs fetched from outside the API: {outside(requested, console_url)}"


def test_redoc_renders_the_api_from_local_assets(page, console_url):
    requested = requests_of(page)
    page.goto("/redoc")
    expect(page.get_by_role("heading", name="pulse-etl").first).to_be_visible()
    shot(page, "docs-02-redoc")
    assert not outside(requested, console_url), f"/redoc fetched from outside the API: {outside(requested, console_url)}"
