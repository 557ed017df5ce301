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
    # The secret keeps the cluster endpoint (rotation needs it); functions go through RDS Proxy.
    host = settings.database_host or secret["host"]
    port, name = secret.get("port", 5432), secret.get("dbname", "messenger")
    tls = f"sslmode={settings.database_sslmode}"
    if settings.database_sslrootcert:
        tls += f"&sslrootcert={quote(settings.database_sslrootcert, safe='/')}"
    return f"postgresql://{user}:{password}@{host}:{port}/{name}?{tls}"


@cache
def mongodb_uri() -> str:
    """A URI locally; in AWS built from the DocumentDB secret (TLS, no retryable writes)."""
    settings = get_settings()
    if settings.mongodb_uri:
        return settings.mongodb_uri
    if not settings.mongodb_secret_arn:
        raise ConfigurationError("MONGODB_URI or MONGODB_SECRET_ARN must be set")
    from aws_lambda_powertools.utilities import parameters

    secret = parameters.get_secret(settings.mongodb_secret_arn, transform="json", max_age=300)
    if not isinstance(secret, dict):
        raise ConfigurationError("the MongoDB secret is not a JSON object")
    if "uri" in secret:  # Atlas: the whole connection string is the secret
        return str(secret["uri"])
    user, password = quote(secret["username"], safe=""), quote(secret["password"], safe="")
    host, port = secret["host"], secret.get("port", 27017)
    query = "tls=true&replicaSet=rs0&readPreference=secondaryPreferred&retryWrites=false"
    if settings.mongodb_tls_ca_file:
        query += f"&tlsCAFile={quote(settings.mongodb_tls_ca_file, safe='/')}"
    return f"mongodb://{user}:{password}@{host}:{port}/?{query}"
