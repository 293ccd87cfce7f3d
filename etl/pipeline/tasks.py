"""Celery tasks: thin wiring of the stage functions (etl/pipeline/extract.py, transform.py,
load.py) to the extract, transform and load queues (routing by task name in celeryconfig; every
publish is in etl/broker/publish.py). Messages carry a job id and a batch id only."""
from __future__ import annotations

from etl.broker.app import app
from etl.broker.publish import EXTRACT_TASK, LOAD_TASK, TRANSFORM_TASK, publish_extract, publish_load, publish_process
from etl.pipeline import extract, load, transform
from etl.pipeline.checkpoints import FollowUps

STAGE_LIMITS = {"soft_time_limit": 120, "time_limit": 180}


def publish_follow_ups(job_id: str, follow: FollowUps | None) -> None:
    """Called after the stage's transaction committed (None: the stage was re-queued)."""
    if follow is None:
        return
    publish_extract(job_id, follow.extract, follow.lane)
    publish_process(job_id, follow.process, follow.lane)
    for batch_id in follow.load:
        publish_load(job_id, batch_id, follow.lane)


@app.task(bind=True, name=EXTRACT_TASK, stage="extract", **STAGE_LIMITS)
def extract_page(self, job_id: str, batch_id: int) -> None:
    follow = self.run_stage(job_id, extract.extract_page, batch_id)
    self.publish_or_requeue(publish_follow_ups, job_id, follow)


@app.task(bind=True, name=TRANSFORM_TASK, stage="transform", **STAGE_LIMITS)
def transform_batch(self, job_id: str, batch_id: int) -> None:
    self.run_stage(job_id, transform.transform_batch, batch_id)


@app.task(bind=True, name=LOAD_TASK, stage="load", **STAGE_LIMITS)
def load_batch(self, job_id: str, batch_id: int) -> None:
    self.run_stage(job_id, load.load_batch, batch_id)
