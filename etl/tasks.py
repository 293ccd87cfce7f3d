"""Celery tasks: thin wiring of etl.pipeline's stage functions to the extract, transform and load
queues (routing by task name in celeryconfig). Messages carry a job id and a batch id only."""
from __future__ import annotations

from celery import chain

from etl import pipeline
from etl.celery_app import app
from etl.lanes import queue_for

STAGE_LIMITS = {"soft_time_limit": 120, "time_limit": 180}


def publish_follow_ups(job_id: str, follow: pipeline.FollowUps | None) -> None:
    """Called after the stage's transaction committed (None: the stage was re-queued)."""
    if follow is None:
        return
    for batch_id in follow.extract:
        extract_page.apply_async((job_id, batch_id), queue=queue_for("extract", follow.lane))
    publish_process(job_id, follow.process, follow.lane)


def publish_process(job_id: str, batch_ids: list[int], lane: str | None = None) -> None:
    """Transform then load each batch (a chain: load is published when transform returns)."""
    for batch_id in batch_ids:
        chain(transform_batch.si(job_id, batch_id).set(queue=queue_for("transform", lane)),
              load_batch.si(job_id, batch_id).set(queue=queue_for("load", lane))).apply_async()


@app.task(bind=True, name="etl.extract.page", stage="extract", **STAGE_LIMITS)
def extract_page(self, job_id: str, batch_id: int) -> None:
    follow = self.run_stage(job_id, pipeline.extract_page, batch_id)
    publish_follow_ups(job_id, follow)


@app.task(bind=True, name="etl.transform.batch", stage="transform", **STAGE_LIMITS)
def transform_batch(self, job_id: str, batch_id: int) -> None:
    self.run_stage(job_id, pipeline.transform_batch, batch_id)


@app.task(bind=True, name="etl.load.batch", stage="load", **STAGE_LIMITS)
def load_batch(self, job_id: str, batch_id: int) -> None:
    self.run_stage(job_id, pipeline.load_batch, batch_id)
