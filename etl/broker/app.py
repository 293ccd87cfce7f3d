"""The Celery app (`celery -A etl ...`). Configuration is in celeryconfig.py."""
import logging
import sys

from celery import Celery
from celery.signals import (
    after_setup_logger,
    after_setup_task_logger,
    celeryd_after_setup,
    celeryd_init,
    task_postrun,
)
from kombu.utils.objects import cached_property

import etl.broker.size_guard  # noqa: F401  (registers the message size guard)
from etl import logs
from etl.broker.lanes import SCHEDULED, STAGES, queue_for


class EtlCelery(Celery):
    @cached_property
    def Beat(self):  # noqa: N802 - Celery's name
        """`celery beat` prints a banner before it sets logging up: in JSON it is left out (quiet)."""
        base = super().Beat

        class Beat(base):
            def __init__(self, *args, quiet: bool = False, **kwargs):
                super().__init__(*args, quiet=quiet or logs.log_format() == "json", **kwargs)

        return Beat


# The stage tasks and the control tasks (schedule dispatcher, reaper, reconciliation) are imported
# when a worker or beat starts. Publishers send by name and need neither (etl/broker/publish.py).
app = EtlCelery("etl", task_cls="etl.pipeline.task_base:EtlTask", include=["etl.pipeline.tasks", "etl.ops.tasks"])
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
    """`-Q extract` also consumes `extract.scheduled` (etl/broker/lanes.py) and `notify` (webhook
    deliveries, short and I/O bound like the control tasks that share the extract pool)."""
    queues = instance.app.amqp.queues
    for stage in STAGES:
        if stage in queues.consume_from:
            queues.select_add(queue_for(stage, SCHEDULED))
    if "extract" in queues.consume_from:
        queues.select_add("notify")


@after_setup_logger.connect
@after_setup_task_logger.connect
def _our_log_format(logger, **kwargs):
    """Celery's handlers (root, celery.task; worker and beat) get our context, redaction and
    ETL_LOG_FORMAT; Celery keeps choosing where they write (--logfile) and the level (--loglevel)."""
    _end_early_warnings_log()
    logs.install_on([logger])


@celeryd_init.connect
def _json_before_celery_sets_logging_up(**kwargs):
    """What a worker warns about before Celery sets logging up (running as root) is logged, in
    JSON, rather than printed. Only on py.warnings: a handler on the root logger now would stop
    Celery from adding its own (worker_hijack_root_logger is off); _our_log_format undoes this."""
    if logs.log_format() == "json":
        early = logging.StreamHandler(sys.__stderr__)
        logs.install(early, "json")
        early._etl_early = True  # type: ignore[attr-defined]
        warnings_log = logging.getLogger("py.warnings")
        warnings_log.addHandler(early)
        warnings_log.propagate = False
        logging.captureWarnings(True)


def _end_early_warnings_log() -> None:
    warnings_log = logging.getLogger("py.warnings")
    for handler in list(warnings_log.handlers):
        if getattr(handler, "_etl_early", False):
            warnings_log.removeHandler(handler)
            warnings_log.propagate = True


@celeryd_after_setup.connect
def _no_banner_in_json(sender, instance, **kwargs):
    """The worker's banner is printed, not logged: in JSON it would be the only lines a log
    shipper cannot parse. Its gist is one log line instead."""
    if logs.log_format() == "json":
        instance.quiet = True
        logging.getLogger(__name__).info(
            "worker %s starting: queues %s, concurrency %s", sender,
            ",".join(sorted(instance.app.amqp.queues.consume_from)), instance.concurrency)


@task_postrun.connect
def _end_task_log_context(**kwargs):
    """A task's log context (set by EtlTask.before_start) ends with it, whatever its outcome, so
    that the next lines of the pool process do not carry its ids."""
    logs.reset_context()
