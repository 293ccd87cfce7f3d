"""The Celery app (`celery -A etl ...`). Configuration is in celeryconfig.py."""
from celery import Celery
from celery.signals import celeryd_after_setup

from etl.lanes import SCHEDULED, STAGES, queue_for

app = Celery("etl", task_cls="etl.task_base:EtlTask")
app.config_from_object("celeryconfig")
if app.conf.broker_url.startswith("filesystem://"):
    from etl import fs_broker

    fs_broker.install()
app.autodiscover_tasks(["etl"], related_name="tasks", force=True)
# Control tasks (schedule dispatcher, reaper, reconciliation): etl/control.py.
app.autodiscover_tasks(["etl"], related_name="control", force=True)

import etl.messages  # noqa: E402,F401  (registers the message size guard)


@celeryd_after_setup.connect
def _consume_scheduled_lanes(sender, instance, **kwargs):
    """`-Q extract` also consumes `extract.scheduled` (etl/lanes.py)."""
    queues = instance.app.amqp.queues
    for stage in STAGES:
        if stage in queues.consume_from:
            queues.select_add(queue_for(stage, SCHEDULED))
