"""Tenant mappings: the defaults every new tenant gets, the lookup tables a transform uses, and
editing them: validation, which work items a change affects, and the source values nothing maps."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from etl.errors import Conflict, DomainError, Invalid
from etl.models import Integration, Status, StatusMapping, Wit, WitHierarchy, WitMapping, Workflow, WorkflowStep

# --- editing mappings: validation, what a change affects, and the unmapped values ------------
#
# The API's mapping routes (api/routers/mappings/) use these. Every write of a tenant's mappings
# runs under lock_tenant_mappings, so the checks below (a target exists, a source name is free, a
# wit or status is no longer used) cannot be raced by another write of the same tenant.

STATUS_CATEGORIES = ("to_do", "in_progress", "done")


class MappingError(DomainError):
    """A mapping change refused; the message says what to fix."""


class InvalidMapping(MappingError, Invalid):
    """The change names something that does not exist or breaks a rule (HTTP 422)."""


class MappingConflict(MappingError, Conflict):
    """The change collides with an existing row, or a row is still in use (HTTP 409)."""


def lock_tenant_mappings(session: Session, tenant_id: uuid.UUID) -> None:
    """Serialize mapping writes per tenant until the transaction ends."""
    session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                    {"key": f"pulse-etl mappings {tenant_id}"})


def source_key(name: str) -> str:
    """How the transform matches a source name (TenantMappings.wit_for / status_for)."""
    return name.strip().lower()


def check_integration(session: Session, tenant_id: uuid.UUID, integration_id: uuid.UUID | None) -> None:
    """A mapping's integration: one of the tenant's Jira integrations (None: tenant-wide)."""
    if integration_id is None:
        return
    provider = session.scalar(select(Integration.provider).where(Integration.id == integration_id,
                                                                 Integration.tenant_id == tenant_id))
    if provider is None:
        raise InvalidMapping(f"integration_id: integration {integration_id} does not exist; "
                             "use an id from GET /api/v1/integrations, or leave it out for a tenant-wide mapping")
    if provider != "jira":
        raise InvalidMapping(f"integration_id: integration {integration_id} is a {provider} integration; "
                             "work item mappings apply to Jira integrations only")


def get_wit(session: Session, tenant_id: uuid.UUID, wit_id: int) -> Wit:
    wit = session.scalar(select(Wit).where(Wit.id == wit_id, Wit.tenant_id == tenant_id))
    if wit is None:
        raise InvalidMapping(f"wit_id: wit {wit_id} does not exist; use an id from GET /api/v1/wits")
    return wit


def get_status(session: Session, tenant_id: uuid.UUID, status_id: int) -> Status:
    row = session.scalar(select(Status).where(Status.id == status_id, Status.tenant_id == tenant_id))
    if row is None:
        raise InvalidMapping(f"status_id: status {status_id} does not exist; use an id from GET /api/v1/statuses")
    return row


def check_hierarchy_level(session: Session, tenant_id: uuid.UUID, level: int) -> None:
    levels = session.execute(
        select(WitHierarchy.level, WitHierarchy.name).where(WitHierarchy.tenant_id == tenant_id)
        .order_by(WitHierarchy.level.desc())
    ).all()
    if level not in {lvl for lvl, _ in levels}:
        existing = ", ".join(f"{lvl} ({name})" for lvl, name in levels) or "none"
        raise InvalidMapping(f"hierarchy_level: level {level} does not exist (existing levels: {existing}); "
                             "add it with POST /api/v1/wit-hierarchies first")


def check_name_free(session: Session, model, tenant_id: uuid.UUID, name: str, exclude_id: int | None = None) -> None:
    """Wit and status names are unique per tenant, whatever their case."""
    query = select(model.id, model.name).where(model.tenant_id == tenant_id,
                                               func.lower(model.name) == name.strip().lower())
    if exclude_id is not None:
        query = query.where(model.id != exclude_id)
    clash = session.execute(query.limit(1)).first()
    if clash is not None:
        what = "wit" if model is Wit else "status"
        raise MappingConflict(f"name: {what} {clash.id} is already named {clash.name!r}; choose another name "
                              f"or edit that {what}")


def check_level_free(session: Session, tenant_id: uuid.UUID, level: int, exclude_id: int | None = None) -> None:
    query = select(WitHierarchy.id, WitHierarchy.name).where(WitHierarchy.tenant_id == tenant_id,
                                                             WitHierarchy.level == level)
    if exclude_id is not None:
        query = query.where(WitHierarchy.id != exclude_id)
    clash = session.execute(query).first()
    if clash is not None:
        raise MappingConflict(f"level: level {level} already exists as wit hierarchy {clash.id} ({clash.name!r}); "
                              "edit that one or choose another level")


def check_source_name_free(session: Session, model, tenant_id: uuid.UUID, integration_id: uuid.UUID | None,
                           source_name: str, exclude_id: int | None = None) -> None:
    """One mapping per source name (case-insensitive) per integration, and one tenant-wide."""
    query = select(model).where(
        model.tenant_id == tenant_id,
        model.integration_id.is_(None) if integration_id is None else model.integration_id == integration_id,
        func.lower(model.source_name) == source_key(source_name),
    )
    if exclude_id is not None:
        query = query.where(model.id != exclude_id)
    clash = session.scalar(query)
    if clash is None:
        return
    if model is WitMapping:
        what, target = "wit mapping", f"wit {clash.wit_id}"
        path = "wit-mappings"
    else:
        what, target = "status mapping", f"status {clash.status_id}"
        path = "status-mappings"
    scope = "tenant-wide" if integration_id is None else f"for integration {integration_id}"
    raise MappingConflict(f"source_name: {what} {clash.id} already maps {clash.source_name!r} to {target} {scope}; "
                          f"change it with PATCH /api/v1/{path}/{clash.id} instead")


def check_workflow_free(session: Session, tenant_id: uuid.UUID, integration_id: uuid.UUID | None,
                        exclude_id: int | None = None) -> None:
    """One workflow per integration, and one tenant-wide."""
    query = select(Workflow.id, Workflow.name).where(
        Workflow.tenant_id == tenant_id,
        Workflow.integration_id.is_(None) if integration_id is None else Workflow.integration_id == integration_id,
    )
    if exclude_id is not None:
        query = query.where(Workflow.id != exclude_id)
    clash = session.execute(query).first()
    if clash is not None:
        scope = "the tenant-wide workflow" if integration_id is None else f"the workflow of integration {integration_id}"
        raise MappingConflict(f"integration_id: workflow {clash.id} ({clash.name!r}) is already {scope}; "
                              f"change it with PATCH /api/v1/workflows/{clash.id} instead")


@dataclass(frozen=True)
class StepSpec:
    status_id: int
    is_commitment_point: bool = False
    is_done: bool = False


def validate_workflow_steps(steps: list[StepSpec]) -> None:
    """Steps in order: not empty, each status once, exactly one done step, and at most one
    commitment point, before the done step. Raises InvalidMapping saying which step is wrong
    (steps are numbered from 1)."""
    if not steps:
        raise InvalidMapping("steps: a workflow needs at least one step, one of them with is_done = true")
    seen: dict[int, int] = {}
    for n, step in enumerate(steps, 1):
        if step.status_id in seen:
            raise InvalidMapping(f"steps: status {step.status_id} is both step {seen[step.status_id]} and step {n}; "
                                 "a status may appear once")
        seen[step.status_id] = n
    done = [n for n, s in enumerate(steps, 1) if s.is_done]
    if len(done) != 1:
        found = f"steps {', '.join(map(str, done))} are" if done else "no step is"
        raise InvalidMapping(f"steps: a workflow needs exactly one done step (is_done = true); {found}")
    commitments = [n for n, s in enumerate(steps, 1) if s.is_commitment_point]
    if len(commitments) > 1:
        raise InvalidMapping(f"steps: a workflow has at most one commitment point; steps "
                             f"{', '.join(map(str, commitments))} are")
    if commitments and commitments[0] >= done[0]:
        raise InvalidMapping(f"steps: the commitment point (step {commitments[0]}) must come before the done step "
                             f"(step {done[0]})")


def check_step_statuses(session: Session, tenant_id: uuid.UUID, status_ids: list[int]) -> None:
    """Every step's status is one of the tenant's."""
    found = set(session.scalars(select(Status.id).where(Status.tenant_id == tenant_id, Status.id.in_(status_ids))))
    for n, status_id in enumerate(status_ids, 1):
        if status_id not in found:
            raise InvalidMapping(f"steps: status {status_id} (step {n}) does not exist; "
                                 "use an id from GET /api/v1/statuses")


def _ids_and_names(rows, limit: int = 5) -> str:
    """`12 ('story'), 13 ('user story')`, the first few of them."""
    shown = ", ".join(f"{i} ({name!r})" for i, name in rows[:limit])
    return shown + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


def check_wit_unused(session: Session, wit: Wit) -> None:
    """A wit may go once no mapping points at it (the foreign key would delete them with it)."""
    rows = session.execute(select(WitMapping.id, WitMapping.source_name).where(
        WitMapping.tenant_id == wit.tenant_id, WitMapping.wit_id == wit.id).order_by(WitMapping.id)).all()
    if rows:
        raise MappingConflict(f"wit {wit.id} ({wit.name!r}) is still used by wit mappings {_ids_and_names(rows)}; "
                              "point them at another wit or delete them first")


def check_status_unused(session: Session, status: Status) -> None:
    """A status may go once no mapping and no workflow step points at it."""
    mappings = session.execute(select(StatusMapping.id, StatusMapping.source_name).where(
        StatusMapping.tenant_id == status.tenant_id, StatusMapping.status_id == status.id)
        .order_by(StatusMapping.id)).all()
    workflows = session.execute(
        select(Workflow.id, Workflow.name).join(WorkflowStep, WorkflowStep.workflow_id == Workflow.id)
        .where(Workflow.tenant_id == status.tenant_id, WorkflowStep.status_id == status.id).order_by(Workflow.id)
    ).all()
    users = ([f"status mappings {_ids_and_names(mappings)}"] if mappings else []) + (
        [f"workflows {_ids_and_names(workflows)}"] if workflows else [])
    if users:
        raise MappingConflict(f"status {status.id} ({status.name!r}) is still used by {' and '.join(users)}; "
                              "point the mappings at another status and take it out of the workflows, or delete "
                              "them, first")


def check_level_unused(session: Session, hierarchy: WitHierarchy) -> None:
    """A hierarchy level may be renumbered or deleted once no wit has it."""
    rows = session.execute(select(Wit.id, Wit.name).where(
        Wit.tenant_id == hierarchy.tenant_id, Wit.hierarchy_level == hierarchy.level).order_by(Wit.id)).all()
    if rows:
        raise MappingConflict(f"level {hierarchy.level} ({hierarchy.name!r}) is still used by wits "
                              f"{_ids_and_names(rows)}; move them to another level first")


# --- which work items a change affects, and re-transforming them ---------------------------


# --- values seen in the raw layer that no mapping covers --------------------------------------







