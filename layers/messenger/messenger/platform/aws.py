"""Every AWS client of a process comes from one botocore session (decision 59).

A botocore session caches what building a client reads: the endpoint rules, the service models,
the credentials. `boto3.client()` and every pynamodb connection each start a session of their
own, so a function speaking to DynamoDB and SNS read all of it twice on its first call (here:
the second client 57 ms on a new session, 5 ms on the same one). Clients are made with botocore
directly: boto3 adds nothing our low-level clients use, only its import.

Its endpoints data is a copy cut to those services (decision 63).

Before loading a service's model botocore lists every service it ships (about 400 directories,
some 2,800 stat calls, 13 ms of a cold start) only to tell a misspelt name from a known one.
Ours are spelt here, in `SERVICES`; any other name fails as loudly as before
(UnknownServiceError).

botocore's `Session.create_client` is not thread-safe while it builds (pynamodb creates its
client on a pusher's worker threads), so the session serializes it; clients are thread-safe
once made.
"""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path
from typing import Any, Literal

import botocore.session
from botocore.loaders import Loader

Service = Literal[
    "apigatewaymanagementapi", "dynamodb", "s3", "secretsmanager", "sesv2", "sns", "sts"
]
# The services this code makes clients for; `sts` for botocore's own credential providers.
SERVICES: tuple[Service, ...] = (
    "apigatewaymanagementapi",
    "dynamodb",
    "s3",
    "secretsmanager",
    "sesv2",
    "sns",
    "sts",
)


class _KnownServicesLoader(Loader):  # type: ignore[misc]
    def list_available_services(self, type_name: str) -> list[str]:
        return list(SERVICES)


def _config_key(config: Any) -> str:
    return repr(sorted(config._user_provided_options.items())) if config is not None else ""


class _SerialSession(botocore.session.Session):  # type: ignore[misc]
    """Builds one client at a time, and one per (service, region, endpoint, options): every
    pynamodb model asks for its own client with the same options, and a second one cost 4-5 ms
    and a second connection pool to the same endpoint."""

    _creating = threading.RLock()

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[tuple[str, str | None, str | None, str], Any] = {}

    def create_client(
        self,
        service_name: str,
        region_name: str | None = None,
        *,
        endpoint_url: str | None = None,
        config: Any = None,
        **rest: Any,
    ) -> Any:
        key = (service_name, region_name, endpoint_url, _config_key(config))
        with self._creating:
            made = self._made.get(key)
            # pynamodb asks again for a client whose credentials came back empty (an instance
            # metadata hiccup): that one is not handed out twice.
            if made is None or rest or not made._request_signer._credentials:
                made = super().create_client(
                    service_name, region_name, endpoint_url=endpoint_url, config=config, **rest
                )
                if not rest:
                    self._made[key] = made
            return made


# botocore's endpoints data cut to our services (infra/botocore_endpoints.py, decision 63),
# searched before botocore's own: the whole file is 1.25 MB of JSON, 12-14 ms to parse.
DATA_DIR = Path(__file__).with_name("botocore_data")


@cache
def session() -> botocore.session.Session:
    """The process's session (also pynamodb's: messenger.platform.dynamodb hands it over)."""
    shared = _SerialSession()
    shared.register_component(
        "data_loader", _KnownServicesLoader(extra_search_paths=[str(DATA_DIR)])
    )
    return shared


def client(
    service: Service,
    *,
    region_name: str | None,
    endpoint_url: str | None = None,
    config: Any = None,
) -> Any:
    """A low-level client on the process's session (as `boto3.client` would make it)."""
    return session().create_client(
        service, region_name=region_name, endpoint_url=endpoint_url or None, config=config
    )
