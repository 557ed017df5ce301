"""Endpoint credentials: a URL in the environment locally, a Secrets Manager secret in AWS.

The secret (RDS format: username, password, host, port, dbname) is fetched on the first call
that needs it, once per execution environment. With the AWS Parameters and Secrets Lambda
Extension (PARAMETERS_SECRETS_EXTENSION_HTTP_PORT set, by the template's
ParametersExtensionLayerArn) that is one local HTTP request (http.client): no boto3 import
(about 155 ms) on the request path. Without it, Powertools Parameters (boto3) fetches it.
Decision: "Secrets on the first call, through the extension".
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any
from urllib.parse import quote

from messenger.kernel.errors import Unavailable
from messenger.platform.settings import ConfigurationError, get_settings

EXTENSION_TIMEOUT_SECONDS = 3.0


def get_secret(arn: str) -> dict[str, Any]:
    """The secret's JSON object, through the extension when the function has it."""
    settings = get_settings()
    if settings.parameters_secrets_extension_http_port:
        value: Any = json.loads(
            _from_extension(arn, settings.parameters_secrets_extension_http_port)
        )
    else:
        from aws_lambda_powertools.utilities import parameters

        value = parameters.get_secret(arn, transform="json", max_age=300)
    if not isinstance(value, dict):
        raise ConfigurationError(f"the secret {arn} is not a JSON object")
    return value


def _from_extension(arn: str, port: int) -> str:
    """GET /secretsmanager/get on the extension (its token is the session token). http.client
    rather than urllib.request: the same request without importing urllib.request's ~20 ms."""
    import http.client

    token = get_settings().require("aws_session_token")
    connection = http.client.HTTPConnection("localhost", port, timeout=EXTENSION_TIMEOUT_SECONDS)
    try:
        connection.request(
            "GET",
            f"/secretsmanager/get?secretId={quote(arn, safe='')}",
            headers={"X-Aws-Parameters-Secrets-Token": token},
        )
        response = connection.getresponse()
        status, payload = response.status, response.read()
    except (OSError, http.client.HTTPException) as exc:  # not listening, reset, timeout
        raise Unavailable() from exc
    finally:
        connection.close()
    if status >= 500:  # Secrets Manager throttled or down, behind the extension
        raise Unavailable()
    if status != 200:
        raise ConfigurationError(f"the secrets extension refused {arn}: {status}")
    body = json.loads(payload)
    secret = body.get("SecretString") if isinstance(body, dict) else None
    if not isinstance(secret, str):
        raise ConfigurationError(f"the secret {arn} has no SecretString")
    return secret


@cache
def database_url() -> str:
    settings = get_settings()
    if settings.database_url:
        return settings.database_url
    if not settings.database_secret_arn:
        raise ConfigurationError("DATABASE_URL or DATABASE_SECRET_ARN must be set")
    secret = get_secret(settings.database_secret_arn)
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
    secret = get_secret(settings.mongodb_secret_arn)
    if "uri" in secret:  # Atlas: the whole connection string is the secret
        return str(secret["uri"])
    user, password = quote(secret["username"], safe=""), quote(secret["password"], safe="")
    host, port = secret["host"], secret.get("port", 27017)
    query = "tls=true&replicaSet=rs0&readPreference=secondaryPreferred&retryWrites=false"
    if settings.mongodb_tls_ca_file:
        query += f"&tlsCAFile={quote(settings.mongodb_tls_ca_file, safe='/')}"
    return f"mongodb://{user}:{password}@{host}:{port}/?{query}"
