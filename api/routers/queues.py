"""What waits in each stage: the broker's queues for admin keys, the tenant's own pending batches
for every key."""
from __future__ import annotations

from datetime import datetime, timezone

from fastapi import APIRouter

from api.deps import PrincipalDep, SessionDep
from api.schemas.common import Message
from api.schemas.queues import BrokerQueue, Queues, StageQueue
from etl.broker.lanes import STAGES
from etl.ops.queues import broker_queues, tenant_work

router = APIRouter(prefix="/etl", tags=["jobs"])


@router.get(
    "/queues",
    response_model=Queues,
    summary="Per stage: what waits (the broker's queues for admin keys, the tenant's pending batches for all)",
    description="Every key gets its own tenant's batches waiting per stage (of its queued and running jobs) and "
                "its active jobs. An admin key also gets the broker's queues of each stage (both lanes: manual "
                "and scheduled), read live with AMQP passive declares: ready messages and consumers, every "
                "tenant's work together. Other keys never see the broker's numbers.",
    responses={503: {"model": Message, "description": "admin keys: the message broker did not answer in time"}},
)
def queues(session: SessionDep, principal: PrincipalDep) -> Queues:
    work = tenant_work(session, principal.tenant_id)
    # A sync route runs in FastAPI's thread pool; the broker is read on a thread of its own with a
    # deadline, so a hanging broker costs a 503 after a few seconds, never the event loop.
    broker = broker_queues() if principal.is_admin else None
    stages = []
    for stage in STAGES:
        item = StageQueue(stage=stage, pending_batches=work.pending_batches[stage])
        if broker is not None:
            own = [queue for queue in broker if queue.stage == stage]
            item.queues = [BrokerQueue(name=q.name, lane=q.lane, messages=q.messages, consumers=q.consumers,
                                       declared=q.declared) for q in own]
            item.messages = sum(q.messages for q in own)
            item.consumers = next((q.consumers for q in own if q.lane == "manual"), 0)
        stages.append(item)
    return Queues(scope="broker" if broker is not None else "tenant", stages=stages, jobs=work.jobs,
                  read_at=datetime.now(timezone.utc))
