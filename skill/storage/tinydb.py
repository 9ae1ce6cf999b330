"""Per-user TinyDB files behind ask-sdk-core's ``AbstractPersistenceAdapter``.

One tiny TinyDB file per user, named by ``sha256(user_id)`` and fanned out into 256
sub-folders: TinyDB rewrites its whole file on every operation, so one shared file would cost
O(users) per request. Writers hold a striped lock and open a fresh TinyDB handle inside it
(long-lived handles cache ids and queries that go stale across processes); every record
carries a revision, and a save based on an older one raises ``StaleWriteError``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, MutableMapping
from functools import cache
from pathlib import Path
from typing import Any

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Document

from skill.config import Durability
from skill.domain.user import DamagedRecord, normalise
from skill.storage import files, records
from skill.storage.admin import Readiness, StoreAdmin
from skill.storage.errors import DamagedFile, StaleWriteError, StoreError
from skill.storage.keys import user_hash, user_id_of
from skill.storage.locks import StripedLocks
from skill.storage.quarantine import Quarantine

logger = logging.getLogger(__name__)
REVISION_KEY = records.REVISION_KEY
#: Checks and repairs loaded attributes; raises ``DamagedRecord`` when they are damaged.
Validator = Callable[[dict[str, Any]], dict[str, Any]]


class AtomicJSONStorage(Storage):
    """TinyDB storage for one small JSON file, written atomically.

    Made for one short-lived TinyDB handle per locked operation: the file is read once and
    kept for the life of the handle, so TinyDB's read-modify-write costs one read, not two.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        durability: Durability | None = None,
        durable: bool = True,
    ) -> None:
        super().__init__()
        self.path = os.fspath(path)
        self._durability = files.resolve_durability(durability, durable)
        self._data: dict[str, Any] | None = None
        self._twin: records.Twin | None = None
        self._loaded = False

    def read(self) -> dict[str, Any] | None:
        """The whole database, or ``None`` for a new (missing) file."""
        if not self._loaded:
            raw = files.read_user_file(self.path)
            self._data, self._twin = (None, None) if raw is None else records.parse_file(raw)
            self._loaded = True
        return self._data

    def write(self, data: dict[str, Any]) -> None:
        """Replace the file's content with ``data``, atomically.

        ``full`` renames a new file over the old one. ``normal`` and ``off`` keep two copies
        and overwrite the older in place (see :mod:`skill.storage.records`), writing the file
        anew only when it is new, of another layout, or outgrown.
        """
        mode = self._durability
        if mode == "full":
            files.atomic_write_bytes(self.path, records.dumps(data), durability=mode)
        elif not self._overwrite_older_copy(data):
            raw, self._twin = records.twin_file(data, self._twin.seq + 1 if self._twin else 1)
            files.atomic_write_bytes(self.path, raw, durability=mode)
        self._data = data
        self._loaded = True

    def _overwrite_older_copy(self, data: dict[str, Any]) -> bool:
        """Put ``data`` over the twin file's older copy; ``False`` (nothing written) when the
        file is not a twin, ``data`` has outgrown a copy, or writing in place is not safe."""
        twin = self._twin
        change = None if twin is None else twin.next_write(data)
        if twin is None or change is None:
            return False
        offset, copy = change
        sync = self._durability == "normal"
        if not files.overwrite_at(self.path, copy, offset, size=2 * twin.half, sync=sync):
            return False
        self._twin = twin.after_write()
        return True


class TinyDBPersistenceAdapter(AbstractPersistenceAdapter):
    """ask-sdk-core persistence adapter: one atomically written TinyDB file per user.

    Safe across processes and threads (striped ``flock``), crash-safe (atomic replace), O(1)
    in the number of users. ``durability`` (``MAMA_DURABILITY``) picks the fsyncs a write waits
    for: ``"full"`` (default), ``"normal"`` or ``"off"``; ``durable=False`` is ``"off"``. Records
    are checked by ``validator`` (default: the typed user record's parse) on load and save.
    A damaged record is moved to ``corrupt/`` and replaced by a fresh one; a record from a
    newer schema is refused and left untouched. ``__init__`` touches no disk: start-up and
    offline checks are :attr:`admin`'s.
    """

    LOCK_STRIPES = 256

    def __init__(
        self,
        data_dir: Path,
        *,
        lock_timeout: float = 10.0,
        durability: Durability | None = None,
        durable: bool = True,
        validator: Validator = normalise,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.users_dir = self.data_dir / "users"
        self.locks_dir = self.data_dir / "locks"
        self.corrupt_dir = self.data_dir / "corrupt"
        self._users = str(self.users_dir)
        self.locks = StripedLocks(self.locks_dir, lock_timeout)
        self.quarantine = Quarantine(self.corrupt_dir)
        self.durability: Durability = files.resolve_durability(durability, durable)
        self.validator = validator
        self.admin = StoreAdmin(self)

    @property
    def durable(self) -> bool:
        """Whether writes fsync at all (``durability`` is not ``"off"``)."""
        return self.durability != "off"

    @durable.setter
    def durable(self, value: bool) -> None:
        self.durability = "full" if value else "off"

    def ensure_ready(self) -> None:
        """Create the folders and check the store can be used (see :class:`StoreAdmin`)."""
        self.admin.ensure_ready()

    def readiness(self) -> Readiness:
        """Whether the folder can take writes now (see :meth:`StoreAdmin.readiness`)."""
        return self.admin.readiness()

    def check(self) -> list[Path]:
        """Every damaged user file (read-only; see :meth:`StoreAdmin.scan`)."""
        return [problem.path for problem in self.admin.scan()]

    # ask-sdk-core interface (argument names matter: the SDK passes them by keyword)

    def get_attributes(self, request_envelope: Any) -> dict[str, Any]:
        """The user's attributes plus ``"_revision"`` (0 for a new user)."""
        return self.load(user_id_of(request_envelope))

    def save_attributes(self, request_envelope: Any, attributes: dict[str, Any]) -> None:
        """Save if ``attributes["_revision"]`` is current, else raise ``StaleWriteError``."""
        self.save(user_id_of(request_envelope), attributes)

    def delete_attributes(self, request_envelope: Any) -> None:
        """Forget the user; fine for unknown users and when repeated."""
        self.delete(user_id_of(request_envelope))

    def path_for(self, user_id: str) -> Path:
        """The user's file: ``users/<first two hex digits>/<sha256>.json``."""
        return Path(self._file(user_id))

    def _file(self, user_id: str) -> str:
        digest = user_hash(user_id)
        return f"{self._users}/{digest[:2]}/{digest}.json"

    def load(self, user_id: str) -> dict[str, Any]:
        """The user's attributes plus ``"_revision"``; ``{"_revision": 0}`` for a new user.

        A damaged record is replaced by a fresh one (see :meth:`repair`), and the answer then
        also holds ``"_fresh_start"``: the evidence's name in ``corrupt/``, for this load only.
        """
        path = self._file(user_id)
        try:
            # No lock: a reader sees one whole version (an atomic rename), or a write caught
            # half done in place that the checksum tells apart (durability "off").
            _, revision, attributes = self._read_file(path)
        except DamagedFile:
            # Read again under the lock, where no write is half done; still damaged: repair.
            with self.locks.hold(path):
                try:
                    evidence = None
                    _, revision, attributes = self._read_file(path)
                except DamagedFile as exc:
                    evidence = self.quarantine.start_fresh(
                        Path(path), exc.reason, durability=self.durability
                    )
                    _, revision, attributes = self._read_file(path)
            if evidence is not None:
                attributes[records.FRESH_START_KEY] = evidence.name
        attributes[REVISION_KEY] = revision
        return attributes

    def save(self, user_id: str, attributes: dict[str, Any]) -> None:
        """Store ``attributes`` (keys starting with ``_`` are not stored) at revision + 1.

        Raises ``StaleWriteError`` (writing nothing) if the stored revision is not
        ``attributes["_revision"]`` (missing means 0, i.e. "I expect a new user"). On success
        ``attributes["_revision"]`` is updated, so a second save in one request works.
        """
        expected = attributes.get(REVISION_KEY, 0)
        if not isinstance(expected, int) or isinstance(expected, bool):
            raise StoreError(f"{REVISION_KEY} must be an int")
        try:
            # Stored as they will load: repaired, pruned, never a record that reads as damaged.
            clean = self.validator(records.storable(attributes))
        except DamagedRecord as exc:
            raise StoreError(f"attributes would not load back: {exc.reason}") from None
        path = self._file(user_id)
        with self.locks.hold(path):
            db = TinyDB(path, storage=AtomicJSONStorage, durability=self.durability)
            try:
                exists, stored, _ = self._read(db, path, validate=False)  # the revision is enough
            except DamagedFile as exc:
                self.quarantine.start_fresh(Path(path), exc.reason, durability=self.durability)
                raise StaleWriteError("stale write: the record was damaged and replaced") from None
            if expected != stored:
                raise StaleWriteError(
                    f"stale write: record is at revision {stored}, save was based on {expected}"
                )
            record = records.make_record(clean, stored + 1)
            table = db.table(records.TABLE)
            if exists:
                # Replace the whole document: update() alone would keep fields of old layouts.
                table.update(_replace_with(record), doc_ids=[records.DOC_ID])
            else:
                table.insert(Document(record, doc_id=records.DOC_ID))
        attributes[REVISION_KEY] = stored + 1

    def delete(self, user_id: str) -> None:
        """Remove the user's file (and any quarantined copies of it); idempotent."""
        path = self.path_for(user_id)
        with self.locks.hold(path):
            removed = files.remove_entry(path)
            removed = files.remove_entry(Path(files.temp_name(str(path)))) or removed
            # Every mode but "off" makes a removal durable: a forgotten user stays forgotten.
            if removed and self.durability != "off":
                files.fsync_dir(path.parent)
            # The user asked to be forgotten: copies kept for inspection go too.
            self.quarantine.forget(path.name)

    def read_checked(self, path: Path) -> None:
        """Read and validate one user file; ``DamagedFile`` if it is damaged.

        Read without a lock; what looks damaged is read again under the lock, so a write caught
        half done in place (durability "off") is not reported. A read-only copy of the store,
        where no lock can be taken, keeps the first answer.
        """
        try:
            self._read_file(str(path))
        except DamagedFile as first:
            try:
                with self.locks.hold(path):
                    self._read_file(str(path))
            except StoreError:
                raise first from None

    def repair(self, path: Path) -> Path | None:
        """If the user file ``path`` is damaged, move it to ``corrupt/`` and write a fresh
        record; the evidence's path, or ``None`` when the file was fine (or not there)."""
        with self.locks.hold(path):
            try:
                self._read_file(str(path))
            except DamagedFile as exc:
                return self.quarantine.start_fresh(path, exc.reason, durability=self.durability)
        return None

    # internals

    def _read_file(self, path: str) -> tuple[bool, int, dict[str, Any]]:
        """:meth:`_read` through a fresh read-only handle on ``path``."""
        return self._read(TinyDB(path, storage=AtomicJSONStorage), path)

    def _read(
        self, db: TinyDB, path: str, *, validate: bool = True
    ) -> tuple[bool, int, dict[str, Any]]:
        """(exists, revision, checked attributes); ``DamagedFile`` for any kind of damage."""
        try:
            tables = db.storage.read()
            if tables is None:
                return False, 0, {}
            record = records.unpack(tables)
        except OSError as exc:
            raise StoreError(f"cannot read user record {path}: {exc.strerror}") from None
        if records.is_newer(record.schema_version):
            _log_newer_once(record.schema_version)
        attributes = records.migrate(path, record.schema_version, record.attributes)
        if not validate:
            return True, record.revision, attributes
        try:
            return True, record.revision, self.validator(attributes)
        except DamagedRecord as exc:
            raise DamagedFile(exc.reason) from None


@cache
def _log_newer_once(version: int) -> None:
    # Once per process and schema, with no user id: every request of such a user hits it.
    logger.error(
        "a user record has schema %d, newer than this code's %d: it is left untouched and "
        "refused; upgrade the service",
        version,
        records.CURRENT_SCHEMA,
    )


def _replace_with(record: dict[str, Any]) -> Callable[[MutableMapping[Any, Any]], None]:
    def transform(document: MutableMapping[Any, Any]) -> None:
        document.clear()
        document.update(record)

    return transform
