"""What the models of the mapping routes (api/routers/mappings/) share. Inputs forbid unknown fields,
so a misspelt field is a 422 rather than silently ignored; PATCH bodies change only the fields they
send. Every change answers which reprocess jobs it started."""
from __future__ import annotations

import uuid
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from api.validation import RequestModel

Category = Literal["to_do", "in_progress", "done"]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
SourceName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Level = Annotated[int, Field(ge=-100, le=100)]

INTEGRATION_EXAMPLE = "7d6c1f0e-2a4b-4c1d-9a7e-1b2c3d4e5f60"
JOB_EXAMPLE = "0b9d4c3e-5f6a-4b7c-8d9e-0f1a2b3c4d5e"


class In(RequestModel):
    model_config = ConfigDict(extra="forbid")


class Patch(In):
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


class ReprocessJob(BaseModel):
    job_id: uuid.UUID = Field(examples=[JOB_EXAMPLE])
    integration_id: uuid.UUID = Field(examples=[INTEGRATION_EXAMPLE])
    records: int = Field(description="raw records (work items) this job transforms and loads again", examples=[42])


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
    jobs: list[ReprocessJob] = Field(
        default_factory=list, description="the jobs of `started`, in the same order, each with its integration and "
                                          "how many records it transforms again (what the console says after a save)")


class Changed(BaseModel):
    reprocess: Reprocess


class Deleted(BaseModel):
    deleted: int = Field(description="id of the deleted row", examples=[12])


class DeletedWithReprocess(Deleted, Changed):
    pass
