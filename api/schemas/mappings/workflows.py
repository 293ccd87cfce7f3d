"""Workflows: ordered steps, commitment point and done step (api/routers/mappings/workflows.py)."""
from __future__ import annotations

import uuid

from pydantic import ConfigDict, Field, field_validator

from api.schemas.mappings.common import (
    INTEGRATION_EXAMPLE,
    Changed,
    In,
    Name,
    Out,
    Patch,
)
from api.validation import RowId
from etl.mappings.rules import InvalidMapping, StepSpec, validate_workflow_steps


class WorkflowStepIn(In):
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


class WorkflowIn(In):
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


class WorkflowPatch(Patch):
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
