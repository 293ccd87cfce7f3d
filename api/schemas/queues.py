"""What waits in each stage (api/routers/queues.py)."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class BrokerQueue(BaseModel):
    name: str = Field(examples=["extract.scheduled"])
    lane: Literal["manual", "scheduled"] = Field(description="manual: jobs started by the API or CLI; scheduled: "
                                                             "jobs started by the schedules")
    messages: int = Field(description="messages ready in the queue, not yet delivered to a worker")
    consumers: int = Field(description="worker processes consuming the queue")
    declared: bool = Field(description="false when no worker declared the queue yet (it holds nothing)")


class StageQueue(BaseModel):
    stage: Literal["extract", "transform", "load"]
    pending_batches: int = Field(description="the caller's tenant's batches, of its active jobs, waiting for this "
                                             "stage (pending: extract, extracted: transform, transformed: load)")
    messages: int | None = Field(None, description="admin keys: ready messages over the stage's queues (every "
                                                   "tenant's); null for other keys")
    consumers: int | None = Field(None, description="admin keys: consumers of the stage's manual-lane queue (a "
                                                    "worker consumes both lanes); null for other keys")
    queues: list[BrokerQueue] = Field(default_factory=list, description="admin keys: the stage's broker queues")


class Queues(BaseModel):
    scope: Literal["broker", "tenant"] = Field(description="broker: an admin key, which sees the broker's queues "
                                                           "(every tenant's work); tenant: the caller's tenant only")
    stages: list[StageQueue]
    jobs: dict[str, int] = Field(description="the caller's tenant's queued and running jobs",
                                 examples=[{"queued": 0, "running": 1}])
    read_at: datetime
