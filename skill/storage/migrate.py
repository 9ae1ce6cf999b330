"""Moving every user between the TinyDB and the DynamoDB store (``mama-moments migrate-store``).

Records are copied as stored (schema version and attributes; the hashed key is the name in
both stores, so no raw user id is needed or seen). The copy is

* **idempotent**: a user whose destination record already has the same schema and attributes
  is left alone, so a second run writes nothing;
* **resumable**: an interrupted run is simply run again; it skips what was copied;
* **safe beside a live service**: every write is conditional on the destination revision it
  read (``StaleWriteError`` → read again and retry), so a request served from the destination
  meanwhile is never silently overwritten without being re-read;
* **verified**: at the end every readable source user must be in the destination.

The source is the truth: a destination record that differs is replaced by the source's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from skill.config import STORES, Config, ConfigError
from skill.domain.user import DamagedRecord, normalise
from skill.storage import files, records
from skill.storage.dynamodb import DynamoDbStore, dynamodb_adapter
from skill.storage.errors import DamagedFile, StaleWriteError, StoreError
from skill.storage.records import StoredRecord
from skill.storage.tinydb import TinyDBPersistenceAdapter

#: Users read, compared and written per step (DynamoDB's BatchGetItem takes 100 keys).
PAGE = 100
#: Tries per user when the destination keeps changing under the copy.
WRITE_ATTEMPTS = 5
#: Writes in flight at once (threads).
WORKERS = 8
#: A damaged record, as the reason it cannot be read.
Damage = str


class Side(Protocol):
    """One store seen by hashed key: what the migration reads and writes."""

    name: str

    def count(self) -> int:
        """How many users (records, readable or not) the store holds."""
        ...

    def pages(self) -> Iterator[list[tuple[str, StoredRecord | Damage]]]:
        """Every user, a page at a time, with the record or why it cannot be read."""
        ...

    def keys(self) -> Iterator[str]:
        """Every user's hashed key."""
        ...

    def read_many(self, keys: Iterable[str]) -> dict[str, StoredRecord]:
        """The readable records of ``keys`` that exist."""
        ...

    def write(self, key: str, record: StoredRecord, *, expected: int) -> None:
        """Store ``record`` if the stored revision is ``expected`` (0: none or unreadable)."""
        ...


class TinyDBSide:
    """The TinyDB store's files, by hashed key, with the store's own locks and atomic writes."""

    name = "tinydb"

    def __init__(self, store: TinyDBPersistenceAdapter) -> None:
        self.store = store

    def path(self, key: str) -> Path:
        return self.store.users_dir / key[:2] / f"{key}.json"

    def _paths(self) -> list[Path]:
        if not self.store.users_dir.is_dir():
            return []
        return sorted(self.store.users_dir.glob("*/*.json"))

    def count(self) -> int:
        return len(self._paths())

    def keys(self) -> Iterator[str]:
        return (path.stem for path in self._paths())

    def pages(self) -> Iterator[list[tuple[str, StoredRecord | Damage]]]:
        paths = self._paths()
        for start in range(0, len(paths), PAGE):
            page = [(path.stem, self._read(path)) for path in paths[start : start + PAGE]]
            # A user forgotten since the listing is simply not there any more.
            yield [(key, found) for key, found in page if found is not None]

    def read_many(self, keys: Iterable[str]) -> dict[str, StoredRecord]:
        found = {key: self._read(self.path(key)) for key in keys}
        return {k: r for k, r in found.items() if isinstance(r, StoredRecord)}

    def write(self, key: str, record: StoredRecord, *, expected: int) -> None:
        path = self.path(key)
        with self.store.locks.hold(path):
            current = self._read(path)
            if isinstance(current, StoredRecord):
                stored = current.revision
            else:
                stored = 0
                if current is not None:  # damaged: keep the evidence, as a request would
                    self.store.quarantine.take(path, current)
            if stored != expected:
                raise StaleWriteError(f"stale write: {path.name} is at revision {stored}")
            tables = records.make_tables(record.attributes, record.revision)
            tables[records.TABLE][str(records.DOC_ID)]["schema_version"] = record.schema_version
            files.atomic_write_bytes(path, records.dumps(tables), durable=self.store.durable)

    @staticmethod
    def _read(path: Path) -> StoredRecord | Damage | None:
        try:
            raw = files.read_user_file(str(path))
            return None if raw is None else records.unpack(records.parse_tables(raw))
        except DamagedFile as exc:
            return exc.reason
        except OSError as exc:
            raise StoreError(f"cannot read user record {path}: {exc.strerror}") from None


class DynamoDbSide:
    """The DynamoDB table, by hashed key."""

    name = "dynamodb"

    def __init__(self, store: DynamoDbStore) -> None:
        self.store = store

    def count(self) -> int:
        return self.store.count()

    def keys(self) -> Iterator[str]:
        for page in self.store.scan(page_size=1000):
            yield from (key for key, _ in page)

    def pages(self) -> Iterator[list[tuple[str, StoredRecord | Damage]]]:
        return self.store.scan(page_size=PAGE)

    def read_many(self, keys: Iterable[str]) -> dict[str, StoredRecord]:
        return self.store.read_many(keys)

    def write(self, key: str, record: StoredRecord, *, expected: int) -> None:
        self.store.write(key, record, expected=expected)


@dataclass
class Report:
    """What one run did, and whether the destination now holds every source user."""

    source: str
    destination: str
    source_users: int = 0
    copied: int = 0
    unchanged: int = 0
    #: Source users that could not be read (not copied), as ``(key, reason)``.
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    destination_users: int = 0
    #: Readable source users not found in the destination at the end.
    missing: int = 0

    @property
    def verified(self) -> bool:
        """Every source user was read and is in the destination."""
        return not self.unreadable and self.missing == 0

    def summary(self) -> str:
        return (
            f"{self.source}: {self.source_users} user(s); copied {self.copied}, already there "
            f"{self.unchanged}, unreadable {len(self.unreadable)}; {self.destination}: "
            f"{self.destination_users} user(s), {self.missing} source user(s) missing"
        )


def side_for(config: Config, store: str, *, create: bool) -> Side:
    """The store ``store`` ("tinydb" or "dynamodb") with ``config``'s settings. ``create``:
    make the folder layout or table when missing (a destination); else it must exist."""
    if store == "tinydb":
        tiny = TinyDBPersistenceAdapter(config.data_dir)
        if create:
            tiny.ensure_ready()
        elif not config.data_dir.is_dir():
            raise StoreError(f"no TinyDB store folder at {config.data_dir}")
        return TinyDBSide(tiny)
    if store == "dynamodb":
        return DynamoDbSide(dynamodb_adapter(config, create_table=create))
    raise ConfigError(f"store must be one of {', '.join(STORES)}; got {store!r}")


def problem(record: StoredRecord) -> str | None:
    """Why a record should not be copied (its attributes would not load), or ``None``."""
    if records.is_newer(record.schema_version):
        return None  # a newer deployment's record: copied as it is, for that deployment
    try:
        normalise(records.migrate("record", record.schema_version, dict(record.attributes)))
    except DamagedRecord as exc:
        return exc.reason
    except StoreError as exc:  # SchemaError: no migration path
        return str(exc)
    return None


def same(one: StoredRecord, other: StoredRecord) -> bool:
    """Equal for the migration: the revision is each store's own business."""
    return one.schema_version == other.schema_version and one.attributes == other.attributes


def migrate(
    source: Side,
    destination: Side,
    *,
    progress: Callable[[int], None] = lambda done: None,
    workers: int = WORKERS,
) -> Report:
    """Copy every user from ``source`` to ``destination``; ``progress(n)`` after each page.

    A page's writes run on ``workers`` threads: each waits on the network or an fsync, and
    every write is conditional, so their order does not matter.
    """
    report = Report(source.name, destination.name, source_users=source.count())
    copied_keys: set[str] = set()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for page in source.pages():
            readable: dict[str, StoredRecord] = {}
            for key, found in page:
                reason = found if isinstance(found, str) else problem(found)
                if reason is None and isinstance(found, StoredRecord):
                    readable[key] = found
                else:
                    report.unreadable.append((key, str(reason)))
            there = destination.read_many(readable)
            jobs = [
                pool.submit(_copy, destination, key, record, there.get(key))
                for key, record in readable.items()
            ]
            for key, job in zip(readable, jobs, strict=True):
                if job.result():
                    report.copied += 1
                else:
                    report.unchanged += 1
                copied_keys.add(key)
            progress(len(page))
    destination_keys = set(destination.keys())
    report.destination_users = len(destination_keys)
    report.missing = len(copied_keys - destination_keys)
    return report


def _copy(destination: Side, key: str, record: StoredRecord, there: StoredRecord | None) -> bool:
    """Make the destination hold ``record`` under ``key``; whether anything was written."""
    for _ in range(WRITE_ATTEMPTS):
        if there is not None and same(there, record):
            return False
        expected = 0 if there is None else there.revision
        # A new revision either way, so a request that read the old one cannot overwrite it.
        revision = max(record.revision, expected + 1)
        try:
            destination.write(
                key,
                StoredRecord(record.schema_version, revision, record.attributes),
                expected=expected,
            )
            return True
        except StaleWriteError:
            there = destination.read_many([key]).get(key)
    raise StoreError(f"user {key} kept changing in the {destination.name} store; run again")
