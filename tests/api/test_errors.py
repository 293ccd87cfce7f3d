"""api.errors: etl's refusals become the same answers the routes gave when each translated its own
(FastAPI's HTTPException body), with the status of their kind. No services needed."""
from __future__ import annotations

import uuid

import pytest
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient

from api.errors import answer_domain_errors
from etl.crypto import CredentialsError
from etl.errors import DomainError, NotFound
from etl.jobs.lifecycle import ActiveJobExists, BrokerUnavailable, TooManyActiveJobs
from etl.jobs.reprocess import JobStillActive, NothingToRetry
from etl.mappings.rules import InvalidMapping, MappingConflict
from etl.ops.scheduling import InvalidSchedule
from etl.tenancy.integrations import InvalidIntegration, TooManyIntegrations
from etl.tenancy.keys import AdminKeyProtected, InvalidJwt
from etl.tenancy.tenants import TenantExists

JOB = uuid.UUID("0b9d4c3e-5f6a-4b7c-8d9e-0f1a2b3c4d5e")

REFUSALS = [
    (NotFound("job 1 not found"), 404),
    (ActiveJobExists(JOB), 409),
    (JobStillActive("job 1 is still running"), 409),
    (TenantExists("a tenant named 'acme' already exists"), 409),
    (MappingConflict("wit 'Story' exists"), 409),
    (CredentialsError("stored credentials cannot be decrypted"), 409),
    (TooManyIntegrations("at most 2 integrations"), 409),  # an InvalidIntegration too, but a Conflict first
    (InvalidIntegration("base_url: not a URL"), 422),
    (InvalidSchedule("cron expression is empty"), 422),
    (InvalidMapping("no wit 3"), 422),
    (NothingToRetry("job 1 succeeded: nothing to retry"), 422),
    (AdminKeyProtected("API key 1 is an admin key"), 403),
    (InvalidJwt("token expired"), 401),
    (TooManyActiveJobs("the tenant has 5 active jobs"), 429),
]


def _client(exc: Exception) -> TestClient:
    app = FastAPI()
    answer_domain_errors(app)

    @app.get("/refuse")
    def refuse():
        raise exc

    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize(("exc", "status"), REFUSALS, ids=[type(e).__name__ for e, _ in REFUSALS])
def test_a_refusal_answers_its_status_with_the_body_of_an_http_exception(exc, status):
    got = _client(exc).get("/refuse")
    want = _client(HTTPException(status, str(exc))).get("/refuse")
    assert (got.status_code, got.content, got.headers.get("www-authenticate")) == (
        status, want.content, "Bearer" if status == 401 else None)


def test_unauthenticated_says_how_to_authenticate():
    assert _client(InvalidJwt("token expired")).get("/refuse").headers["www-authenticate"] == "Bearer"


def test_broker_unavailable_names_the_job_recorded_as_failed():
    response = _client(BrokerUnavailable("the message broker is unreachable", JOB)).get("/refuse")
    assert response.status_code == 503
    assert response.content == b'{"detail":"the message broker is unreachable","job_id":"%s"}' % str(JOB).encode()


def test_a_domain_error_of_no_kind_stays_a_server_error():
    assert _client(DomainError("?")).get("/refuse").status_code == 500


def test_not_found_is_still_a_lookup_error():
    assert issubclass(NotFound, LookupError)
    assert issubclass(InvalidIntegration, ValueError) and issubclass(InvalidSchedule, ValueError)
