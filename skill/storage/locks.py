"""Striped ``flock`` locks: one of 256 lock files per hash prefix, a bounded file count."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from skill.storage.errors import LockTimeoutError, StoreError
from skill.storage.files import mkdir_durable

#: A planted symlink must not make the lock open (or create) a file elsewhere.
_LOCK_FLAGS = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC


class StripedLocks:
    """Exclusive locks named by the first two characters of a file name (a hash prefix)."""

    def __init__(self, locks_dir: Path, timeout: float) -> None:
        self.locks_dir = locks_dir
        self._locks = str(locks_dir)
        self.timeout = timeout

    @contextmanager
    def hold(self, path: str | Path) -> Iterator[None]:
        """Hold the lock stripe of ``path`` (chosen by its hash prefix)."""
        stripe = f"{self._locks}/{os.path.basename(path)[:2]}.lock"
        try:
            try:
                fd = os.open(stripe, _LOCK_FLAGS, 0o600)
            except FileNotFoundError:
                mkdir_durable(self.locks_dir)
                fd = os.open(stripe, _LOCK_FLAGS, 0o600)
        except OSError as exc:
            raise StoreError(
                f"store folder {self.locks_dir} is not writable: {exc.strerror}"
            ) from None
        try:
            # A fresh descriptor per operation: flock is per open file, so this also
            # excludes other threads of this process, and survives fork() cleanly.
            deadline = time.monotonic() + self.timeout
            delay = 0.0002
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise LockTimeoutError(
                            f"lock {stripe} busy for more than {self.timeout} s"
                        ) from None
                    time.sleep(delay)
                    delay = min(delay * 2, 0.01)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock, even on error
