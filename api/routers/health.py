"""Liveness (/health) and readiness (/ready: the database and the broker answer)."""
from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from kombu import Connection
from sqlalchemy import text

from api.deps import SessionDep
from api.schemas.health import Health, Readiness
from etl.broker.app import app as celery_app

router = APIRouter(tags=["health"])

BROKER_TIMEOUT = 2.0


def _reason(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


@router.get("/health", response_model=Health, summary="The process is alive")
def health() -> Health:
    return Health()


@router.get(
    "/ready",
    response_model=Readiness,
    summary="The database and the message broker are reachable",
    responses={503: {"model": Readiness, "description": "the database or the broker is down"}},
)
def ready(session: SessionDep):
    checks: dict[str, str] = {}
    try:
        session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure to answer means not ready
        checks["database"] = f"unreachable: {_reason(exc)}"
    try:
        with Connection(celery_app.conf.broker_url, connect_timeout=BROKER_TIMEOUT) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT)
        checks["broker"] = "ok"
    except Exception as exc:
        checks["broker"] = f"unreachable: {_reason(exc)}"
    down = [name for name, state in checks.items() if state != "ok"]
    if not down:
        return Readiness(status="ready", checks=checks)
    body = Readiness(status="unavailable", checks=checks, detail="; ".join(f"{n} {checks[n]}" for n in down))
    return JSONResponse(body.model_dump(), status_code=503)
