"""The store's errors. Messages name files (hashes) and reasons, never a user id or content."""

from __future__ import annotations

from pathlib import Path

from ask_sdk_core.exceptions import PersistenceException


class StoreError(PersistenceException):
    """The store cannot do what was asked; the message says why (never which user)."""


class StaleWriteError(StoreError):
    """The record changed since it was loaded; nothing was written. Reload and retry."""


class CorruptRecordError(StoreError):
    """A user file is damaged and could not be replaced; the message says why."""

    def __init__(self, path: Path, reason: str, copy: Path | None) -> None:
        kept = f"; copy kept at {copy}" if copy else ""
        super().__init__(f"corrupt user record {path} ({reason}){kept}")
        self.path = path
        self.reason = reason
        self.copy = copy


class SchemaError(StoreError):
    """A record's schema is newer than this code, or no migration path exists."""


class LockTimeoutError(StoreError):
    """Another process held the user's lock longer than the lock timeout."""


class DamagedFile(Exception):
    """A user file exists but is not a readable record; ``reason`` says why in a few words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
