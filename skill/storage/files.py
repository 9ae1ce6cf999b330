"""Atomic, durable file I/O for small files (no TinyDB, no JSON); never through a symlink.

Atomic write = temp file in the same folder, fsync, ``os.replace``, fsync the folder: a crash
leaves the old or the new file, never a torn one, so readers need no lock.

How many of those fsyncs a write waits for is its :data:`~skill.config.Durability`:

* ``full``: the file, then the folder: once the call returns, the new file survives a power cut;
* ``normal``: the file always, the folder only when the name is new (a user file created): a
  power cut may bring back the previous version of a renamed file, never a torn one, and never
  loses a file that was created;
* ``off``: no fsync: still atomic against a killed process (the kernel keeps what was written),
  but a power cut may lose recent writes or leave a file empty or torn.

``normal`` and ``off`` write a user file anew only now and then: most writes overwrite the older
of its two copies in place (:func:`overwrite_at`, :class:`~skill.storage.records.Twin`). On ext4
a rename over an existing file starts the new file's writeback and a journal commit, which costs
more than the whole rest of a write; an in-place write of the same size changes no metadata, so
``normal``'s fsync of it waits for its pages alone (half the time, measured).
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from contextlib import suppress
from pathlib import Path

from skill.config import Durability
from skill.storage.errors import DamagedFile


def fsync_dir(path: str | Path) -> None:
    """Make a rename or unlink in ``path`` durable, not just the file contents."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def mkdir_durable(path: Path, *, sync: bool = True) -> None:
    """Create ``path`` (and parents) and fsync each parent so the folder survives a crash
    (``sync=False``: create only, for ``durability="off"``)."""
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
        if sync:
            fsync_dir(folder.parent)


def temp_name(path: str) -> str:
    """The fixed temp name next to ``path`` (callers hold its lock, so one writer at a time)."""
    folder, name = os.path.split(path)
    return os.path.join(folder, f".{name}.tmp")


#: Flags for every file this store creates: never through a symlink, never an existing file.
CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
#: Flags for reading a user file: a symlink fails (ELOOP), a FIFO does not block the reader.
READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
#: A user file this code writes stays under 16 KB; anything past this was not written by it.
MAX_USER_FILE_BYTES = 1024 * 1024
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


def open_folder(folder: str, *, follow: bool = False) -> int:
    """A descriptor of ``folder``; a symlink there fails unless ``follow`` (the data folder)."""
    return os.open(folder, _DIR_FLAGS if follow else _DIR_FLAGS | os.O_NOFOLLOW)


def resolve_durability(durability: Durability | None, durable: bool = True) -> Durability:
    """``durability`` if given, else the older flag: ``durable=False`` means ``"off"``."""
    if durability is not None:
        return durability
    return "full" if durable else "off"


def atomic_write_bytes(
    path: str | Path,
    payload: bytes,
    *,
    durability: Durability | None = None,
    durable: bool = True,
    follow_folder: bool = False,
) -> None:
    """Replace ``path`` with ``payload`` so readers see the old or the new file, never a mix.

    ``durability`` (default ``"full"``; ``durable=False`` is the older spelling of ``"off"``)
    says which fsyncs happen before the call returns: see the module docstring.

    Every step goes through a descriptor of the folder and none follows a symlink: the temp
    file is created with ``O_EXCL | O_NOFOLLOW`` (a leftover temp file or link is unlinked,
    never written through) and ``os.replace`` puts a regular file over whatever was at
    ``path``, a symlink included. The temp name is fixed per target: callers hold its lock.
    """
    # Plain strings, not Path objects: this is the hot path, and pathlib costs ~20% of it.
    path = os.fspath(path)
    mode = resolve_durability(durability, durable)
    sync_file = mode != "off"
    folder, name = os.path.split(path)
    tmp = f".{name}.tmp"
    try:
        dir_fd = open_folder(folder, follow=follow_folder)
    except FileNotFoundError:
        mkdir_durable(Path(folder), sync=sync_file)
        dir_fd = open_folder(folder, follow=follow_folder)
    try:
        try:
            fd = os.open(tmp, CREATE_FLAGS, 0o600, dir_fd=dir_fd)
        except FileExistsError:
            # Left by a crashed writer (or planted): remove the entry itself and start over.
            os.unlink(tmp, dir_fd=dir_fd)
            fd = os.open(tmp, CREATE_FLAGS, 0o600, dir_fd=dir_fd)
        try:
            try:
                view = memoryview(payload)
                while view:
                    view = view[os.write(fd, view) :]
                if sync_file:
                    os.fsync(fd)
            finally:
                os.close(fd)
            # "normal" fsyncs the folder only for a new name: losing a rename over an existing
            # file brings back its previous version, losing a new name would lose the file.
            sync_folder = mode == "full" or (mode == "normal" and not _exists(name, dir_fd))
            os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except BaseException:
            # Never leave a half-written temp file behind an error we report.
            with suppress(FileNotFoundError):
                os.unlink(tmp, dir_fd=dir_fd)
            raise
        if sync_folder:
            os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def overwrite_at(path: str, data: bytes, offset: int, *, size: int, sync: bool) -> bool:
    """Write ``data`` at ``offset`` of the file at ``path`` (then fsync it if ``sync``);
    ``False``, writing nothing, unless that is safe: then the caller writes the file anew.

    Safe means a regular file of exactly ``size`` bytes (the layout the caller just read, under
    its lock) with one link, reached through no symlink: a second name would see the change.
    The caller's format survives the write being cut short (:class:`records.Twin`); the size
    never changes, so the fsync has no file metadata to wait for.
    """
    folder, name = os.path.split(path)
    try:
        dir_fd = open_folder(folder)
        try:
            fd = os.open(name, _INPLACE_FLAGS, dir_fd=dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:  # missing, a symlink (ELOOP) or unreadable: writing anew decides
        return False
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1 or info.st_size != size:
            return False
        view = memoryview(data)
        while view:
            view = view[os.pwrite(fd, view, offset + len(data) - len(view)) :]
        if sync:
            os.fsync(fd)
        return True
    finally:
        os.close(fd)


#: A user file opened for an in-place overwrite: never through a symlink, never blocking.
_INPLACE_FLAGS = os.O_RDWR | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def _exists(name: str, dir_fd: int) -> bool:
    """Whether ``name`` is an entry in the folder ``dir_fd`` (a symlink counts, never followed)."""
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def read_user_file(path: str) -> bytes | None:
    """The bytes of a regular file at ``path``; ``None`` if nothing is there.

    Never follows a symlink, neither at ``path`` nor at its folder: a symlink, a directory or
    any other non-regular file raises ``DamagedFile`` naming what was found.
    """
    folder, name = os.path.split(path)
    try:
        dir_fd = open_folder(folder)
    except FileNotFoundError:
        return None
    try:
        try:
            fd = os.open(name, READ_FLAGS, dir_fd=dir_fd)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise DamagedFile("symlink") from None
            raise
    finally:
        os.close(dir_fd)
    try:
        info = os.fstat(fd)
        mode = info.st_mode
        if stat.S_ISDIR(mode):
            raise DamagedFile("directory")
        if not stat.S_ISREG(mode):
            raise DamagedFile("not a regular file")
        if info.st_size > MAX_USER_FILE_BYTES:
            raise DamagedFile("file too large")
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


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
            fd = os.open(candidate, CREATE_FLAGS, 0o600)
        except FileExistsError:
            continue
        try:
            os.write(fd, raw)
            os.fsync(fd)
        finally:
            os.close(fd)
        return candidate
    raise OSError(errno.EEXIST, "too many copies", str(target))


def remove_entry(path: Path) -> bool:
    """Remove whatever is at ``path`` (a file, a link itself, a folder tree); True if removed."""
    try:
        if stat.S_ISDIR(os.lstat(path).st_mode):
            shutil.rmtree(path)  # does not follow links inside the tree
        else:
            path.unlink()
    except FileNotFoundError:
        return False
    return True


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
