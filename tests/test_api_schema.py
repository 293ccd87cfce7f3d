"""Property-based run over the OpenAPI schema (Schemathesis): generated requests to every route,
with a real tenant key and real data behind it, never get a 5xx nor a response that violates the
schema the API publishes. (Driven with Hypothesis directly: Schemathesis' pytest plugin does not
support pytest 9 yet.)"""
from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.main import app

SETTINGS = settings(max_examples=15, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


def test_generated_requests_get_no_5xx_and_match_the_schema(make_tenant, jira_integration):
    tenant_id, key = make_tenant()
    jira_integration(issues=20, tenant=(tenant_id, key))  # something to find behind the routes
    headers = {"Authorization": f"Bearer {key}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30
    for operation in operations:
        if operation.path.endswith("/events"):  # a stream that lasts as long as a job: tests/test_api_jobs.py
            continue

        @SETTINGS
        @given(case=operation.as_strategy())
        def check(case):
            case.call_and_validate(headers=headers, checks=[not_a_server_error, response_schema_conformance])

        check()
