"""Two lanes per stage, so a job someone is waiting for is not queued behind scheduled backfills.

Jobs triggered by a person (API, CLI) use the stage queues `extract`, `transform`, `load`;
scheduled jobs use `extract.scheduled`, `transform.scheduled`, `load.scheduled`. A worker started
with `-Q extract` consumes both lanes of its stage (added at startup, see etl.celery_app), so
operators still run one pool per stage; RabbitMQ serves the two queues' consumers in turn, so a
manual job's messages interleave with a backlog instead of waiting for it to drain. Separate
queues rather than message priorities, which quorum queues lack (FIELD-NOTES)."""
from __future__ import annotations

STAGES = ("extract", "transform", "load")
SCHEDULED = "scheduled"


def lane_of(trigger: str | None) -> str | None:
    return SCHEDULED if trigger == "schedule" else None


def queue_for(stage: str, lane: str | None) -> str:
    return f"{stage}.{lane}" if lane else stage


def all_queues() -> list[str]:
    return [queue_for(stage, lane) for stage in STAGES for lane in (None, SCHEDULED)]
