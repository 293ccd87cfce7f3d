"""The fake GitHub over real HTTP: payload shapes, Link pagination, rate limits, conditional requests,
faults, auth, Enterprise prefix, mutations.

Run: .venv/bin/python -m pytest -q -p no:celery tests/test_fake_github.py
"""
from __future__ import annotations

import re
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from etl.fakes.github import FakeGitHub  # noqa: E402

UTC = timezone.utc
NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
TOKEN = "ghp_test"
KEYS = tuple(f"ABC-{i}" for i in range(1, 120)) + tuple(f"DEF-{i}" for i in range(1, 40))
DETAIL_ONLY = {"merged", "mergeable", "rebaseable", "mergeable_state", "merged_by", "comments", "review_comments",
               "maintainer_can_modify", "commits", "additions", "deletions", "changed_files"}
RL_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "x-ratelimit-used",
              "x-ratelimit-resource")
KEY_RE = re.compile(r"(?<![A-Za-z0-9_])[A-Z][A-Z0-9_]*-[0-9]+(?![0-9])")


def gh_ts(s: str) -> datetime:
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def session_for(token: str = TOKEN, scheme: str = "Bearer") -> requests.Session:
    s = requests.Session()
    s.headers["Authorization"] = f"{scheme} {token}"
    s.headers["Accept"] = "application/vnd.github+json"
    return s


def walk(session: requests.Session, url: str, **params) -> tuple[list, list[requests.Response]]:
    """Follow Link rel="next" to the end; returns (items, responses)."""
    items, responses = [], []
    for _ in range(10_000):
        r = session.get(url, params=params)
        assert r.status_code == 200, r.text
        responses.append(r)
        items.extend(r.json())
        nxt = r.links.get("next")
        if not nxt:
            return items, responses
        url, params = nxt["url"], None
    raise AssertionError("pagination never ended")


def remaining(r: requests.Response) -> int:
    return int(r.headers["x-ratelimit-remaining"])


@pytest.fixture(scope="module")
def gh():
    fake = FakeGitHub(repos={"acme/api": 150, "acme/web": 80}, seed=7, tokens=(TOKEN, "ghp_other"),
                      now=NOW, work_item_keys=KEYS)
    srv = fake.serve()
    yield fake
    srv.stop()


@pytest.fixture
def http(gh):
    gh.faults.clear()
    s = session_for()
    yield s
    gh.faults.clear()
    s.close()


@pytest.fixture
def small():
    """A fresh fake per test for mutations and budgets."""
    fake = FakeGitHub(repos={"acme/api": 40}, seed=3, tokens=("ghp_a", "ghp_b"), rate_limit=50, now=NOW,
                      work_item_keys=KEYS)
    srv = fake.serve()
    yield fake
    srv.stop()


# ----------------------------------------------------------------------------- lists and Link


def test_link_pagination_walks_every_pr_once_sorted_by_updated_desc(gh, http):
    url = f"{gh.url}/repos/acme/api/pulls"
    items, responses = walk(http, url, state="all", sort="updated", direction="desc", per_page=1000)
    numbers = [i["number"] for i in items]
    assert len(numbers) == len(set(numbers)) == 150
    assert sorted(numbers) == gh.pr_numbers("acme/api")
    assert [len(r.json()) for r in responses] == [100, 50]  # per_page silently capped at 100
    keys = [(gh_ts(i["updated_at"]), i["number"]) for i in items]
    assert keys == sorted(keys, reverse=True)

    # GitHub's Link: absolute /repositories/{id} URLs keeping the query, page replaced or appended
    items, responses = walk(http, url, state="all", sort="updated", direction="desc", per_page=40)
    assert len(items) == 150 and len(responses) == 4
    first, middle, last = responses[0], responses[1], responses[-1]
    assert set(first.links) == {"next", "last"}
    assert set(middle.links) == {"prev", "next", "last", "first"}
    assert set(last.links) == {"prev", "first"}
    raw = middle.headers["Link"]
    assert re.fullmatch(r'(<http://127\.0\.0\.1:\d+/repositories/\d+/pulls\?[^>]+>; rel="(prev|next|last|first)"(, )?)+',
                        raw), raw
    assert [m for m in re.findall(r'rel="(\w+)"', raw)] == ["prev", "next", "last", "first"]
    nxt = urlsplit(middle.links["next"]["url"])
    assert parse_qs(nxt.query) == {"state": ["all"], "sort": ["updated"], "direction": ["desc"],
                                   "per_page": ["40"], "page": ["3"]}
    assert parse_qs(urlsplit(first.links["last"]["url"]).query)["page"] == ["4"]
    assert parse_qs(urlsplit(last.links["first"]["url"]).query)["page"] == ["1"]
    # the /repositories/{id} form answers exactly like /repos/{o}/{r}
    again = http.get(middle.links["prev"]["url"])
    assert again.json() == first.json()
    # beyond the end: an empty page
    r = http.get(url, params={"state": "all", "per_page": 100, "page": 9})
    assert r.status_code == 200 and r.json() == []


def test_list_defaults_state_filters_and_sorts(gh, http):
    url = f"{gh.url}/repos/acme/api/pulls"
    r = http.get(url)
    assert r.status_code == 200
    page = r.json()
    assert len(page) <= 30 and all(i["state"] == "open" for i in page)  # default: open, created desc, 30
    opened = [n for n in gh.pr_numbers("acme/api") if gh.expected("acme/api", n)["state"] == "open"]
    items, _ = walk(http, url, per_page=100)
    assert sorted(i["number"] for i in items) == sorted(opened)
    created = [gh_ts(i["created_at"]) for i in items]
    assert created == sorted(created, reverse=True)
    closed, _ = walk(http, url, state="closed", sort="created", direction="asc", per_page=100)
    assert all(i["state"] == "closed" for i in closed)
    assert len(closed) + len(items) == 150
    created = [gh_ts(i["created_at"]) for i in closed]
    assert created == sorted(created)
    # sort=updated defaults to asc
    upd, _ = walk(http, url, state="all", sort="updated", per_page=100)
    keys = [(gh_ts(i["updated_at"]), i["number"]) for i in upd]
    assert keys == sorted(keys)
    on_main, _ = walk(http, url, state="all", base="main", per_page=100)
    assert on_main and all(i["base"]["ref"] == "main" for i in on_main) and len(on_main) < 150
    bad = http.get(url, params={"state": "bogus"})
    assert bad.status_code == 422
    assert bad.json()["message"] == "Validation Failed" and bad.json()["errors"][0]["field"] == "state"


def test_list_items_lack_detail_fields_and_detail_has_them(gh, http):
    items, _ = walk(http, f"{gh.url}/repos/acme/web/pulls", state="all", per_page=100)
    assert len(items) == 80
    for it in items:
        assert not DETAIL_ONLY & set(it), DETAIL_ONLY & set(it)
        for k in ("user", "head", "base", "draft", "merged_at", "closed_at", "created_at", "updated_at", "labels",
                  "requested_reviewers", "html_url", "url", "_links", "author_association", "merge_commit_sha"):
            assert k in it
        assert {"ref", "sha", "label", "repo", "user"} <= set(it["base"])
        assert it["base"]["repo"]["full_name"] == "acme/web"
        assert it["url"] == f"{gh.url}/repos/acme/web/pulls/{it['number']}"
        assert it["html_url"] == f"https://github.com/acme/web/pull/{it['number']}"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", it["updated_at"])
    for it in items[:25]:
        r = http.get(it["url"])
        assert r.status_code == 200
        d = r.json()
        assert DETAIL_ONLY <= set(d)
        assert {k: v for k, v in d.items() if k not in DETAIL_ONLY} == it
        assert d == gh.pull("acme/web", it["number"])
        exp = gh.expected("acme/web", it["number"])
        assert d["merged"] == (exp["state"] == "merged")
        assert (d["additions"], d["deletions"], d["changed_files"], d["commits"]) == \
            (exp["additions"], exp["deletions"], exp["changed_files"], exp["commits"])
        assert d["title"] == exp["title"] and d["user"]["login"] == exp["author"] and d["body"] == exp["body"]
        assert d["head"]["ref"] == exp["head_ref"] and d["head"]["sha"] == exp["head_sha"] == exp["commit_shas"][-1]
        assert gh_ts(d["updated_at"]) == exp["updated"] and gh_ts(d["created_at"]) == exp["created"]
        assert (gh_ts(d["merged_at"]) if d["merged_at"] else None) == exp["merged"]
        assert (d["merged_by"] or {}).get("login") == exp["merged_by"]


def test_reviews_paginate_in_all_states_and_match_expected(gh, http):
    numbers = gh.pr_numbers("acme/api")
    by_reviews = sorted(numbers, key=lambda n: len(gh.expected("acme/api", n)["reviews"]), reverse=True)
    n = by_reviews[0]
    exp = gh.expected("acme/api", n)
    assert len(exp["reviews"]) >= 4
    reviews, responses = walk(http, f"{gh.url}/repos/acme/api/pulls/{n}/reviews", per_page=2)
    assert len(responses) == (len(exp["reviews"]) + 1) // 2
    assert [(rv["id"], rv["state"], rv["user"]["login"], gh_ts(rv["submitted_at"])) for rv in reviews] == exp["reviews"]
    for rv in reviews:
        assert {"id", "node_id", "user", "body", "state", "html_url", "pull_request_url", "submitted_at",
                "commit_id", "_links", "author_association"} <= set(rv)
        assert rv["user"]["login"] != exp["author"] and rv["commit_id"] in exp["commit_shas"]
    states = Counter(rv[1] for m in numbers for rv in gh.expected("acme/api", m)["reviews"])
    assert set(states) == {"APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED"}
    # a PR without reviews lists []
    none = next(m for m in numbers if not gh.expected("acme/api", m)["reviews"])
    r = http.get(f"{gh.url}/repos/acme/api/pulls/{none}/reviews")
    assert r.status_code == 200 and r.json() == [] and "Link" not in r.headers


def test_commits_paginate_and_are_capped_at_250(gh, http):
    numbers = gh.pr_numbers("acme/api")
    counts = {n: gh.expected("acme/api", n)["commits"] for n in numbers}
    huge = [n for n, c in counts.items() if c == 300]
    assert len(huge) == 1
    n = huge[0]
    commits, responses = walk(http, f"{gh.url}/repos/acme/api/pulls/{n}/commits", per_page=100)
    assert [len(r.json()) for r in responses] == [100, 100, 50]
    assert parse_qs(urlsplit(responses[0].links["last"]["url"]).query)["page"] == ["3"]
    exp = gh.expected("acme/api", n)
    assert len(exp["commit_shas"]) == 300
    assert [c["sha"] for c in commits] == exp["commit_shas"][:250]
    assert http.get(f"{gh.url}/repos/acme/api/pulls/{n}").json()["commits"] == 300
    assert http.get(f"{gh.url}/repos/acme/api/pulls/{n}/commits", params={"per_page": 100, "page": 4}).json() == []
    dates = [gh_ts(c["commit"]["author"]["date"]) for c in commits]
    assert dates == sorted(dates)
    assert all(c["parents"][0]["sha"] == p["sha"] for p, c in zip(commits, commits[1:]))
    c = commits[0]
    assert {"sha", "node_id", "commit", "url", "html_url", "author", "committer", "parents"} <= set(c)
    assert {"name", "email", "date"} == set(c["commit"]["author"]) and c["commit"]["message"]
    assert any(cm["author"] is None for cm in commits)  # commits by emails GitHub cannot link
    # a PR with more than 100 (but fewer than 250) commits paginates in full
    big = next(m for m, cnt in counts.items() if 100 < cnt < 250)
    commits, responses = walk(http, f"{gh.url}/repos/acme/api/pulls/{big}/commits", per_page=100)
    assert len(responses) == 2 and [c["sha"] for c in commits] == gh.expected("acme/api", big)["commit_shas"]
    # default page size is 30
    r = http.get(f"{gh.url}/repos/acme/api/pulls/{big}/commits")
    assert len(r.json()) == 30 and "next" in r.links


# ----------------------------------------------------------------------------- rate limits


def test_budget_counts_down_per_token_403s_at_zero_then_recovers(small):
    a, b = session_for("ghp_a"), session_for("ghp_b")
    url = f"{small.url}/repos/acme/api/pulls"
    rs = [a.get(url) for _ in range(3)]
    assert [remaining(r) for r in rs] == [49, 48, 47]
    assert [int(r.headers["x-ratelimit-used"]) for r in rs] == [1, 2, 3]
    assert all(r.headers["x-ratelimit-limit"] == "50" and r.headers["x-ratelimit-resource"] == "core" for r in rs)
    assert small.budget("ghp_a")[0] == 47 and small.budget("ghp_b")[0] == 50
    reset0 = int(rs[0].headers["x-ratelimit-reset"])
    assert time.time() + 3500 < reset0 <= time.time() + 3601

    small.set_budget("ghp_a", 2, reset_in=1.5)
    left, reset = small.budget("ghp_a")
    assert left == 2 and reset <= time.time() + 3
    assert remaining(a.get(url)) == 1
    assert remaining(a.get(url)) == 0
    r = a.get(url)
    assert r.status_code == 403
    assert r.json()["message"].startswith("API rate limit exceeded for user ID 1.")
    assert r.json()["documentation_url"].startswith("https://docs.github.com/rest")
    assert remaining(r) == 0 and "retry-after" not in r.headers
    assert int(r.headers["x-ratelimit-reset"]) == reset
    # /rate_limit is free and still answers; another token is unaffected
    rl = a.get(f"{small.url}/rate_limit")
    assert rl.status_code == 200 and rl.json()["resources"]["core"]["remaining"] == 0
    assert rl.json()["rate"] == rl.json()["resources"]["core"]
    rb = b.get(url)
    assert rb.status_code == 200 and remaining(rb) == 49
    # after the reset epoch the budget is restored
    time.sleep(max(0.0, reset - time.time()) + 0.05)
    r = a.get(url)
    assert r.status_code == 200 and remaining(r) == 49
    assert int(r.headers["x-ratelimit-reset"]) > time.time() + 3500


def test_rate_limit_endpoint_does_not_count(gh, http):
    r1 = http.get(f"{gh.url}/rate_limit")
    r2 = http.get(f"{gh.url}/rate_limit")
    assert r1.status_code == r2.status_code == 200
    core = r2.json()["resources"]["core"]
    assert core == r1.json()["resources"]["core"]
    assert set(core) == {"limit", "used", "remaining", "reset"} and core["limit"] == 5000
    assert remaining(r2) == core["remaining"] == gh.budget(TOKEN)[0]
    assert http.get(f"{gh.url}/api/v3/rate_limit").json()["resources"]["core"] == core


def test_secondary_limits_carry_retry_after(gh, http):
    url = f"{gh.url}/repos/acme/api/pulls"
    before = gh.budget(TOKEN)[0]
    gh.faults.add("secondary_403", path_contains="/pulls", retry_after=7)
    r = http.get(url)
    assert r.status_code == 403 and r.headers["retry-after"] == "7"
    assert r.json()["message"].startswith("You have exceeded a secondary rate limit")
    assert "secondary-rate-limits" in r.json()["documentation_url"]
    assert remaining(r) > 0 and all(h in r.headers for h in RL_HEADERS)
    gh.faults.add("secondary_429", retry_after=3, times=2)
    assert [(x.status_code, x.headers.get("retry-after")) for x in (http.get(url), http.get(url))] == [
        (429, "3"), (429, "3")]
    assert http.get(url).status_code == 200  # times exhausted
    assert gh.budget(TOKEN)[0] == before - 1  # answers decided by a fault cost nothing


def test_forbidden_has_no_retry_after_and_budget_left(gh, http):
    gh.faults.add("forbidden", path_contains="/reviews")
    n = gh.pr_numbers("acme/api")[0]
    assert http.get(f"{gh.url}/repos/acme/api/pulls/{n}").status_code == 200  # path does not match
    r = http.get(f"{gh.url}/repos/acme/api/pulls/{n}/reviews")
    assert r.status_code == 403
    assert r.json()["message"] == "Resource not accessible by integration"
    assert "retry-after" not in r.headers and remaining(r) > 0
    assert http.get(f"{gh.url}/repos/acme/api/pulls/{n}/reviews").status_code == 200


def test_server_errors_slow_and_malformed(gh, http):
    url = f"{gh.url}/repos/acme/web/pulls"
    gh.faults.add("500", every=2, times=1)
    gh.faults.add("502")
    statuses = [http.get(url).status_code for _ in range(3)]
    assert statuses == [502, 500, 200]
    assert http.get(url).status_code == 200
    gh.faults.add("malformed_json", path_contains="acme/web/pulls")
    r = http.get(url, params={"state": "all"})
    assert r.status_code == 200
    with pytest.raises(ValueError):
        r.json()
    assert http.get(url, params={"state": "all"}).json()
    gh.faults.add("slow", delay=0.3)
    t0 = time.monotonic()
    assert http.get(url).status_code == 200
    assert time.monotonic() - t0 >= 0.3
    with pytest.raises(ValueError):
        gh.faults.add("503")


# ----------------------------------------------------------------------------- auth, 404, Enterprise


def test_bad_credentials_401(gh):
    url = f"{gh.url}/repos/acme/api/pulls"
    expected = {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"}
    for r in (requests.get(url), session_for("ghp_wrong").get(url), session_for(TOKEN, "Basic").get(url)):
        assert r.status_code == 401 and r.json() == expected
        assert r.headers["x-ratelimit-limit"] == "60"
    r = session_for(TOKEN, "token").get(url)  # the classic "token" scheme works too
    assert r.status_code == 200
    me = session_for("ghp_other").get(f"{gh.url}/user").json()
    assert me["id"] == 2 and me["type"] == "User" and me["login"]


def test_not_found(gh, http):
    for path in ("/repos/acme/nope/pulls", "/repos/acme/nope/pulls/1", "/repos/acme/api/pulls/999999",
                 "/repos/acme/api/pulls/999999/reviews", "/repositories/1/pulls", "/nothing/here"):
        r = http.get(gh.url + path)
        assert r.status_code == 404, path
        body = r.json()
        assert body["message"] == "Not Found" and body["status"] == "404"
        assert body["documentation_url"].startswith("https://docs.github.com/rest")
    assert http.get(f"{gh.url}/repos/ACME/API/pulls").status_code == 200  # names are case-insensitive
    r = http.get(f"{gh.url}/repos/acme/api")
    assert r.status_code == 200 and r.json()["full_name"] == "acme/api" and r.json()["default_branch"] == "main"


def test_enterprise_api_v3_prefix(gh, http):
    base = f"{gh.url}/api/v3"
    items, responses = walk(http, f"{base}/repos/acme/web/pulls", state="all", sort="updated", direction="desc",
                            per_page=30)
    assert len(items) == 80 and len(responses) == 3
    assert responses[0].links["next"]["url"].startswith(f"{base}/repositories/")
    it = items[0]
    assert it["url"] == f"{base}/repos/acme/web/pulls/{it['number']}"
    assert it["html_url"] == f"{gh.url}/acme/web/pull/{it['number']}"
    assert it["user"]["url"].startswith(f"{base}/users/")
    d = http.get(it["url"]).json()
    assert d["number"] == it["number"] and "additions" in d
    assert http.get(f"{base}/repos/acme/web/pulls/{it['number']}/reviews").status_code == 200
    assert http.get(f"{base}/repos/acme/web/pulls/{it['number']}/commits").status_code == 200
    assert http.get(f"{base}/user").json()["login"] == "pulse-bot"
    assert http.get(f"{base}/repos/acme/nope/pulls").status_code == 404
    # same data as github.com flavour, only URLs differ
    plain = http.get(f"{gh.url}/repos/acme/web/pulls/{it['number']}").json()
    assert (plain["title"], plain["additions"], plain["updated_at"]) == (d["title"], d["additions"], d["updated_at"])


def test_requests_are_logged(gh, http):
    gh.reset_requests()
    n = gh.pr_numbers("acme/api")[1]
    http.get(f"{gh.url}/repos/acme/api/pulls/{n}", params={"x": "1"})
    http.get(f"{gh.url}/repos/acme/api/pulls/{n}/reviews")
    requests.get(f"{gh.url}/user")
    log = gh.requests
    assert [(q["method"], q["path"], q["status"]) for q in log] == [
        ("GET", f"/repos/acme/api/pulls/{n}", 200), ("GET", f"/repos/acme/api/pulls/{n}/reviews", 200),
        ("GET", "/user", 401)]
    assert log[0]["query"] == {"x": "1"} and log[0]["token"] == TOKEN and log[1]["query"] == {}
    assert log[2]["token"] is None
    assert log[0]["repo"] == "acme/api"
    gh.reset_requests()
    assert gh.requests == []


# ----------------------------------------------------------------------------- mutations


def test_add_review_bumps_updated_and_lists_the_review(small):
    s = session_for("ghp_a")
    numbers = small.pr_numbers("acme/api")
    n = numbers[0]
    rurl = f"{small.url}/repos/acme/api/pulls/{n}/reviews"
    r1 = s.get(rurl)
    latest = max(small.expected("acme/api", m)["updated"] for m in numbers)
    reviewer = next(u for u in small.users() if not u.endswith("[bot]") and u != small.expected("acme/api", n)["author"])
    rid = small.add_review("acme/api", n, "CHANGES_REQUESTED", author=reviewer)
    exp = small.expected("acme/api", n)
    assert exp["updated"] > latest
    assert exp["reviews"][-1] == (rid, "CHANGES_REQUESTED", reviewer, exp["updated"])
    r2 = s.get(rurl)
    assert r2.status_code == 200 and r2.json()[:-1] == r1.json()
    assert r2.json()[-1]["id"] == rid and r2.json()[-1]["state"] == "CHANGES_REQUESTED"
    d2 = s.get(f"{small.url}/repos/acme/api/pulls/{n}")
    assert d2.status_code == 200 and gh_ts(d2.json()["updated_at"]) == exp["updated"]
    top = s.get(f"{small.url}/repos/acme/api/pulls", params={"state": "all", "sort": "updated",
                                                             "direction": "desc"}).json()[0]
    assert top["number"] == n
    # strictly increasing, also for back-to-back mutations
    rid2 = small.add_review("acme/api", numbers[1])
    assert small.expected("acme/api", numbers[1])["updated"] > exp["updated"] and rid2 > rid
    # PENDING reviews are not listed and change nothing
    before = s.get(rurl).content
    small.add_review("acme/api", n, "PENDING")
    assert s.get(rurl).content == before
    with pytest.raises(ValueError):
        small.add_review("acme/api", n, "LGTM")


def test_delete_touch_and_add_pulls(small):
    s = session_for("ghp_b")
    url = f"{small.url}/repos/acme/api/pulls"
    numbers = small.pr_numbers("acme/api")
    victim = numbers[3]
    small.delete("acme/api", victim)
    assert victim not in small.pr_numbers("acme/api")
    items, _ = walk(s, url, state="all", per_page=100)
    assert victim not in {i["number"] for i in items} and len(items) == len(numbers) - 1
    for sub in ("", "/reviews", "/commits"):
        r = s.get(f"{url}/{victim}{sub}")
        assert r.status_code == 404 and r.json()["message"] == "Not Found"
    with pytest.raises(KeyError):
        small.expected("acme/api", victim)

    opened = next(n for n in small.pr_numbers("acme/api") if small.expected("acme/api", n)["state"] == "open")
    merged = next(n for n in small.pr_numbers("acme/api") if small.expected("acme/api", n)["state"] == "merged")
    for n in (opened, merged):
        before = small.expected("acme/api", n)
        small.touch("acme/api", n)
        after = small.expected("acme/api", n)
        assert after["updated"] > before["updated"]
        d2 = s.get(f"{url}/{n}")
        assert d2.status_code == 200 and d2.json() == small.pull("acme/api", n)
        if n == opened:
            assert after["commits"] == before["commits"] + 1 and after["additions"] > before["additions"]
            assert d2.json()["head"]["sha"] == after["commit_shas"][-1] != before["commit_shas"][-1]
            commits, _ = walk(s, f"{url}/{n}/commits", per_page=100)
            assert [c["sha"] for c in commits] == after["commit_shas"][:250]
        else:
            assert after["body"] != before["body"] and after["commits"] == before["commits"]

    new = small.add_pulls("acme/api", 3)
    assert len(new) == 3 and new[0] > max(numbers)
    top = s.get(url, params={"state": "open", "sort": "created", "direction": "desc"}).json()
    assert [i["number"] for i in top[:3]] == new[::-1]
    for n in new:
        e = small.expected("acme/api", n)
        assert e["state"] == "open" and e["reviews"] == [] and 1 <= e["commits"] <= 3
    small.merge("acme/api", new[0])
    d = s.get(f"{url}/{new[0]}").json()
    assert d["merged"] is True and d["state"] == "closed" and d["merged_at"] == d["closed_at"] == d["updated_at"]


# ----------------------------------------------------------------------------- generated data


def test_generated_data_is_realistic_and_consistent(gh):
    exps = [gh.expected(repo, n) for repo in gh.repos() for n in gh.pr_numbers(repo)]
    assert len(exps) == 230
    states = Counter(e["state"] for e in exps)
    assert 0.6 < states["merged"] / 230 < 0.8 and 0.08 < states["closed"] / 230 < 0.22
    assert 0.08 < states["open"] / 230 < 0.25
    assert not any(e["draft"] for e in exps if e["state"] != "open")
    authors = Counter(e["author"] for e in exps)
    assert 12 <= len(authors) <= 20 and {"dependabot[bot]", "renovate[bot]"} & set(authors)
    assert all(e["author_is_bot"] == e["author"].endswith("[bot]") for e in exps)
    window_start = NOW - timedelta(days=181)
    mentioning = 0
    for e in exps:
        assert window_start < e["created"] < NOW
        times = [e["created"], e["merged"], e["closed"]] + [rv[3] for rv in e["reviews"]]
        assert e["updated"] >= max(t for t in times if t is not None)
        assert e["updated"] <= NOW
        if e["state"] == "merged":
            assert e["merged"] == e["closed"] and e["merged_by"]
        elif e["state"] == "closed":
            assert e["merged"] is None and e["closed"] is not None
        else:
            assert e["merged"] is None and e["closed"] is None
        assert len(e["reviews"]) <= 7 and all(rv[2] != e["author"] for rv in e["reviews"])
        assert 1 <= e["commits"] == len(e["commit_shas"]) and len(set(e["commit_shas"])) == e["commits"]
        assert e["additions"] >= 0 and e["deletions"] >= 0 and e["changed_files"] >= 1
        found = sorted(set(KEY_RE.findall(e["title"]) + KEY_RE.findall(e["head_ref"])
                           + KEY_RE.findall(e["body"] or "")))
        assert found == e["work_item_keys"], (e["title"], e["head_ref"], e["body"])
        assert set(found) <= set(KEYS) and len(found) <= 2
        mentioning += bool(found)
    assert 0.28 < mentioning / 230 < 0.52
    assert any(re.match(r"^(feature|fix|chore|refactor)/[A-Z]+-\d+-", e["head_ref"]) for e in exps)
    assert any(re.match(r"^[A-Z]+-\d+: ", e["title"]) for e in exps)
    draft_open = [e for e in exps if e["state"] == "open" and e["draft"]]
    assert len(draft_open) < states["open"]
    created_recent = sorted(e["created"] for e in exps)
    assert created_recent[0] < NOW - timedelta(days=120) and created_recent[-1] > NOW - timedelta(days=30)


def test_bots_have_type_bot_and_data_is_deterministic(gh, http):
    items, _ = walk(http, f"{gh.url}/repos/acme/api/pulls", state="all", per_page=100)
    bots = [i for i in items if i["user"]["login"].endswith("[bot]")]
    assert bots and all(i["user"]["type"] == "Bot" for i in bots)
    assert all(i["user"]["type"] == "User" for i in items if i not in bots)
    same = FakeGitHub(repos={"acme/api": 150, "acme/web": 80}, seed=7, now=NOW, work_item_keys=KEYS)
    other = FakeGitHub(repos={"acme/api": 150, "acme/web": 80}, seed=8, now=NOW, work_item_keys=KEYS)
    assert same.pr_numbers("acme/api") == gh.pr_numbers("acme/api")
    n = gh.pr_numbers("acme/api")[10]
    assert same.expected("acme/api", n) == FakeGitHub(repos={"acme/api": 150, "acme/web": 80}, seed=7, now=NOW,
                                                      work_item_keys=KEYS).expected("acme/api", n)
    sample = gh.pr_numbers("acme/web")[:20]
    assert [same.expected("acme/web", m)["title"] for m in sample] == [
        FakeGitHub(repos={"acme/web": 80}, seed=7, now=NOW, work_item_keys=KEYS).expected("acme/web", m)["title"]
        for m in sample]  # a repository's data does not depend on the others
    assert [other.expected("acme/api", m)["title"] for m in other.pr_numbers("acme/api")[:20]] != [
        same.expected("acme/api", m)["title"] for m in same.pr_numbers("acme/api")[:20]]
    nokeys = FakeGitHub(repos={"acme/api": 60}, seed=7, now=NOW)
    assert all(not nokeys.expected("acme/api", m)["work_item_keys"] for m in nokeys.pr_numbers("acme/api"))


def test_large_repository_walk_and_details():
    """How fast this runs is measured by bench/fake_github.py, not asserted here."""
    fake = FakeGitHub(repos={"big/repo": 3000}, seed=5, now=NOW, rate_limit=100_000)
    srv = fake.serve()
    try:
        s = session_for()
        items, responses = walk(s, f"{srv.url}/repos/big/repo/pulls", state="all", sort="updated",
                                direction="desc", per_page=100)
        assert len(items) == 3000 and len(responses) == 30
        assert len({it["number"] for it in items}) == 3000
        for it in items[:500]:
            assert s.get(it["url"]).status_code == 200
    finally:
        srv.stop()


def test_standalone_main():
    proc = subprocess.Popen([sys.executable, "-m", "etl.fakes.github", "--port", "0", "--repos",
                             "acme/api:12,acme/web:5", "--work-items", "ABC:20"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        m = re.search(r"at (http://127\.0\.0\.1:\d+)", line)
        assert m, line + proc.stderr.read()
        r = session_for().get(f"{m.group(1)}/repos/acme/web/pulls", params={"state": "all"})
        assert r.status_code == 200 and len(r.json()) == 5
    finally:
        proc.terminate()
        proc.wait(10)
