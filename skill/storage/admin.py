"""Operations on a TinyDB store: readiness at start-up and the offline check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from skill.storage import files, records
from skill.storage.errors import DamagedFile, StoreError

if TYPE_CHECKING:
    from skill.storage.tinydb import TinyDBPersistenceAdapter

#: Version of the on-disk folder layout (STORE.json); a newer one is refused at start-up.
LAYOUT = 1


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


class StoreAdmin:
    """Start-up readiness and the offline check of one store's folder."""

    def __init__(self, store: TinyDBPersistenceAdapter) -> None:
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
                raise StoreError(f"cannot create store folder {folder}: {exc.strerror}") from None
            if not folder.is_dir():
                raise StoreError(f"store path {folder} exists but is not a folder")
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
            if marker is None:
                self._probe_writable(store.data_dir)
                payload = records.dumps({"layout": LAYOUT})
                files.atomic_write_bytes(self.marker_path, payload, durable=True)
            else:
                self._check_layout(marker)
            for folder in (store.users_dir, store.locks_dir, store.corrupt_dir):
                self._probe_writable(folder)

    def _check_layout(self, marker: object) -> None:
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
        if layout != LAYOUT:
            raise StoreError(f"store at {self.store.data_dir} has unknown layout {layout}")

    @staticmethod
    def _probe_writable(folder: Path) -> None:
        problem = files.probe_writable(folder)
        if problem is not None:
            raise StoreError(f"store folder {folder} is not writable: {problem}")

    def check(self) -> list[Path]:
        """Every user file that is unreadable or not a record (read-only; copies nothing)."""
        corrupt: list[Path] = []
        if not self.store.users_dir.is_dir():
            return corrupt
        for path in sorted(self.store.users_dir.glob("*/*.json")):
            if path.name.startswith("."):
                continue  # a crashed writer's temp file; the next write replaces it
            try:
                raw = files.read_bytes(path)
                if raw is None:
                    continue  # deleted while we scanned
                records.unpack(records.parse_tables(raw))
            except DamagedFile:
                corrupt.append(path)
        return corrupt
