"""The mapping API on the real database: CRUD of wits, hierarchies, statuses, their mappings and
workflows; every validation rule with its status and message; tenant isolation; the unmapped
values; and a mapping change re-transforming the affected work items from the raw layer (real
RabbitMQ and workers, the fake Jira seeing no request)."""
from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import select, update

from etl.db import get_sessionmaker
from etl.jobs.lifecycle import start_job
from etl.models import EtlJob, RawExtractionData, WorkItem
from etl.tenancy.integrations import create_integration
from tests.scopes import session_scope
from tests.waiting import wait_for_job

V1 = "/api/v1"
CLOSED_URL = "http://127.0.0.1:1"  # nothing listens: an integration here is never reached


def auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


class Api:
    """The API as one tenant's key sees it."""

    def __init__(self, client, key: str):
        self.client, self.headers = client, auth(key)

    def get(self, path, **params):
        return self.client.get(V1 + path, params=params, headers=self.headers)

    def post(self, path, body):
        return self.client.post(V1 + path, json=body, headers=self.headers)

    def patch(self, path, body):
        return self.client.patch(V1 + path, json=body, headers=self.headers)

    def delete(self, path):
        return self.client.delete(V1 + path, headers=self.headers)

    def ok(self, method: str, path: str, *args, status: int = 200, **params) -> dict | list:
        r = getattr(self, method)(path, *args, **params)  # params: a GET's query
        assert r.status_code == status, r.text
        return r.json()

    def refused(self, method: str, path: str, *args, status: int) -> str:
        """The message of a refusal; a pydantic 422 gives its messages joined."""
        r = getattr(self, method)(path, *args)
        assert r.status_code == status, r.text
        detail = r.json()["detail"]
        return detail if isinstance(detail, str) else " | ".join(f"{e['loc']}: {e['msg']}" for e in detail)

    def id_of(self, path: str, **match) -> int:
        return next(row["id"] for row in self.ok("get", path) if all(row[k] == v for k, v in match.items()))


@pytest.fixture
def tenant_api(api_client, make_tenant):
    """tenant_api() -> (tenant_id, Api) for a new tenant with the default mappings."""

    def make():
        tenant_id, key = make_tenant()
        return tenant_id, Api(api_client, key)

    return make


def add_integration(tenant_id, provider: str = "jira") -> uuid.UUID:
    settings = {"projects": ["ABC"]} if provider == "jira" else {"repos": ["acme/api"]}
    with session_scope() as s:
        return create_integration(s, tenant_id, provider, f"{provider}-{uuid.uuid4().hex[:6]}", CLOSED_URL,
                                  {"token": "t"}, settings).id


def add_raw_issue(tenant_id, integration_id, issuetype: str, status: str, went_through: tuple[str, ...] = ()) -> int:
    """A raw Jira issue as extraction stores it (only the fields the mapping code reads)."""
    histories = [{"id": str(n), "created": "2025-09-01T10:00:00.000+0000",
                  "items": [{"field": "status", "fieldId": "status", "fromString": "To Do", "toString": name}]}
                 for n, name in enumerate(went_through)]
    external_id = uuid.uuid4().hex[:10]
    with session_scope() as s:
        row = RawExtractionData(
            tenant_id=tenant_id, integration_id=integration_id, entity_type="jira_issue", external_id=external_id,
            raw_data={"id": external_id, "key": f"ABC-{external_id}",
                      "fields": {"issuetype": {"name": issuetype}, "status": {"name": status}},
                      "changelog": {"histories": histories}},
            content_hash=external_id, processing_status="completed")
        s.add(row)
        s.flush()
        return row.id


def hold_active_job(tenant_id, integration_id) -> uuid.UUID:
    """An active job on the integration: a reprocess for it is then refused (busy), nothing published."""
    with session_scope() as s:
        job = EtlJob(tenant_id=tenant_id, integration_id=integration_id, kind="full", status="running")
        s.add(job)
        s.flush()
        return job.id


@pytest.fixture
def active_jobs():
    """hold(tenant_id, integration_id): active jobs ended (cancelled) after the test."""
    held: list[uuid.UUID] = []
    yield lambda tenant_id, integration_id: held.append(hold_active_job(tenant_id, integration_id))
    with session_scope() as s:
        s.execute(update(EtlJob).where(EtlJob.id.in_(held)).values(status="cancelled"))


NO_REPROCESS = {"started": [], "busy": [], "failed": [], "jobs": []}




def work_items_by_key(integration_id) -> dict[str, WorkItem]:
    with session_scope() as s:
        return {w.key: w for w in s.scalars(select(WorkItem).where(WorkItem.integration_id == integration_id))}


# --- CRUD ---------------------------------------------------------------------------------------


def test_hierarchies_and_wits_crud(tenant_api):
    _, api = tenant_api()
    assert [(h["level"], h["name"]) for h in api.ok("get", "/wit-hierarchies")] == [
        (2, "Initiative"), (1, "Epic"), (0, "Story"), (-1, "Sub-task")]
    theme = api.ok("post", "/wit-hierarchies", {"level": 3, "name": " Theme ", "description": "groups initiatives"},
                   status=201)
    assert theme == {"id": theme["id"], "level": 3, "name": "Theme", "description": "groups initiatives"}
    assert api.ok("get", f"/wit-hierarchies/{theme['id']}") == theme
    assert api.ok("patch", f"/wit-hierarchies/{theme['id']}", {"name": "Portfolio", "description": None}) == {
        **theme, "name": "Portfolio", "description": None}

    assert {w["name"] for w in api.ok("get", "/wits")} == {"Epic", "Story", "Task", "Bug", "Sub-task"}
    wit = api.ok("post", "/wits", {"name": "Research", "hierarchy_level": 3}, status=201)
    assert wit == {"id": wit["id"], "name": "Research", "hierarchy_level": 3, "description": None,
                   "reprocess": NO_REPROCESS}
    assert api.ok("get", f"/wits/{wit['id']}")["name"] == "Research"
    changed = api.ok("patch", f"/wits/{wit['id']}", {"hierarchy_level": 0, "description": "spikes"})
    assert (changed["hierarchy_level"], changed["description"]) == (0, "spikes")
    # level 3 is free again: it can be renumbered, then deleted
    assert api.ok("patch", f"/wit-hierarchies/{theme['id']}", {"level": 4})["level"] == 4
    assert api.ok("delete", f"/wit-hierarchies/{theme['id']}") == {"deleted": theme["id"]}
    assert api.get(f"/wit-hierarchies/{theme['id']}").status_code == 404
    assert api.ok("delete", f"/wits/{wit['id']}") == {"deleted": wit["id"], "reprocess": NO_REPROCESS}
    assert api.get(f"/wits/{wit['id']}").status_code == 404


def test_wit_and_status_mappings_crud(tenant_api):
    tenant_id, api = tenant_api()
    integration_id = str(add_integration(tenant_id))
    story = api.id_of("/wits", name="Story")
    created = api.ok("post", "/wit-mappings", {"source_name": "Spike", "wit_id": story}, status=201)
    assert created == {"id": created["id"], "source_name": "Spike", "wit_id": story, "wit_name": "Story",
                       "integration_id": None, "reprocess": NO_REPROCESS}  # no raw data yet: nothing to redo
    # the same source name once more for one integration: that one wins there
    task = api.id_of("/wits", name="Task")
    specific = api.ok("post", "/wit-mappings",
                      {"source_name": "spike", "wit_id": task, "integration_id": integration_id}, status=201)
    assert api.ok("get", f"/wit-mappings/{specific['id']}")["wit_name"] == "Task"
    assert [m["id"] for m in api.ok("get", "/wit-mappings", integration_id=integration_id)] == [specific["id"]]
    assert {m["source_name"] for m in api.ok("get", "/wit-mappings", wit_id=story)} == {"Spike", "story"}
    moved = api.ok("patch", f"/wit-mappings/{specific['id']}", {"source_name": "Research", "integration_id": None})
    assert (moved["source_name"], moved["integration_id"], moved["wit_name"]) == ("Research", None, "Task")
    assert api.ok("delete", f"/wit-mappings/{specific['id']}") == {"deleted": specific["id"],
                                                                    "reprocess": NO_REPROCESS}
    assert api.get(f"/wit-mappings/{specific['id']}").status_code == 404

    blocked = api.ok("post", "/statuses", {"name": "Blocked", "category": "in_progress"}, status=201)
    assert blocked == {"id": blocked["id"], "name": "Blocked", "category": "in_progress",
                       "reprocess": NO_REPROCESS}
    mapping = api.ok("post", "/status-mappings",
                     {"source_name": "On Hold", "status_id": blocked["id"], "integration_id": integration_id},
                     status=201)
    assert (mapping["status_name"], mapping["status_category"]) == ("Blocked", "in_progress")
    api.ok("patch", f"/statuses/{blocked['id']}", {"category": "to_do"})
    assert api.ok("get", f"/status-mappings/{mapping['id']}")["status_category"] == "to_do"
    assert [m["id"] for m in api.ok("get", "/status-mappings", status_id=blocked["id"])] == [mapping["id"]]
    todo = api.id_of("/statuses", name="To Do")
    assert api.ok("patch", f"/status-mappings/{mapping['id']}", {"status_id": todo})["status_name"] == "To Do"
    api.ok("delete", f"/status-mappings/{mapping['id']}")
    api.ok("delete", f"/statuses/{blocked['id']}")
    assert blocked["id"] not in {s["id"] for s in api.ok("get", "/statuses")}


def test_workflows_crud(tenant_api):
    tenant_id, api = tenant_api()
    integration_id = str(add_integration(tenant_id))
    ids = {s["name"]: s["id"] for s in api.ok("get", "/statuses")}
    (default,) = api.ok("get", "/workflows")
    assert (default["name"], default["integration_id"]) == ("Default", None)
    assert [(s["status_name"], s["is_commitment_point"], s["is_done"]) for s in default["steps"]] == [
        ("To Do", False, False), ("In Progress", True, False), ("Done", False, True)]

    steps = [{"status_id": ids["In Progress"], "is_commitment_point": True}, {"status_id": ids["Done"], "is_done": True}]
    created = api.ok("post", "/workflows", {"name": "Kanban", "integration_id": integration_id, "steps": steps},
                     status=201)
    assert created["reprocess"] == NO_REPROCESS  # the integration has no raw data
    assert [(s["position"], s["status_name"]) for s in created["steps"]] == [(0, "In Progress"), (1, "Done")]
    assert api.ok("get", f"/workflows/{created['id']}") == {k: v for k, v in created.items() if k != "reprocess"}
    assert [w["id"] for w in api.ok("get", "/workflows", integration_id=integration_id)] == [created["id"]]

    # replacing the steps may reuse positions and statuses
    new_steps = [{"status_id": ids["To Do"]}, {"status_id": ids["Done"], "is_done": True},
                 {"status_id": ids["In Progress"]}]
    changed = api.ok("patch", f"/workflows/{created['id']}", {"name": "Flow", "steps": new_steps})
    assert changed["name"] == "Flow"
    assert [(s["status_name"], s["is_done"]) for s in changed["steps"]] == [
        ("To Do", False), ("Done", True), ("In Progress", False)]
    assert api.ok("delete", f"/workflows/{created['id']}")["deleted"] == created["id"]
    assert [w["id"] for w in api.ok("get", "/workflows")] == [default["id"]]


# --- validation ---------------------------------------------------------------------------------


def test_mappings_must_point_at_the_tenants_own_rows(tenant_api):
    tenant_id, api = tenant_api()
    other_id, other = tenant_api()
    others_wit = other.id_of("/wits", name="Story")
    others_status = other.id_of("/statuses", name="Done")
    others_integration = str(add_integration(other_id))
    github = str(add_integration(tenant_id, "github"))
    story = api.id_of("/wits", name="Story")
    done = api.id_of("/statuses", name="Done")

    for wit_id in (others_wit, 999_999_999):
        msg = api.refused("post", "/wit-mappings", {"source_name": "Spike", "wit_id": wit_id}, status=422)
        assert msg == f"wit_id: wit {wit_id} does not exist; use an id from GET /api/v1/wits"
    msg = api.refused("post", "/status-mappings", {"source_name": "Blocked", "status_id": others_status}, status=422)
    assert msg == f"status_id: status {others_status} does not exist; use an id from GET /api/v1/statuses"
    msg = api.refused("post", "/wit-mappings",
                      {"source_name": "Spike", "wit_id": story, "integration_id": others_integration}, status=422)
    assert msg.startswith(f"integration_id: integration {others_integration} does not exist")
    msg = api.refused("post", "/status-mappings",
                      {"source_name": "Blocked", "status_id": done, "integration_id": github}, status=422)
    assert msg == (f"integration_id: integration {github} is a github integration; work item mappings apply to "
                   "Jira integrations only")
    mapping = api.ok("post", "/wit-mappings", {"source_name": "Spike", "wit_id": story}, status=201)
    assert "wit_id: wit" in api.refused("patch", f"/wit-mappings/{mapping['id']}", {"wit_id": others_wit}, status=422)
    # body shape: unknown fields, missing fields, null for a required field, bad ids
    assert "extra_fwd" in api.refused("post", "/wit-mappings", {"source_name": "x", "wit_id": story,
                                                                "extra_fwd": 1}, status=422)
    assert "['body', 'wit_id']: Field required" in api.refused("post", "/wit-mappings", {"source_name": "x"}, status=422)
    assert "source_name" in api.refused("post", "/wit-mappings", {"source_name": "  ", "wit_id": story}, status=422)
    msg = api.refused("patch", f"/wit-mappings/{mapping['id']}", {"wit_id": None}, status=422)
    assert "wit_id cannot be null; leave it out to keep the current value" in msg
    assert api.get("/wit-mappings/0").status_code == 422
    assert api.get("/wit-mappings/99999999999").status_code == 404


def test_duplicate_source_names_are_409_naming_the_existing_mapping(tenant_api):
    tenant_id, api = tenant_api()
    integration_id = str(add_integration(tenant_id))
    story, bug = api.id_of("/wits", name="Story"), api.id_of("/wits", name="Bug")
    existing = api.id_of("/wit-mappings", source_name="story")  # a default mapping
    msg = api.refused("post", "/wit-mappings", {"source_name": " STORY ", "wit_id": bug}, status=409)
    assert msg == (f"source_name: wit mapping {existing} already maps 'story' to wit {story} tenant-wide; "
                   f"change it with PATCH /api/v1/wit-mappings/{existing} instead")
    # per integration it is another scope, once
    specific = api.ok("post", "/wit-mappings",
                      {"source_name": "Story", "wit_id": bug, "integration_id": integration_id}, status=201)
    msg = api.refused("post", "/wit-mappings",
                      {"source_name": "story", "wit_id": bug, "integration_id": integration_id}, status=409)
    assert msg.startswith(f"source_name: wit mapping {specific['id']} already maps 'Story' to wit {bug} "
                          f"for integration {integration_id}")
    # moving a mapping onto a taken name is refused the same way
    msg = api.refused("patch", f"/wit-mappings/{specific['id']}", {"integration_id": None}, status=409)
    assert msg.startswith(f"source_name: wit mapping {existing} already maps 'story'")

    done = api.id_of("/statuses", name="Done")
    existing = api.id_of("/status-mappings", source_name="closed")
    msg = api.refused("post", "/status-mappings", {"source_name": "Closed", "status_id": done}, status=409)
    assert msg.startswith(f"source_name: status mapping {existing} already maps 'closed' to status {done} "
                          "tenant-wide")
    other = api.ok("post", "/status-mappings", {"source_name": "Shipped", "status_id": done}, status=201)
    msg = api.refused("patch", f"/status-mappings/{other['id']}", {"source_name": "CLOSED"}, status=409)
    assert f"status mapping {existing} already maps 'closed'" in msg


def test_names_levels_and_categories(tenant_api):
    _, api = tenant_api()
    story = api.id_of("/wits", name="Story")
    msg = api.refused("post", "/wits", {"name": "story"}, status=409)
    assert msg == f"name: wit {story} is already named 'Story'; choose another name or edit that wit"
    bug = api.id_of("/wits", name="Bug")
    assert api.refused("patch", f"/wits/{bug}", {"name": "STORY"}, status=409).startswith(f"name: wit {story}")
    msg = api.refused("post", "/wits", {"name": "Theme", "hierarchy_level": 3}, status=422)
    assert msg == ("hierarchy_level: level 3 does not exist (existing levels: 2 (Initiative), 1 (Epic), 0 (Story), "
                   "-1 (Sub-task)); add it with POST /api/v1/wit-hierarchies first")
    assert "hierarchy_level: level 5 does not exist" in api.refused("patch", f"/wits/{bug}", {"hierarchy_level": 5},
                                                                    status=422)
    epic_level = api.id_of("/wit-hierarchies", level=1)
    msg = api.refused("post", "/wit-hierarchies", {"level": 1, "name": "Feature"}, status=409)
    assert msg == (f"level: level 1 already exists as wit hierarchy {epic_level} ('Epic'); edit that one or choose "
                   "another level")
    done = api.id_of("/statuses", name="Done")
    assert api.refused("post", "/statuses", {"name": "DONE", "category": "done"}, status=409).startswith(
        f"name: status {done} is already named 'Done'")
    msg = api.refused("post", "/statuses", {"name": "Parked", "category": "waiting"}, status=422)
    assert "Input should be 'to_do', 'in_progress' or 'done'" in msg


def test_workflow_steps_rules(tenant_api):
    tenant_id, api = tenant_api()
    other_id, other = tenant_api()
    ids = {s["name"]: s["id"] for s in api.ok("get", "/statuses")}
    todo, doing, done = ids["To Do"], ids["In Progress"], ids["Done"]
    integration_id = str(add_integration(tenant_id))

    def refused(steps) -> str:
        return api.refused("post", "/workflows", {"name": "W", "integration_id": integration_id, "steps": steps},
                           status=422)

    assert "a workflow needs at least one step" in refused([])
    assert "exactly one done step (is_done = true); no step is" in refused([{"status_id": todo}])
    assert "exactly one done step (is_done = true); steps 1, 2 are" in refused(
        [{"status_id": todo, "is_done": True}, {"status_id": done, "is_done": True}])
    assert "at most one commitment point; steps 1, 2 are" in refused(
        [{"status_id": todo, "is_commitment_point": True}, {"status_id": doing, "is_commitment_point": True},
         {"status_id": done, "is_done": True}])
    assert "the commitment point (step 2) must come before the done step (step 1)" in refused(
        [{"status_id": done, "is_done": True}, {"status_id": doing, "is_commitment_point": True}])
    assert "the commitment point (step 1) must come before the done step (step 1)" in refused(
        [{"status_id": done, "is_done": True, "is_commitment_point": True}])
    assert f"status {todo} is both step 1 and step 2; a status may appear once" in refused(
        [{"status_id": todo}, {"status_id": todo, "is_done": True}])
    others_done = other.id_of("/statuses", name="Done")
    assert refused([{"status_id": todo}, {"status_id": others_done, "is_done": True}]) == (
        f"steps: status {others_done} (step 2) does not exist; use an id from GET /api/v1/statuses")
    assert api.ok("get", "/workflows", integration_id=integration_id) == []  # nothing half-written

    (default,) = api.ok("get", "/workflows")
    msg = api.refused("post", "/workflows", {"name": "Second", "steps": [{"status_id": done, "is_done": True}]},
                      status=409)
    assert msg == (f"integration_id: workflow {default['id']} ('Default') is already the tenant-wide workflow; "
                   f"change it with PATCH /api/v1/workflows/{default['id']} instead")
    assert "a workflow needs at least one step" in api.refused("patch", f"/workflows/{default['id']}",
                                                               {"steps": []}, status=422)
    assert "steps cannot be null" in api.refused("patch", f"/workflows/{default['id']}", {"steps": None},
                                                 status=422)


def test_rows_still_in_use_cannot_be_deleted(tenant_api):
    _, api = tenant_api()
    story = api.id_of("/wits", name="Story")
    story_mapping = api.id_of("/wit-mappings", source_name="story")
    msg = api.refused("delete", f"/wits/{story}", status=409)
    assert msg == (f"wit {story} ('Story') is still used by wit mappings {story_mapping} ('story'); point them at "
                   "another wit or delete them first")
    done = api.id_of("/statuses", name="Done")
    (default,) = api.ok("get", "/workflows")
    msg = api.refused("delete", f"/statuses/{done}", status=409)
    assert msg.startswith(f"status {done} ('Done') is still used by status mappings ")
    for source in ("done", "closed", "resolved"):
        assert f"({source!r})" in msg
    assert f"and workflows {default['id']} ('Default')" in msg
    # the hierarchy level of wits
    level_0 = api.id_of("/wit-hierarchies", level=0)
    msg = api.refused("delete", f"/wit-hierarchies/{level_0}", status=409)
    assert msg.startswith("level 0 ('Story') is still used by wits ") and "'Task'" in msg
    msg = api.refused("patch", f"/wit-hierarchies/{level_0}", {"level": 5}, status=409)
    assert msg.startswith("level 0 ('Story') is still used by wits ") and msg.endswith("move them to another level first")
    # once nothing uses it, it goes
    for mapping in api.ok("get", "/status-mappings", status_id=done):
        api.ok("delete", f"/status-mappings/{mapping['id']}")
    api.ok("delete", f"/workflows/{default['id']}")
    api.ok("delete", f"/statuses/{done}")


# --- tenant isolation ---------------------------------------------------------------------------


def test_another_tenants_ids_are_404_and_never_listed(tenant_api):
    b_tenant, b = tenant_api()
    _, a = tenant_api()
    b_integration = str(add_integration(b_tenant))
    b_status = b.ok("post", "/statuses", {"name": "B only", "category": "to_do"}, status=201)
    b_rows = {
        "/wits": b.ok("post", "/wits", {"name": "B only"}, status=201)["id"],
        "/wit-hierarchies": b.ok("post", "/wit-hierarchies", {"level": 7, "name": "B"}, status=201)["id"],
        "/statuses": b_status["id"],
        "/wit-mappings": b.ok("post", "/wit-mappings", {"source_name": "B only", "wit_id": b.id_of("/wits", name="Bug"),
                                                        "integration_id": b_integration}, status=201)["id"],
        "/status-mappings": b.ok("post", "/status-mappings", {"source_name": "B only", "status_id": b_status["id"]},
                                 status=201)["id"],
        "/workflows": b.ok("post", "/workflows", {"name": "B", "integration_id": b_integration,
                                                  "steps": [{"status_id": b_status["id"], "is_done": True}]},
                           status=201)["id"],
    }
    patches = {"/wits": {"name": "x"}, "/wit-hierarchies": {"name": "x"}, "/statuses": {"name": "x"},
               "/wit-mappings": {"source_name": "x"}, "/status-mappings": {"source_name": "x"},
               "/workflows": {"name": "x"}}
    for path, row_id in b_rows.items():
        assert row_id not in {row["id"] for row in a.ok("get", path)}, path
        for method, args in (("get", ()), ("patch", (patches[path],)), ("delete", ())):
            r = getattr(a, method)(f"{path}/{row_id}", *args)
            assert r.status_code == 404, (method, path, r.text)
            assert r.json()["detail"].endswith(f"{row_id} not found")
        assert b.get(f"{path}/{row_id}").status_code == 200  # untouched
    assert b.ok("get", f"/wits/{b_rows['/wits']}")["name"] == "B only"
    assert a.ok("get", "/wit-mappings", integration_id=b_integration) == []
    assert a.ok("get", "/workflows", integration_id=b_integration) == []


# --- unmapped values and what a change re-transforms ---------------------------------------------


def test_unmapped_counts_per_integration_and_tenant(tenant_api, active_jobs):
    tenant_id, api = tenant_api()
    other_id, other = tenant_api()
    first, second = add_integration(tenant_id), add_integration(tenant_id)
    for integration_id in (first, second):
        active_jobs(tenant_id, integration_id)  # the mappings below start no reprocess
    for _ in range(3):
        add_raw_issue(tenant_id, first, "Spike", "Blocked")
    add_raw_issue(tenant_id, second, "spike", "In Progress")
    add_raw_issue(tenant_id, second, "Story", "On Hold")
    add_raw_issue(other_id, add_integration(other_id), "Other tenant type", "Other tenant status")

    unmapped = api.ok("get", "/mappings/unmapped")
    spike = unmapped["issue_types"]
    assert [(v["source_name"], v["count"]) for v in spike] == [("Spike", 4)]
    assert [(i["integration_id"], i["count"]) for i in spike[0]["integrations"]] == [(str(first), 3), (str(second), 1)]
    assert all(i["integration_name"].startswith("jira-") for i in spike[0]["integrations"])
    assert [(v["source_name"], v["count"], [(i["integration_id"], i["count"]) for i in v["integrations"]])
            for v in unmapped["statuses"]] == [("Blocked", 3, [(str(first), 3)]), ("On Hold", 1, [(str(second), 1)])]
    only_second = api.ok("get", "/mappings/unmapped", integration_id=str(second))
    assert [v["source_name"] for v in only_second["statuses"]] == ["On Hold"]
    assert [v["count"] for v in only_second["issue_types"]] == [1]

    # an integration-specific mapping covers that integration only; a tenant-wide one covers all
    story = api.id_of("/wits", name="Story")
    api.ok("post", "/wit-mappings", {"source_name": "SPIKE", "wit_id": story, "integration_id": str(first)},
           status=201)
    assert [(i["integration_id"], i["count"]) for i in api.ok("get", "/mappings/unmapped")["issue_types"][0][
        "integrations"]] == [(str(second), 1)]
    api.ok("post", "/wit-mappings", {"source_name": "Spike", "wit_id": story}, status=201)
    assert api.ok("get", "/mappings/unmapped")["issue_types"] == []
    assert [v["source_name"] for v in other.ok("get", "/mappings/unmapped")["issue_types"]] == ["Other tenant type"]


def test_a_change_reprocesses_the_integrations_it_affects_and_reports_busy_ones(tenant_api, active_jobs):
    """With an active job on every integration nothing is published, so which integrations a change
    affects shows in `busy`."""
    tenant_id, api = tenant_api()
    first, second, idle = add_integration(tenant_id), add_integration(tenant_id), add_integration(tenant_id)
    add_integration(tenant_id, "github")
    add_raw_issue(tenant_id, first, "Spike", "To Do")
    add_raw_issue(tenant_id, second, "Spike", "Done", went_through=("Blocked",))
    add_raw_issue(tenant_id, idle, "Story", "To Do")
    for integration_id in (first, second, idle):
        active_jobs(tenant_id, integration_id)
    story, todo = api.id_of("/wits", name="Story"), api.id_of("/statuses", name="To Do")

    def busy(response: dict) -> set[str]:
        assert response["reprocess"]["started"] == [] and response["reprocess"]["failed"] == []
        assert response["reprocess"]["jobs"] == []
        return set(response["reprocess"]["busy"])

    specific = api.ok("post", "/wit-mappings", {"source_name": "spike", "wit_id": story, "integration_id": str(first)},
                      status=201)
    assert busy(specific) == {str(first)}
    wide = api.ok("post", "/wit-mappings", {"source_name": "Spike", "wit_id": story}, status=201)
    assert busy(wide) == {str(first), str(second)}  # `idle` has no Spike
    # a status the issue only went through counts too: cycle time reads the transitions
    blocked = api.ok("post", "/status-mappings", {"source_name": "Blocked", "status_id": todo}, status=201)
    assert busy(blocked) == {str(second)}
    # renaming a wit touches the items mapped to it: every integration here has a Story or a Spike
    assert busy(api.ok("patch", f"/wits/{story}", {"name": "User story"})) == {str(first), str(second), str(idle)}
    assert busy(api.ok("patch", f"/wits/{story}", {"description": "only words"})) == set()
    # a workflow: every item of the integrations it applies to
    (default,) = api.ok("get", "/workflows")
    assert busy(api.ok("patch", f"/workflows/{default['id']}", {"name": "Renamed"})) == set()
    steps = [{"status_id": todo, "is_commitment_point": True}, {"status_id": api.id_of("/statuses", name="Done"),
                                                                "is_done": True}]
    own = api.ok("post", "/workflows", {"name": "Own", "integration_id": str(idle), "steps": steps}, status=201)
    assert busy(own) == {str(idle)}
    assert busy(api.ok("patch", f"/workflows/{default['id']}", {"steps": steps})) == {str(first), str(second)}
    assert busy(api.ok("delete", f"/wit-mappings/{specific['id']}")) == {str(first)}


def test_editing_a_status_mapping_retransforms_the_items_without_calling_jira(
        workers, jira_integration, api_client):
    tenant_id, key, integration_id, fake = jira_integration(issues=300)
    api = Api(api_client, key)
    assert wait_for_job(start_job(get_sessionmaker(), integration_id, tenant_id)).status == "succeeded"
    expected = {k: fake.expected(k) for k in fake.issue_keys()}
    blocked_now = {k for k, e in expected.items() if e["status"] == "Blocked"}
    went_through = {k for k, e in expected.items() if any(to == "Blocked" for _, to, _ in e["transitions"])}
    spikes = {k for k, e in expected.items() if e["issuetype"] == "Spike"}
    assert blocked_now and spikes and went_through > blocked_now

    unmapped = api.ok("get", "/mappings/unmapped")
    assert [(v["source_name"], v["count"]) for v in unmapped["issue_types"]] == [("Spike", len(spikes))]
    assert [(v["source_name"], v["count"]) for v in unmapped["statuses"]] == [("Blocked", len(blocked_now))]
    assert unmapped["statuses"][0]["integrations"][0]["integration_id"] == str(integration_id)
    before = work_items_by_key(integration_id)
    assert {before[k].status for k in blocked_now} == {"Blocked"}

    fake.reset_requests()
    todo = api.id_of("/statuses", name="To Do")
    created = api.ok("post", "/status-mappings", {"source_name": "Blocked", "status_id": todo}, status=201)
    assert created["reprocess"]["busy"] == [] and len(created["reprocess"]["started"]) == 1
    # each started job with its integration and how many records it transforms again (the console's toast)
    assert created["reprocess"]["jobs"] == [{"job_id": created["reprocess"]["started"][0],
                                             "integration_id": str(integration_id), "records": len(went_through)}]
    job = wait_for_job(uuid.UUID(created["reprocess"]["started"][0]), timeout=60)
    assert (job.status, job.kind, job.integration_id) == ("succeeded", "reprocess", integration_id)
    assert job.loaded == len(went_through), "only the items in or once in Blocked are transformed again"
    assert fake.requests == [], "a mapping change never calls the source"
    after = work_items_by_key(integration_id)
    assert {(after[k].status, after[k].status_category) for k in blocked_now} == {("To Do", "to_do")}
    assert all(after[k].status == before[k].status for k in expected if k not in blocked_now)
    assert api.ok("get", f"/etl/jobs/{job.id}")["kind"] == "reprocess"

    unmapped = api.ok("get", "/mappings/unmapped")
    assert unmapped["statuses"] == [] and [v["source_name"] for v in unmapped["issue_types"]] == ["Spike"]
    research = api.ok("post", "/wits", {"name": "Research"}, status=201)
    created = api.ok("post", "/wit-mappings", {"source_name": "Spike", "wit_id": research["id"]}, status=201)
    job = wait_for_job(uuid.UUID(created["reprocess"]["started"][0]), timeout=60)
    assert (job.status, job.loaded) == ("succeeded", len(spikes))
    assert api.ok("get", "/mappings/unmapped") == {"issue_types": [], "statuses": []}
    after = work_items_by_key(integration_id)
    assert {(after[k].wit, after[k].source_type) for k in spikes} == {("Research", "Spike")}
    assert fake.requests == []


def test_a_change_while_a_sync_runs_is_applied_when_the_sync_ends(workers, jira_integration, api_client):
    tenant_id, key, integration_id, fake = jira_integration(issues=400)
    api = Api(api_client, key)
    assert wait_for_job(start_job(get_sessionmaker(), integration_id, tenant_id)).status == "succeeded"
    fake.faults.add("slow", path_contains="/search/jql", times=None, delay=0.3)  # keep the next sync busy
    sync = start_job(get_sessionmaker(), integration_id, tenant_id, "full")
    todo = api.id_of("/statuses", name="To Do")
    response = api.ok("post", "/status-mappings", {"source_name": "Blocked", "status_id": todo}, status=201)
    assert response["reprocess"]["busy"] == [str(integration_id)]
    fake.faults.clear()
    assert wait_for_job(sync).status == "succeeded"

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with session_scope() as s:
            follow_up = s.scalar(select(EtlJob).where(EtlJob.integration_id == integration_id,
                                                      EtlJob.kind == "reprocess"))
        if follow_up is not None:
            break
        time.sleep(0.2)
    assert follow_up is not None, "the mapping change was applied once the sync ended"
    assert wait_for_job(follow_up.id).status == "succeeded"
    items = work_items_by_key(integration_id)
    blocked = [k for k in fake.issue_keys() if fake.expected(k)["status"] == "Blocked"]
    assert blocked and all((items[k].status, items[k].status_category) == ("To Do", "to_do") for k in blocked)
