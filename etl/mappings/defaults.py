"""The mappings a new tenant starts with (PRODUCT.md 5)."""
from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from etl.models import Status, StatusMapping, Wit, WitHierarchy, WitMapping, Workflow, WorkflowStep

DEFAULT_HIERARCHY = [(2, "Initiative"), (1, "Epic"), (0, "Story"), (-1, "Sub-task")]


DEFAULT_WITS = {"Epic": 1, "Story": 0, "Task": 0, "Bug": 0, "Sub-task": -1}


DEFAULT_WIT_MAPPINGS = {
    "epic": "Epic", "story": "Story", "task": "Task", "bug": "Bug",
    "sub-task": "Sub-task", "subtask": "Sub-task",
}


DEFAULT_STATUSES = {"To Do": "to_do", "In Progress": "in_progress", "Done": "done"}


DEFAULT_STATUS_MAPPINGS = {
    "backlog": "To Do", "to do": "To Do", "open": "To Do", "selected for development": "To Do",
    "in progress": "In Progress", "in review": "In Progress", "code review": "In Progress",
    "done": "Done", "closed": "Done", "resolved": "Done",
}


DEFAULT_WORKFLOW = [("To Do", False, False), ("In Progress", True, False), ("Done", False, True)]


def seed_default_mappings(session: Session, tenant_id: uuid.UUID) -> None:
    session.add_all(WitHierarchy(tenant_id=tenant_id, level=lvl, name=n) for lvl, n in DEFAULT_HIERARCHY)
    wits = {name: Wit(tenant_id=tenant_id, name=name, hierarchy_level=lvl) for name, lvl in DEFAULT_WITS.items()}
    statuses = {name: Status(tenant_id=tenant_id, name=name, category=cat) for name, cat in DEFAULT_STATUSES.items()}
    session.add_all([*wits.values(), *statuses.values()])
    session.flush()
    session.add_all(
        WitMapping(tenant_id=tenant_id, source_name=src, wit_id=wits[w].id) for src, w in DEFAULT_WIT_MAPPINGS.items()
    )
    session.add_all(
        StatusMapping(tenant_id=tenant_id, source_name=src, status_id=statuses[s].id)
        for src, s in DEFAULT_STATUS_MAPPINGS.items()
    )
    workflow = Workflow(tenant_id=tenant_id, name="Default")
    session.add(workflow)
    session.flush()
    session.add_all(
        WorkflowStep(tenant_id=tenant_id, workflow_id=workflow.id, position=i, status_id=statuses[name].id,
                     is_commitment_point=commit, is_done=done)
        for i, (name, commit, done) in enumerate(DEFAULT_WORKFLOW)
    )
