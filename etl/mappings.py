"""Tenant mappings: the defaults every new tenant gets, the lookup tables a transform uses, and
editing them: validation, which work items a change affects, and the source values nothing maps."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from etl.models import Integration, RawExtractionData, Status, StatusMapping, Wit, WitHierarchy, WitMapping, Workflow, WorkflowStep

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

# Jira statusCategory keys, used when a status has no mapping (PRODUCT.md 5).
JIRA_CATEGORY_FALLBACK = {"new": "to_do", "done": "done"}


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


@dataclass(frozen=True)
class MappedWit:
    name: str
    hierarchy_level: int


@dataclass(frozen=True)
class MappedStatus:
    name: str
    category: str


@dataclass
class TenantMappings:
    """Everything a transform needs, loaded once per batch. Lookups are case-insensitive; an
    integration-specific mapping wins over the tenant-wide one."""

    wits: dict[str, MappedWit] = field(default_factory=dict)
    statuses: dict[str, MappedStatus] = field(default_factory=dict)
    # workflow: normalized status name -> step position; commitment and done positions
    step_positions: dict[str, int] = field(default_factory=dict)
    commitment_position: int | None = None
    done_position: int | None = None

    def wit_for(self, source_name: str | None) -> MappedWit | None:
        return self.wits.get((source_name or "").strip().lower())

    def status_for(self, source_name: str | None) -> MappedStatus | None:
        return self.statuses.get((source_name or "").strip().lower())


def _source_map(session: Session, mapping, target, target_fk, values, tenant_id, integration_id) -> dict:
    """source name (lower case) -> tuple of target values; integration-specific rows win."""
    rows = session.execute(
        select(mapping.source_name, mapping.integration_id, *values)
        .join(target, target.id == target_fk)
        .where(mapping.tenant_id == tenant_id,
               (mapping.integration_id.is_(None)) | (mapping.integration_id == integration_id))
    ).all()
    # tenant-wide first, then integration-specific ones overwrite them
    return {src.strip().lower(): tuple(vals) for src, _, *vals in sorted(rows, key=lambda r: r[1] is not None)}


def load_mappings(session: Session, tenant_id: uuid.UUID, integration_id: uuid.UUID) -> TenantMappings:
    m = TenantMappings()
    wits = _source_map(session, WitMapping, Wit, WitMapping.wit_id, (Wit.name, Wit.hierarchy_level),
                       tenant_id, integration_id)
    m.wits = {src: MappedWit(*v) for src, v in wits.items()}
    statuses = _source_map(session, StatusMapping, Status, StatusMapping.status_id, (Status.name, Status.category),
                           tenant_id, integration_id)
    m.statuses = {src: MappedStatus(*v) for src, v in statuses.items()}

    workflow = session.execute(
        select(Workflow.id)
        .where(Workflow.tenant_id == tenant_id,
               (Workflow.integration_id.is_(None)) | (Workflow.integration_id == integration_id))
        .order_by(Workflow.integration_id.is_(None))  # integration-specific first
        .limit(1)
    ).scalar()
    if workflow is not None:
        steps = session.execute(
            select(WorkflowStep.position, Status.name, WorkflowStep.is_commitment_point, WorkflowStep.is_done)
            .join(Status, Status.id == WorkflowStep.status_id)
            .where(WorkflowStep.workflow_id == workflow)
            .order_by(WorkflowStep.position)
        ).all()
        for pos, name, is_commit, is_done in steps:
            m.step_positions[name] = pos
            if is_commit and m.commitment_position is None:
                m.commitment_position = pos
            if is_done:
                m.done_position = pos
    return m


# --- editing mappings: validation, what a change affects, and the unmapped values ------------
#
# The API's mapping routes (api/routers/mappings.py) use these. Every write of a tenant's mappings
# runs under lock_tenant_mappings, so the checks below (a target exists, a source name is free, a
# wit or status is no longer used) cannot be raced by another write of the same tenant.

STATUS_CATEGORIES = ("to_do", "in_progress", "done")


class MappingError(Exception):
    """A mapping change refused; the message says what to fix."""


class InvalidMapping(MappingError):
    """The change names something that does not exist or breaks a rule (HTTP 422)."""


class MappingConflict(MappingError):
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


@dataclass
class Impact:
    """What a committed mapping change can alter, by scope (an integration id, or None for
    tenant-wide): items of these source issue types, items that are or were in these source
    statuses (cycle time reads the transitions), or every item (a workflow)."""

    wit_sources: dict[uuid.UUID | None, set[str]] = field(default_factory=dict)
    status_sources: dict[uuid.UUID | None, set[str]] = field(default_factory=dict)
    everything: set[uuid.UUID | None] = field(default_factory=set)

    def add_wit_sources(self, scope: uuid.UUID | None, *names: str) -> None:
        self.wit_sources.setdefault(scope, set()).update(source_key(n) for n in names)

    def add_status_sources(self, scope: uuid.UUID | None, *names: str) -> None:
        self.status_sources.setdefault(scope, set()).update(source_key(n) for n in names)

    def add_wit(self, session: Session, wit: Wit) -> None:
        """Items whose issue type maps to this wit (its name or level changed)."""
        for scope, src in session.execute(select(WitMapping.integration_id, WitMapping.source_name)
                                          .where(WitMapping.tenant_id == wit.tenant_id, WitMapping.wit_id == wit.id)):
            self.add_wit_sources(scope, src)

    def add_status(self, session: Session, status: Status) -> None:
        """Items in, or once in, a source status that maps to this status."""
        for scope, src in session.execute(
                select(StatusMapping.integration_id, StatusMapping.source_name)
                .where(StatusMapping.tenant_id == status.tenant_id, StatusMapping.status_id == status.id)):
            self.add_status_sources(scope, src)

    def __bool__(self) -> bool:
        return bool(self.everything or any(self.wit_sources.values()) or any(self.status_sources.values()))


# Status names a raw issue went through, from its changelog (lax: a missing or odd changelog is no match).
_CHANGELOG_STATUSES = 'lax $.changelog.histories[*].items[*] ? (@.fieldId == "status" || @.field == "status").toString'


def affected_raw_ids(session: Session, tenant_id: uuid.UUID, impact: Impact) -> dict[uuid.UUID, list[int] | None]:
    """Per Jira integration of the tenant, the raw issues to transform again (None: all of them);
    integrations with nothing affected are left out. One query over the raw layer."""
    from etl.sources.jira.client import ISSUE

    integrations = list(session.scalars(select(Integration.id).where(
        Integration.tenant_id == tenant_id, Integration.provider == "jira").order_by(Integration.created_at)))
    own_workflow = set(session.scalars(select(Workflow.integration_id).where(
        Workflow.tenant_id == tenant_id, Workflow.integration_id.is_not(None))))
    everything: list[uuid.UUID] = []
    wanted: list[tuple[uuid.UUID, str, str]] = []
    for integration_id in integrations:
        if integration_id in impact.everything or (None in impact.everything and integration_id not in own_workflow):
            everything.append(integration_id)  # a workflow: cycle times of every item
            continue
        for kind, sources in (("wit", impact.wit_sources), ("status", impact.status_sources)):
            for key in sources.get(None, set()) | sources.get(integration_id, set()):
                wanted.append((integration_id, kind, key))
    result: dict[uuid.UUID, list[int] | None] = {}
    if everything:
        has_raw = (select(RawExtractionData.id)
                   .where(RawExtractionData.tenant_id == tenant_id, RawExtractionData.integration_id == Integration.id,
                          RawExtractionData.entity_type == ISSUE).exists())
        result.update((i, None) for i in session.scalars(
            select(Integration.id).where(Integration.id.in_(everything), has_raw).order_by(Integration.created_at)))
    if wanted:
        rows = session.execute(text("""
            WITH wanted(integration_id, kind, key) AS (
                SELECT * FROM unnest(CAST(:ints AS uuid[]), CAST(:kinds AS text[]), CAST(:keys AS text[]))
            )
            SELECT r.integration_id, array_agg(r.id ORDER BY r.id)
            FROM raw_extraction_data r
            WHERE r.tenant_id = :tenant_id AND r.entity_type = :entity_type
              AND r.integration_id IN (SELECT integration_id FROM wanted)
              AND EXISTS (
                SELECT 1 FROM wanted w
                WHERE w.integration_id = r.integration_id AND (
                  (w.kind = 'wit' AND w.key = lower(btrim(r.raw_data #>> '{fields,issuetype,name}')))
                  OR (w.kind = 'status' AND w.key = lower(btrim(r.raw_data #>> '{fields,status,name}')))
                  OR (w.kind = 'status' AND EXISTS (
                        SELECT 1 FROM jsonb_path_query(r.raw_data, CAST(:changelog_statuses AS jsonpath)) AS t(v)
                        WHERE lower(btrim(t.v #>> '{}')) = w.key))
                ))
            GROUP BY r.integration_id
        """), {"ints": [str(i) for i, _, _ in wanted], "kinds": [k for _, k, _ in wanted],
               "keys": [key for _, _, key in wanted], "tenant_id": tenant_id, "entity_type": ISSUE,
               "changelog_statuses": _CHANGELOG_STATUSES}).all()
        result.update({integration_id: list(ids) for integration_id, ids in rows})
    return result


@dataclass
class ReprocessOutcome:
    started: list[uuid.UUID] = field(default_factory=list)  # job ids
    busy: list[uuid.UUID] = field(default_factory=list)  # integrations with an active job already
    failed: list[dict] = field(default_factory=list)  # {integration_id, job_id, detail}: the broker was down


def request_reprocess(session_factory, integration_id: uuid.UUID) -> None:
    """The integration is busy: its active job starts a reprocess when it ends (etl.jobs)."""
    from sqlalchemy import func, update

    from etl.models import Integration

    with session_factory() as session:
        session.execute(update(Integration).where(Integration.id == integration_id)
                        .values(reprocess_requested_at=func.now()))
        session.commit()


def reprocess_affected(session_factory, tenant_id: uuid.UUID, impact: Impact,
                       trigger: str = "api") -> ReprocessOutcome:
    """After a mapping change committed: start a reprocess job (transform + load again from the raw
    layer, no source calls) for each integration with affected items. An integration that already
    has an active job is reported busy, not queued behind it."""
    from etl.jobs import ActiveJobExists, BrokerUnavailable, start_reprocess

    outcome = ReprocessOutcome()
    if not impact:
        return outcome
    with session_factory() as session:
        affected = affected_raw_ids(session, tenant_id, impact)
    for integration_id, raw_ids in affected.items():
        try:
            outcome.started.append(start_reprocess(session_factory, integration_id, tenant_id, raw_ids, trigger))
        except ActiveJobExists:
            outcome.busy.append(integration_id)
            request_reprocess(session_factory, integration_id)
        except BrokerUnavailable as exc:
            outcome.failed.append({"integration_id": integration_id, "job_id": exc.job_id, "detail": str(exc)})
    return outcome


# --- values seen in the raw layer that no mapping covers --------------------------------------


@dataclass(frozen=True)
class UnmappedIn:
    integration_id: uuid.UUID
    integration_name: str
    count: int


@dataclass
class UnmappedValue:
    source_name: str
    count: int = 0  # over all integrations
    integrations: list[UnmappedIn] = field(default_factory=list)


def unmapped_values(session: Session, tenant_id: uuid.UUID,
                    integration_id: uuid.UUID | None = None) -> dict[str, list[UnmappedValue]]:
    """Source issue types and statuses of the tenant's raw Jira issues that no mapping covers
    (neither tenant-wide nor for their integration), with the number of issues per integration:
    {"issue_types": [...], "statuses": [...]}, most frequent first. One aggregate over the raw
    layer; the values differing only in case are one value, as for the transform."""
    from etl.sources.jira.client import ISSUE

    rows = session.execute(text("""
        WITH seen AS (
            SELECT r.integration_id, v.kind, lower(btrim(v.name)) AS key, min(btrim(v.name)) AS name, count(*) AS n
            FROM raw_extraction_data r
            CROSS JOIN LATERAL (VALUES ('issue_type', r.raw_data #>> '{fields,issuetype,name}'),
                                       ('status', r.raw_data #>> '{fields,status,name}')) AS v(kind, name)
            WHERE r.tenant_id = :tenant_id AND r.entity_type = :entity_type
              AND (CAST(:integration_id AS uuid) IS NULL OR r.integration_id = CAST(:integration_id AS uuid))
              AND btrim(v.name) <> ''
            GROUP BY r.integration_id, v.kind, lower(btrim(v.name))
        )
        SELECT s.kind, s.key, s.name, s.integration_id, i.name, s.n
        FROM seen s JOIN integrations i ON i.id = s.integration_id AND i.tenant_id = :tenant_id
        WHERE NOT EXISTS (
            SELECT 1 FROM wit_mappings m
            WHERE s.kind = 'issue_type' AND m.tenant_id = :tenant_id AND lower(m.source_name) = s.key
              AND (m.integration_id IS NULL OR m.integration_id = s.integration_id))
          AND NOT EXISTS (
            SELECT 1 FROM status_mappings m
            WHERE s.kind = 'status' AND m.tenant_id = :tenant_id AND lower(m.source_name) = s.key
              AND (m.integration_id IS NULL OR m.integration_id = s.integration_id))
        ORDER BY s.kind, sum(s.n) OVER (PARTITION BY s.kind, s.key) DESC, s.key, s.n DESC, i.name
    """), {"tenant_id": tenant_id, "entity_type": ISSUE,
           "integration_id": str(integration_id) if integration_id else None}).all()
    found: dict[str, dict[str, UnmappedValue]] = {"issue_type": {}, "status": {}}
    for kind, key, name, in_id, in_name, count in rows:
        value = found[kind].setdefault(key, UnmappedValue(name))
        value.count += count
        value.integrations.append(UnmappedIn(in_id, in_name, count))
    return {"issue_types": list(found["issue_type"].values()), "statuses": list(found["status"].values())}

