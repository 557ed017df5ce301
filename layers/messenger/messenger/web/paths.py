"""Routing a path whose parameters may hold any text (an emoji) the same in AWS and locally.

API Gateway's HTTP API hands a function the request path URL-decoded (`rawPath` and
`pathParameters` alike: a reaction arrives as `.../reactions/👍`), while the local gateway passes
`rawPath` as the client encoded it (`.../reactions/%F0%9F%91%8D`). Powertools routes on `rawPath`
with a pattern of URL characters, which a decoded emoji is not: it would find no route (404).
So such a handler rebuilds `rawPath` from its route and `pathParameters` (decoded in both), each
percent-encoded, and the parameter's model decodes it once (messenger.chats.models.Emoji).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from collections.abc import Mapping


def with_encoded_path(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """The event with `rawPath` rebuilt from `routeKey` and `pathParameters`, every parameter
    percent-encoded; as it was when either is missing (routing then decides)."""
    route = str(event.get("routeKey") or "").partition(" ")[2]
    params = event.get("pathParameters") or {}
    if not route.startswith("/") or not isinstance(params, dict):
        return event
    parts = []
    for segment in route.split("/"):
        if segment.startswith("{") and segment.endswith("}"):
            value = params.get(segment[1:-1])
            if not isinstance(value, str):
                return event
            # surrogatepass: a lone surrogate stays bytes that are not UTF-8, refused as a 422
            parts.append(quote(value.encode("utf-8", "surrogatepass"), safe=""))
        else:
            parts.append(segment)
    return {**event, "rawPath": "/".join(parts)}
