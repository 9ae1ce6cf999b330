"""Operations on a TinyDB store: readiness at start-up, the offline check and repair."""

from __future__ import annotations

import errno
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from skill.config import Durability
from skill.storage import files, records
from skill.storage.errors import DamagedFile, SchemaError, StoreError
from skill.storage.locks import StripedLocks
from skill.storage.quarantine import Quarantine

#: Version of the on-disk folder layout (STORE.json); a newer one is refused at start-up.
#: 2: user files may be twins (:class:`~skill.storage.records.Twin`), which code that knows
#: only layout 1 would take for damage: a store that writes them says so before it does.
LAYOUT = 2
#: The layout of a store whose user files are all plain TinyDB files (``full`` writes only those).
PLAIN_LAYOUT = 1


def _read_marker(path: Path) -> object:
    raw = files.read_bytes(path)
    if raw is None:
        return None
    if not raw.strip():
        raise DamagedFile("empty file")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise DamagedFile("invalid JSON") from None


#: OS errors that mean "this folder cannot be written now" (rather than "this is no store").
_NOT_WRITABLE = {errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EDQUOT}


class StoreNotWritable(StoreError):
    """The store's folder cannot be written now (read-only, no permission, full disk)."""


@dataclass(frozen=True)
class Readiness:
    """Whether a store can take writes now. ``problem`` is a few public words (no paths, no
    user data), ``detail`` the full reason for the log; both empty when it is ready.

    Any store adapter may offer ``readiness() -> Readiness``; ``/readyz`` asks it.
    """

    problem: str = ""
    detail: str = ""

    @property
    def ready(self) -> bool:
        """True when the store can take writes."""
        return not self.problem


class Store(Protocol):
    """What the admin needs of a store (the TinyDB adapter); no import of it, so no cycle."""

    data_dir: Path
    users_dir: Path
    locks_dir: Path
    corrupt_dir: Path
    locks: StripedLocks
    quarantine: Quarantine
    durability: Durability

    def read_checked(self, path: Path) -> None: ...

    def repair(self, path: Path) -> Path | None: ...


class StoreAdmin:
    """Start-up readiness, the offline check and repair of one store's folder."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.marker_path = store.data_dir / "STORE.json"

    def ensure_ready(self) -> None:
        """Create the layout, check the STORE.json marker and that the store is writable.

        Raises ``StoreError`` with a clear message; never overwrites an unreadable marker.
        """
        store = self.store
        for folder in (store.data_dir, store.users_dir, store.locks_dir, store.corrupt_dir):
            try:
                files.mkdir_durable(folder)
            except OSError as exc:
                kind = StoreNotWritable if exc.errno in _NOT_WRITABLE else StoreError
                raise kind(f"cannot create store folder {folder}: {exc.strerror}") from None
            if not folder.is_dir():
                raise StoreError(f"store path {folder} exists but is not a folder")
        # The marker lock below needs a writable locks folder; say so plainly if it is not.
        self._probe_writable(store.locks_dir)
        # Several gunicorn workers start at once on a fresh folder: one writes the marker.
        with store.locks.hold(self.marker_path):
            try:
                marker = _read_marker(self.marker_path)
            except DamagedFile as exc:
                raise StoreError(
                    f"store marker {self.marker_path} is unreadable ({exc.reason}); "
                    "it was left untouched: restore it or remove it by hand"
                ) from None
            except OSError as exc:
                raise StoreError(
                    f"cannot read store marker {self.marker_path}: {exc.strerror}"
                ) from None
            layout = None if marker is None else self._check_layout(marker)
            # "full" keeps a plain store readable by code that predates the twins; the other
            # modes raise the marker first, so such code refuses the folder rather than
            # moving its twin files aside as damaged.
            wanted = PLAIN_LAYOUT if store.durability == "full" else LAYOUT
            if layout is None or layout < wanted:
                self._probe_writable(store.data_dir)
                payload = records.dumps({"layout": wanted})
                files.atomic_write_bytes(self.marker_path, payload, durable=True)
            for folder in (store.users_dir, store.locks_dir, store.corrupt_dir):
                self._probe_writable(folder)

    def _check_layout(self, marker: object) -> int:
        """The layout ``marker`` names; ``StoreError`` unless this code reads it."""
        layout = marker.get("layout") if isinstance(marker, dict) else None
        if not isinstance(layout, int) or isinstance(layout, bool):
            raise StoreError(
                f"store marker {self.marker_path} has no integer 'layout'; "
                "it was left untouched: restore it or remove it by hand"
            )
        if layout > LAYOUT:
            raise StoreError(
                f"store at {self.store.data_dir} has layout {layout}, newer than this code's "
                f"{LAYOUT}; upgrade the service"
            )
        if layout < PLAIN_LAYOUT:
            raise StoreError(f"store at {self.store.data_dir} has unknown layout {layout}")
        return layout

    def readiness(self) -> Readiness:
        """:meth:`ensure_ready` as an answer instead of an error (it creates what is missing,
        so a folder that became writable again is ready again)."""
        try:
            self.ensure_ready()
        except StoreNotWritable as exc:
            return Readiness("not writable", str(exc))
        except StoreError as exc:
            return Readiness("not usable", str(exc))
        return Readiness()

    @staticmethod
    def _probe_writable(folder: Path) -> None:
        problem = files.probe_writable(folder)
        if problem is not None:
            raise StoreNotWritable(f"store folder {folder} is not writable: {problem}")

    def scan(self) -> list[Problem]:
        """Every damaged user file and why, read-only (copies nothing, writes nothing).

        Damage is what a request would replace with a fresh record: unreadable bytes, a wrong
        shape, wrong types (the store's validator), a symlink or a folder in a file's place.
        A record from a newer schema is not damage: it is left for a newer deployment.
        """
        store = self.store
        problems: list[Problem] = []
        if not store.users_dir.is_dir():
            return problems
        for path in sorted(store.users_dir.glob("*/*.json")):
            try:
                store.read_checked(path)
            except DamagedFile as exc:
                problems.append(Problem(path, exc.reason))
            except SchemaError:
                continue
        return problems

    def repair(self, progress: Callable[[Iterable[Problem]], Iterable[Problem]] = iter) -> Repair:
        """Give every damaged file the fresh start a request would: evidence kept, fresh record.

        ``progress`` wraps the work list (``tqdm`` in the CLI).
        """
        replaced = failed = 0
        for problem in progress(self.scan()):
            try:
                if self.store.repair(problem.path) is not None:
                    replaced += 1
            except StoreError:
                failed += 1
        return Repair(replaced, failed)


@dataclass(frozen=True)
class Problem:
    """A damaged user file and the reason, in a few words."""

    path: Path
    reason: str


@dataclass(frozen=True)
class Repair:
    """What ``check-store --repair`` did: files replaced by fresh records, and failures."""

    replaced: int
    failed: int
