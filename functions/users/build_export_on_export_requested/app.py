"""MSK consumer of `user.export_requested`: builds the JSON archive into private storage and
marks the export ready. A redelivery rebuilds the same object; other event types are skipped."""

from __future__ import annotations

# First, before pydantic: Powertools' batch types load its parser models (~20 modules,
# 100+ ms) when pydantic is already imported (tests/unit/test_cold_start_imports.py).
from messenger.web.consumers import kafka_entrypoint

# isort: split
from messenger.bootstrap import export_builder
from messenger.kernel.events import EventEnvelope
from messenger.platform.observability import logger
from messenger.users.events import ExportRequested

exports = export_builder()


def build(event: EventEnvelope) -> None:
    requested = event.parse(ExportRequested)
    if requested is None:
        return
    built = exports.build_export(requested)
    logger.info(
        "Export built" if built else "Export skipped: the account is gone",
        extra={"export_id": str(requested.export_id)},
    )


lambda_handler = kafka_entrypoint(build)
