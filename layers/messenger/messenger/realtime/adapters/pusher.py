"""post_to_connection and delete_connection through API Gateway's @connections API (botocore,
on the process's session: messenger.platform.aws).

The endpoint is the WebSocket stage's https URL in AWS, the local gateway's in development
(WEBSOCKET_MANAGEMENT_ENDPOINT either way). The client and its thread pool live as long as the
execution environment. A 410 means the client is gone; throttling and 5xx get one quick retry from
botocore, and whatever still fails is reported as FAILED (never raised: one connection's trouble
must not stop the others).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from messenger.platform import aws
from messenger.platform.observability import logger
from messenger.platform.settings import get_settings
from messenger.realtime.service import Outcome


class ApiGatewayPusher:
    def __init__(self) -> None:
        settings = get_settings()
        self.concurrency = settings.push_concurrency
        self.client: Any = aws.client(
            "apigatewaymanagementapi",
            endpoint_url=settings.require("websocket_management_endpoint"),
            region_name=settings.aws_region,
            config=Config(
                max_pool_connections=self.concurrency,
                connect_timeout=settings.push_timeout_seconds,
                read_timeout=settings.push_timeout_seconds,
                retries={"mode": "standard", "total_max_attempts": 2},
                tcp_keepalive=True,
            ),
        )
        self.pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="push")

    def _call(self, operation: str, connection_id: str, **params: Any) -> Outcome:
        """post_to_connection or delete_connection; the outcome, never an exception."""
        try:
            getattr(self.client, operation)(ConnectionId=connection_id, **params)
        except (ClientError, BotoCoreError) as exc:
            if isinstance(exc, ClientError):
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                if status == 410 or exc.response.get("Error", {}).get("Code") == "GoneException":
                    return Outcome.GONE
            logger.warning(
                "Connection call failed",
                extra={"operation": operation, "connection_id": connection_id, "error": repr(exc)},
            )
            return Outcome.FAILED
        return Outcome.DELIVERED

    def _post(self, connection_id: str, payload: bytes) -> Outcome:
        return self._call("post_to_connection", connection_id, Data=payload)

    def _close(self, connection_id: str) -> Outcome:
        return self._call("delete_connection", connection_id)

    def post_many(self, posts: Sequence[tuple[str, bytes]]) -> dict[str, Outcome]:
        if len(posts) == 1:
            connection_id, payload = posts[0]
            return {connection_id: self._post(connection_id, payload)}
        futures = {cid: self.pool.submit(self._post, cid, payload) for cid, payload in posts}
        return {cid: future.result() for cid, future in futures.items()}

    def close_many(self, connection_ids: Sequence[str]) -> dict[str, Outcome]:
        """DELETE @connections/{id}: API Gateway closes the socket (and runs `$disconnect`)."""
        if len(connection_ids) == 1:
            return {connection_ids[0]: self._close(connection_ids[0])}
        futures = {cid: self.pool.submit(self._close, cid) for cid in connection_ids}
        return {cid: future.result() for cid, future in futures.items()}
