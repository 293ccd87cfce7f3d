"""The Celery app (`celery -A etl ...`). Configuration is in celeryconfig.py."""
from celery import Celery
from celery.signals import celeryd_after_setup

import etl.broker.size_guard  # noqa: F401  (registers the message size guard)
from etl.broker.lanes import SCHEDULED, STAGES, queue_for

# The stage tasks and the control tasks (schedule dispatcher, reaper, reconciliation) are imported
# when a worker or beat starts. Publishers send by name and need neither (etl/broker/publish.py).
app = Celery("etl", task_cls="etl.pipeline.task_base:EtlTask", include=["etl.pipeline.tasks", "etl.ops.tasks"])
# Lazy: celeryconfig reads the settings (ETL_* variables, .env) on first use of app.conf, not on
# import, so `etl --help` works and a bad setting is reported in one line by the command that needs it.
app.config_from_object("celeryconfig")


@app.on_after_configure.connect
def _filesystem_transport(sender, **kwargs):
    """Only `etl demo` runs on kombu's filesystem transport: other processes never load the patch."""
    if sender.conf.broker_url.startswith("filesystem://"):
        from etl.broker import filesystem as fs_broker  # the demo's transport patch, only when used

        fs_broker.install()


@celeryd_after_setup.connect
def _consume_scheduled_lanes(sender, instance, **kwargs):
    """`-Q extract` also consumes `extract.scheduled` (etl/broker/lanes.py)."""
    queues = instance.app.amqp.queues
    for stage in STAGES:
        if stage in queues.consume_from:
            queues.select_add(queue_for(stage, SCHEDULED))
