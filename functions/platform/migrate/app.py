"""Apply the Postgres migrations (and MongoDB's indexes) before new code takes traffic.

Wired in template.yaml as the PreTraffic hook of every function's deployment: CodeDeploy invokes
it with a deployment id and hook execution id, and traffic shifts only after it reports
Succeeded. After migrating it runs a smoke check (Postgres `SELECT 1` through the same URL the
functions use, i.e. RDS Proxy with TLS, and a Redis PING over TLS): if either fails, it reports
Failed and CodeDeploy leaves every alias on the old version. Invoked directly (no CodeDeploy
fields) it migrates and checks, for operators, and raises on failure.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from messenger.bootstrap import apply_mongo_indexes
from messenger.platform.collector import end_init
from messenger.platform.migrate import apply_migrations
from messenger.platform.observability import logger
from messenger.platform.secrets import database_url, mongodb_uri
from messenger.platform.settings import get_settings


def _report(event: dict[str, Any], status: str) -> None:
    import boto3

    boto3.client("codedeploy").put_lifecycle_event_hook_execution_status(
        deploymentId=event["DeploymentId"],
        lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
        status=status,
    )


def smoke_check() -> dict[str, str]:
    """What every new version needs from the platform: Postgres answers, Redis answers."""
    import psycopg

    from messenger.platform.redis import client as redis

    results: dict[str, str] = {}
    try:
        with psycopg.connect(database_url(), connect_timeout=5, prepare_threshold=None) as conn:
            conn.execute("SELECT 1").fetchone()
        results["postgres"] = "ok"
    except Exception as exc:
        logger.exception("Smoke check: Postgres failed")
        results["postgres"] = f"failed: {type(exc).__name__}"
    try:
        redis().ping()
        results["redis"] = "ok"
    except Exception as exc:
        logger.exception("Smoke check: Redis failed")
        results["redis"] = f"failed: {type(exc).__name__}"
    return results


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    is_hook = "DeploymentId" in event and "LifecycleEventHookExecutionId" in event
    try:
        applied = apply_migrations(database_url())
        apply_mongo_indexes(mongodb_uri(), get_settings().mongodb_database)
    except Exception:
        logger.exception("Migrations failed")
        if is_hook:
            _report(event, "Failed")
            return {"status": "Failed"}
        raise
    logger.info("Migrations applied", extra={"applied": applied})
    checks = smoke_check()
    if any(result != "ok" for result in checks.values()):
        logger.error("Smoke check failed", extra={"checks": checks})
        if is_hook:
            _report(event, "Failed")
            return {"status": "Failed", "applied": applied, "checks": checks}
        raise RuntimeError(f"smoke check failed: {checks}")
    logger.info("Smoke check passed", extra={"checks": checks})
    if is_hook:
        _report(event, "Succeeded")
    return {"status": "Succeeded", "applied": applied, "checks": checks}


end_init()  # the module is the init: what it built is frozen, the collector back on
