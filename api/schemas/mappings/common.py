"""Request and response models of the mapping routes (api/routers/mappings.py). Inputs forbid unknown
fields, so a misspelt field is a 422 rather than silently ignored; PATCH bodies change only the
fields they send."""
from __future__ import annotations

import uuid
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from api.validation import RequestModel, RowId
from etl.mappings.rules import InvalidMapping, StepSpec, validate_workflow_steps

Category = Literal["to_do", "in_progress", "done"]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
SourceName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Level = Annotated[int, Field(ge=-100, le=100)]

INTEGRATION_EXAMPLE = "7d6c1f0e-2a4b-4c1d-9a7e-1b2c3d4e5f60"
JOB_EXAMPLE = "0b9d4c3e-5f6a-4b7c-8d9e-0f1a2b3c4d5e"


class _In(RequestModel):
    model_config = ConfigDict(extra="forbid")


class _Patch(_In):
    """Omitted fields stay as they are; null is refused for fields that cannot be empty."""

    nullable: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _no_null_for_required(self):
        for name in self.model_fields_set:
            if getattr(self, name) is None and name not in self.nullable:
                raise ValueError(f"{name} cannot be null; leave it out to keep the current value")
        return self

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- reprocessing after a change ----------------------------------------------------------------


class ReprocessFailure(BaseModel):
    integration_id: uuid.UUID
    job_id: uuid.UUID
    detail: str = Field(examples=["the message broker is unreachable (...); the job was not started"])


class Reprocess(BaseModel):
    """Work items re-transformed from the raw layer (the source is not called) because of this change."""

    started: list[uuid.UUID] = Field(
        description="reprocess jobs started, one per affected integration; follow them at /api/v1/etl/jobs/{id}",
        examples=[[JOB_EXAMPLE]])
    busy: list[uuid.UUID] = Field(
        description="affected integrations that already had an active job, so none was started for them; "
                    "reprocess them (POST /api/v1/etl/reprocess) once that job has ended", examples=[[]])
    failed: list[ReprocessFailure] = Field(
        default_factory=list, description="jobs that could not be started because the broker was unreachable")


class Changed(BaseModel):
    reprocess: Reprocess


class Deleted(BaseModel):
    deleted: int = Field(description="id of the deleted row", examples=[12])


class DeletedWithReprocess(Deleted, Changed):
    pass


# --- wit hierarchies ----------------------------------------------------------------------------


class WitHierarchyIn(_In):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"level": 3, "name": "Theme", "description": "Groups initiatives"}]})
    level: Level = Field(description="higher is bigger: 2 Initiative > 1 Epic > 0 Story > -1 Sub-task")
    name: Name
    description: Description | None = None


class WitHierarchyPatch(_Patch):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Portfolio epic"}]})
    nullable = ("description",)
    level: Level | None = None
    name: Name | None = None
    description: Description | None = None


class WitHierarchy(Out):
    id: int
    level: int = Field(examples=[1])
    name: str = Field(examples=["Epic"])
    description: str | None = Field(examples=[None])


# --- wits ---------------------------------------------------------------------------------------


class WitIn(_In):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"name": "Research", "hierarchy_level": 0, "description": "Spikes and investigations"}]})
    name: Name
    hierarchy_level: Level = Field(0, description="a level of /wit-hierarchies")
    description: Description | None = None


class WitPatch(_Patch):
    model_config = ConfigDict(json_schema_extra={"examples": [{"hierarchy_level": 1}]})
    nullable = ("description",)
    name: Name | None = None
    hierarchy_level: Level | None = None
    description: Description | None = None


class Wit(Out):
    id: int
    name: str = Field(examples=["Story"])
    hierarchy_level: int = Field(examples=[0])
    description: str | None = Field(examples=[None])


class WitChanged(Wit, Changed):
    pass


# --- wit mappings -------------------------------------------------------------------------------


class WitMappingIn(_In):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"source_name": "Spike", "wit_id": 12},
        {"source_name": "User Story", "wit_id": 11, "integration_id": INTEGRATION_EXAMPLE}]})
    source_name: SourceName = Field(description="the source's issue type name, matched case-insensitively")
    wit_id: RowId
    integration_id: uuid.UUID | None = Field(
        None, description="only for this Jira integration (it wins over a tenant-wide mapping); omit for tenant-wide")


class WitMappingPatch(_Patch):
    model_config = ConfigDict(json_schema_extra={"examples": [{"wit_id": 11}, {"source_name": "Research spike"}]})
    nullable = ("integration_id",)
    source_name: SourceName | None = None
    wit_id: RowId | None = None
    integration_id: uuid.UUID | None = Field(None, description="null makes the mapping tenant-wide")


class WitMapping(Out):
    id: int
    source_name: str = Field(examples=["Spike"])
    wit_id: int = Field(examples=[12])
    wit_name: str = Field(examples=["Research"])
    integration_id: uuid.UUID | None = Field(description="null: tenant-wide", examples=[None])


class WitMappingChanged(WitMapping, Changed):
    pass


# --- statuses -----------------------------------------------------------------------------------


class StatusIn(_In):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Blocked", "category": "in_progress"}]})
    name: Name
    category: Category


class StatusPatch(_Patch):
    model_config = ConfigDict(json_schema_extra={"examples": [{"category": "to_do"}]})
    name: Name | None = None
    category: Category | None = None


class Status(Out):
    id: int
    name: str = Field(examples=["In Progress"])
    category: Category = Field(examples=["in_progress"])


class StatusChanged(Status, Changed):
    pass


# --- status mappings ----------------------------------------------------------------------------


class StatusMappingIn(_In):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"source_name": "Blocked", "status_id": 21},
        {"source_name": "QA", "status_id": 22, "integration_id": INTEGRATION_EXAMPLE}]})
    source_name: SourceName = Field(description="the source's status name, matched case-insensitively")
    status_id: RowId
    integration_id: uuid.UUID | None = Field(
        None, description="only for this Jira integration (it wins over a tenant-wide mapping); omit for tenant-wide")


class StatusMappingPatch(_Patch):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status_id": 22}]})
    nullable = ("integration_id",)
    source_name: SourceName | None = None
    status_id: RowId | None = None
    integration_id: uuid.UUID | None = Field(None, description="null makes the mapping tenant-wide")


class StatusMapping(Out):
    id: int
    source_name: str = Field(examples=["Blocked"])
    status_id: int = Field(examples=[21])
    status_name: str = Field(examples=["To Do"])
    status_category: Category = Field(examples=["to_do"])
    integration_id: uuid.UUID | None = Field(description="null: tenant-wide", examples=[None])


class StatusMappingChanged(StatusMapping, Changed):
    pass


# --- workflows ----------------------------------------------------------------------------------


class WorkflowStepIn(_In):
    status_id: RowId
    is_commitment_point: bool = Field(False, description="cycle time starts at the first entry into this step "
                                                         "or a later one")
    is_done: bool = Field(False, description="cycle time ends at the last entry into this step")


def _checked_steps(steps: list[WorkflowStepIn] | None) -> list[WorkflowStepIn] | None:
    if steps is not None:
        try:
            validate_workflow_steps([StepSpec(**s.model_dump()) for s in steps])
        except InvalidMapping as exc:
            raise ValueError(str(exc).removeprefix("steps: ")) from None
    return steps


_STEPS_EXAMPLE = [{"status_id": 20}, {"status_id": 21, "is_commitment_point": True}, {"status_id": 22},
                  {"status_id": 23, "is_done": True}]


class WorkflowIn(_In):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"name": "Delivery", "integration_id": INTEGRATION_EXAMPLE, "steps": _STEPS_EXAMPLE}]})
    name: Name
    integration_id: uuid.UUID | None = Field(
        None, description="only for this Jira integration (it wins over the tenant-wide one); omit for tenant-wide")
    steps: list[WorkflowStepIn] = Field(
        description="in workflow order; exactly one done step, at most one commitment point (before the done step), "
                    "each status once")

    @field_validator("steps")
    @classmethod
    def _check_steps(cls, steps):
        return _checked_steps(steps)


class WorkflowPatch(_Patch):
    model_config = ConfigDict(json_schema_extra={"examples": [{"steps": _STEPS_EXAMPLE}, {"name": "Kanban"}]})
    nullable = ("integration_id",)
    name: Name | None = None
    integration_id: uuid.UUID | None = Field(None, description="null makes the workflow tenant-wide")
    steps: list[WorkflowStepIn] | None = Field(None, description="replaces all steps")

    @field_validator("steps")
    @classmethod
    def _check_steps(cls, steps):
        return _checked_steps(steps)


class WorkflowStep(Out):
    position: int = Field(description="0-based order", examples=[1])
    status_id: int = Field(examples=[21])
    status_name: str = Field(examples=["In Progress"])
    is_commitment_point: bool
    is_done: bool


class Workflow(Out):
    id: int
    name: str = Field(examples=["Default"])
    integration_id: uuid.UUID | None = Field(description="null: tenant-wide", examples=[None])
    steps: list[WorkflowStep]


class WorkflowChanged(Workflow, Changed):
    pass


# --- unmapped -----------------------------------------------------------------------------------


class UnmappedIntegration(Out):
    integration_id: uuid.UUID = Field(examples=[INTEGRATION_EXAMPLE])
    integration_name: str = Field(examples=["acme-jira"])
    count: int = Field(description="issues with this value in the integration's raw data", examples=[17])


class UnmappedValue(Out):
    source_name: str = Field(examples=["Spike"])
    count: int = Field(description="issues with this value, over all integrations", examples=[17])
    integrations: list[UnmappedIntegration]


class Unmapped(Out):
    """Values seen in the raw Jira issues that no mapping covers (neither tenant-wide nor for their
    integration): they are shown with the source's own name and hierarchy level or status category
    until mapped."""

    issue_types: list[UnmappedValue] = Field(description="map with POST /api/v1/wit-mappings")
    statuses: list[UnmappedValue] = Field(description="map with POST /api/v1/status-mappings")
