"""Per-user TinyDB store behind ask-sdk-core's ``AbstractPersistenceAdapter``.

Why it looks like this (numbers in /work/shared/DESIGN.md):

* One tiny TinyDB file per user, named by ``sha256(user_id)`` and fanned out into 256
  sub-folders. TinyDB rewrites its whole file on every operation, so one shared file costs
  O(users) per request; one file per user keeps every request at the same small cost.
* Writes are atomic: a temp file in the same folder, fsync, ``os.replace``, fsync the folder.
  A crash leaves either the old or the new file, never a torn one, so readers need no lock.
* Writers take one of 256 striped ``flock`` locks (bounded lock-file count) and open a fresh
  TinyDB handle inside the lock: long-lived handles cache ids and queries that go stale
  across processes.
* Every record carries a revision. A save based on an older revision raises
  ``StaleWriteError`` instead of silently overwriting a concurrent request's work.
* Unreadable records are copied to ``corrupt/`` and reported, never overwritten or "repaired".

Layout under ``data_dir``::

    STORE.json                  {"layout": 1}, written once by ensure_ready()
    users/ab/<sha256>.json      {"user": {"1": {"schema_version", "revision", "attributes"}}}
    locks/ab.lock               one lock stripe per hash prefix
    corrupt/<sha256>.json.<UTC timestamp>

Nothing here logs a user id or attribute content; file names are hashes.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_core.exceptions import PersistenceException
from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Document

logger = logging.getLogger(__name__)

#: Version of the attribute schema this code writes. Bump it and add a migration together.
CURRENT_SCHEMA = 1
#: Version of the on-disk folder layout (STORE.json); a newer one is refused at start-up.
LAYOUT = 1
#: Reserved attribute carrying the record revision between get and save.
REVISION_KEY = "_revision"

#: ``MIGRATIONS[v]`` turns the attributes of a schema-``v`` record into schema ``v + 1``.
#: Applied in memory on load; the next save writes the record at ``CURRENT_SCHEMA``.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}

_TABLE = "user"
_DOC_ID = 1
_RECORD_KEYS = ("schema_version", "revision", "attributes")


class StoreError(PersistenceException):
    """The store cannot do what was asked; the message says why (never which user)."""


class StaleWriteError(StoreError):
    """The record changed since it was loaded; nothing was written. Reload and retry."""


class CorruptRecordError(StoreError):
    """A user file is unreadable or not a record; it was copied aside and left untouched."""

    def __init__(self, path: Path, reason: str, copy: Path | None) -> None:
        kept = f"; copy kept at {copy}" if copy else ""
        super().__init__(f"corrupt user record {path} ({reason}){kept}")
        self.path = path
        self.reason = reason
        self.copy = copy


class SchemaError(StoreError):
    """A record's schema is newer than this code, or no migration path exists."""


class LockTimeoutError(StoreError):
    """Another process held the user's lock longer than ``lock_timeout``."""


class _Unreadable(Exception):
    """Internal: the file exists but is not valid JSON (reason in args[0])."""


def user_hash(user_id: str) -> str:
    """The stable, non-reversible name of a user's file."""
    return hashlib.sha256(user_id.encode("utf-8")).hexdigest()


def _fsync_dir(path: str | Path) -> None:
    # Makes the rename/unlink itself durable, not just the file contents.
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _mkdir_durable(path: Path) -> None:
    """Create ``path`` (and parents) and fsync the parent so the folder survives a crash."""
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for folder in reversed(missing):
        try:
            folder.mkdir()
        except FileExistsError:
            continue  # another process won the race; that is fine
        _fsync_dir(folder.parent)


def _temp_name(path: str) -> str:
    folder, name = os.path.split(path)
    return os.path.join(folder, f".{name}.tmp")


def atomic_write_bytes(path: str | Path, payload: bytes, *, durable: bool = True) -> None:
    """Replace ``path`` with ``payload`` so readers see the old or the new file, never a mix.

    The temp name is fixed per target: callers hold the target's lock, so no one else writes
    it, and a temp file left by a crashed writer is simply overwritten by the next write.
    """
    # Plain strings, not Path objects: this is the hot path, and pathlib costs ~20% of it.
    path = os.fspath(path)
    folder = os.path.dirname(path)
    tmp = _temp_name(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except FileNotFoundError:
        _mkdir_durable(Path(folder))
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        try:
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view) :]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        # Never leave a half-written temp file behind an error we report.
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if durable:
        _fsync_dir(folder)


def _read_json_file(path: str | Path) -> Any:
    """Parsed JSON of ``path``; ``None`` if it does not exist; ``_Unreadable`` if not JSON.

    An empty file is unreadable: TinyDB would silently treat it as an empty database.
    """
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        return None
    if not raw.strip():
        raise _Unreadable("empty file")
    try:
        return json.loads(raw)
    except UnicodeDecodeError:
        raise _Unreadable("not UTF-8 text") from None
    except ValueError as exc:  # JSONDecodeError; the message holds a position, not content
        raise _Unreadable(f"invalid JSON: {exc}") from None
    except RecursionError:
        raise _Unreadable("JSON nested too deeply") from None


def _dumps(data: Any) -> bytes:
    try:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode(
            "utf-8"
        )
    except (TypeError, ValueError) as exc:
        # The message names a type or "out of range float", never a value.
        raise StoreError(f"attributes are not JSON-serialisable: {exc}") from None


class AtomicJSONStorage(Storage):
    """TinyDB storage for one small JSON file, written atomically.

    Made for one short-lived TinyDB handle per locked operation: the file is read once and
    kept for the life of the handle, so TinyDB's read-modify-write costs one read, not two.
    """

    def __init__(self, path: str | os.PathLike[str], *, durable: bool = True) -> None:
        super().__init__()
        self.path = os.fspath(path)
        self._durable = durable
        self._data: dict[str, dict[str, Any]] | None = None
        self._loaded = False

    def read(self) -> dict[str, dict[str, Any]] | None:
        """The whole database, or ``None`` for a new (missing) file."""
        if not self._loaded:
            data = _read_json_file(self.path)
            if data is not None and not isinstance(data, dict):
                raise _Unreadable("top level is not an object")
            self._data = data
            self._loaded = True
        return self._data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        """Replace the file atomically with ``data``."""
        atomic_write_bytes(self.path, _dumps(data), durable=self._durable)
        self._data = data
        self._loaded = True


def make_tables(attributes: dict[str, Any], revision: int) -> dict[str, dict[str, Any]]:
    """The full file content for one user record (also used to pre-populate benchmarks)."""
    record = {"schema_version": CURRENT_SCHEMA, "revision": revision, "attributes": attributes}
    return {_TABLE: {str(_DOC_ID): record}}


def _shape_problem(tables: dict[str, Any]) -> str | None:
    """Why ``tables`` is not a single user record, or ``None`` if it is one."""
    table = tables.get(_TABLE)
    if not isinstance(table, dict) or set(table) != {str(_DOC_ID)}:
        return f"expected exactly one document in table {_TABLE!r}"
    record = table[str(_DOC_ID)]
    if not isinstance(record, dict):
        return "record is not an object"
    for key in _RECORD_KEYS:
        if key not in record:
            return f"record has no {key!r}"
    for key in ("schema_version", "revision"):
        value = record[key]
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            return f"{key!r} is not a non-negative integer"
    if not isinstance(record["attributes"], dict):
        return "'attributes' is not an object"
    return None


def _migrate(path: str, version: int, attributes: dict[str, Any]) -> dict[str, Any]:
    """Bring ``attributes`` from schema ``version`` up to ``CURRENT_SCHEMA``."""
    if version > CURRENT_SCHEMA:
        raise SchemaError(
            f"user record {path} has schema {version}, newer than this code's "
            f"{CURRENT_SCHEMA}; upgrade the service (the file was left untouched)"
        )
    while version < CURRENT_SCHEMA:
        step = MIGRATIONS.get(version)
        if step is None:
            raise SchemaError(f"no migration from schema {version} for user record {path}")
        migrated = step(attributes)
        if not isinstance(migrated, dict):
            raise SchemaError(f"migration from schema {version} did not return a dict")
        attributes = migrated
        version += 1
    return attributes


def _user_id(request_envelope: Any) -> str:
    try:
        user_id = request_envelope.context.system.user.user_id
    except AttributeError:
        user_id = None
    if not isinstance(user_id, str) or not user_id:
        raise StoreError("request has no context.System.user.userId")
    return user_id


class TinyDBPersistenceAdapter(AbstractPersistenceAdapter):
    """ask-sdk-core persistence adapter: one atomically written TinyDB file per user.

    Safe across processes and threads (striped ``flock``), crash-safe (atomic replace),
    and O(1) in the number of users. ``durable=False`` skips fsync (tests, benchmarks only).
    """

    LOCK_STRIPES = 256

    def __init__(self, data_dir: Path, *, lock_timeout: float = 10.0, durable: bool = True) -> None:
        # No disk access here: start-up checks belong to ensure_ready().
        self.data_dir = Path(data_dir)
        self.users_dir = self.data_dir / "users"
        self.locks_dir = self.data_dir / "locks"
        self.corrupt_dir = self.data_dir / "corrupt"
        self.marker_path = self.data_dir / "STORE.json"
        self._users = str(self.users_dir)
        self._locks = str(self.locks_dir)
        self.lock_timeout = lock_timeout
        self.durable = durable

    # ask-sdk-core interface (argument names matter: the SDK passes them by keyword)

    def get_attributes(self, request_envelope: Any) -> dict[str, Any]:
        """The user's attributes plus ``"_revision"`` (0 for a new user)."""
        return self.load(_user_id(request_envelope))

    def save_attributes(self, request_envelope: Any, attributes: dict[str, Any]) -> None:
        """Save if ``attributes["_revision"]`` is current, else raise ``StaleWriteError``."""
        self.save(_user_id(request_envelope), attributes)

    def delete_attributes(self, request_envelope: Any) -> None:
        """Forget the user; fine for unknown users and when repeated."""
        self.delete(_user_id(request_envelope))

    # the same by plain user id

    def path_for(self, user_id: str) -> Path:
        """The user's file: ``users/<first two hex digits>/<sha256>.json``."""
        return Path(self._file(user_id))

    def _file(self, user_id: str) -> str:
        digest = user_hash(user_id)
        return f"{self._users}/{digest[:2]}/{digest}.json"

    def load(self, user_id: str) -> dict[str, Any]:
        """The user's attributes plus ``"_revision"``; ``{"_revision": 0}`` for a new user."""
        # No lock: writes are atomic renames, so a reader always sees one whole version.
        path = self._file(user_id)
        _, revision, attributes = self._read(TinyDB(path, storage=AtomicJSONStorage), path)
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
        clean = {
            k: v for k, v in attributes.items() if not (isinstance(k, str) and k.startswith("_"))
        }
        path = self._file(user_id)
        with self._locked(path):
            db = TinyDB(path, storage=AtomicJSONStorage, durable=self.durable)
            exists, stored, _ = self._read(db, path)
            if expected != stored:
                raise StaleWriteError(
                    f"stale write: record is at revision {stored}, save was based on {expected}"
                )
            record = {
                "schema_version": CURRENT_SCHEMA,
                "revision": stored + 1,
                "attributes": clean,
            }
            table = db.table(_TABLE)
            if exists:
                # Replace the whole document: update() alone would keep fields of old layouts.
                table.update(_replace_with(record), doc_ids=[_DOC_ID])
            else:
                table.insert(Document(record, doc_id=_DOC_ID))
        attributes[REVISION_KEY] = stored + 1

    def delete(self, user_id: str) -> None:
        """Remove the user's file (and any quarantined copies of it); idempotent."""
        path = self.path_for(user_id)
        with self._locked(path):
            removed = False
            for leftover in (path, Path(_temp_name(str(path)))):
                try:
                    leftover.unlink()
                    removed = True
                except FileNotFoundError:
                    pass
            if removed and self.durable:
                _fsync_dir(path.parent)
            # The user asked to be forgotten: copies kept for inspection go too.
            if self.corrupt_dir.is_dir():
                for copy in self.corrupt_dir.glob(f"{path.name}.*"):
                    copy.unlink(missing_ok=True)

    # operations

    def ensure_ready(self) -> None:
        """Create the layout, check the STORE.json marker and that the store is writable.

        Raises ``StoreError`` with a clear message; never overwrites an unreadable marker.
        """
        for folder in (self.data_dir, self.users_dir, self.locks_dir, self.corrupt_dir):
            try:
                _mkdir_durable(folder)
            except OSError as exc:
                raise StoreError(f"cannot create store folder {folder}: {exc.strerror}") from None
            if not folder.is_dir():
                raise StoreError(f"store path {folder} exists but is not a folder")
        # Several gunicorn workers start at once on a fresh folder: one writes the marker.
        with self._locked(self.marker_path):
            try:
                marker = _read_json_file(self.marker_path)
            except _Unreadable as exc:
                raise StoreError(
                    f"store marker {self.marker_path} is unreadable ({exc.args[0]}); "
                    "it was left untouched: restore it or remove it by hand"
                ) from None
            except OSError as exc:
                raise StoreError(
                    f"cannot read store marker {self.marker_path}: {exc.strerror}"
                ) from None
            if marker is None:
                self._probe_writable(self.data_dir)
                atomic_write_bytes(self.marker_path, _dumps({"layout": LAYOUT}), durable=True)
            else:
                layout = marker.get("layout") if isinstance(marker, dict) else None
                if not isinstance(layout, int) or isinstance(layout, bool):
                    raise StoreError(
                        f"store marker {self.marker_path} has no integer 'layout'; "
                        "it was left untouched: restore it or remove it by hand"
                    )
                if layout > LAYOUT:
                    raise StoreError(
                        f"store at {self.data_dir} has layout {layout}, newer than this code's "
                        f"{LAYOUT}; upgrade the service"
                    )
                if layout != LAYOUT:
                    raise StoreError(f"store at {self.data_dir} has unknown layout {layout}")
            for folder in (self.users_dir, self.locks_dir, self.corrupt_dir):
                self._probe_writable(folder)

    def check(self) -> list[Path]:
        """Every user file that is unreadable or not a record (read-only; copies nothing)."""
        corrupt: list[Path] = []
        if not self.users_dir.is_dir():
            return corrupt
        for path in sorted(self.users_dir.glob("*/*.json")):
            if path.name.startswith("."):
                continue  # a crashed writer's temp file; the next write replaces it
            try:
                data = _read_json_file(path)
            except _Unreadable:
                corrupt.append(path)
                continue
            if data is None:
                continue  # deleted while we scanned
            if not isinstance(data, dict) or _shape_problem(data) is not None:
                corrupt.append(path)
        return corrupt

    # internals

    def _read(self, db: TinyDB, path: str) -> tuple[bool, int, dict[str, Any]]:
        """(exists, revision, migrated attributes) of the file behind ``db``."""
        try:
            tables = db.storage.read()
        except _Unreadable as exc:
            self._quarantine(Path(path), exc.args[0])
        except OSError as exc:
            raise StoreError(f"cannot read user record {path}: {exc.strerror}") from None
        if tables is None:
            return False, 0, {}
        problem = _shape_problem(tables)
        if problem is not None:
            self._quarantine(Path(path), problem)
        document = db.table(_TABLE).get(doc_id=_DOC_ID)
        assert document is not None  # _shape_problem checked it is there
        record = dict(document)
        attributes = _migrate(path, record["schema_version"], dict(record["attributes"]))
        return True, int(record["revision"]), attributes

    def _quarantine(self, path: Path, reason: str) -> NoReturn:
        """Copy ``path`` into ``corrupt/`` (once per distinct content) and raise."""
        copy: Path | None = None
        try:
            raw = path.read_bytes()
            _mkdir_durable(self.corrupt_dir)
            copy = self._existing_copy(path.name, raw)
            if copy is None:
                stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
                copy = self._write_new(self.corrupt_dir / f"{path.name}.{stamp}", raw)
        except OSError as exc:
            logger.error("could not copy corrupt record %s aside: %s", path, exc.strerror)
        logger.warning("corrupt user record %s: %s", path, reason)
        raise CorruptRecordError(path, reason, copy)

    def _existing_copy(self, name: str, raw: bytes) -> Path | None:
        # Every request of that user hits the bad file; keep one copy per content, not per hit.
        for candidate in self.corrupt_dir.glob(f"{name}.*"):
            try:
                if candidate.stat().st_size == len(raw) and candidate.read_bytes() == raw:
                    return candidate
            except FileNotFoundError:
                continue
        return None

    def _write_new(self, target: Path, raw: bytes) -> Path:
        """Write ``raw`` to ``target`` (or ``target.N``) without ever replacing a file."""
        for n in range(1000):
            candidate = target if n == 0 else target.with_name(f"{target.name}.{n}")
            try:
                fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                continue
            try:
                os.write(fd, raw)
                os.fsync(fd)
            finally:
                os.close(fd)
            return candidate
        raise OSError(errno.EEXIST, "too many copies", str(target))

    def _probe_writable(self, folder: Path) -> None:
        probe = folder / f".write-probe.{os.getpid()}"
        try:
            fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise StoreError(f"store folder {folder} is not writable: {exc.strerror}") from None

    @contextmanager
    def _locked(self, path: str | Path) -> Iterator[None]:
        """Hold the lock stripe of ``path`` (chosen by its hash prefix)."""
        stripe = f"{self._locks}/{os.path.basename(path)[:2]}.lock"
        try:
            try:
                fd = os.open(stripe, os.O_RDWR | os.O_CREAT, 0o600)
            except FileNotFoundError:
                _mkdir_durable(self.locks_dir)
                fd = os.open(stripe, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StoreError(
                f"store folder {self.locks_dir} is not writable: {exc.strerror}"
            ) from None
        try:
            # A fresh descriptor per operation: flock is per open file, so this also
            # excludes other threads of this process, and survives fork() cleanly.
            deadline = time.monotonic() + self.lock_timeout
            delay = 0.0002
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise LockTimeoutError(
                            f"lock {stripe} busy for more than {self.lock_timeout} s"
                        ) from None
                    time.sleep(delay)
                    delay = min(delay * 2, 0.01)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock, even on error


def _replace_with(record: dict[str, Any]) -> Callable[[MutableMapping[Any, Any]], None]:
    def transform(document: MutableMapping[Any, Any]) -> None:
        document.clear()
        document.update(record)

    return transform
