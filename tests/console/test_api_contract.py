"""The check every browser test runs on the console's calls (tests/console/browser.py ApiContract)
bites: a route that does not exist, a wrong method or an unknown query parameter is reported."""
from __future__ import annotations

import pytest

from api.main import app
from tests.console.browser import ApiContract

CONTRACT = ApiContract(app.openapi())


@pytest.mark.parametrize("method, url", [
    ("GET", "http://h/api/v1/etl/jobs?status=failed&status=partial&limit=50"),
    ("GET", "http://h/api/v1/etl/jobs/5f0c/"[:-1]),
    ("POST", "http://h/api/v1/etl/jobs/5f0c/cancel"),
    ("GET", "http://h/assets/index.js"),  # not the API's business
])
def test_documented_calls_pass(method, url):
    assert CONTRACT.problem(method, url) is None


@pytest.mark.parametrize("method, url, problem", [
    ("GET", "http://h/api/v1/etl/job/5f0c", "no such route"),
    ("DELETE", "http://h/api/v1/etl/jobs/5f0c/cancel", "no such route"),
    ("GET", "http://h/api/v1/etl/jobs?state=failed", "['state']"),
])
def test_undocumented_calls_are_reported(method, url, problem):
    assert problem in (CONTRACT.problem(method, url) or "")
