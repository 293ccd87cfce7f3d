"""Serving the console (api/routers/console.py) from a small fake bundle of the tests' own, so that these
tests do not depend on the real build of ui/: index.html at `/` and at every app URL (history
fallback) with a strict CSP, hashed assets cached for a year, the API's own paths never shadowed, a
clear 503 before the first build, and nothing outside the bundle ever served."""
from __future__ import annotations

import tomllib
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import app
from api.routers import console

INDEX = "<!doctype html><html><head><script type=module src=/assets/index-4f9a1c2b.js></script></head></html>"
SCRIPT = "console.log('console');"
STYLE = "body{margin:0}"
SECRET = "outside the bundle"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; "
       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


@pytest.fixture
def bundle(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "console"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(INDEX)
    (root / "assets" / "index-4f9a1c2b.js").write_text(SCRIPT)
    (root / "assets" / "index-7e3d0a9f.css").write_text(STYLE)
    (root / "assets" / "inter-0a1b2c3d.woff2").write_bytes(b"wOF2")
    (root / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (tmp_path / "secret.txt").write_text(SECRET)
    (tmp_path / "secret").write_text(SECRET)
    (root / "assets" / "link.js").symlink_to(tmp_path / "secret.txt")
    monkeypatch.setattr(console, "CONSOLE_DIR", root)
    return root


@pytest.fixture
def client():
    return TestClient(app)  # no lifespan: these routes need no database


def assert_index(r):
    assert r.status_code == 200, (r.request.url, r.status_code, r.text[:200])
    assert r.text == INDEX
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["content-security-policy"] == CSP
    assert "unsafe-inline" not in r.headers["content-security-policy"]
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", ["/", "/index.html", "/jobs", "/jobs/", f"/jobs/{uuid.uuid4()}", "/integrations",
                                  f"/integrations/{uuid.uuid4()}/edit", "/settings/api-keys", "/healt",
                                  "/apis", "/documents", "/dashboards", "/jobs?status=failed"])
def test_the_app_urls_answer_index_html(client, bundle, path):
    assert_index(client.get(path))


def test_head_of_an_app_url_has_the_headers_and_no_body(client, bundle):
    r = client.head("/jobs")
    assert r.status_code == 200 and r.content == b"" and r.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("name, content_type, body", [
    ("index-4f9a1c2b.js", "text/javascript", SCRIPT),
    ("index-7e3d0a9f.css", "text/css", STYLE),
    ("inter-0a1b2c3d.woff2", "font/woff2", "wOF2"),
])
def test_assets_are_served_with_their_type_and_cached_for_a_year(client, bundle, name, content_type, body):
    r = client.get(f"/assets/{name}")
    assert r.status_code == 200 and r.text == body
    assert r.headers["content-type"].split(";")[0] == content_type
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert r.headers["x-content-type-options"] == "nosniff"


def test_a_top_level_file_of_the_bundle_is_served_revalidated(client, bundle):
    r = client.get("/favicon.svg")
    assert r.status_code == 200 and r.headers["content-type"] == "image/svg+xml"
    assert r.headers["cache-control"] == "no-cache" and r.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", ["/assets/index-00000000.js", "/assets/", "/assets/nothing", "/favicon.ico",
                                  "/jobs/report.csv"])
def test_a_missing_file_is_a_404_never_the_index(client, bundle, path):
    r = client.get(path)
    assert r.status_code == 404 and INDEX not in r.text


@pytest.mark.parametrize("path", [
    "/assets/%2e%2e/%2e%2e/secret.txt", "/assets/..%2F..%2Fsecret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret",
    "/assets/%2e%2e/index.html", "/assets/..%5C..%5Csecret.txt", "/assets/link.js", "/assets/%00.js",
    "/%2e%2e/%2e%2e/pyproject.toml", "/%2e/index.html", "/jobs/%2e%2e",
])
def test_nothing_outside_the_bundle_is_served(client, bundle, path):
    r = client.get(path)
    assert r.status_code in (404, 422), (path, r.status_code)  # 422: a NUL, refused before any route
    assert SECRET not in r.text and INDEX not in r.text


def test_the_api_docs_and_other_pages_keep_their_routes(client, bundle):
    # An unknown API path is still the API's JSON 404, whatever the method.
    for method, path in (("GET", "/api/v1/nothing"), ("GET", "/api"), ("GET", "/api/"), ("POST", "/api/v1/nothing"),
                         ("GET", "/api/v1/etl/jobs/x/y/z"), ("GET", "/docs/nothing"), ("GET", "/dashboard/x"),
                         ("GET", "/ready/x"), ("GET", "/healthz"), ("GET", "/metrics/x")):
        r = client.request(method, path)
        assert r.status_code == 404 and r.json() == {"detail": "Not Found"}, (method, path, r.text)
    # A method a route does not take is still a 405, and a POST to an app URL a 404 as before.
    assert client.delete("/api/v1/etl/jobs").status_code == 405
    assert client.post("/jobs").status_code == 404
    assert client.get("/api/v1/etl/jobs").status_code == 401  # the route, asking for a key
    assert client.get("/openapi.json").json()["info"]["title"] == "pulse-etl"
    for path in ("/docs", "/redoc"):
        r = client.get(path)
        assert r.status_code == 200 and INDEX not in r.text
    assert client.get("/health").json()["status"] == "ok"
    assert INDEX not in client.get("/metrics").text


def test_the_old_dashboard_sends_its_bookmarks_to_the_console(client, bundle):
    """/dashboard (the single page before the console) is a permanent redirect to the console's jobs."""
    for method in ("GET", "HEAD"):
        r = client.request(method, "/dashboard", follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (308, "/jobs")
    followed = client.get("/dashboard")
    assert followed.status_code == 200 and INDEX in followed.text


def test_the_console_routes_are_not_in_the_api_schema(client, bundle):
    assert not [path for path in client.get("/openapi.json").json()["paths"] if not path.startswith(("/api/", "/health", "/ready", "/metrics"))]


def test_before_the_first_build_the_console_says_how_to_build_it(client, tmp_path, monkeypatch):
    monkeypatch.setattr(console, "CONSOLE_DIR", tmp_path / "not-built")
    for path in ("/", "/jobs", "/index.html"):
        r = client.get(path)
        assert r.status_code == 503 and r.headers["content-type"].startswith("text/plain")
        assert "npm ci && npm run build" in r.text and "ui/" in r.text and r.text.count("\n") == 1
    assert client.get("/assets/index-4f9a1c2b.js").status_code == 404
    assert client.get("/api/v1/nothing").json() == {"detail": "Not Found"}


def test_the_built_bundle_is_package_data():
    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    assert "static/console/**" in pyproject["tool"]["setuptools"]["package-data"]["api"]
    assert console.CONSOLE_DIR == Path(console.__file__).resolve().parent.parent / "static" / "console"
