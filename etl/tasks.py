"""Celery tasks: thin wiring of etl.pipeline's stage functions to the extract, transform and load
queues (routing by task name in celeryconfig). Messages carry a job id and a batch id only."""
from __future__ import annotations

from celery import chain

from etl import pipeline
from etl.celery_app import app
from etl.lanes import STAGES, queue_for, stage_task_id

STAGE_LIMITS = {"soft_time_limit": 120, "time_limit": 180}


REVOKE_CHUNK = 1000  # ids per revoke broadcast: keeps each control message small


def publish_extract(job_id: str, batch_id: int, lane: str | None = None, **options) -> None:
    extract_page.apply_async((job_id, batch_id), task_id=stage_task_id(job_id, "extract", batch_id),
                             queue=queue_for("extract", lane), **options)


def publish_follow_ups(job_id: str, follow: pipeline.FollowUps | None) -> None:
    """Called after the stage's transaction committed (None: the stage was re-queued)."""
    if follow is None:
        return
    for batch_id in follow.extract:
        publish_extract(job_id, batch_id, follow.lane)
    publish_process(job_id, follow.process, follow.lane)
    for batch_id in follow.load:
        publish_load(job_id, batch_id, follow.lane)


def _load_signature(job_id: str, batch_id: int, lane: str | None):
    return load_batch.si(job_id, batch_id).set(task_id=stage_task_id(job_id, "load", batch_id),
                                               queue=queue_for("load", lane))


def publish_process(job_id: str, batch_ids: list[int], lane: str | None = None, **options) -> None:
    """Transform then load each batch (a chain: load is published when transform returns)."""
    for batch_id in batch_ids:
        transform = transform_batch.si(job_id, batch_id).set(
            task_id=stage_task_id(job_id, "transform", batch_id), queue=queue_for("transform", lane))
        chain(transform, _load_signature(job_id, batch_id, lane)).apply_async(**options)


def publish_load(job_id: str, batch_id: int, lane: str | None = None) -> None:
    _load_signature(job_id, batch_id, lane).apply_async()


def revoke_tasks(job_id: str, batch_ids: list[int]) -> None:
    """Tell every worker to drop the queued tasks of these batches, whatever their stage: a worker
    acks a revoked message without running it. Ids never published are harmless in the list."""
    ids = [stage_task_id(job_id, stage, batch_id) for batch_id in batch_ids for stage in STAGES]
    for start in range(0, len(ids), REVOKE_CHUNK):
        app.control.revoke(ids[start:start + REVOKE_CHUNK])


@app.task(bind=True, name="etl.extract.page", stage="extract", **STAGE_LIMITS)
def extract_page(self, job_id: str, batch_id: int) -> None:
    follow = self.run_stage(job_id, pipeline.extract_page, batch_id)
    self.publish_or_requeue(publish_follow_ups, job_id, follow)


@app.task(bind=True, name="etl.transform.batch", stage="transform", **STAGE_LIMITS)
def transform_batch(self, job_id: str, batch_id: int) -> None:
    self.run_stage(job_id, pipeline.transform_batch, batch_id)


@app.task(bind=True, name="etl.load.batch", stage="load", **STAGE_LIMITS)
def load_batch(self, job_id: str, batch_id: int) -> None:
    self.run_stage(job_id, pipeline.load_batch, batch_id)
