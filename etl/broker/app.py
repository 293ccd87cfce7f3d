"""The Celery app (`celery -A etl ...`). Configuration is in celeryconfig.py."""
from celery import Celery
from celery.signals import celeryd_after_setup

import etl.broker.size_guard  # noqa: F401  (registers the message size guard)
from etl.broker.lanes import SCHEDULED, STAGES, queue_for

app = Celery("etl", task_cls="etl.pipeline.task_base:EtlTask")
app.config_from_object("celeryconfig")
if app.conf.broker_url.startswith("filesystem://"):
    # Only `etl demo` runs on kombu's filesystem transport: other processes never load the patch.
    from etl.broker import filesystem as fs_broker

    fs_broker.install()
# The stage tasks and the control tasks (schedule dispatcher, reaper, reconciliation), imported
# when a worker or beat starts. Publishers send by name and need neither (etl/broker/publish.py).
app.conf.include = ["etl.pipeline.tasks", "etl.ops.tasks"]


@celeryd_after_setup.connect
def _consume_scheduled_lanes(sender, instance, **kwargs):
    """`-Q extract` also consumes `extract.scheduled` (etl/broker/lanes.py)."""
    queues = instance.app.amqp.queues
    for stage in STAGES:
        if stage in queues.consume_from:
            queues.select_add(queue_for(stage, SCHEDULED))
