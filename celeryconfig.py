"""Celery configuration for idempotent ETL on RabbitMQ. Values come from etl.config (ETL_* vars).

Why each setting (FIELD-NOTES.md, Celery and RabbitMQ):
- acks_late + reject_on_worker_lost: a task whose worker dies is redelivered, not lost; every
  task is therefore written to be safe to run twice.
- prefetch multiplier 1: a process reserves one message, so long tasks do not starve others.
- confirm_publish: publishes are not silently dropped under broker resource alarms.
- no time limits here: every task sets its own on its decorator (etl/pipeline/tasks.py,
  etl/ops/tasks.py), each hard limit well under RabbitMQ's 30-minute consumer_timeout.
"""
from kombu import Exchange, Queue

from etl.broker.lanes import all_queues
from etl.config import get_settings

_settings = get_settings()

broker_url = _settings.broker_url
if broker_url.startswith("filesystem://"):
    # `etl demo` without RabbitMQ: kombu's filesystem transport, one folder shared by all processes.
    broker_transport_options = {
        "data_folder_in": _settings.broker_folder,
        "data_folder_out": _settings.broker_folder,
        "processed_folder": _settings.broker_folder + "-processed",
        "control_folder": _settings.broker_folder + "-control",
        "store_processed": False,
        "polling_interval": 0.05,  # the default 1 s poll would make every stage hop take a second
    }
else:
    broker_transport_options = {"confirm_publish": True}
broker_connection_retry_on_startup = True
# A worker publishing a stage's follow-ups rides out a broker restart of about 30 s (Celery's
# default gives up after about a second); past that the task is requeued, not acked (EtlTask).
# Callers someone waits for (the API, the dispatcher) pass a fail-fast policy of their own.
task_publish_retry_policy = {"max_retries": 12, "interval_start": 0.5, "interval_step": 1, "interval_max": 3}
# No result backend: job state lives in our own tables (etl_jobs, etl_batches, etl_task_runs).
result_backend = None
task_ignore_result = True

task_serializer = "json"
result_serializer = "json"
accept_content = ["json"]
timezone = "UTC"
enable_utc = True

task_acks_late = True
task_reject_on_worker_lost = True
worker_prefetch_multiplier = 1

# Flower and `celery events` see everything.
worker_send_task_events = True
task_send_sent_event = True

_exchange = Exchange("etl", type="direct", durable=True)
task_queues = [
    # extract, transform, load, and their scheduled lanes (etl/broker/lanes.py)
    Queue(name, _exchange, routing_key=name, durable=True) for name in all_queues()
] + [
    # Webhook deliveries: a queue of their own, so a slow receiver never sits in front of a stage;
    # a `-Q extract` worker consumes it too (etl.broker.app), so operators start nothing new.
    Queue("notify", _exchange, routing_key="notify", durable=True),
]
task_default_exchange = "etl"
task_routes = {
    "etl.extract.*": {"queue": "extract", "routing_key": "extract"},
    "etl.transform.*": {"queue": "transform", "routing_key": "transform"},
    "etl.load.*": {"queue": "load", "routing_key": "load"},
    # Control tasks (beat's dispatcher, reaper, reconciliation) are short and I/O bound: they share
    # the extract queue, so operators run only the three stage worker pools plus one beat.
    "etl.control.*": {"queue": "extract", "routing_key": "extract"},
    "etl.notify.*": {"queue": "notify", "routing_key": "notify"},
}

# celery beat (exactly one process): static entries only. Per-integration schedules live in the
# integrations table; the dispatcher reads them every minute (etl/ops/scheduling.py). Each message
# expires before the next run is due, so a backlog of stale runs never piles up.
beat_schedule = {
    "dispatch-due-syncs": {"task": "etl.control.dispatch", "schedule": 60.0, "options": {"expires": 55}},
    "reap-stalled-jobs": {"task": "etl.control.reap", "schedule": 60.0, "options": {"expires": 55}},
    "reconcile-deletions": {"task": "etl.control.reconcile_due", "schedule": 3600.0, "options": {"expires": 3300}},
    "prune-history": {"task": "etl.control.prune_history", "schedule": 86400.0, "options": {"expires": 82800}},
    # Webhooks: re-send due deliveries (retries, lost publishes) and tell staleness (etl/notify).
    "notify-outbox": {"task": "etl.control.notify_outbox", "schedule": 60.0, "options": {"expires": 55}},
    "notify-stale": {"task": "etl.control.notify_stale", "schedule": 300.0, "options": {"expires": 280}},
    # hourly tick; each integration is audited once per ETL_AUDIT_INTERVAL_HOURS (etl/ops/audit_runs.py)
    "audit-consistency": {"task": "etl.control.audit_due", "schedule": 3600.0, "options": {"expires": 3300}},
}
# Tasks publish their successors after commit; a duplicate delivery is detected by the batch's
# checkpoint, so there is nothing to gain from Celery's own result tracking.
task_track_started = False
worker_hijack_root_logger = False
worker_max_memory_per_child = 400_000  # KiB: recycle a child that grew past ~400 MB
