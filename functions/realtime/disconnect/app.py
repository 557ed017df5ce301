"""WebSocket `$disconnect`: forget the connection; the user's last one announces them offline."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from messenger.bootstrap import connection_service
from messenger.kernel.clock import utcnow
from messenger.platform import deadline
from messenger.platform.collector import end_init
from messenger.platform.observability import logger

realtime = connection_service()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    with deadline.invocation(context):
        realtime.disconnect(event["requestContext"]["connectionId"], utcnow())
    return {"statusCode": 200}


end_init()  # the module is the init: what it built is frozen, the collector back on
