"""The API's OpenAPI document, generated from the handlers' own resolvers.

Each HTTP function's module is loaded by file path (as Lambda loads it) and asked for its schema;
the paths and components are merged, and the routes the template protects with the authorizer
get the bearer security requirement. `make openapi` writes docs/openapi.json; a test checks the
committed file is current.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from messenger_local.template import Template, load_template

ROOT = Path(__file__).resolve().parents[3]
TITLE = "Messenger API"
VERSION = "1.0.0"


PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details; `code` is stable and machine-readable (API.md).",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "With validation_failed: the offending fields.",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
COMMON_ERRORS = {
    "400": "malformed_json: the body is not JSON",
    "413": "payload_too_large: the body is over 64 KiB",
    "422": "validation_failed: the body or a parameter breaks a rule (fields listed)",
    "503": "unavailable: a backing service is down; nothing was changed",
}


def _problem(description: str) -> dict[str, Any]:
    content = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    return {"description": description, "content": content}


def _document_errors(operation: dict[str, Any], secured: bool) -> None:
    """Powertools documents 422 with its own shape; ours is problem+json, as are the others."""
    responses = operation.setdefault("responses", {})
    for status, description in COMMON_ERRORS.items():
        responses[status] = _problem(description)
    if secured:
        responses["401"] = {"description": "Missing, malformed, expired or revoked token"}


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
            "schemas": {"Problem": PROBLEM},
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
                _document_errors(operation, secured=route.authorizer is not None)
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
