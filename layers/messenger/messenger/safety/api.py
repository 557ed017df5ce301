"""The safety context's public operations: none yet (other contexts do not call it). Moderators
read reports from `report.filed` events (messenger.safety.events)."""

from __future__ import annotations

from messenger.safety.events import ReportFiled

__all__ = ["ReportFiled"]
