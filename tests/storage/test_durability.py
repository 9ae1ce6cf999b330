"""MAMA_DURABILITY: each mode calls exactly the fsyncs it promises, and ``off`` stays kill-safe.

The fsyncs are counted by wrapping ``os.fsync`` (the function ``skill.storage`` calls) and noting
whether each descriptor is a folder or a file; the kill tests really SIGKILL a forked writer.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import stat
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from skill.config import DURABILITY_MODES, Config, ConfigError, Durability
from skill.storage import TinyDBPersistenceAdapter, adapter_from_config, files
from skill.storage.errors import DamagedFile
from skill.storage.files import PAGE_BYTES, atomic_write_bytes
from skill.storage.records import CHECK_MARKER, dumps_checked, make_tables, parse_tables

CTX = multiprocessing.get_context("fork")
USER = "amzn1.ask.account.DURABLE"
OTHER = "amzn1.ask.account.DURABLE2"


@pytest.fixture
def fsyncs(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts of ``os.fsync`` calls by what was synced: ``"file"`` or ``"folder"``."""
    counts: Counter[str] = Counter()
    real = os.fsync

    def counting(fd: int) -> None:
        counts["folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"] += 1
        real(fd)

    monkeypatch.setattr(os, "fsync", counting)
    return counts


def ready_store(tmp_path: Path, durability: Durability) -> TinyDBPersistenceAdapter:
    adapter = TinyDBPersistenceAdapter(tmp_path, durability=durability)
    adapter.ensure_ready()
    return adapter


def counted(fsyncs: Counter[str], action: Callable[[], object]) -> dict[str, int]:
    fsyncs.clear()
    action()
    return {"file": fsyncs["file"], "folder": fsyncs["folder"]}


# What each mode promises, per kind of write (the user's sub-folder already exists).
PROMISES: dict[Durability, dict[str, dict[str, int]]] = {
    "full": {
        "create": {"file": 1, "folder": 1},
        "update": {"file": 1, "folder": 1},
        "delete": {"file": 0, "folder": 1},
    },
    "normal": {
        "create": {"file": 1, "folder": 1},
        "update": {"file": 1, "folder": 0},
        "delete": {"file": 0, "folder": 1},
    },
    "off": {
        "create": {"file": 0, "folder": 0},
        "update": {"file": 0, "folder": 0},
        "delete": {"file": 0, "folder": 0},
    },
}


@pytest.mark.parametrize("durability", DURABILITY_MODES)
def test_each_mode_calls_the_fsyncs_it_promises(
    tmp_path: Path, fsyncs: Counter[str], durability: Durability
) -> None:
    adapter = ready_store(tmp_path, durability)
    promise = PROMISES[durability]
    # Put the user's sub-folder in place first, so "create" counts only the user file itself.
    adapter.path_for(USER).parent.mkdir(parents=True)

    assert counted(fsyncs, lambda: adapter.save(USER, {"v": 1})) == promise["create"]
    assert (
        counted(fsyncs, lambda: adapter.save(USER, {"_revision": 1, "v": 2})) == promise["update"]
    )
    assert adapter.load(USER) == {"v": 2, "_revision": 2}
    assert counted(fsyncs, lambda: adapter.load(USER)) == {"file": 0, "folder": 0}
    assert counted(fsyncs, lambda: adapter.delete(USER)) == promise["delete"]
    assert adapter.load(USER) == {"_revision": 0}


@pytest.mark.parametrize(("durability", "folders"), [("full", 2), ("normal", 2), ("off", 0)])
def test_a_new_sub_folder_is_synced_unless_off(
    tmp_path: Path, fsyncs: Counter[str], durability: Durability, folders: int
) -> None:
    adapter = ready_store(tmp_path, durability)
    assert not adapter.path_for(OTHER).parent.exists()
    # The new sub-folder's entry in users/ (one folder fsync), then the user file's own.
    seen = counted(fsyncs, lambda: adapter.save(OTHER, {"v": 1}))
    assert seen == {"file": 0 if durability == "off" else 1, "folder": folders}
    assert adapter.load(OTHER) == {"v": 1, "_revision": 1}


def test_normal_syncs_the_folder_again_after_the_file_was_removed(
    tmp_path: Path, fsyncs: Counter[str]
) -> None:
    adapter = ready_store(tmp_path, "normal")
    adapter.save(USER, {"v": 1})
    adapter.delete(USER)
    # The name is new again, so its creation must reach the disk like the first one.
    assert counted(fsyncs, lambda: adapter.save(USER, {"v": 3})) == {"file": 1, "folder": 1}


def test_the_older_durable_flag_still_means_full_or_off(
    tmp_path: Path, fsyncs: Counter[str]
) -> None:
    target = tmp_path / "x.json"
    assert counted(fsyncs, lambda: atomic_write_bytes(target, b"1", durable=False)) == {
        "file": 0,
        "folder": 0,
    }
    assert counted(fsyncs, lambda: atomic_write_bytes(target, b"2")) == {"file": 1, "folder": 1}
    assert target.read_bytes() == b"2"
    adapter = TinyDBPersistenceAdapter(tmp_path / "store", durable=False)
    assert adapter.durability == "off" and not adapter.durable
    adapter.durable = True
    assert adapter.durability == "full"


# settings


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, "full"), ("", "full"), ("full", "full"), (" Normal ", "normal"), ("OFF", "off")],
)
def test_mama_durability_is_read_from_the_environment(raw: str | None, expected: str) -> None:
    env = {} if raw is None else {"MAMA_DURABILITY": raw}
    assert Config.from_env(env).durability == expected


@pytest.mark.parametrize("raw", ["none", "fsync", "0", "extra"])
def test_an_unknown_durability_is_a_clear_error(raw: str) -> None:
    with pytest.raises(ConfigError, match="MAMA_DURABILITY must be one of full, normal, off"):
        Config.from_env({"MAMA_DURABILITY": raw})


@pytest.mark.parametrize("durability", DURABILITY_MODES)
def test_the_configured_store_uses_the_mode(tmp_path: Path, durability: Durability) -> None:
    adapter = adapter_from_config(Config(data_dir=tmp_path, durability=durability))
    assert isinstance(adapter, TinyDBPersistenceAdapter)
    assert adapter.durability == durability


# kill-safety without any fsync


def _die_after(data_dir: Path, point: str, durability: Durability) -> None:
    """Save, but SIGKILL ourselves just before (``"before"``) or after (``"after"``) the call
    that publishes the new bytes: the rename, or the in-place ``pwrite`` of ``off``."""

    def crashing(real: Callable[..., Any]) -> Callable[..., Any]:
        def crash(*args: Any, **kwargs: Any) -> None:
            if point == "after":
                real(*args, **kwargs)
            os.kill(os.getpid(), signal.SIGKILL)

        return crash

    # The os module skill.storage uses.
    os.replace = crashing(os.replace)  # type: ignore[assignment]
    os.pwrite = crashing(os.pwrite)  # type: ignore[assignment]
    adapter = TinyDBPersistenceAdapter(data_dir, durability=durability)
    attrs = adapter.load(USER)
    attrs["v"] = "new"
    adapter.save(USER, attrs)
    os._exit(3)  # pragma: no cover - the save must never finish


@pytest.mark.parametrize("durability", DURABILITY_MODES)
@pytest.mark.parametrize(("point", "expected"), [("before", "old"), ("after", "new")])
def test_a_killed_writer_leaves_the_old_or_the_new_file_whole(
    tmp_path: Path, durability: Durability, point: str, expected: str
) -> None:
    adapter = ready_store(tmp_path, durability)
    adapter.save(USER, {"v": "old"})
    child = CTX.Process(target=_die_after, args=(tmp_path, point, durability))
    child.start()
    child.join(10)
    assert child.exitcode == -signal.SIGKILL
    # No fsync in "off", yet the kernel kept what the dead process wrote: a whole file.
    record = parse_tables(adapter.path_for(USER).read_bytes())
    assert record["user"]["1"]["attributes"] == {"v": expected}
    assert adapter.check() == []
    assert adapter.load(USER)["v"] == expected


# "off" overwrites in place: no rename, a checksum for readers, the rename where that is unsafe


def test_off_overwrites_a_user_file_in_place_and_other_modes_rename(tmp_path: Path) -> None:
    for durability in DURABILITY_MODES:
        adapter = ready_store(tmp_path / durability, durability)
        adapter.save(USER, {"v": "a long first value"})
        path = adapter.path_for(USER)
        inode = path.stat().st_ino
        attrs = adapter.load(USER)
        attrs["v"] = "short"
        adapter.save(USER, attrs)
        same_file = path.stat().st_ino == inode
        assert same_file == (durability == "off"), durability
        raw = path.read_bytes()
        # Checksummed only where it can be overwritten in place; a shorter record is padded.
        assert raw.startswith(CHECK_MARKER) == (durability == "off")
        assert raw.endswith(b"}" + b" " * len("a long first value"[len("short") :])) == (
            durability == "off"
        )
        assert adapter.load(USER)["v"] == "short"
        assert adapter.check() == []


def test_a_read_that_catches_an_in_place_write_half_done_is_caught_by_the_checksum(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    adapter = ready_store(tmp_path, "off")
    adapter.save(USER, {"v": "old-old-old"})
    attrs = adapter.load(USER)
    attrs["v"] = "new-new-new"
    adapter.save(USER, attrs)
    new = adapter.path_for(USER).read_bytes()
    old = dumps_checked(make_tables({"v": "old-old-old"}, 1))
    assert len(old) == len(new)
    # What a reader sees when a write is under way: the new bytes up to some point, then old.
    for cut in range(len(CHECK_MARKER), len(new) - 1):
        mixed = new[:cut] + old[cut:]
        if mixed not in (old, new):
            with pytest.raises(DamagedFile, match="checksum"):
                parse_tables(mixed)
    # A load that catches the write half done reads again under the lock, where no write is
    # half done, and does not take it for damage.
    real = files.read_user_file
    reads: list[bool] = []

    def torn_once(where: str) -> bytes | None:
        reads.append(True)
        return new[:40] + old[40:] if len(reads) == 1 else real(where)

    monkeypatch.setattr(files, "read_user_file", torn_once)
    assert adapter.load(USER)["v"] == "new-new-new"
    assert len(reads) == 2 and not any(adapter.corrupt_dir.iterdir())
    monkeypatch.undo()
    # A file that stays wrong is damage, moved aside as ever.
    adapter.path_for(USER).write_bytes(new[:40] + old[40:])
    assert adapter.check() == [adapter.path_for(USER)]
    fresh = adapter.load(USER)
    assert fresh["_revision"] == 1 and "_fresh_start" in fresh


def _linked(path: Path) -> None:
    os.link(path, path.with_name("second-name"))


def _symlinked(path: Path) -> None:
    target = path.with_name("elsewhere")
    os.rename(path, target)
    os.symlink(target, path)


def _grown(path: Path) -> None:
    raw = path.read_bytes()
    path.write_bytes(raw + b" " * (PAGE_BYTES + 1 - len(raw)))


@pytest.mark.parametrize("change", [_linked, _symlinked, _grown], ids=["link", "symlink", "big"])
def test_off_renames_instead_where_in_place_is_not_safe(
    tmp_path: Path, change: Callable[[Path], None]
) -> None:
    adapter = ready_store(tmp_path, "off")
    adapter.save(USER, {"v": "old"})
    path = adapter.path_for(USER)
    change(path)
    before = {p.name: p.read_bytes() for p in path.parent.iterdir() if p.name != path.name}
    attrs = adapter.load(USER)
    attrs["v"] = "new"
    adapter.save(USER, attrs)
    assert not path.is_symlink() and path.stat().st_nlink == 1
    assert adapter.load(USER)["v"] == "new"
    # Nothing written through a second name or a link target.
    for name, raw in before.items():
        assert (path.parent / name).read_bytes() == raw


def test_off_renames_over_an_older_file_without_the_checksum(tmp_path: Path) -> None:
    full = ready_store(tmp_path, "full")
    full.save(USER, {"v": "old"})
    inode = full.path_for(USER).stat().st_ino
    off = TinyDBPersistenceAdapter(tmp_path, durability="off")
    attrs = off.load(USER)
    attrs["v"] = "new"
    off.save(USER, attrs)
    # A reader could not tell a half-done overwrite of an unchecked file: it is renamed.
    assert full.path_for(USER).stat().st_ino != inode
    assert full.load(USER)["v"] == "new"


def test_a_record_longer_than_a_page_is_renamed_and_stays_whole(tmp_path: Path) -> None:
    adapter = ready_store(tmp_path, "off")
    adapter.save(USER, {"v": "small"})
    attrs = adapter.load(USER)
    attrs["v"] = "x" * (PAGE_BYTES + 10)
    inode = adapter.path_for(USER).stat().st_ino
    adapter.save(USER, attrs)
    assert adapter.path_for(USER).stat().st_ino != inode
    assert adapter.load(USER)["v"] == "x" * (PAGE_BYTES + 10)
