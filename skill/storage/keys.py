"""How a user is named in storage: ``sha256(userId)``, shared by every back end."""

from __future__ import annotations

import hashlib
from typing import Any

from skill.storage.errors import StoreError


def user_hash(user_id: str) -> str:
    """The stable, non-reversible name of a user's record (file name or partition key)."""
    return hashlib.sha256(user_id.encode("utf-8")).hexdigest()


def user_id_of(request_envelope: Any) -> str:
    """``context.System.user.userId`` of a request; ``StoreError`` when it has none.

    Typed ``Any`` on purpose: a malformed envelope must raise here, not be assumed away.
    """
    try:
        user_id = request_envelope.context.system.user.user_id
    except AttributeError:
        user_id = None
    if not isinstance(user_id, str) or not user_id:
        raise StoreError("request has no context.System.user.userId")
    return user_id


def hashed_user_key(request_envelope: Any) -> str:
    """The hashed key of a request's user, never the id itself (DynamoDB's partition key)."""
    return user_hash(user_id_of(request_envelope))
