"""Where user records live: per-user TinyDB files (default) or DynamoDB.

Modules, each with one job: :mod:`~skill.storage.files` (atomic I/O), :mod:`~.locks`,
:mod:`~.records` (the stored envelope and migrations, pure), :mod:`~.tinydb` (the ask-sdk
adapter), :mod:`~.admin` (readiness, check, repair), :mod:`~.quarantine` (``corrupt/``),
:mod:`~.keys` (hashed user keys) and :mod:`~.dynamodb`.
"""

from __future__ import annotations

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter

from skill.config import STORES, Config, ConfigError
from skill.storage.dynamodb import dynamodb_adapter
from skill.storage.errors import (
    CorruptRecordError,
    LockTimeoutError,
    SchemaError,
    StaleWriteError,
    StoreError,
)
from skill.storage.keys import user_hash
from skill.storage.tinydb import TinyDBPersistenceAdapter

__all__ = [
    "CorruptRecordError",
    "LockTimeoutError",
    "SchemaError",
    "StaleWriteError",
    "StoreError",
    "TinyDBPersistenceAdapter",
    "adapter_from_config",
    "user_hash",
]


def adapter_from_config(config: Config) -> AbstractPersistenceAdapter:
    """The store ``config.store`` names, checked and ready to use.

    Raises ``ConfigError`` for an unknown store or unusable DynamoDB settings, ``StoreError``
    when the TinyDB folder cannot be used, and ask-sdk's ``PersistenceException`` when the
    DynamoDB table cannot be created or reached.
    """
    if config.store == "tinydb":
        store = TinyDBPersistenceAdapter(config.data_dir, durability=config.durability)
        store.ensure_ready()
        return store
    if config.store == "dynamodb":
        return dynamodb_adapter(config)
    raise ConfigError(f"store must be one of {', '.join(STORES)}; got {config.store!r}")
