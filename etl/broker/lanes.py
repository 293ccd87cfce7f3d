"""Two lanes per stage, so a job someone is waiting for is not queued behind scheduled backfills.

Jobs triggered by a person (API, CLI) use the stage queues `extract`, `transform`, `load`;
scheduled jobs use `extract.scheduled`, `transform.scheduled`, `load.scheduled`. A worker started
with `-Q extract` consumes both lanes of its stage (added at startup, see etl.broker.app), so
operators still run one pool per stage; RabbitMQ serves the two queues' consumers in turn, so a
manual job's messages interleave with a backlog instead of waiting for it to drain. Separate
queues rather than message priorities, which quorum queues lack (FIELD-NOTES)."""
from __future__ import annotations

STAGES = ("extract", "transform", "load")
SCHEDULED = "scheduled"


def stage_task_id(job_id, stage: str, batch_id: int) -> str:
    """One task id per (job, stage, batch). A re-publish of the same work (a redelivery's
    follow-ups, the reaper's re-drive) shares it, so etl_task_runs counts its deliveries on one row,
    a cancel can revoke a job's queued tasks without a registry of what was published, and a
    redelivered stage can tell whether a follow-up ever started."""
    return f"{job_id}.{stage}.{batch_id}"


def lane_of(trigger: str | None) -> str | None:
    return SCHEDULED if trigger == "schedule" else None


def queue_for(stage: str, lane: str | None) -> str:
    return f"{stage}.{lane}" if lane else stage


def all_queues() -> list[str]:
    return [queue_for(stage, lane) for stage in STAGES for lane in (None, SCHEDULED)]
