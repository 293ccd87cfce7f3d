"""GitHub end to end: fake GitHub over HTTP -> queues -> real workers -> pull_requests, pr_reviews,
pr_commits. GraphQL pages and their budget, rate limits and work-item links as a user sees them."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import select, text

from etl.models import PrCommit, PrReview, PullRequest
from tests.scopes import session_scope
from tests.waiting import run_sync, wait_for_job

pytestmark = pytest.mark.usefixtures("workers")


def pulls(integration_id) -> dict[tuple[str, int], PullRequest]:
    with session_scope() as s:
        return {(p.repo, p.number): p for p in s.scalars(select(PullRequest).where(PullRequest.integration_id == integration_id))}


def children(model, integration_id) -> dict[str, list]:
    out: dict[str, list] = {}
    with session_scope() as s:
        for row in s.scalars(select(model).where(model.integration_id == integration_id)):
            out.setdefault(row.pr_external_id, []).append(row)
    return out


def test_sync_lands_every_pull_request_with_reviews_and_commits(github_integration):
    tenant_id, _, integration_id, fake = github_integration(repos={"acme/api": 150, "acme/web": 90, "acme/ops": 30})
    job = run_sync(tenant_id, integration_id)
    assert job.status == "succeeded", job.error_details
    assert job.failed == 0 and job.loaded == job.extracted

    got = pulls(integration_id)
    reviews, commits = children(PrReview, integration_id), children(PrCommit, integration_id)
    expected_count = sum(len(fake.pr_numbers(r)) for r in fake.repos())
    assert len(got) == expected_count == 270
    states = set()
    for repo in fake.repos():
        for number in fake.pr_numbers(repo):
            exp, pr = fake.expected(repo, number), got[(repo, number)]
            pid = f"{repo}#{number}"
            states.add(exp["state"])
            assert (pr.state, pr.draft, pr.author, pr.title) == (exp["state"], exp["draft"], exp["author"], exp["title"])
            assert (pr.additions, pr.deletions, pr.changed_files, pr.commits_count) == (
                exp["additions"], exp["deletions"], exp["changed_files"], exp["commits"])
            assert pr.merged_at == exp["merged"] and pr.created_at == exp["created"]
            assert pr.author_is_bot == exp["author_is_bot"]
            assert (pr.head_ref, pr.base_ref) == (exp["head_ref"], exp["base_ref"])
            if exp["merged"]:
                assert pr.lead_time_seconds == int((exp["merged"] - exp["created"]).total_seconds())
            assert sorted(r.external_id for r in reviews.get(pid, [])) == sorted(str(r[0]) for r in exp["reviews"])
            assert [c.sha for c in sorted(commits.get(pid, []), key=lambda c: c.sha)] == sorted(exp["commit_shas"][:250])
            others = [r for r in exp["reviews"] if r[2] != exp["author"]]
            assert pr.review_count == len(others)
            assert pr.first_review_at == (min(r[3] for r in others) if others else None)
    assert states == {"open", "closed", "merged"}


def test_an_unchanged_incremental_sync_costs_a_point_per_repository_and_writes_nothing(github_integration):
    tenant_id, _, integration_id, fake = github_integration(repos={"acme/api": 80, "acme/web": 40})
    assert run_sync(tenant_id, integration_id).status == "succeeded"

    def snapshot():
        with session_scope() as s:
            return [s.execute(text(f"SELECT count(*), max(xmin::text::bigint) FROM {t} WHERE integration_id = :i"),
                              {"i": integration_id}).one() for t in ("raw_extraction_data", "pull_requests",
                                                                      "pr_reviews", "pr_commits")]

    before, points, rest = snapshot(), fake.graphql_budget(fake.token)[0], fake.budget(fake.token)[0]
    fake.reset_requests()
    job = run_sync(tenant_id, integration_id)
    assert job.status == "succeeded"
    assert (job.requests_made, job.extracted) == (2, 0)
    assert [(r["method"], r["path"], r["graphql_cost"]) for r in fake.requests] == [("POST", "/graphql", 1)] * 2
    assert fake.graphql_budget(fake.token)[0] == points - 2 and fake.budget(fake.token)[0] == rest
    assert snapshot() == before


def test_new_review_is_picked_up_and_nothing_else_is_refetched(github_integration):
    tenant_id, _, integration_id, fake = github_integration(repos={"acme/api": 80, "acme/web": 40})
    assert run_sync(tenant_id, integration_id).status == "succeeded"
    number = fake.pr_numbers("acme/api")[10]
    review_id = fake.add_review("acme/api", number, state="CHANGES_REQUESTED")
    fake.reset_requests()
    job = run_sync(tenant_id, integration_id)
    assert job.status == "succeeded"
    assert len(fake.requests) == 2, "one query per repository"
    exp = fake.expected("acme/api", number)
    assert job.extracted == 2, "that PR and its new review; its unchanged commits are not rewritten"
    reviews = children(PrReview, integration_id)[f"acme/api#{number}"]
    assert str(review_id) in {r.external_id for r in reviews}
    assert pulls(integration_id)[("acme/api", number)].updated_at == exp["updated"]


@pytest.mark.parametrize("budget, status", [(51, 200), (0, 200), (0, 403)],
                         ids=["reserve-reached", "rate-limited-200", "rate-limited-403"])
def test_spent_budget_pauses_only_that_integration(github_integration, make_tenant, budget, status):
    """Down to the reserve (50 points) after a page, or refused by GitHub (a 200 with RATE_LIMITED,
    or a 403 with x-ratelimit-remaining 0): the job is deferred until the reset, as paused task
    runs, while no worker waits and another integration's job runs meanwhile."""
    tenant_a, _, integ_a, fake_a = github_integration(repos={"acme/api": 60}, graphql_limit_status=status)
    tenant_b, _, integ_b, fake_b = github_integration(repos={"other/app": 40})
    fake_a.set_graphql_budget(fake_a.token, remaining=budget, reset_in=6)
    from etl.db import get_sessionmaker
    from etl.jobs.lifecycle import start_job

    started = time.monotonic()
    job_a = start_job(get_sessionmaker(), integ_a, tenant_a, "incremental")
    time.sleep(1)
    job_b = wait_for_job(start_job(get_sessionmaker(), integ_b, tenant_b, "incremental"))
    b_done = time.monotonic() - started
    job_a = wait_for_job(job_a, timeout=120)
    a_done = time.monotonic() - started
    assert job_b.status == "succeeded" and job_a.status == "succeeded", job_a.error_details
    assert len(pulls(integ_a)) == 60 and len(pulls(integ_b)) == 40
    assert a_done >= 5, "A waited for its reset"
    assert b_done < a_done, "B was not held behind A's pause"
    with session_scope() as s:
        paused = [r[0] for r in s.execute(text("SELECT error FROM etl_task_runs WHERE job_id = :j AND state = 'paused'"),
                                          {"j": job_a.id})]
        assert s.scalar(text("SELECT count(*) FROM etl_task_runs WHERE job_id = :j AND state = 'retrying'"),
                        {"j": job_a.id}) == 0, "a pause is not an error retry"
    assert paused and all("rate limit" in e for e in paused)


def test_secondary_limits_are_survived_and_forbidden_fails_with_githubs_message(github_integration):
    tenant_id, _, integration_id, fake = github_integration(repos={"acme/api": 30})
    fake.faults.add("secondary_403", path_contains="/graphql", times=1, retry_after=1)
    fake.faults.add("secondary_429", path_contains="/graphql", times=1, retry_after=1)
    fake.faults.add("502", path_contains="/graphql", times=1)
    job = run_sync(tenant_id, integration_id)
    assert job.status == "succeeded", job.error_details
    assert len(pulls(integration_id)) == 30

    tenant_id, _, integration_id, fake = github_integration(repos={"acme/api": 10})
    fake.faults.add("forbidden", path_contains="/graphql", times=None)
    job = run_sync(tenant_id, integration_id)
    assert job.status == "failed"
    assert "Resource not accessible by integration" in job.error_details["message"]


def test_work_item_links_stay_within_the_tenant(github_integration, jira_integration, api_client):
    tenant_a, key_a, jira_a, _ = jira_integration(issues=30)
    tenant_b, key_b, jira_b, _ = jira_integration(issues=30)
    _, _, gh_a, fake = github_integration(repos={"acme/api": 40}, tenant=(tenant_a, key_a), work_item_keys=("ABC-12",))
    for tenant, integ in ((tenant_a, jira_a), (tenant_b, jira_b), (tenant_a, gh_a)):
        assert run_sync(tenant, integ).status == "succeeded"
    linked = sorted(n for n in fake.pr_numbers("acme/api") if "ABC-12" in fake.expected("acme/api", n)["work_item_keys"])
    assert linked

    a = {"Authorization": f"Bearer {key_a}"}
    b = {"Authorization": f"Bearer {key_b}"}
    item = api_client.get("/api/v1/work-items/ABC-12", headers=a).json()
    assert sorted(p["number"] for p in item["pull_requests"]) == linked
    assert api_client.get("/api/v1/work-items/ABC-12", headers=b).json()["pull_requests"] == []

    detail = api_client.get(f"/api/v1/pull-requests/acme/api/{linked[0]}", headers=a)
    assert detail.status_code == 200
    body = detail.json()
    assert [w["key"] for w in body["work_items"]] == ["ABC-12"]
    exp = fake.expected("acme/api", linked[0])
    assert sorted(c["sha"] for c in body["commits"]) == sorted(exp["commit_shas"][:250])
    assert len(body["reviews"]) == len(exp["reviews"])
    assert api_client.get(f"/api/v1/pull-requests/acme/api/{linked[0]}", headers=b).status_code == 404

    listed = api_client.get("/api/v1/pull-requests", params={"repo": "acme/api", "state": "merged", "limit": 200},
                            headers=a).json()["items"]
    assert {p["number"] for p in listed} == {n for n in fake.pr_numbers("acme/api")
                                            if fake.expected("acme/api", n)["state"] == "merged"}
    assert api_client.get("/api/v1/pull-requests", headers=b).json()["items"] == []


def test_reconciliation_marks_deleted_pull_requests(github_integration, api_client):
    from etl.ops.reconcile import reconcile

    tenant_id, key, integration_id, fake = github_integration(repos={"acme/api": 40, "acme/web": 20})
    assert run_sync(tenant_id, integration_id).status == "succeeded"
    gone = [("acme/api", fake.pr_numbers("acme/api")[3]), ("acme/web", fake.pr_numbers("acme/web")[0])]
    for repo, number in gone:
        fake.delete(repo, number)
    result = reconcile(integration_id)
    assert result.deleted == 2
    deleted = {k for k, pr in pulls(integration_id).items() if pr.deleted_at is not None}
    assert deleted == set(gone)
    listed = api_client.get("/api/v1/pull-requests", params={"limit": 200},
                            headers={"Authorization": f"Bearer {key}"}).json()["items"]
    assert len(listed) == 58 and not {(p["repo"], p["number"]) for p in listed} & set(gone)


def test_github_enterprise_base_url(make_tenant):
    from etl.fakes.github import FakeGitHub
    from etl.tenancy.integrations import create_integration
    from tests.scopes import session_scope as scope

    fake = FakeGitHub(repos={"corp/app": 30})
    fake.serve()
    try:
        tenant_id, _ = make_tenant()
        with scope() as s:
            integration_id = create_integration(s, tenant_id, "github", "ghe", fake.url + "/api/v3", {"token": fake.token},
                                                {"repos": ["corp/app"]}).id
        fake.reset_requests()
        job = run_sync(tenant_id, integration_id)
        assert job.status == "succeeded", job.error_details
        assert len(pulls(integration_id)) == 30
        assert fake.requests and {r["path"] for r in fake.requests} == {"/api/graphql"}
    finally:
        fake.stop()
