"""What `etl demo` keeps from one run to the next, and how `--fresh` forgets it.

One tenant named `demo` holds everything the demo makes: its Jira and GitHub integrations are
found by name and re-pointed at this run's fake servers (their ports change every run), and the
data of earlier runs stays, so a second run syncs the same fake data into the same tables instead
of piling up a tenant and ~50 MB per run. The fakes' payloads carry their own URL and dates
relative to their clock: run on the tenant's creation time and, when it is free, the earlier run's
port, they serve the very same data again, which the pipeline recognises as unchanged and does not
write a second time. API keys are stored hashed, so each run issues a new one
and revokes the keys earlier runs issued (a printed key stays valid only while its run is the
latest); keys made by hand for the tenant are left alone.

A pid file in .pulse-demo/ marks the folder as in use: two demos on one embedded database would
stop it under each other, and `--fresh` must not delete a database that is still serving.
"""
from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from etl.models import JOB_ACTIVE_STATUSES, ApiKey, EtlJob, Integration, Tenant
from etl.tenancy.integrations import create_integration, update_integration
from etl.tenancy.keys import issue_api_key
from etl.tenancy.tenants import create_tenant, tenant_by_name

DEMO_TENANT = "demo"
DEMO_KEY_NAME = "demo"
# create_tenant names a tenant's first key "default": that one is the demo's too.
DEMO_KEY_NAMES = ("default", DEMO_KEY_NAME)
PID_FILE = "demo.pid"


@dataclass(frozen=True)
class DemoTenant:
    id: uuid.UUID
    name: str
    created_at: datetime  # the fakes' clock: the same fake data on every run of this tenant
    reused: bool  # made by an earlier run
    api_key: str  # this run's, shown once
    keys_revoked: int  # earlier runs' keys revoked now
    stale_jobs_cancelled: int  # jobs an interrupted earlier run left queued or running


def claim_demo_tenant(session: Session) -> DemoTenant:
    """The demo tenant, created on the first run; on later runs a new key, the earlier demo keys
    revoked, and jobs left active by a run that was killed cancelled (nobody else runs its jobs:
    the folder's pid file keeps a second demo out)."""
    tenant = tenant_by_name(session, DEMO_TENANT)
    if tenant is None:
        tenant, key = create_tenant(session, DEMO_TENANT)
        session.flush()
        session.refresh(tenant)  # created_at comes from the database
        return DemoTenant(tenant.id, tenant.name, tenant.created_at, False, key.secret, 0, 0)
    revoked = _revoke_demo_keys(session, tenant.id)
    cancelled = _cancel_stale_jobs(session, tenant.id)
    key = issue_api_key(session, tenant.id, name=DEMO_KEY_NAME)
    return DemoTenant(tenant.id, tenant.name, tenant.created_at, True, key.secret, revoked, cancelled)


def _revoke_demo_keys(session: Session, tenant_id: uuid.UUID) -> int:
    revoked = session.execute(
        update(ApiKey)
        .where(ApiKey.tenant_id == tenant_id, ApiKey.name.in_(DEMO_KEY_NAMES), ApiKey.revoked_at.is_(None),
               ApiKey.is_admin.is_(False))
        .values(revoked_at=datetime.now().astimezone())
    )
    return revoked.rowcount or 0


def _cancel_stale_jobs(session: Session, tenant_id: uuid.UUID) -> int:
    """An active job would make the new sync wait behind work no worker will ever do."""
    cancelled = session.execute(
        update(EtlJob)
        .where(EtlJob.tenant_id == tenant_id, EtlJob.status.in_(JOB_ACTIVE_STATUSES))
        .values(status="cancelled", finished_at=datetime.now().astimezone(),
                error_details={"stage": "demo", "message": "left active by an earlier demo that did not stop cleanly"})
    )
    return cancelled.rowcount or 0


def previous_port(session: Session, tenant_id: uuid.UUID, name: str) -> int | None:
    """The port the tenant's integration of that name pointed at in the last run, if any."""
    base_url = session.scalar(select(Integration.base_url).where(Integration.tenant_id == tenant_id,
                                                                 Integration.name == name))
    return urlsplit(base_url).port if base_url else None


def point_integration(session: Session, tenant_id: uuid.UUID, provider: str, name: str, base_url: str,
                      credentials: dict, settings: dict) -> tuple[Integration, bool]:
    """(integration, reused): the tenant's integration of that name with this run's URL, credentials
    and settings, or a new one. The credentials go with the URL: update_integration refuses to send
    stored credentials to a new host or port."""
    integration = session.scalar(select(Integration).where(Integration.tenant_id == tenant_id,
                                                           Integration.name == name))
    if integration is None:
        return create_integration(session, tenant_id, provider, name, base_url, credentials, settings), False
    if integration.provider != provider:  # made by hand: not ours to change
        raise ValueError(f"the {DEMO_TENANT} tenant has an integration named {name!r} that is not a {provider} one: "
                         "rename it, or start over with `etl demo --fresh`")
    update_integration(session, integration, base_url=base_url, credentials=credentials, settings=settings)
    return integration, True


def forget_demo_tenant(session: Session) -> uuid.UUID | None:
    """--fresh on a database the demo did not start: delete the demo tenant; every row of it goes
    with it (the tenant foreign keys cascade). Returns its id, or None if there was none."""
    tenant_id = session.scalar(select(Tenant.id).where(Tenant.name == DEMO_TENANT))
    if tenant_id is not None:
        session.execute(delete(Tenant).where(Tenant.id == tenant_id))
    return tenant_id


# --- the folder ------------------------------------------------------------------------------------


def disk_usage(path: Path) -> int:
    """Bytes on disk under path, as `du` counts them (allocated blocks, each file once)."""
    total, seen = 0, set()
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            try:
                st = os.lstat(os.path.join(root, name))
            except OSError:  # removed while we walked (the broker's folders change all the time)
                continue
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            total += getattr(st, "st_blocks", 0) * 512 or st.st_size
    return total


def human_size(size: int) -> str:
    for unit in ("bytes", "KB", "MB"):
        if size < 1000:
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def running_demo(base: Path) -> int | None:
    """The pid of another `etl demo` that holds this folder, or None (no pid file, or its process
    is gone: a killed demo leaves the file behind)."""
    try:
        pid = int((base / PID_FILE).read_text().strip())
    except (OSError, ValueError):
        return None
    if pid == os.getpid():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid  # alive, another user's
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists() and b"etl" not in cmdline.read_bytes():
        return None  # the pid was reused by something else
    return pid


def hold_folder(base: Path) -> None:
    base.mkdir(parents=True, exist_ok=True)
    (base / PID_FILE).write_text(f"{os.getpid()}\n")


def release_folder(base: Path) -> None:
    if running_demo(base) is None:  # ours, or stale: not another live demo's
        (base / PID_FILE).unlink(missing_ok=True)


def wipe_folder(base: Path) -> int:
    """Delete the demo's folder (database, broker, logs); returns the bytes it used."""
    if not base.exists():
        return 0
    size = disk_usage(base)
    shutil.rmtree(base)
    return size
