"""Atomic, durable file I/O for small files (no TinyDB, no JSON).

Atomic write = temp file in the same folder, fsync, ``os.replace``, fsync the folder: a crash
leaves the old or the new file, never a torn one, so readers need no lock.
"""

from __future__ import annotations

import errno
import os
from contextlib import suppress
from pathlib import Path


def fsync_dir(path: str | Path) -> None:
    """Make a rename or unlink in ``path`` durable, not just the file contents."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def mkdir_durable(path: Path) -> None:
    """Create ``path`` (and parents) and fsync each parent so the folder survives a crash."""
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
        fsync_dir(folder.parent)


def temp_name(path: str) -> str:
    """The fixed temp name next to ``path`` (callers hold its lock, so one writer at a time)."""
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
    tmp = temp_name(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except FileNotFoundError:
        mkdir_durable(Path(folder))
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
        fsync_dir(folder)


def read_bytes(path: str | Path) -> bytes | None:
    """The bytes of ``path``; ``None`` if it does not exist."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def write_new(target: Path, raw: bytes) -> Path:
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


def probe_writable(folder: Path) -> str | None:
    """``None`` if a file can be created in ``folder``, else the OS's reason."""
    probe = folder / f".write-probe.{os.getpid()}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        return exc.strerror or str(exc)
    return None
