"""Scheduled: publish every outbox event the request path could not (Kafka down, timeout).

Two outboxes: Postgres (accounts, profiles, friendships) and MongoDB (chats, messages). One
failing does not stop the other; the function fails (and alarms) if either did.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from messenger.bootstrap import outbox_relays
from messenger.platform.collector import end_init
from messenger.platform.observability import logger

RELAYS = outbox_relays()


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    reports: dict[str, Any] = {}
    failed: list[str] = []
    for store, relay in RELAYS.items():
        try:
            reports[store] = asdict(relay())
        except Exception:
            logger.exception("Outbox relay failed", extra={"store": store})
            failed.append(store)
    logger.info("Outbox relayed", extra=reports)
    if failed:
        raise RuntimeError(f"outbox relay failed for {', '.join(failed)}")
    return {
        "published": sum(r["published"] for r in reports.values()),
        "pending_before": sum(r["pending_before"] for r in reports.values()),
        **reports,
    }


end_init()  # the module is the init: what it built is frozen, the collector back on
