"""Issue 19 and faults 2-4 of issue 12 at the store: a damaged record is kept as evidence and
replaced by a fresh one; nothing in the data folder is ever followed through a symlink."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from skill.storage import StaleWriteError, TinyDBPersistenceAdapter
from skill.storage.records import CURRENT_SCHEMA, FRESH_START_KEY, make_tables
from tests.storage.test_store import CORRUPT_CASES, USER, all_files, write_raw

FRESH = json.loads(json.dumps(make_tables({}, 1)))


@pytest.fixture
def adapter(tmp_path: Path) -> TinyDBPersistenceAdapter:
    a = TinyDBPersistenceAdapter(tmp_path / "data", lock_timeout=2.0)
    a.ensure_ready()
    return a


def outside(tmp_path: Path) -> Path:
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("root:x:0:0:not yours\n")
    return secret


# a stand-in for every way a stored file was found damaged by hand
WRONG_TYPES = {
    "kid_time string": json.dumps(make_tables({"kid_time": "oops"}, 3)).encode(),
    "kid_time list": json.dumps(make_tables({"kid_time": [1, 2]}, 3)).encode(),
    "visits word": json.dumps(make_tables({"visits": "many"}, 3)).encode(),
}
DAMAGE = {**CORRUPT_CASES, **WRONG_TYPES}


@pytest.mark.parametrize("name", sorted(DAMAGE))
def test_damaged_file_is_kept_as_evidence_and_replaced_by_a_fresh_record(
    adapter: TinyDBPersistenceAdapter, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    content = DAMAGE[name]
    path = write_raw(adapter, USER, content)
    caplog.set_level(logging.DEBUG)
    first = adapter.load(USER)
    evidence = adapter.corrupt_dir / first.pop(FRESH_START_KEY)
    assert first == {"_revision": 1}
    assert evidence.read_bytes() == content
    assert json.loads(path.read_bytes()) == FRESH
    assert adapter.load(USER) == {"_revision": 1}, "the second load is a plain new user"
    assert [e.path for e in adapter.quarantine.entries()] == [evidence]
    assert adapter.check() == []
    assert USER not in caplog.text and "oops" not in caplog.text
    first["visits"] = 1
    adapter.save(USER, first)
    assert adapter.load(USER) == {"visits": 1, "_revision": 2}


def test_evidence_name_says_when_and_why(adapter: TinyDBPersistenceAdapter) -> None:
    write_raw(adapter, USER, b'{"user": ')
    adapter.load(USER)
    [entry] = adapter.quarantine.entries()
    assert entry.why == "invalid-json"
    assert entry.size == len(b'{"user": ')
    assert entry.when.year >= 2026
    assert entry.path.name.startswith(adapter.path_for(USER).name + ".")


def test_wrong_types_with_a_clear_meaning_are_repaired_not_replaced(
    adapter: TinyDBPersistenceAdapter,
) -> None:
    write_raw(adapter, USER, json.dumps(make_tables({"visits": "4", "kid_time": None}, 2)).encode())
    assert adapter.load(USER) == {"visits": 4, "_revision": 2}
    assert adapter.quarantine.entries() == []


def test_damage_found_by_a_save_is_replaced_and_the_save_retried(
    adapter: TinyDBPersistenceAdapter,
) -> None:
    adapter.save(USER, {"visits": 1})
    write_raw(adapter, USER, b"{")
    with pytest.raises(StaleWriteError):
        adapter.save(USER, {"visits": 2, "_revision": 1})
    assert adapter.load(USER) == {"_revision": 1}
    assert len(adapter.quarantine.entries()) == 1


def test_each_new_damage_gets_its_own_evidence(adapter: TinyDBPersistenceAdapter) -> None:
    for content in (b"", b"{", b"[1, 2]"):
        write_raw(adapter, USER, content)
        adapter.load(USER)
    assert sorted(e.path.read_bytes() for e in adapter.quarantine.entries()) == [
        b"",
        b"[1, 2]",
        b"{",
    ]


def test_delete_removes_damage_and_its_evidence(adapter: TinyDBPersistenceAdapter) -> None:
    for user in (USER, "someone-else"):
        write_raw(adapter, user, b"{")
        adapter.load(user)
    adapter.delete(USER)
    assert not adapter.path_for(USER).exists()
    [left] = adapter.quarantine.entries()
    assert left.user_file == adapter.path_for("someone-else").name


def test_newer_schema_is_left_untouched_and_logged_once(
    adapter: TinyDBPersistenceAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    from skill.storage import SchemaError, tinydb

    tinydb._log_newer_once.cache_clear()  # once per process: start this test's process afresh
    tables = make_tables({"x": 1}, 5)
    tables["user"]["1"]["schema_version"] = CURRENT_SCHEMA + 7
    content = json.dumps(tables).encode()
    path = write_raw(adapter, USER, content)
    caplog.set_level(logging.DEBUG)
    for _ in range(3):
        with pytest.raises(SchemaError):
            adapter.load(USER)
    assert path.read_bytes() == content and adapter.quarantine.entries() == []
    assert caplog.text.count("newer than this code") == 1
    assert USER not in caplog.text and adapter.path_for(USER).name not in caplog.text


# fault 2: never follow a symlink in the data folder


def test_symlinked_temp_file_is_never_written_through(
    adapter: TinyDBPersistenceAdapter, tmp_path: Path
) -> None:
    secret = outside(tmp_path)
    before = secret.read_bytes()
    adapter.save(USER, {"v": 1})
    path = adapter.path_for(USER)
    path.with_name(f".{path.name}.tmp").symlink_to(secret)
    adapter.save(USER, {"v": 2, "_revision": 1})
    assert secret.read_bytes() == before
    assert not path.is_symlink() and adapter.load(USER) == {"v": 2, "_revision": 2}
    assert not path.with_name(f".{path.name}.tmp").exists()


def test_symlinked_user_file_is_never_read_or_copied(
    adapter: TinyDBPersistenceAdapter, tmp_path: Path
) -> None:
    secret = outside(tmp_path)
    before = (secret.read_bytes(), secret.stat().st_mtime_ns)
    path = adapter.path_for(USER)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(secret)
    loaded = adapter.load(USER)
    assert loaded[FRESH_START_KEY].endswith(".symlink")
    assert (secret.read_bytes(), secret.stat().st_mtime_ns) == before
    assert not path.is_symlink() and json.loads(path.read_bytes()) == FRESH
    for entry in adapter.quarantine.entries():
        assert not entry.path.is_symlink()
        assert b"not yours" not in entry.path.read_bytes()
    assert all(b"not yours" not in f.read_bytes() for f in all_files(adapter.data_dir))


def test_symlinked_fan_out_folder_is_not_followed(
    adapter: TinyDBPersistenceAdapter, tmp_path: Path
) -> None:
    from skill.storage import StoreError

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    path = adapter.path_for(USER)
    path.parent.symlink_to(elsewhere, target_is_directory=True)
    (elsewhere / path.name).write_bytes(json.dumps(make_tables({"planted": 1}, 1)).encode())
    with pytest.raises(StoreError):
        adapter.load(USER)
    with pytest.raises(StoreError):
        adapter.save(USER, {"v": 1})
    assert sorted(p.name for p in elsewhere.iterdir()) == [path.name]


def test_symlinked_lock_file_is_not_followed(
    adapter: TinyDBPersistenceAdapter, tmp_path: Path
) -> None:
    from skill.storage import StoreError

    target = tmp_path / "not-a-lock"
    stripe = adapter.locks_dir / f"{adapter.path_for(USER).name[:2]}.lock"
    stripe.symlink_to(target)
    with pytest.raises(StoreError):
        adapter.save(USER, {"v": 1})
    assert not target.exists()


def test_a_directory_in_place_of_the_file_is_moved_aside(adapter: TinyDBPersistenceAdapter) -> None:
    path = adapter.path_for(USER)
    (path / "inside").mkdir(parents=True)
    loaded = adapter.load(USER)
    assert loaded[FRESH_START_KEY].endswith(".directory")
    assert path.is_file() and json.loads(path.read_bytes()) == FRESH
    [entry] = adapter.quarantine.entries()
    assert entry.size is None and (entry.path / "inside").is_dir()


def test_a_fifo_in_place_of_the_file_does_not_hang(adapter: TinyDBPersistenceAdapter) -> None:
    path = adapter.path_for(USER)
    path.parent.mkdir(parents=True)
    os.mkfifo(path)
    assert adapter.load(USER)[FRESH_START_KEY].endswith(".not-a-regular-file")
    assert path.is_file()


def test_a_huge_file_is_damage_and_is_not_read_into_memory(
    adapter: TinyDBPersistenceAdapter,
) -> None:
    from skill.storage.files import MAX_USER_FILE_BYTES

    path = write_raw(adapter, USER, b"{" + b" " * MAX_USER_FILE_BYTES + b"}")
    assert adapter.load(USER)[FRESH_START_KEY].endswith(".file-too-large")
    assert json.loads(path.read_bytes()) == FRESH


@pytest.mark.parametrize("kind", ["file", "directory"])
def test_evidence_is_copied_when_corrupt_is_on_another_disk(
    adapter: TinyDBPersistenceAdapter, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    import errno

    path = adapter.path_for(USER)
    if kind == "file":
        write_raw(adapter, USER, b"{")
    else:
        (path / "inside").mkdir(parents=True)
    real_rename = os.rename

    def other_disk(src: object, dst: object) -> None:
        if str(dst).startswith(str(adapter.corrupt_dir)):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        real_rename(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "rename", other_disk)
    assert FRESH_START_KEY in adapter.load(USER)
    [entry] = adapter.quarantine.entries()
    assert entry.path.read_bytes() == b"{" if kind == "file" else (entry.path / "inside").is_dir()
    assert json.loads(path.read_bytes()) == FRESH
