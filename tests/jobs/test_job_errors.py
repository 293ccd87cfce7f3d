"""What a tenant reads when something fails: a record whose value the database cannot hold fails
alone, in words, while the rest of its batch loads; job and task-run errors never carry SQL,
parameters or tracebacks (those stay in the worker's log). Real workers, PostgreSQL and RabbitMQ."""
from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from etl.crypto import encrypt_credentials
from etl.models import EtlTaskRun, Integration, PullRequest, RawExtractionData
from etl.pipeline.task_base import public_message
from tests.scopes import session_scope
from tests.waiting import run_sync, wait_for_job

pytestmark = pytest.mark.usefixtures("workers")

LEAKS = ("SQL", "INSERT", "SELECT", "Traceback", "[parameters", "psycopg2")


def auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def test_a_pr_number_past_int32_fails_that_record_alone_in_words(api_client, github_integration):
    tenant_id, key, integration_id, fake = github_integration(repos={"acme/api": 3})
    good = fake.pull("acme/api", fake.pr_numbers("acme/api")[0])
    huge = {**fake.pull("acme/api", fake.pr_numbers("acme/api")[1]), "number": 3_000_000_000}
    records = [{"external_id": f"acme/api#{pr['number']}", "payload": pr} for pr in (good, huge)]

    r = api_client.post("/api/v1/etl/raw-data/store", headers=auth(key),
                        json={"integration_id": str(integration_id), "entity_type": "github_pull_request",
                              "records": records, "process": True})
    assert r.status_code == 202, r.text
    job = wait_for_job(r.json()["job_id"])

    # Before: the whole batch failed in the load, and the job's error quoted the INSERT statement.
    assert (job.status, job.loaded, job.failed) == ("partial", 1, 1), job.error_details
    with session_scope() as s:
        numbers = s.scalars(select(PullRequest.number).where(PullRequest.integration_id == integration_id)).all()
        errors = {row.external_id: row.error_details for row in s.scalars(
            select(RawExtractionData).where(RawExtractionData.integration_id == integration_id))}
        task_errors = s.scalars(select(EtlTaskRun.error).where(EtlTaskRun.job_id == job.id)).all()
    assert numbers == [good["number"]]
    error = errors["acme/api#3000000000"]["error"]
    assert "'number'" in error and "3000000000 is out of range" in error, error
    job_text = str(job.error_details) + " ".join(e or "" for e in task_errors)
    assert not any(leak in job_text for leak in LEAKS), job_text


def test_database_errors_are_told_without_the_statement(db):
    with pytest.raises(DBAPIError) as caught:
        db.execute(text("SELECT CAST(:n AS integer) AS secret_column"), {"n": "3000000000"})
    db.rollback()
    assert "SELECT" in str(caught.value)  # what used to reach the job's error

    message = public_message(caught.value)
    assert message == "the database refused a write: value \"3000000000\" is out of range for type integer"
    assert not any(leak in message for leak in LEAKS) and "secret_column" not in message


def test_an_internal_error_names_its_class_not_its_text():
    message = public_message(KeyError("token=abc"))
    assert message == "an internal error (KeyError); the worker log has the details"


def test_stored_credentials_no_header_can_carry_fail_in_words(api_client, jira_integration):
    """Credentials stored before they were checked (a token with `€`): the connection test and the
    sync say what to fix instead of a 500 and an internal error."""

    tenant_id, key, integration_id, fake = jira_integration(issues=5, flavor="dc")  # a bearer token, sent as is
    with session_scope() as s:
        s.get(Integration, integration_id).credentials_encrypted = encrypt_credentials({"token": "tok€n"})

    r = api_client.post(f"/api/v1/integrations/{integration_id}/test", headers=auth(key))
    assert r.status_code == 200, r.text
    assert r.json()["ok"] is False and "cannot carry" in r.json()["error"] and "tok€n" not in r.text

    job = run_sync(tenant_id, integration_id, timeout=60)
    assert job.status == "failed" and "send the credentials again" in job.error_details["message"]
    assert fake.requests == []
