"""``corrupt/``: where damaged user files are kept as evidence, named by when and why, and the
fresh start that replaces them.

An entry is ``corrupt/<sha256>.json.<UTC time>.<reason>``: the damaged file moved there
whole (a folder stays a folder), or for a symlink a small text file holding where it pointed.
Nothing here follows a symlink or reads a file outside the data folder.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import shutil
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from skill.config import Durability
from skill.storage import files, records
from skill.storage.errors import CorruptRecordError

logger = logging.getLogger(__name__)

_STAMP = "%Y%m%dT%H%M%S.%fZ"
_ENTRY = re.compile(
    r"^(?P<file>[0-9a-f]{64}\.json)\.(?P<stamp>\d{8}T\d{6}\.\d{6}Z)(?:\.(?P<why>.+))?$"
)


@dataclass(frozen=True)
class Evidence:
    """One entry of ``corrupt/``: what it was, when it was set aside, why, and its size."""

    path: Path
    user_file: str
    when: datetime
    why: str
    size: int | None  # ``None`` for a folder


def reason_slug(reason: str) -> str:
    """The part of a reason that goes in a file name: ``invalid JSON: ...`` → ``invalid-json``."""
    words = re.sub(r"[^a-z0-9]+", "-", reason.split(":")[0].lower()).strip("-")
    return words[:40].rstrip("-") or "damaged"


class Quarantine:
    """The evidence folder of one store."""

    def __init__(self, corrupt_dir: Path) -> None:
        self.corrupt_dir = corrupt_dir

    def take(self, path: Path, reason: str, now: datetime | None = None) -> Path:
        """Move whatever is at ``path`` into ``corrupt/``; the evidence's path.

        Called with the user's lock held. A symlink is never followed: its target is recorded
        as text and the link removed, so nothing outside the data folder is read.
        """
        files.mkdir_durable(self.corrupt_dir)
        if self.corrupt_dir.is_symlink():
            raise OSError(errno.ELOOP, "corrupt/ is a symlink", str(self.corrupt_dir))
        stamp = (now or datetime.now(UTC)).strftime(_STAMP)
        target = self.corrupt_dir / f"{path.name}.{stamp}.{reason_slug(reason)}"
        if stat.S_ISLNK(os.lstat(path).st_mode):
            evidence = files.write_new(target, os.fsencode(f"symlink to {os.readlink(path)}\n"))
            path.unlink()
        else:
            evidence = self._unused(target)
            try:
                os.rename(path, evidence)  # the entry itself: a file or a folder, never a target
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    raise
                # corrupt/ on another disk: copy (links inside a folder stay links), then remove.
                shutil.move(path, evidence)
        files.fsync_dir(self.corrupt_dir)
        files.fsync_dir(path.parent)
        return evidence

    def start_fresh(
        self,
        path: Path,
        reason: str,
        *,
        durability: Durability | None = None,
        durable: bool = True,
    ) -> Path:
        """With the user's lock held: keep the damaged ``path`` as evidence, then write a fresh
        record there (atomically, revision 1); the evidence's path."""
        try:
            evidence = self.take(path, reason)
            payload = records.dumps(records.make_tables({}, 1))
            files.atomic_write_bytes(path, payload, durability=durability, durable=durable)
        except OSError as exc:
            problem = f"{reason}; not replaced: {exc.strerror}"
            raise CorruptRecordError(path, problem, None) from None
        logger.warning(
            "damaged user record %s (%s) kept as %s; fresh record written",
            path.name,
            reason,
            evidence.name,
        )
        return evidence

    @staticmethod
    def _unused(target: Path) -> Path:
        for n in range(1000):
            candidate = target if n == 0 else target.with_name(f"{target.name}.{n}")
            if not os.path.lexists(candidate):
                return candidate
        raise OSError(errno.EEXIST, "too many copies", str(target))

    def entries(self) -> list[Evidence]:
        """Everything kept in ``corrupt/``, oldest first (read with ``lstat`` only)."""
        found: list[Evidence] = []
        if not self.corrupt_dir.is_dir() or self.corrupt_dir.is_symlink():
            return found
        for path in self.corrupt_dir.iterdir():
            match = _ENTRY.match(path.name)
            if match is None:
                continue
            info = os.lstat(path)
            when = datetime.strptime(match["stamp"], _STAMP).replace(tzinfo=UTC)
            why = (match["why"] or "unreadable").split(".")[0]
            size = None if stat.S_ISDIR(info.st_mode) else info.st_size
            found.append(Evidence(path, match["file"], when, why, size))
        return sorted(found, key=lambda e: (e.when, e.path))

    def forget(self, name: str) -> None:
        """Remove every copy kept of the user file ``name`` (the user asked to be forgotten)."""
        if self.corrupt_dir.is_dir():
            for copy in self.corrupt_dir.glob(f"{name}.*"):
                files.remove_entry(copy)
