"""MSK consumer of `friendship-events`: after any `friendship.*` event, the pair's rows in both
friend lists are made to match its friendship row (listed if accepted, else not; decision 62).

The request path writes the lists in the friendship's own transaction. This consumer covers the
writers that did not: during a canary the previous version still accepts and removes
friendships without touching the lists. Idempotent and order-insensitive: it reads the row."""

from __future__ import annotations

# First, before pydantic: Powertools' batch types load its parser models (~20 modules,
# 100+ ms) when pydantic is already imported (tests/unit/test_cold_start_imports.py).
from messenger.web.consumers import kafka_entrypoint

# isort: split
from messenger.bootstrap import friends_consumers
from messenger.friends.events import FRIENDSHIP_EVENTS
from messenger.kernel.events import EventEnvelope

friends = friends_consumers()


def reconcile(event: EventEnvelope) -> None:
    data = event.parse(*FRIENDSHIP_EVENTS)
    if data is not None:
        friends.reconcile_pair(data.from_user_id, data.to_user_id)


lambda_handler = kafka_entrypoint(reconcile)
