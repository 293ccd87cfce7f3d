"""Manual jobs first, within each stage: the lanes (etl/broker/lanes.py) keep a job someone is
waiting for out of a scheduled backlog's queue, but RabbitMQ serves a worker's two queues in turn,
so a backlog of scheduled batches still took about a third of the machine from the manual jobs
(bench/fairness.py: 19 small tenants 1.43x slower during a 30,000-issue scheduled backfill).

A stage task delivered from a scheduled lane first looks at its stage's manual queue; when that
holds messages no worker has taken yet, the task goes back to the tail of its own queue without
running (etl.pipeline.task_base) and the worker takes the next message, which RabbitMQ serves from
the manual queue. At most MAX_YIELDS times per message: a steady stream of manual work delays
scheduled jobs but never stops them."""
from __future__ import annotations

import logging
import time

from etl.broker.app import app
from etl.broker.lanes import SCHEDULED, STAGES, queue_for

log = logging.getLogger(__name__)

MAX_YIELDS = 20
YIELDS_HEADER = "pulse_yields"  # how many times the message gave way already
LOOK_EVERY = 0.2  # seconds a worker process trusts its last look at a manual queue

_last_look: dict[str, tuple[float, bool]] = {}


def is_scheduled_lane(routing_key: str | None) -> bool:
    return bool(routing_key) and routing_key.endswith(f".{SCHEDULED}")


def manual_work_waiting(stage: str) -> bool:
    """Whether the stage's manual queue holds ready messages (a passive declare: one broker round
    trip, at most every LOOK_EVERY per process). A broker that does not answer says no: the task
    runs, as it would have."""
    if stage not in STAGES:
        return False
    now = time.monotonic()
    looked = _last_look.get(stage)
    if looked and now - looked[0] < LOOK_EVERY:
        return looked[1]
    try:
        with app.pool.acquire(block=True, timeout=1) as conn:
            channel = conn.channel()
            try:
                ready = channel.queue_declare(queue=queue_for(stage, None), passive=True).message_count
            finally:
                channel.close()
    except Exception as exc:  # noqa: BLE001 - not knowing is not a failure of the task
        log.debug("could not look at the %s queue: %s", stage, exc.__class__.__name__)
        ready = 0
    _last_look[stage] = (now, ready > 0)
    return ready > 0


def should_give_way(stage: str, routing_key: str | None, yields: int) -> bool:
    return is_scheduled_lane(routing_key) and yields < MAX_YIELDS and manual_work_waiting(stage)
