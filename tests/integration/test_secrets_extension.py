"""Secrets through the Parameters and Secrets Lambda Extension: urllib, no boto3, clear failures.

The extension is the local stand-in (messenger_local.secrets_extension) backed by moto's Secrets
Manager (the session's moto server), as the extension is backed by Secrets Manager in AWS.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest

from messenger_local.secrets_extension import SecretsExtension, create_secret
from messenger_local.services import LocalServices

TOKEN = "session-token-" + uuid.uuid4().hex[:8]
DB_SECRET = {"username": "app", "password": "p@ss", "host": "db.internal", "port": 5432}


@pytest.fixture(scope="module")
def extension(services: LocalServices) -> Iterator[SecretsExtension]:
    with SecretsExtension(services.dynamodb_endpoint, TOKEN) as running:  # moto: every service
        yield running


@pytest.fixture
def secret_env(
    services: LocalServices, extension: SecretsExtension, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    from messenger.platform import secrets, settings

    arn = create_secret(services.dynamodb_endpoint, f"test/{uuid.uuid4().hex[:8]}/db", DB_SECRET)
    env = {
        "DATABASE_URL": "",
        "DATABASE_SECRET_ARN": arn,
        "DATABASE_HOST": "",
        "DATABASE_SSLROOTCERT": "",
        "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": str(extension.port),
        "AWS_SESSION_TOKEN": TOKEN,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings.get_settings.cache_clear()
    secrets.database_url.cache_clear()
    secrets.mongodb_uri.cache_clear()
    yield env
    settings.get_settings.cache_clear()
    secrets.database_url.cache_clear()
    secrets.mongodb_uri.cache_clear()


EXPECTED_URL = "postgresql://app:p%40ss@db.internal:5432/messenger?sslmode=require"


def test_database_url_comes_from_the_extension_without_boto3(secret_env: dict[str, str]) -> None:
    code = (
        "import json, sys; from messenger.platform import secrets; url = secrets.database_url();"
        " print(json.dumps({'url': url, 'boto3': 'boto3' in sys.modules}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **secret_env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.splitlines()[-1]) == {"url": EXPECTED_URL, "boto3": False}


def test_the_secret_is_fetched_once_per_environment(
    secret_env: dict[str, str], extension: SecretsExtension
) -> None:
    from messenger.platform import secrets

    before = extension.requests
    assert secrets.database_url() == EXPECTED_URL
    assert secrets.database_url() == EXPECTED_URL
    assert extension.requests == before + 1


def test_an_atlas_uri_secret_through_the_extension(
    services: LocalServices, secret_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from messenger.platform import secrets, settings

    uri = "mongodb+srv://app:pw@cluster0.example.mongodb.net/?retryWrites=true"
    arn = create_secret(services.dynamodb_endpoint, f"test/{uuid.uuid4().hex[:8]}/m", {"uri": uri})
    monkeypatch.setenv("MONGODB_URI", "")
    monkeypatch.setenv("MONGODB_SECRET_ARN", arn)
    settings.get_settings.cache_clear()
    assert secrets.mongodb_uri() == uri


def test_a_wrong_token_is_a_configuration_error(
    secret_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from messenger.platform import secrets, settings

    monkeypatch.setenv("AWS_SESSION_TOKEN", "another")
    settings.get_settings.cache_clear()
    with pytest.raises(settings.ConfigurationError, match="refused"):
        secrets.database_url()


def test_an_unknown_secret_is_a_configuration_error(
    secret_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from messenger.platform import secrets, settings

    monkeypatch.setenv("DATABASE_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:1:secret:nope")
    settings.get_settings.cache_clear()
    with pytest.raises(settings.ConfigurationError, match="refused"):
        secrets.database_url()


def test_the_extension_down_is_unavailable(
    secret_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from messenger.kernel.errors import Unavailable, is_unavailable
    from messenger.platform import secrets, settings

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", str(port))
    settings.get_settings.cache_clear()
    with pytest.raises(Unavailable) as raised:
        secrets.database_url()
    assert is_unavailable(raised.value)
