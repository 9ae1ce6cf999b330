"""``corrupt/``: where damaged user files are kept as evidence, named by when and why."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

from skill.storage.files import mkdir_durable, write_new

logger = logging.getLogger(__name__)


class Quarantine:
    """The evidence folder of one store."""

    def __init__(self, corrupt_dir: Path) -> None:
        self.corrupt_dir = corrupt_dir

    def keep_copy(self, path: Path) -> Path | None:
        """Copy ``path`` aside (once per distinct content); the copy, or ``None`` on failure."""
        try:
            raw = path.read_bytes()
            mkdir_durable(self.corrupt_dir)
            copy = self._existing_copy(path.name, raw)
            if copy is None:
                stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
                copy = write_new(self.corrupt_dir / f"{path.name}.{stamp}", raw)
        except OSError as exc:
            logger.error("could not copy corrupt record %s aside: %s", path, exc.strerror)
            return None
        return copy

    def _existing_copy(self, name: str, raw: bytes) -> Path | None:
        # Every request of that user hits the bad file; keep one copy per content, not per hit.
        for candidate in self.corrupt_dir.glob(f"{name}.*"):
            try:
                if candidate.stat().st_size == len(raw) and candidate.read_bytes() == raw:
                    return candidate
            except FileNotFoundError:
                continue
        return None

    def forget(self, name: str) -> None:
        """Remove every copy kept of the user file ``name`` (the user asked to be forgotten)."""
        if self.corrupt_dir.is_dir():
            for copy in self.corrupt_dir.glob(f"{name}.*"):
                copy.unlink(missing_ok=True)
