"""One structured JSON logger for the package; its service name is POWERTOOLS_SERVICE_NAME."""

from __future__ import annotations

from aws_lambda_powertools import Logger

logger = Logger()
