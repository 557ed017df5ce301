"""Profile views of the users context."""

from __future__ import annotations

import uuid

from pydantic import BaseModel

from messenger.fields import Timestamp


class Profile(BaseModel):
    user_id: uuid.UUID
    nickname: str
    description: str | None
    avatar_url: str | None
    created_at: Timestamp


class OwnProfile(Profile):
    """The owner's view adds the email."""

    email: str
