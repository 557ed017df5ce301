"""Endpoint credentials: a URL in the environment locally, a Secrets Manager secret in AWS.

The secret (RDS format: username, password, host, port, dbname) is fetched once per cold start
through Powertools Parameters, which caches it; boto3 is imported only on that path.
"""

from __future__ import annotations

from functools import cache
from urllib.parse import quote

from messenger.settings import ConfigurationError, get_settings


@cache
def database_url() -> str:
    settings = get_settings()
    if settings.database_url:
        return settings.database_url
    if not settings.database_secret_arn:
        raise ConfigurationError("DATABASE_URL or DATABASE_SECRET_ARN must be set")
    from aws_lambda_powertools.utilities import parameters

    secret = parameters.get_secret(settings.database_secret_arn, transform="json", max_age=300)
    if not isinstance(secret, dict):
        raise ConfigurationError("the database secret is not a JSON object")
    user, password = quote(secret["username"], safe=""), quote(secret["password"], safe="")
    host, port, name = secret["host"], secret.get("port", 5432), secret.get("dbname", "messenger")
    return f"postgresql://{user}:{password}@{host}:{port}/{name}?sslmode=require"
