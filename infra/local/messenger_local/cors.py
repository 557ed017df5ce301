"""API Gateway's CORS for HTTP APIs, from the template's `CorsConfiguration` (decision 52).

What API Gateway does, and so what this does: a preflight (`OPTIONS` with `Origin` and
`Access-Control-Request-Method`) is answered `204` by the gateway itself, before routing and
without the authorizer, unless an explicit `OPTIONS` route or a `$default` route takes it. Every
other response to a request with an allowed `Origin` (a function's, the authorizer's 401/403,
the gateway's own 404/500) gets `Access-Control-Allow-Origin` and the exposed headers; the
integration's own `Access-Control-*` headers are dropped. A disallowed origin gets no CORS
header at all (the browser then refuses the response).

Origins: exact, `*`, a `scheme://*` prefix (as API Gateway documents), and, for local
development, `http://localhost:*`: a trailing `:*` is any port of that host.
"""

from __future__ import annotations

import re
from functools import cached_property

from starlette.datastructures import Headers, MutableHeaders

from messenger_local.template import Cors


def _origin_pattern(allowed: str) -> re.Pattern[str]:
    if allowed == "*":
        return re.compile(r".+")
    if allowed.endswith(":*"):
        host = re.escape(allowed[:-2]).replace(r"\*", r"[^/:]+")
        return re.compile(host + r":[0-9]{1,5}", re.IGNORECASE)
    return re.compile(re.escape(allowed).replace(r"\*", r"[^/]+"), re.IGNORECASE)


class CorsPolicy:
    def __init__(self, cors: Cors) -> None:
        self.cors = cors

    @cached_property
    def _patterns(self) -> list[re.Pattern[str]]:
        return [_origin_pattern(o) for o in self.cors.allow_origins]

    def allows(self, origin: str | None) -> bool:
        return bool(origin) and any(p.fullmatch(origin or "") for p in self._patterns)

    def _allow_origin(self, origin: str) -> str:
        if "*" in self.cors.allow_origins and not self.cors.allow_credentials:
            return "*"
        return origin

    @staticmethod
    def is_preflight(method: str, headers: Headers) -> bool:
        return (
            method.upper() == "OPTIONS"
            and "origin" in headers
            and "access-control-request-method" in headers
        )

    def preflight_headers(self, origin: str | None) -> dict[str, str]:
        """The headers of the gateway's 204 to a preflight (none for a disallowed origin)."""
        if origin is None or not self.allows(origin):
            return {}
        headers = {"access-control-allow-origin": self._allow_origin(origin)}
        if self.cors.allow_methods:
            # As configured: browsers compare methods case-sensitively ("put" is not PUT).
            headers["access-control-allow-methods"] = ",".join(self.cors.allow_methods)
        if self.cors.allow_headers:
            headers["access-control-allow-headers"] = ",".join(self.cors.allow_headers).lower()
        if self.cors.max_age is not None:
            headers["access-control-max-age"] = str(self.cors.max_age)
        if self.cors.allow_credentials:
            headers["access-control-allow-credentials"] = "true"
        return headers

    def apply(self, origin: str | None, headers: MutableHeaders) -> None:
        """Replace whatever CORS headers the integration sent with the configured ones."""
        for name in [n for n in headers if n.lower().startswith("access-control-")]:
            del headers[name]
        if origin is None or not self.allows(origin):
            return
        headers["access-control-allow-origin"] = self._allow_origin(origin)
        if self.cors.expose_headers:
            headers["access-control-expose-headers"] = ",".join(self.cors.expose_headers).lower()
        if self.cors.allow_credentials:
            headers["access-control-allow-credentials"] = "true"
