"""GET /metrics: Prometheus text exposition of etl.ops.metrics, read fresh at each scrape."""
from __future__ import annotations

import hmac

from fastapi import APIRouter, Header, HTTPException, status
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from etl.config import get_settings
from etl.ops.metrics import registry

router = APIRouter(tags=["health"])
_REGISTRY = registry()


def _check_token(authorization: str | None) -> None:
    expected = get_settings().metrics_token
    if expected is None:
        return
    sent = (authorization or "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(sent.encode(), expected.get_secret_value().encode()):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "metrics need Authorization: Bearer <ETL_METRICS_TOKEN>",
                            headers={"WWW-Authenticate": "Bearer"})


@router.get(
    "/metrics",
    summary="Prometheus metrics: jobs, task runs, queues, data freshness",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"},
               401: {"description": "ETL_METRICS_TOKEN is set and the request did not send it"}},
)
def metrics(authorization: str | None = Header(None, include_in_schema=False)) -> Response:
    _check_token(authorization)
    return Response(generate_latest(_REGISTRY), media_type=CONTENT_TYPE_LATEST)
