"""A real OpenID Connect provider on loopback for the OAuth tests (the oidc-provider-mock package).

It runs in a thread of the test process on 127.0.0.1 (its issuer is `http://127.0.0.1:<port>`),
with client registration required, so the client id, secret and redirect URI our functions send
are really checked. The user "authenticates" by a POST of the provider's authorization form, and
each user's claims are set through the provider's API: a claim named like a registered one
(`aud`, `exp`) overrides it in the ID token, which is how the tests get a token for another
audience or an expired one, signed by the provider itself.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import oidc_provider_mock
import werkzeug.serving

REDIRECT_URI = "https://app.example.com/oauth/callback"
PROVIDER = "mock"


@dataclass(frozen=True)
class Authorized:
    code: str
    state: str


@dataclass
class MockProvider:
    issuer: str
    client_id: str
    client_secret: str

    def providers_json(self, name: str = PROVIDER) -> str:
        """OAUTH_PROVIDERS for the functions: this provider under `name` (secret given locally)."""
        return json.dumps(
            {
                name: {
                    "issuer": self.issuer,
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                    "redirect_uris": [REDIRECT_URI],
                    "scopes": ["openid", "email", "profile"],
                }
            }
        )

    def set_user(self, subject: str, **claims: Any) -> None:
        response = httpx.put(f"{self.issuer}/users/{quote(subject, safe='')}", json=claims)
        assert response.status_code == 204, response.text

    def authorize(self, authorization_url: str, subject: str) -> Authorized:
        """The user signs in at the provider: what the provider appends to the redirect URI."""
        assert authorization_url.startswith(self.issuer + "/")
        response = httpx.post(authorization_url, data={"sub": subject}, follow_redirects=False)
        assert response.status_code == 302, response.text
        location = response.headers["location"]
        assert location.startswith(REDIRECT_URI + "?"), location
        query = parse_qs(urlsplit(location).query)
        return Authorized(code=query["code"][0], state=query["state"][0])


@contextmanager
def running_provider() -> Iterator[MockProvider]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log per request
    app = oidc_provider_mock.app(require_client_registration=True, issue_refresh_token=False)
    server = werkzeug.serving.make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    issuer = f"http://127.0.0.1:{server.server_port}"
    try:
        registered = httpx.post(
            f"{issuer}/oauth2/clients",
            json={
                "redirect_uris": [REDIRECT_URI],
                "token_endpoint_auth_method": "client_secret_basic",
            },
        )
        assert registered.status_code == 201, registered.text
        client = registered.json()
        yield MockProvider(issuer, client["client_id"], client["client_secret"])
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()
