"""Apply the Postgres migrations before new code takes traffic.

Wired in template.yaml as the PreTraffic hook of every function's deployment: CodeDeploy invokes
it with a deployment id and hook execution id, and traffic shifts only after it reports
Succeeded. Invoked directly (no CodeDeploy fields) it just migrates, for operators.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from messenger.migrate import apply_migrations
from messenger.observability import logger
from messenger.secrets import database_url


def _report(event: dict[str, Any], status: str) -> None:
    import boto3

    boto3.client("codedeploy").put_lifecycle_event_hook_execution_status(
        deploymentId=event["DeploymentId"],
        lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
        status=status,
    )


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    is_hook = "DeploymentId" in event and "LifecycleEventHookExecutionId" in event
    try:
        applied = apply_migrations(database_url())
    except Exception:
        logger.exception("Migrations failed")
        if is_hook:
            _report(event, "Failed")
            return {"status": "Failed"}
        raise
    logger.info("Migrations applied", extra={"applied": applied})
    if is_hook:
        _report(event, "Succeeded")
    return {"status": "Succeeded", "applied": applied}
