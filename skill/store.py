"""Old import path of the TinyDB store; the code lives in :mod:`skill.storage`."""

from skill.storage.errors import (
    CorruptRecordError,
    LockTimeoutError,
    SchemaError,
    StaleWriteError,
    StoreError,
)
from skill.storage.keys import user_hash
from skill.storage.records import CURRENT_SCHEMA, MIGRATIONS, REVISION_KEY, make_tables
from skill.storage.tinydb import AtomicJSONStorage, TinyDBPersistenceAdapter

__all__ = [
    "CURRENT_SCHEMA",
    "MIGRATIONS",
    "REVISION_KEY",
    "AtomicJSONStorage",
    "CorruptRecordError",
    "LockTimeoutError",
    "SchemaError",
    "StaleWriteError",
    "StoreError",
    "TinyDBPersistenceAdapter",
    "make_tables",
    "user_hash",
]
