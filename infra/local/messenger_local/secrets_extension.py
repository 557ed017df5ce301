"""A local stand-in of the AWS Parameters and Secrets Lambda Extension's HTTP endpoint.

`GET /secretsmanager/get?secretId=<arn>` with the header `X-Aws-Parameters-Secrets-Token` (the
function's AWS_SESSION_TOKEN) answers what GetSecretValue answers, fetched from a Secrets
Manager endpoint (moto server locally); a wrong or missing token is a 401, an unknown secret a
400, the backend down a 502, as the extension does. Used by the deployed-like cold-start bench
and the secrets tests, so functions read their secrets the way they do in AWS.
"""

from __future__ import annotations

import json
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from messenger_local.template import REGION

TOKEN_HEADER = "X-Aws-Parameters-Secrets-Token"


class SecretsExtension:
    """Serve on 127.0.0.1:<port> (0 = any free port) until `stop`; a context manager."""

    def __init__(self, secrets_endpoint: str, token: str, port: int = 0) -> None:
        import boto3

        self.token = token
        self.client: Any = boto3.client(
            "secretsmanager",
            endpoint_url=secrets_endpoint,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - moto accepts any
        )
        self.requests = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> SecretsExtension:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> SecretsExtension:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        extension = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _send(self, status: HTTPStatus, body: str) -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                extension.requests += 1
                url = urlparse(self.path)
                if url.path != "/secretsmanager/get":
                    return self._send(HTTPStatus.NOT_FOUND, "not found")
                if self.headers.get(TOKEN_HEADER) != extension.token:
                    return self._send(HTTPStatus.UNAUTHORIZED, "not authorized")
                secret_id = parse_qs(url.query).get("secretId", [""])[0]
                try:
                    found = extension.client.get_secret_value(SecretId=secret_id)
                except extension.client.exceptions.ResourceNotFoundException as exc:
                    return self._send(HTTPStatus.BAD_REQUEST, str(exc))
                except Exception as exc:  # the backend down or throttling
                    return self._send(HTTPStatus.BAD_GATEWAY, repr(exc))
                fields = ("ARN", "Name", "VersionId", "SecretString", "VersionStages")
                body = {k: found[k] for k in fields if k in found}
                return self._send(HTTPStatus.OK, json.dumps(body))

        return Handler


def create_secret(secrets_endpoint: str, name: str, value: dict[str, Any]) -> str:
    """Create (or overwrite) a JSON secret on the local Secrets Manager; its ARN."""
    import boto3

    client: Any = boto3.client(
        "secretsmanager",
        endpoint_url=secrets_endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto accepts any
    )
    try:
        return str(client.create_secret(Name=name, SecretString=json.dumps(value))["ARN"])
    except client.exceptions.ResourceExistsException:
        client.put_secret_value(SecretId=name, SecretString=json.dumps(value))
        return str(client.describe_secret(SecretId=name)["ARN"])
