"""Webhooks of the caller's tenant: subscribe to events, send a test, read recent deliveries.
The signing secret is returned by create and rotate-secret only; the URL never (it is write-only:
every answer carries its masked form, url_display). Validation, limits and sending are
etl.notify's (InvalidWebhook 422, TooManyWebhooks 409, answered by api.errors)."""
from __future__ import annotations

import logging
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from api.deps import SessionDep, TenantId
from api.schemas.common import Message
from api.schemas.notifications import Delivery, Webhook, WebhookCreate, WebhookUpdate, WebhookWithSecret
from etl.notify import subscriptions

log = logging.getLogger(__name__)

router = APIRouter(prefix="/notifications/webhooks", tags=["notifications"])

REFUSALS = {409: {"model": Message, "description": "a webhook with this name exists, or the tenant has "
                                                   "ETL_MAX_WEBHOOKS_PER_TENANT webhooks"},
            422: {"description": "an unknown event, a URL that is malformed, does not resolve or is refused by the "
                                 "outbound policy (private, loopback... addresses); the message says which"}}


def _with_secret(created: subscriptions.Created) -> WebhookWithSecret:
    return WebhookWithSecret(**Webhook.model_validate(created.subscription).model_dump(), secret=created.secret)


@router.get("", response_model=list[Webhook], summary="The tenant's webhooks (URLs masked, never their secrets)")
def list_webhooks(session: SessionDep, tenant_id: TenantId) -> list[Webhook]:
    return [Webhook.model_validate(row) for row in subscriptions.listed(session, tenant_id)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WebhookWithSecret, responses=REFUSALS,
             summary="Subscribe a webhook to events (its signing secret is in this response only)")
def create_webhook(body: WebhookCreate, session: SessionDep, tenant_id: TenantId) -> WebhookWithSecret:
    created = subscriptions.create(session, tenant_id, body.name, body.url, body.events, body.format,
                                   body.stale_after_minutes, body.enabled)
    session.commit()
    log.info("webhook %s (%s) created for tenant %s: %s", created.subscription.id, created.subscription.name,
             tenant_id, ",".join(created.subscription.events))
    return _with_secret(created)


@router.get("/{webhook_id}", response_model=Webhook, responses={404: {"model": Message}}, summary="One webhook")
def get_webhook(webhook_id: uuid.UUID, session: SessionDep, tenant_id: TenantId) -> Webhook:
    return Webhook.model_validate(subscriptions.get(session, tenant_id, webhook_id))


@router.patch("/{webhook_id}", response_model=Webhook, responses={404: {"model": Message}, **REFUSALS},
              summary="Change a webhook (only the fields sent)")
def update_webhook(webhook_id: uuid.UUID, body: WebhookUpdate, session: SessionDep, tenant_id: TenantId) -> Webhook:
    sent = body.model_fields_set
    row = subscriptions.update(session, tenant_id, webhook_id, name=body.name, url=body.url, events=body.events,
                               format=body.format, stale_after_minutes=body.stale_after_minutes, enabled=body.enabled,
                               clear_stale_after="stale_after_minutes" in sent and body.stale_after_minutes is None)
    session.commit()
    return Webhook.model_validate(row)


@router.delete("/{webhook_id}", response_model=Webhook, responses={404: {"model": Message}},
               summary="Delete a webhook and its deliveries")
def delete_webhook(webhook_id: uuid.UUID, session: SessionDep, tenant_id: TenantId) -> Webhook:
    row = Webhook.model_validate(subscriptions.delete(session, tenant_id, webhook_id))
    session.commit()
    log.info("webhook %s of tenant %s deleted", webhook_id, tenant_id)
    return row


@router.post("/{webhook_id}/rotate-secret", response_model=WebhookWithSecret, responses={404: {"model": Message}},
             summary="Give the webhook a new signing secret (in this response only); the old one stops at once")
def rotate_secret(webhook_id: uuid.UUID, session: SessionDep, tenant_id: TenantId) -> WebhookWithSecret:
    created = subscriptions.rotate_secret(session, tenant_id, webhook_id)
    session.commit()
    log.info("webhook %s of tenant %s: signing secret rotated", webhook_id, tenant_id)
    return _with_secret(created)


@router.post("/{webhook_id}/test", status_code=status.HTTP_202_ACCEPTED, response_model=Delivery,
             responses={404: {"model": Message}, 422: {"description": "the webhook is disabled"},
                        429: {"model": Message, "description": "a test of this webhook has not ended yet"}},
             summary="Send a webhook.test event now; GET .../deliveries shows how the receiver answered")
def test_webhook(webhook_id: uuid.UUID, session: SessionDep, tenant_id: TenantId) -> Delivery:
    delivery = subscriptions.send_test(session, tenant_id, webhook_id)
    answer = Delivery.model_validate(delivery)
    session.commit()  # the delivery is published on the notify queue once this commits
    return answer


@router.get("/{webhook_id}/deliveries", response_model=list[Delivery], responses={404: {"model": Message}},
            summary="The webhook's most recent deliveries, newest first: status, attempts, answer, error")
def list_deliveries(webhook_id: uuid.UUID, session: SessionDep, tenant_id: TenantId,
                    limit: Annotated[int, Query(ge=1, le=100)] = 20) -> list[Delivery]:
    return [Delivery.model_validate(d) for d in subscriptions.recent_deliveries(session, tenant_id, webhook_id, limit)]
