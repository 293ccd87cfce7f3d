"""The base class of every pulse-etl task (the app's task_cls, etl/broker/app.py), and the one place
that decides what a task's failure means (the sources classify failures, etl/sources/http.py):

- Records each execution in etl_task_runs (attempt, redeliveries, state, error), beside Flower,
  with why each retry and redelivery happened (etl.jobs.recoveries reads them back).
- Turns a spent rate limit into a pause of the integration and a re-queue for after the reset.
- Turns retriable failures (source 429/5xx/connection, database outages) into a later retry with
  exponential backoff and jitter, honouring the source's Retry-After; a worker never sleeps.
- Ends the job `failed` with the reason on a fatal error or when retries run out.
- The control tasks (etl/ops/tasks.py) inherit the same decisions; they have no job to record or
  fail.
- Runs under the tenant of the job it is about (row-level security): its run records and every
  session the stage function opens are scoped to that tenant.
"""
from __future__ import annotations

import logging
import random
import uuid
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from celery import Task
from celery.exceptions import Ignore, Reject, SoftTimeLimitExceeded
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError

from etl import logs
from etl.broker.priority import YIELDS_HEADER, should_give_way
from etl.broker.publish import BROKER_UNREACHABLE, publish_behind
from etl.config import get_settings
from etl.db import scope_to_all_tenants, session_scope, tenant_context
from etl.errors import DomainError
from etl.jobs.lifecycle import fail_job
from etl.jobs.recoveries import WORKER_LOST
from etl.models import EtlJob, Integration
from etl.pipeline.checkpoints import FINISH_RUN, FINISH_SUCCEEDED, StageRun, stage_run
from etl.sources.http import FatalError, RateLimited, RetriableError, SourceError

log = logging.getLogger(__name__)

RECORD_RUN = text("""
    INSERT INTO etl_task_runs (job_id, tenant_id, batch_id, task_id, task_name, stage, state, attempt, worker)
    SELECT j.id, j.tenant_id, :batch_id, :task_id, :task_name, :stage, 'started', :attempt, :worker
    FROM etl_jobs j WHERE j.id = :job_id
    ON CONFLICT (task_id, attempt) DO UPDATE SET
        state = 'started', deliveries = etl_task_runs.deliveries + 1, worker = EXCLUDED.worker,
        error = CASE etl_task_runs.state
                    WHEN 'requeued' THEN etl_task_runs.error
                    WHEN 'started' THEN :worker_lost
                    ELSE 'delivered again after it had ended ' || etl_task_runs.state
                         || ': the broker never received its acknowledgement'
                END,
        started_at = now(), finished_at = NULL
    RETURNING deliveries
""")


def backoff_seconds(retries: int, retry_after: float | None = None) -> float:
    """Retry-After when the source gives one, else exponential; jitter spreads the herd."""
    settings = get_settings()
    if retry_after is not None:
        return retry_after + random.uniform(0, 1)
    return min(settings.retry_backoff_max, 2 ** retries) * random.uniform(0.5, 1.5)


def database_words(exc: SQLAlchemyError) -> str:
    """What the database said, without the statement or its parameters (SQLAlchemy's str() of an
    error quotes both): PostgreSQL's primary message, e.g. "integer out of range", or the error
    class when there is none (a refused connection, whose text names our database's address)."""
    primary = getattr(getattr(getattr(exc, "orig", None), "diag", None), "message_primary", None)
    if primary:
        return primary
    orig = getattr(exc, "orig", None)
    return (orig or exc).__class__.__name__


def public_message(exc: BaseException) -> str:
    """A failure in words a tenant may read (job error_details, task runs): the source's own
    message, or what went wrong in our own code or database without SQL, parameters or traceback.
    Those stay in the worker's log, with the task id to find them by."""
    if isinstance(exc, SourceError):
        return exc.message
    if isinstance(exc, DomainError):  # written for the people who use the product
        return str(exc)
    if isinstance(exc, SoftTimeLimitExceeded):
        return "the task exceeded its time limit"
    if isinstance(exc, (OperationalError, InterfaceError)):
        return f"the database is unavailable ({database_words(exc)})"
    if isinstance(exc, DBAPIError):
        return f"the database refused a write: {database_words(exc)}"
    if isinstance(exc, SQLAlchemyError):
        return f"a database error ({exc.__class__.__name__})"
    return f"an internal error ({exc.__class__.__name__}); the worker log has the details"


@lru_cache(maxsize=4096)
def owner_of_job(job_id: str) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """The tenant and integration a job belongs to: the one look-up a task makes across tenants,
    before it knows whose job it runs. A job never changes owner, so each worker process asks once
    per job. (None, None) when the job is gone."""
    with session_scope() as session:
        scope_to_all_tenants(session, "a task looks up its job's tenant")
        row = session.execute(select(EtlJob.tenant_id, EtlJob.integration_id)
                              .where(EtlJob.id == uuid.UUID(job_id))).first()
        return (row.tenant_id, row.integration_id) if row else (None, None)


def tenant_of_job(job_id: str) -> uuid.UUID | None:
    return owner_of_job(job_id)[0]


class EtlTask(Task):
    """The app's task class. A task hands its work to run_stage (a stage of a job) or run_work (a
    control task, see etl.ops.tasks.ControlTask), which decide what every failure means."""

    abstract = True
    acks_late = True
    reject_on_worker_lost = True
    stage = "control"

    @property
    def max_retries(self) -> int:  # type: ignore[override]
        return get_settings().max_retries

    # --- execution --------------------------------------------------------------------------

    def run_stage(self, job_id: str, fn, *args):
        """Run a stage function of the job `job_id` (the task's first argument) under its tenant."""
        if getattr(self.request, "giving_way", False):
            self._go_behind(job_id, args[0])
        if self._delivered_too_often(job_id):
            return None
        self.request.stage_run = StageRun(self.request.id, self.request.retries)
        with stage_run(self.request.stage_run):
            return self.run_work(fn, *args)

    def run_work(self, fn, *args):
        """Run the task's work, and decide here, once for every task, what its failure means:
        - a spent rate limit (RateLimited): not a failure; the integration is paused and the same
          work published again for after the reset (None is returned);
        - a retriable source failure (429, 5xx, connection), an unavailable database, the soft time
          limit: a retry after a backoff, up to max_retries, then a failure;
        - a fatal source failure (other 4xx), a refusal (a DomainError) or any other error: a failure.
        A failure ends the job `failed` with its reason, before the exception propagates."""
        try:
            with tenant_context(self._job_tenant()):
                return fn(*args)
        except RateLimited as exc:
            self._pause_integration(exc.retry_after)
            self._requeue_after_pause(exc)
            return None
        except RetriableError as exc:
            self._retry_or_fail(exc, exc.message, exc.retry_after)
        except (OperationalError, InterfaceError) as exc:
            self._retry_or_fail(exc, public_message(exc), None)
        except SoftTimeLimitExceeded as exc:  # a slow source or database: try again, bounded
            self._retry_or_fail(exc, f"{self.name} exceeded its {self.soft_time_limit}s time limit", None)
        except FatalError as exc:
            # fatal: the source refused the integration itself; the circuit breaker counts these apart
            self._fail(exc.message, status=exc.status, url=exc.url, fatal=True)
            raise
        except DomainError as exc:  # a refusal in words (a reconcile refused ...), not a bug: no traceback
            log.error("task %s (%s %s) refused: %s", self.request.id, self.name, self.request.args, exc)
            self._fail(str(exc))
            raise
        except Exception as exc:
            log.exception("task %s (%s %s) failed", self.request.id, self.name, self.request.args)
            self._fail(public_message(exc))
            raise

    def _delivered_too_often(self, job_id: str) -> bool:
        """A message whose every delivery kills its worker (out of memory, a crash in a C library)
        would be redelivered forever (reject_on_worker_lost). Past ETL_MAX_DELIVERIES deliveries
        of the same attempt, the job fails with the reason and the message is acked unrun. Counted
        in etl_task_runs rather than with quorum queues' x-delivery-limit: the same guarantee on
        the classic queues our countdown retries need, and the reason reaches the job."""
        deliveries = getattr(self.request, "deliveries", None) or 0
        limit = get_settings().max_deliveries
        if deliveries <= limit:
            return False
        self._fail(f"{self.name} was delivered {deliveries} times and its worker never finished it (killed or "
                   f"out of memory each time, ETL_MAX_DELIVERIES is {limit}); the job stops here")
        return True

    def _yields(self) -> int:
        """How many times this message gave way (a custom header: Celery's protocol 2 makes it an
        attribute of the request; `headers` holds it when the task runs eagerly)."""
        value = getattr(self.request, YIELDS_HEADER, None) or (getattr(self.request, "headers", None) or {}).get(YIELDS_HEADER)
        return int(value or 0)

    def _gives_way(self) -> bool:
        """A scheduled-lane stage task while its stage's manual queue holds waiting messages
        (etl/broker/priority.py). Decided before the run is recorded: a task that gives way leaves
        no run record and counts no delivery."""
        routing_key = (self.request.delivery_info or {}).get("routing_key")
        return self.stage != "control" and should_give_way(self.stage, routing_key, self._yields())

    def _go_behind(self, job_id: str, batch_id: int):
        """Back to the tail of the scheduled queue, unrun; Ignore acknowledges this message without
        a result, so a transform's chained load is not published by it either."""
        try:
            publish_behind(self.stage, job_id, batch_id, self._yields() + 1)
        except BROKER_UNREACHABLE as exc:
            raise Reject(exc, requeue=True) from exc
        log.debug("task %s gave way to manual work (%s)", self.request.id, self._yields() + 1)
        raise Ignore()

    def publish_or_requeue(self, publish, *args) -> None:
        """Publish a stage's follow-ups after its commit. The publish retries by the app's
        task_publish_retry_policy (about 30 s); a broker that stays away longer must not lose them:
        the message goes back to the queue instead of being acked, and its redelivery re-publishes
        what the committed state implies (etl.pipeline.checkpoints.implied_follow_ups). Never a job
        failure."""
        try:
            publish(*args)
        except BROKER_UNREACHABLE as exc:
            log.warning("task %s could not publish its follow-ups (%s); it will be redelivered", self.request.id,
                        exc.__class__.__name__)
            # why its redelivery happens, kept by RECORD_RUN for the job's history
            self._record(FINISH_RUN, state="requeued", task_id=self.request.id, attempt=self.request.retries,
                         error=f"its follow-up tasks could not be published (the message broker is unreachable: "
                               f"{exc.__class__.__name__}), so it went back to the queue")
            raise Reject(exc, requeue=True) from exc

    def _pause_integration(self, seconds: float | None) -> None:
        """An integration whose rate limit is spent makes no request until the reset: every task of
        it re-queues itself meanwhile (etl.pipeline.extract.wait_while_paused); other integrations
        keep running. Best effort: a pause that cannot be written costs the source a request."""
        if not seconds:
            return
        until = datetime.now(timezone.utc) + timedelta(seconds=seconds)
        job_integration = select(EtlJob.integration_id).where(EtlJob.id == uuid.UUID(self._job_id()))
        try:
            with tenant_context(self._job_tenant()), session_scope() as session:
                session.execute(
                    update(Integration).where(Integration.id == job_integration.scalar_subquery())
                    # a pause already written (re-raised by wait_while_paused) is not written again
                    .where((Integration.paused_until.is_(None))
                           | (Integration.paused_until < until - timedelta(seconds=1)))
                    .values(paused_until=until)
                )
        except Exception:  # the database itself may be what failed
            log.exception("could not pause the integration of job %s", self._job_id())

    def _requeue_after_pause(self, exc: RateLimited) -> None:
        """A spent rate limit is not a failure: the same work is published again for after the
        reset, as a fresh message (retries untouched). Long pauses are split into hops no longer
        than ETL_RETRY_BACKOFF_MAX, so no worker holds a delayed message near RabbitMQ's
        consumer_timeout; each hop re-checks the pause."""
        countdown = min(exc.retry_after or 60, get_settings().retry_backoff_max) + random.uniform(0, 1)
        self.request.paused = True
        self._record(FINISH_RUN, state="paused", error=exc.message[:2000], task_id=self.request.id,
                     attempt=self.request.retries)
        log.info("task %s paused %.0fs: %s", self.request.id, countdown, exc.message)
        self.apply_async(args=self.request.args, kwargs=self.request.kwargs, countdown=countdown,
                         queue=(self.request.delivery_info or {}).get("routing_key"))  # same lane

    def _retry_or_fail(self, exc: Exception, message: str, retry_after: float | None):
        retries = self.request.retries
        if retries >= self.max_retries:
            self._fail(f"gave up after {retries} retries: {message}")
            raise exc
        countdown = backoff_seconds(retries, retry_after)
        log.warning("task %s retry %s in %.1fs: %s", self.request.id, retries + 1, countdown, message)
        raise self.retry(exc=exc, countdown=countdown, max_retries=self.max_retries)

    def _fail(self, message: str, **details) -> None:
        """End the task's job `failed` with the reason (the job is the task's first argument)."""
        job_id = self._job_id()
        # The run record says why before the job shows failed: whoever reads the failed job (its
        # own waiter, the dashboard) finds the cause in its task runs, not a run still `started`.
        self._record(FINISH_RUN, state="failed", error=message[:2000], task_id=self.request.id,
                     attempt=self.request.retries)
        try:
            with tenant_context(self._job_tenant()), session_scope() as session:
                fail_job(session, job_id, self.stage, message, task_id=self.request.id, **details)
        except Exception:  # the database itself may be what failed
            log.exception("could not mark job %s failed", job_id)

    def _job_id(self) -> str:
        return str(self.request.args[0])

    def _job_tenant(self) -> uuid.UUID | None:
        """The tenant of the job this task is about (its first argument), looked up once per task;
        None when the job is gone (its sessions then see nothing)."""
        if not hasattr(self.request, "job_tenant"):
            self.request.job_tenant = tenant_of_job(self._job_id())
        return self.request.job_tenant

    # --- etl_task_runs ----------------------------------------------------------------------

    def _record(self, sql, **params):
        """Run a bookkeeping statement; its first column's value if it returns rows."""
        try:
            with tenant_context(self._job_tenant()), session_scope() as session:
                # Bookkeeping need not wait for the WAL flush: a crash may lose the last state
                # change of a run record, never pipeline data (stage transactions stay synchronous).
                session.execute(text("SET LOCAL synchronous_commit = off"))
                result = session.execute(sql, params)
                return result.scalar() if result.returns_rows else None
        except Exception:
            log.exception("could not record task run %s", params.get("task_id"))
            return None

    def log_context(self, args) -> dict:
        """The ids every line this task logs carries (etl.logs): its job's, from its arguments and
        one cached look-up. A database that cannot be reached leaves tenant and integration out."""
        job_id, batch_id = (list(args) + [None, None])[:2]
        try:
            tenant_id, integration_id = owner_of_job(str(job_id))
        except Exception:  # noqa: BLE001 - run_work retries the same look-up and decides
            tenant_id = integration_id = None
        return {"job_id": job_id, "tenant_id": tenant_id, "integration_id": integration_id, "batch_id": batch_id}

    def before_start(self, task_id, args, kwargs):
        # The context ends in etl.broker.app (task_postrun), after Celery's own lines about the task.
        logs.set_context(stage=self.stage, task_id=task_id, task_name=self.name)
        logs.update_context(**self.log_context(args))
        if self._gives_way():
            self.request.giving_way = True
            return
        job_id, batch_id = (list(args) + [None, None])[:2]
        self.request.deliveries = self._record(
            RECORD_RUN, job_id=job_id, batch_id=batch_id, task_id=task_id, task_name=self.name, stage=self.stage,
            attempt=self.request.retries, worker=self.request.hostname, worker_lost=WORKER_LOST)

    def on_success(self, retval, task_id, args, kwargs):
        if getattr(self.request, "paused", False):
            return
        if getattr(getattr(self.request, "stage_run", None), "recorded", False):
            return  # written with the stage's last transaction (etl.pipeline.checkpoints.record_success)
        self._record(FINISH_SUCCEEDED, task_id=task_id, attempt=self.request.retries)

    def on_retry(self, exc, task_id, args, kwargs, einfo):
        self._record(FINISH_RUN, state="retrying", error=public_message(exc)[:2000], task_id=task_id,
                     attempt=self.request.retries)

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        self._record(FINISH_RUN, state="failed", error=public_message(exc)[:2000], task_id=task_id,
                     attempt=self.request.retries)
