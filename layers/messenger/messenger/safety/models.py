"""Requests and responses of the safety context (its events: messenger.safety.events)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from messenger.kernel.fields import TEXT_RULE, StrippedText

ReportReason = Literal["spam", "abuse", "illegal", "other"]
MAX_COMMENT = 1000


class ReportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: uuid.UUID | None = Field(default=None, description="A user reported")
    message_id: uuid.UUID | None = Field(
        default=None,
        description="A message reported (only by a participant of its chat; with `chat_id`)",
    )
    chat_id: uuid.UUID | None = Field(
        default=None, description="A chat reported, or the chat of `message_id`"
    )
    reason: ReportReason
    comment: (
        Annotated[
            StrippedText,
            Field(
                max_length=MAX_COMMENT, description=f"Up to {MAX_COMMENT} characters. {TEXT_RULE}"
            ),
        ]
        | None
    ) = None

    @model_validator(mode="after")
    def _something_reported(self) -> ReportRequest:
        if self.user_id is None and self.message_id is None and self.chat_id is None:
            raise ValueError("a report names a user_id, a message_id or a chat_id")
        if self.message_id is not None and self.chat_id is None:
            raise ValueError("a message is reported with its chat_id")
        return self


class ReportFiledResponse(BaseModel):
    report_id: uuid.UUID
