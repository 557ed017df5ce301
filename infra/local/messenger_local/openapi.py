"""The API's OpenAPI document, generated from the handlers' own resolvers.

Each HTTP function's module is loaded by file path (as Lambda loads it) and asked for its schema;
the paths and components are merged. Each route's statuses and problem codes come from its
decorator (`responses=problem_responses(...)`, messenger.web.api_docs, whose problem schemas become
components); the routes the template protects with the authorizer get the bearer security
requirement and the authorizer's 401 (API Gateway's own body). `make openapi` writes
docs/openapi.json; a test checks the committed file is current.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from messenger.web.api_docs import PROBLEM_SCHEMAS
from messenger_local.template import Template, load_template

ROOT = Path(__file__).resolve().parents[3]
TITLE = "Messenger API"
VERSION = "1.0.0"


# API Gateway's own answer when the authorizer refuses a token (an HTTP API cannot customise it).
GATEWAY_ERROR = {
    "type": "object",
    "description": "API Gateway's own error body (not problem+json).",
    "required": ["message"],
    "properties": {"message": {"type": "string"}},
}
GATEWAY_401 = {"application/json": {"schema": {"$ref": "#/components/schemas/GatewayError"}}}


def _finish(operation: dict[str, Any], secured: bool) -> None:
    """What the handlers cannot say about themselves: the gateway's 401 on protected routes.
    Also drops Powertools' default 422 (its own shape; ours is listed by the route when it can
    answer one) and the empty `content` of a 204, which has no body."""
    responses = operation.setdefault("responses", {})
    default_422 = responses.get("422", {}).get("content", {}).get("application/json", {})
    if "HTTPValidationError" in str(default_422.get("schema")):
        del responses["422"]
    for response in responses.values():
        if response.get("content") == {}:
            del response["content"]
    if secured:
        unauthorized = responses.setdefault("401", {"description": "Unauthorized"})
        unauthorized["description"] = (
            "Missing, malformed, expired or revoked token (the authorizer's refusal: API"
            " Gateway's own body)"
            + (
                f"; from the function: {unauthorized['description']}"
                if "content" in unauthorized
                else ""
            )
        )
        unauthorized["content"] = {**GATEWAY_401, **unauthorized.get("content", {})}


def _load(logical_id: str, handler_file: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"openapi_{logical_id}", handler_file)
    if spec is None or spec.loader is None:
        raise ImportError(handler_file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # type hints are resolved through sys.modules
    spec.loader.exec_module(module)
    return module


def build(template: Template | None = None) -> dict[str, Any]:
    template = template or load_template(ROOT / "template.yaml")
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": VERSION,
            "description": "Generated from the Lambda handlers; the contract is API.md.",
        },
        "paths": {},
        "components": {
            "schemas": {**PROBLEM_SCHEMAS, "GatewayError": GATEWAY_ERROR},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
    for route in sorted(template.routes, key=lambda r: (r.path, r.method)):
        function = template.functions[route.function]
        app = _load(route.function, function.handler_file).app
        schema = json.loads(app.get_openapi_json_schema(title=TITLE, version=VERSION))
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                if route.authorizer:
                    operation["security"] = [{"bearer": []}]
                _finish(operation, secured=route.authorizer is not None)
                operation["x-lambda-function"] = route.function
                document["paths"].setdefault(path, {})[method] = operation
        schemas = schema.get("components", {}).get("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
            schemas.pop(unused, None)
        document["components"]["schemas"].update(schemas)
    return document


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "openapi.json"
    target.write_text(render(build()))
    print(f"wrote {target}")
