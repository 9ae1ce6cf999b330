"""MAMA_DURABILITY: each mode calls exactly the fsyncs it promises, every mode is kill-safe, and
the twin files of ``normal`` and ``off`` survive a write cut short at any byte.

The fsyncs are counted by wrapping ``os.fsync`` (the function ``skill.storage`` calls) and noting
whether each descriptor is a folder or a file; the kill tests really SIGKILL a forked writer.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import stat
import zlib
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from skill.config import DURABILITY_MODES, Config, ConfigError, Durability
from skill.storage import TinyDBPersistenceAdapter, adapter_from_config, files
from skill.storage.errors import DamagedFile
from skill.storage.files import atomic_write_bytes
from skill.storage.records import (
    CHECK_MARKER,
    TWIN_BLOCK,
    TWIN_MARKER,
    dumps,
    make_tables,
    parse_file,
    parse_tables,
)

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
    """Save, but SIGKILL ourselves just before (``"before"``), halfway through (``"torn"``:
    half the bytes written) or after (``"after"``) the call that publishes the new bytes: the
    rename, or the in-place ``pwrite`` of ``normal`` and ``off``."""

    def crashing(real: Callable[..., Any]) -> Callable[..., Any]:
        def crash(*args: Any, **kwargs: Any) -> None:
            if point == "after":
                real(*args, **kwargs)
            elif point == "torn" and real is os.pwrite:
                fd, data, offset = args
                real(fd, bytes(data)[: len(data) // 2], offset)
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
@pytest.mark.parametrize(
    ("point", "expected"), [("before", "old"), ("torn", "old"), ("after", "new")]
)
def test_a_killed_writer_leaves_the_old_or_the_new_record_whole(
    tmp_path: Path, durability: Durability, point: str, expected: str
) -> None:
    adapter = ready_store(tmp_path, durability)
    adapter.save(USER, {"v": "old"})
    child = CTX.Process(target=_die_after, args=(tmp_path, point, durability))
    child.start()
    child.join(10)
    assert child.exitcode == -signal.SIGKILL
    # No fsync in "off", yet the kernel kept what the dead process wrote: a whole record.
    record = parse_tables(adapter.path_for(USER).read_bytes())
    assert record["user"]["1"]["attributes"] == {"v": expected}
    assert adapter.check() == []
    assert adapter.load(USER)["v"] == expected
    # The store goes on: the next save lands over whatever the dead writer left.
    attrs = adapter.load(USER)
    attrs["v"] = "next"
    adapter.save(USER, attrs)
    assert adapter.load(USER)["v"] == "next"


# "normal" and "off" keep two copies and overwrite the older in place; "full" renames


def _copies(raw: bytes) -> list[object]:
    """The attributes in each copy of a twin file (``None`` for a torn one), parsed apart."""
    half = len(raw) // 2
    found: list[object] = []
    for copy in (raw[:half], raw[half:]):
        try:
            found.append(parse_tables(copy + copy)["user"]["1"]["attributes"])
        except DamagedFile:
            found.append(None)
    return found


def _saved(adapter: TinyDBPersistenceAdapter, value: str) -> None:
    attrs = adapter.load(USER)
    attrs["v"] = value
    adapter.save(USER, attrs)


@pytest.mark.parametrize("durability", DURABILITY_MODES)
def test_normal_and_off_overwrite_the_older_copy_in_place_and_full_renames(
    tmp_path: Path, durability: Durability
) -> None:
    adapter = ready_store(tmp_path, durability)
    adapter.save(USER, {"v": "a"})
    path = adapter.path_for(USER)
    size = path.stat().st_size
    seen = []
    for value in ("b", "c", "d"):
        with path.open("rb") as held:  # held open, so a new file cannot get its inode number
            _saved(adapter, value)
            same_file = os.fstat(held.fileno()).st_ino == path.stat().st_ino
        assert same_file == (durability != "full"), durability
        seen.append(_copies(path.read_bytes()) if durability != "full" else None)
        assert adapter.load(USER)["v"] == value
    if durability == "full":
        assert not path.read_bytes().startswith(TWIN_MARKER)
        return
    # Whole blocks per copy, the size never changes, and each write takes the older copy.
    assert size % (2 * TWIN_BLOCK) == 0 and path.stat().st_size == size
    assert path.read_bytes().startswith(TWIN_MARKER)
    assert seen == [[{"v": "a"}, {"v": "b"}], [{"v": "c"}, {"v": "b"}], [{"v": "c"}, {"v": "d"}]]
    assert adapter.check() == []


@pytest.mark.parametrize("durability", ["normal", "off"])
def test_a_copy_cut_short_at_any_byte_leaves_the_last_whole_record(
    tmp_path: Path, durability: Durability
) -> None:
    adapter = ready_store(tmp_path, durability)
    adapter.save(USER, {"v": "old-old-old"})
    _saved(adapter, "new-new-new")  # into copy 1
    before = adapter.path_for(USER).read_bytes()
    _saved(adapter, "newest-newest")  # into copy 0
    after = adapter.path_for(USER).read_bytes()
    half = len(after) // 2
    assert after[half:] == before[half:]
    # What a power cut, a killed writer or a reader looking mid-write can find: copy 0 made of
    # the new bytes up to some point, then the old ones.
    for cut in range(half + 1):
        mixed = after[:cut] + before[cut:]
        attributes = parse_tables(mixed)["user"]["1"]["attributes"]
        assert attributes in ({"v": "new-new-new"}, {"v": "newest-newest"}), cut
        if attributes == {"v": "newest-newest"}:
            assert (
                after[: after.rfind(b"}", 0, half) + 1] == mixed[: after.rfind(b"}", 0, half) + 1]
            )
    # Found after a power cut: not damage, nothing moved aside; the next write takes the torn
    # copy, so both are whole again.
    adapter.path_for(USER).write_bytes(after[:60] + before[60:])
    assert adapter.check() == [] and adapter.load(USER)["v"] == "new-new-new"
    _saved(adapter, "mended")
    assert _copies(adapter.path_for(USER).read_bytes()) == [{"v": "mended"}, {"v": "new-new-new"}]
    assert not any(adapter.corrupt_dir.iterdir())


def test_a_file_with_both_copies_torn_is_damage_moved_aside(tmp_path: Path) -> None:
    adapter = ready_store(tmp_path, "normal")
    adapter.save(USER, {"v": "old"})
    path = adapter.path_for(USER)
    raw = bytearray(path.read_bytes())
    half = len(raw) // 2
    raw[40] ^= 1
    raw[half + 40] ^= 1
    path.write_bytes(bytes(raw))
    with pytest.raises(DamagedFile, match="both copies"):
        parse_file(bytes(raw))
    assert adapter.check() == [path]
    fresh = adapter.load(USER)
    assert fresh["_revision"] == 1 and "_fresh_start" in fresh


def _linked(path: Path) -> None:
    os.link(path, path.with_name("second-name"))


def _symlinked(path: Path) -> None:
    target = path.with_name("elsewhere")
    os.rename(path, target)
    os.symlink(target, path)


def _grown(path: Path) -> None:
    with path.open("ab") as f:
        f.write(b" ")


@pytest.mark.parametrize("durability", ["normal", "off"])
@pytest.mark.parametrize("change", [_linked, _symlinked, _grown], ids=["link", "symlink", "size"])
def test_in_place_gives_way_to_a_new_file_where_it_is_not_safe(
    tmp_path: Path, durability: Durability, change: Callable[[Path], None]
) -> None:
    adapter = ready_store(tmp_path, durability)
    adapter.save(USER, {"v": "old"})
    path = adapter.path_for(USER)
    change(path)
    before = {p.name: p.read_bytes() for p in path.parent.iterdir() if p.name != path.name}
    attrs = adapter.load(USER) if change is not _grown else {"_revision": 1}
    attrs["v"] = "new"
    adapter.save(USER, attrs)
    assert not path.is_symlink() and path.stat().st_nlink == 1
    assert adapter.load(USER)["v"] == "new"
    # Nothing written through a second name or a link target.
    for name, raw in before.items():
        assert (path.parent / name).read_bytes() == raw


def _older_checked(tables: dict[str, Any]) -> bytes:
    """A file as ``off`` wrote it before the twin layout: one checksummed copy."""
    rest = dumps(tables)[1:]
    return b'%s%08x",%s' % (CHECK_MARKER, zlib.crc32(rest), rest)


@pytest.mark.parametrize("durability", ["normal", "off"])
@pytest.mark.parametrize("layout", ["plain", "checked"])
def test_files_of_the_older_layouts_read_and_are_written_anew_as_twins(
    tmp_path: Path, durability: Durability, layout: str
) -> None:
    adapter = ready_store(tmp_path, durability)
    path = adapter.path_for(USER)
    path.parent.mkdir(parents=True)
    tables = make_tables({"v": "old"}, 4)
    path.write_bytes(dumps(tables) if layout == "plain" else _older_checked(tables))
    inode = path.stat().st_ino
    assert adapter.load(USER) == {"v": "old", "_revision": 4}
    _saved(adapter, "new")
    # A reader could not tell a half-done overwrite of one copy: the file is written anew.
    assert path.stat().st_ino != inode and path.read_bytes().startswith(TWIN_MARKER)
    assert adapter.load(USER) == {"v": "new", "_revision": 5}


def test_an_older_checked_file_caught_mid_write_is_read_again_under_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    adapter = ready_store(tmp_path, "off")
    path = adapter.path_for(USER)
    path.parent.mkdir(parents=True)
    good = _older_checked(make_tables({"v": "new-new-new"}, 2))
    torn = good[:40] + _older_checked(make_tables({"v": "old-old-old"}, 1))[40:]
    path.write_bytes(good)
    real = files.read_user_file
    reads: list[bool] = []

    def torn_once(where: str) -> bytes | None:
        reads.append(True)
        return torn if len(reads) == 1 else real(where)

    monkeypatch.setattr(files, "read_user_file", torn_once)
    assert adapter.load(USER)["v"] == "new-new-new"
    assert len(reads) == 2 and not any(adapter.corrupt_dir.iterdir())
    monkeypatch.undo()
    # A file that stays wrong is damage, moved aside as ever.
    path.write_bytes(torn)
    assert adapter.check() == [path]


@pytest.mark.parametrize("durability", ["normal", "off"])
def test_a_record_that_outgrows_its_copy_is_written_anew_with_room(
    tmp_path: Path, durability: Durability
) -> None:
    adapter = ready_store(tmp_path, durability)
    adapter.save(USER, {"v": "small"})
    path = adapter.path_for(USER)
    inode, size = path.stat().st_ino, path.stat().st_size
    _saved(adapter, "x" * size)
    assert path.stat().st_ino != inode and path.stat().st_size > 2 * size
    assert adapter.load(USER)["v"] == "x" * size
    # Room to spare: a slightly longer record fits in place.
    inode = path.stat().st_ino
    _saved(adapter, "x" * (size + 100))
    assert path.stat().st_ino == inode
    assert adapter.load(USER)["v"] == "x" * (size + 100)
