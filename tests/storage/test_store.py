"""Unit tests for the per-user TinyDB store (skill/storage/)."""

from __future__ import annotations

import fcntl
import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from ask_sdk_core.attributes_manager import AttributesManager
from ask_sdk_core.exceptions import PersistenceException
from ask_sdk_model import Context, RequestEnvelope, User
from ask_sdk_model.application import Application
from ask_sdk_model.interfaces.system import SystemState

from skill.config import Durability
from skill.storage import (
    LockTimeoutError,
    SchemaError,
    StaleWriteError,
    StoreError,
    TinyDBPersistenceAdapter,
    records,
    user_hash,
)
from skill.storage.files import write_new
from skill.storage.records import CURRENT_SCHEMA, make_tables

USER = "amzn1.ask.account.SECRET-USER-ID-123"


@pytest.fixture
def adapter(tmp_path: Path) -> TinyDBPersistenceAdapter:
    # The store's own guarantees do not depend on the user record: keep attributes as they are.
    a = TinyDBPersistenceAdapter(tmp_path / "data", lock_timeout=2.0, validator=dict)
    a.ensure_ready()
    return a


def envelope(user_id: str | None = USER) -> RequestEnvelope:
    user = User(user_id=user_id) if user_id is not None else None
    system = SystemState(application=Application(application_id="amzn1.ask.skill.x"), user=user)
    return RequestEnvelope(context=Context(system=system))


def write_raw(a: TinyDBPersistenceAdapter, user_id: str, content: bytes) -> Path:
    path = a.path_for(user_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def all_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


# basic get / save / delete


def test_new_user_loads_revision_zero_and_creates_nothing(
    adapter: TinyDBPersistenceAdapter,
) -> None:
    assert adapter.load(USER) == {"_revision": 0}
    assert not adapter.path_for(USER).exists()


def test_save_then_load_round_trip(adapter: TinyDBPersistenceAdapter) -> None:
    attrs = adapter.load(USER)
    attrs["visits"] = 1
    attrs["kid_time"] = {"sessions": [{"minutes": 14}], "active": None}
    attrs["note"] = "ünïcode ✓"
    adapter.save(USER, attrs)
    assert attrs["_revision"] == 1
    assert adapter.load(USER) == {
        "visits": 1,
        "kid_time": {"sessions": [{"minutes": 14}], "active": None},
        "note": "ünïcode ✓",
        "_revision": 1,
    }


def test_second_save_in_same_request_works(adapter: TinyDBPersistenceAdapter) -> None:
    attrs = adapter.load(USER)
    attrs["visits"] = 1
    adapter.save(USER, attrs)
    attrs["visits"] = 2
    adapter.save(USER, attrs)
    assert adapter.load(USER) == {"visits": 2, "_revision": 2}


def test_record_layout_on_disk(adapter: TinyDBPersistenceAdapter) -> None:
    adapter.save(USER, {"_revision": 0, "visits": 3, "_scratch": "not stored"})
    raw = json.loads(adapter.path_for(USER).read_text("utf-8"))
    assert raw == {
        "user": {
            "1": {"schema_version": CURRENT_SCHEMA, "revision": 1, "attributes": {"visits": 3}}
        }
    }


def test_reserved_keys_are_not_stored(adapter: TinyDBPersistenceAdapter) -> None:
    adapter.save(USER, {"_revision": 0, "_other": 1, "a": {"_nested_is_kept": 1}})
    assert adapter.load(USER) == {"a": {"_nested_is_kept": 1}, "_revision": 1}


def test_non_string_keys_are_stored_as_json_would(adapter: TinyDBPersistenceAdapter) -> None:
    adapter.save(USER, {"_revision": 0, 7: "seven"})  # type: ignore[dict-item]
    assert adapter.load(USER) == {"7": "seven", "_revision": 1}


def test_stale_write_raises_and_writes_nothing(adapter: TinyDBPersistenceAdapter) -> None:
    first = adapter.load(USER)
    second = adapter.load(USER)
    first["visits"] = 1
    adapter.save(USER, first)
    before = adapter.path_for(USER).read_bytes()
    second["visits"] = 99
    with pytest.raises(StaleWriteError) as info:
        adapter.save(USER, second)
    assert USER not in str(info.value)
    assert second["_revision"] == 0  # untouched on failure
    assert adapter.path_for(USER).read_bytes() == before


def test_missing_revision_means_new_user_only(adapter: TinyDBPersistenceAdapter) -> None:
    adapter.save("other", {"x": 1})  # new user: accepted
    assert adapter.load("other") == {"x": 1, "_revision": 1}
    with pytest.raises(StaleWriteError):
        adapter.save("other", {"x": 2})  # existing user without a revision: a blind overwrite


@pytest.mark.parametrize("bad", ["1", 1.0, True, None])
def test_revision_must_be_int(adapter: TinyDBPersistenceAdapter, bad: Any) -> None:
    with pytest.raises(StoreError):
        adapter.save(USER, {"_revision": bad})
    assert not adapter.path_for(USER).exists()


def test_unserialisable_attributes_write_nothing(adapter: TinyDBPersistenceAdapter) -> None:
    adapter.save(USER, {"_revision": 0, "a": 1})
    before = adapter.path_for(USER).read_bytes()
    for bad in ({"a": object()}, {"a": float("nan")}):
        with pytest.raises(StoreError):
            adapter.save(USER, {"_revision": 1, **bad})
    assert adapter.path_for(USER).read_bytes() == before
    assert adapter.load(USER) == {"a": 1, "_revision": 1}
    assert [p.name for p in adapter.path_for(USER).parent.iterdir()] == [
        adapter.path_for(USER).name
    ]


def test_delete_is_idempotent_and_fine_for_unknown_users(
    adapter: TinyDBPersistenceAdapter,
) -> None:
    adapter.delete("never-seen")
    adapter.save(USER, {"_revision": 0, "a": 1})
    adapter.delete(USER)
    adapter.delete(USER)
    assert not adapter.path_for(USER).exists()
    assert adapter.load(USER) == {"_revision": 0}
    adapter.save(USER, {"_revision": 0, "b": 2})  # starts again at revision 1
    assert adapter.load(USER) == {"b": 2, "_revision": 1}


def test_users_are_isolated(adapter: TinyDBPersistenceAdapter) -> None:
    adapter.save("a", {"who": "a"})
    adapter.save("b", {"who": "b"})
    adapter.delete("a")
    assert adapter.load("a") == {"_revision": 0}
    assert adapter.load("b") == {"who": "b", "_revision": 1}


# file layout


def test_path_is_hashed_and_fanned_out(adapter: TinyDBPersistenceAdapter) -> None:
    adapter.save(USER, {"a": 1})
    digest = user_hash(USER)
    assert adapter.path_for(USER) == adapter.data_dir / "users" / digest[:2] / f"{digest}.json"
    for path in all_files(adapter.data_dir):
        assert "SECRET" not in str(path)
        assert "SECRET" not in path.read_text("utf-8", errors="replace")


def test_hostile_user_ids_stay_inside_the_store(adapter: TinyDBPersistenceAdapter) -> None:
    for user_id in ("../../etc/passwd", "/abs", "a/b", "\x00", "x" * 5000):
        adapter.save(user_id, {"a": 1})
        assert adapter.path_for(user_id).is_relative_to(adapter.users_dir)
        assert adapter.load(user_id) == {"a": 1, "_revision": 1}


def test_lock_files_are_bounded(adapter: TinyDBPersistenceAdapter) -> None:
    adapter.durable = False  # 600 fsynced writes would only slow the suite down
    for i in range(600):
        adapter.save(f"user-{i}", {"i": i})
    locks = list(adapter.locks_dir.iterdir())
    assert 200 < len(locks) <= TinyDBPersistenceAdapter.LOCK_STRIPES
    assert len(list(adapter.users_dir.iterdir())) <= 256


# ask-sdk-core integration


def test_envelope_methods(adapter: TinyDBPersistenceAdapter) -> None:
    env = envelope()
    attrs = adapter.get_attributes(request_envelope=env)
    assert attrs == {"_revision": 0}
    attrs["visits"] = 1
    adapter.save_attributes(request_envelope=env, attributes=attrs)
    assert adapter.load(USER) == {"visits": 1, "_revision": 1}
    adapter.delete_attributes(request_envelope=env)
    assert adapter.load(USER) == {"_revision": 0}


def test_attributes_manager_round_trip(adapter: TinyDBPersistenceAdapter) -> None:
    manager = AttributesManager(request_envelope=envelope(), persistence_adapter=adapter)
    manager.persistent_attributes["visits"] = 1
    manager.save_persistent_attributes()
    manager.persistent_attributes["visits"] = 2
    manager.save_persistent_attributes()  # the second save in one request
    fresh = AttributesManager(request_envelope=envelope(), persistence_adapter=adapter)
    assert fresh.persistent_attributes == {"visits": 2, "_revision": 2}
    fresh.delete_persistent_attributes()
    assert fresh.persistent_attributes == {"_revision": 0}


def test_envelope_without_user_is_a_store_error(adapter: TinyDBPersistenceAdapter) -> None:
    with pytest.raises(StoreError):
        adapter.get_attributes(envelope(None))
    with pytest.raises(StoreError):
        adapter.get_attributes(RequestEnvelope())
    assert issubclass(StoreError, PersistenceException)


# atomic write


@pytest.mark.parametrize("fail", ["replace", "fsync", "write"])
def test_failed_write_leaves_old_file_and_no_temp(
    adapter: TinyDBPersistenceAdapter, monkeypatch: pytest.MonkeyPatch, fail: str
) -> None:
    adapter.save(USER, {"_revision": 0, "v": "old"})
    path = adapter.path_for(USER)
    before = path.read_bytes()

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, fail, boom)
    with pytest.raises(OSError):
        adapter.save(USER, {"_revision": 1, "v": "new"})
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert list(path.parent.iterdir()) == [path]
    assert adapter.load(USER) == {"v": "old", "_revision": 1}


def test_leftover_temp_file_is_harmless(adapter: TinyDBPersistenceAdapter) -> None:
    adapter.save(USER, {"v": 1})
    path = adapter.path_for(USER)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(b'{"user": {"1": {"trunc')  # what a crashed writer may leave
    assert adapter.check() == []
    assert adapter.load(USER) == {"v": 1, "_revision": 1}
    adapter.save(USER, {"_revision": 1, "v": 2})
    assert not tmp.exists()
    assert adapter.load(USER) == {"v": 2, "_revision": 2}


def test_non_durable_mode_still_atomic(tmp_path: Path) -> None:
    a = TinyDBPersistenceAdapter(tmp_path, durable=False)  # no ensure_ready: created lazily
    a.save(USER, {"v": 1})
    assert a.load(USER) == {"v": 1, "_revision": 1}


# corruption

CORRUPT_CASES = {
    "empty": b"",
    "whitespace": b"  \n",
    "truncated": b'{"user": {"1": {"schema_version": 1, "rev',
    "extra data": b'{"user": {}}{"user": {}}',
    "not utf8": b'{"user": "\xff\xfe"}',
    "list": b"[1, 2]",
    "no table": b'{"_default": {}}',
    "two docs": json.dumps(
        {"user": {"1": make_tables({}, 1)["user"]["1"], "2": make_tables({}, 1)["user"]["1"]}}
    ).encode(),
    "no revision": b'{"user": {"1": {"schema_version": 1, "attributes": {}}}}',
    "string revision": b'{"user": {"1": {"schema_version": 1, "revision": "3", "attributes": {}}}}',
    "bool revision": b'{"user": {"1": {"schema_version": 1, "revision": true, "attributes": {}}}}',
    "list attributes": b'{"user": {"1": {"schema_version": 1, "revision": 1, "attributes": []}}}',
    "deep": b"[" * 100_000 + b"]" * 100_000,
}


def test_existing_copy_is_never_overwritten(adapter: TinyDBPersistenceAdapter) -> None:
    path = write_raw(adapter, USER, b"{")
    target = adapter.corrupt_dir / f"{path.name}.fixed"
    target.write_bytes(b"other")
    copy = write_new(target, b"{")
    assert target.read_bytes() == b"other"
    assert copy == target.with_name(f"{target.name}.1")
    assert copy.read_bytes() == b"{"


def test_check_lists_only_corrupt_files(adapter: TinyDBPersistenceAdapter) -> None:
    assert adapter.check() == []
    for i in range(20):
        adapter.save(f"good-{i}", {"i": i})
    bad = [write_raw(adapter, "bad-1", b""), write_raw(adapter, "bad-2", b"[]")]
    future = make_tables({}, 1)
    future["user"]["1"]["schema_version"] = CURRENT_SCHEMA + 1
    write_raw(adapter, "future", json.dumps(future).encode())  # newer, not corrupt
    assert adapter.check() == sorted(bad)
    assert list(adapter.corrupt_dir.iterdir()) == []  # check() is read-only


def test_check_on_missing_store(tmp_path: Path) -> None:
    assert TinyDBPersistenceAdapter(tmp_path / "nothing").check() == []


# schema versions and migrations


def v0_file(attributes: dict[str, Any], revision: int = 4) -> bytes:
    tables = make_tables(attributes, revision)
    tables["user"]["1"]["schema_version"] = 0
    return json.dumps(tables).encode()


def test_migration_path(adapter: TinyDBPersistenceAdapter, monkeypatch: pytest.MonkeyPatch) -> None:
    def v0_to_v1(attrs: dict[str, Any]) -> dict[str, Any]:
        # e.g. v0 counted "launches"; v1 calls it "visits"
        out = dict(attrs)
        out["visits"] = out.pop("launches")
        return out

    monkeypatch.setitem(records.MIGRATIONS, 0, v0_to_v1)
    path = write_raw(adapter, USER, v0_file({"launches": 7}))
    attrs = adapter.load(USER)
    assert attrs == {"visits": 7, "_revision": 4}
    assert json.loads(path.read_bytes())["user"]["1"]["schema_version"] == 0  # load is read-only
    attrs["visits"] += 1
    adapter.save(USER, attrs)
    record = json.loads(path.read_bytes())["user"]["1"]
    assert record == {"schema_version": 1, "revision": 5, "attributes": {"visits": 8}}


def test_multi_step_migration(
    adapter: TinyDBPersistenceAdapter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(records, "CURRENT_SCHEMA", 3)
    monkeypatch.setattr(
        records,
        "MIGRATIONS",
        {
            0: lambda a: {**a, "steps": [*a["steps"], 1]},
            1: lambda a: {**a, "steps": [*a["steps"], 2]},
            2: lambda a: {**a, "steps": [*a["steps"], 3]},
        },
    )
    write_raw(adapter, USER, v0_file({"steps": []}))
    assert adapter.load(USER) == {"steps": [1, 2, 3], "_revision": 4}


def test_missing_migration_is_a_schema_error(
    adapter: TinyDBPersistenceAdapter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(records, "MIGRATIONS", {})
    write_raw(adapter, USER, v0_file({"a": 1}))
    with pytest.raises(SchemaError, match="no migration from schema 0"):
        adapter.load(USER)


def test_migration_returning_garbage_is_a_schema_error(
    adapter: TinyDBPersistenceAdapter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(records.MIGRATIONS, 0, lambda a: None)
    write_raw(adapter, USER, v0_file({"a": 1}))
    with pytest.raises(SchemaError):
        adapter.load(USER)


def test_newer_schema_is_refused_not_rewritten(adapter: TinyDBPersistenceAdapter) -> None:
    tables = make_tables({"from": "the future"}, 9)
    tables["user"]["1"]["schema_version"] = CURRENT_SCHEMA + 1
    content = json.dumps(tables).encode()
    path = write_raw(adapter, USER, content)
    with pytest.raises(SchemaError, match="newer than this code") as info:
        adapter.load(USER)
    assert USER not in str(info.value)
    with pytest.raises(SchemaError):
        adapter.save(USER, {"_revision": 9, "x": 1})
    assert path.read_bytes() == content
    assert list(adapter.corrupt_dir.iterdir()) == []


# start-up checks


def test_ensure_ready_creates_layout_and_marker(tmp_path: Path) -> None:
    a = TinyDBPersistenceAdapter(tmp_path / "a" / "b")
    a.ensure_ready()
    a.ensure_ready()  # idempotent
    assert json.loads((a.data_dir / "STORE.json").read_text()) == {"layout": 1}
    for sub in ("users", "locks", "corrupt"):
        assert (a.data_dir / sub).is_dir()
    assert sorted(p.name for p in a.data_dir.iterdir()) == [
        "STORE.json",
        "corrupt",
        "locks",
        "users",
    ]


@pytest.mark.parametrize(
    "content", [b"", b"{not json", b"[]", b'{"layout": "1"}', b'{"layout": true}', b"{}"]
)
def test_ensure_ready_refuses_unreadable_marker(tmp_path: Path, content: bytes) -> None:
    marker = tmp_path / "STORE.json"
    marker.write_bytes(content)
    with pytest.raises(StoreError, match=r"STORE\.json"):
        TinyDBPersistenceAdapter(tmp_path).ensure_ready()
    assert marker.read_bytes() == content


@pytest.mark.parametrize(
    ("durability", "before", "after"),
    [
        ("full", None, 1),
        ("normal", None, 2),
        ("off", None, 2),
        ("normal", 1, 2),
        ("off", 1, 2),
        ("full", 2, 2),
    ],
)
def test_the_marker_says_twins_before_a_store_may_write_them(
    tmp_path: Path, durability: Durability, before: int | None, after: int
) -> None:
    marker = tmp_path / "STORE.json"
    if before is not None:
        marker.write_text(json.dumps({"layout": before}))
    adapter = TinyDBPersistenceAdapter(tmp_path, durability=durability)
    adapter.ensure_ready()
    # Code that reads only plain files (layout 1) refuses a layout-2 folder instead of taking
    # its twin files for damage; "full" writes only plain files and lowers nothing.
    assert json.loads(marker.read_text()) == {"layout": after}
    adapter.save("amzn1.ask.account.MARKER", {"v": 1})
    twin = adapter.path_for("amzn1.ask.account.MARKER").read_bytes().startswith(b'{"_twin"')
    assert twin == (durability != "full")


def test_ensure_ready_refuses_newer_layout(tmp_path: Path) -> None:
    (tmp_path / "STORE.json").write_text('{"layout": 3}')
    with pytest.raises(StoreError, match="newer"):
        TinyDBPersistenceAdapter(tmp_path).ensure_ready()
    (tmp_path / "STORE.json").write_text('{"layout": 0}')
    with pytest.raises(StoreError, match="unknown layout"):
        TinyDBPersistenceAdapter(tmp_path).ensure_ready()


def test_ensure_ready_when_data_dir_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="cannot create"):
        TinyDBPersistenceAdapter(tmp_path / "file" / "data").ensure_ready()
    with pytest.raises(StoreError, match="not a folder"):
        TinyDBPersistenceAdapter(tmp_path / "file").ensure_ready()


def test_ensure_ready_when_not_writable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = TinyDBPersistenceAdapter(tmp_path)
    a.ensure_ready()
    real_open = os.open

    def read_only_fs(path: Any, flags: int, *args: Any) -> int:
        if flags & os.O_CREAT:
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", read_only_fs)
    with pytest.raises(StoreError, match="not writable"):
        a.ensure_ready()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_ensure_ready_read_only_folder(tmp_path: Path) -> None:
    a = TinyDBPersistenceAdapter(tmp_path / "d")
    a.ensure_ready()
    a.users_dir.chmod(0o500)
    try:
        with pytest.raises(StoreError, match="not writable"):
            a.ensure_ready()
    finally:
        a.users_dir.chmod(0o700)


# locking


def test_lock_timeout(adapter: TinyDBPersistenceAdapter) -> None:
    adapter.lock_timeout = 0.2
    stripe = adapter.locks_dir / f"{adapter.path_for(USER).name[:2]}.lock"
    fd = os.open(stripe, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(LockTimeoutError):
            adapter.save(USER, {"v": 1})
        assert adapter.load(USER) == {"_revision": 0}  # reads never wait for the lock
    finally:
        os.close(fd)
    adapter.save(USER, {"v": 1})


def test_threads_never_lose_an_update(adapter: TinyDBPersistenceAdapter) -> None:
    adapter.durable = False
    threads, per_thread = 6, 30
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(per_thread):
                while True:
                    attrs = adapter.load(USER)
                    attrs.setdefault("seen", []).append(f"{n}-{i}")
                    try:
                        adapter.save(USER, attrs)
                        break
                    except StaleWriteError:
                        continue
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert errors == []
    attrs = adapter.load(USER)
    assert len(attrs["seen"]) == len(set(attrs["seen"])) == threads * per_thread
    assert attrs["_revision"] == threads * per_thread
