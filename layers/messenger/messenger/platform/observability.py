"""Structured JSON logs and EMF metrics, one of each for the package.

The service name comes from POWERTOOLS_SERVICE_NAME (template.yaml); the metrics namespace is
fixed, so the dashboard finds every business metric under `Messenger`.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger()
metrics = Metrics(namespace="Messenger")

__all__ = ["MetricUnit", "logger", "metrics"]
