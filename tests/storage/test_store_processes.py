"""The store under several processes and crashes (real fork, real flock, real SIGKILL)."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import random
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from skill.config import DURABILITY_MODES, Durability
from skill.storage import StaleWriteError, TinyDBPersistenceAdapter

# fork: children inherit the imported modules, so starting one costs milliseconds.
CTX = multiprocessing.get_context("fork")
SHARED = "amzn1.ask.account.SHARED"


def _increment(adapter: TinyDBPersistenceAdapter, user_id: str, tag: str) -> None:
    """One request's worth of work: load, modify, save; re-run on a stale write."""
    while True:
        attrs = adapter.load(user_id)
        attrs["count"] = attrs.get("count", 0) + 1
        attrs.setdefault("tags", []).append(tag)
        try:
            adapter.save(user_id, attrs)
            return
        except StaleWriteError:
            continue


def _writer(data_dir: Path, n: int, writes: int, users: list[str]) -> None:
    adapter = TinyDBPersistenceAdapter(data_dir)
    for i in range(writes):
        # Every process hits the same shared user (max contention) and a rotating set.
        _increment(adapter, SHARED, f"{n}-{i}")
        _increment(adapter, users[i % len(users)], f"{n}-{i}")


def _assert_every_file_loads(adapter: TinyDBPersistenceAdapter, users: list[str]) -> None:
    assert adapter.check() == []
    for user_id in users:
        adapter.load(user_id)  # raises on anything unreadable
    assert not adapter.corrupt_dir.exists() or list(adapter.corrupt_dir.iterdir()) == []


@pytest.mark.slow
def test_processes_never_lose_a_write(tmp_path: Path) -> None:
    procs, writes = 4, 100
    users = [f"amzn1.ask.account.U{i}" for i in range(5)]
    adapter = TinyDBPersistenceAdapter(tmp_path)
    adapter.ensure_ready()
    workers = [CTX.Process(target=_writer, args=(tmp_path, n, writes, users)) for n in range(procs)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
        assert w.exitcode == 0

    expected = {f"{n}-{i}" for n in range(procs) for i in range(writes)}
    shared = adapter.load(SHARED)
    assert shared["count"] == procs * writes
    assert sorted(shared["tags"]) == sorted(expected)
    assert shared["_revision"] == procs * writes
    spread = [adapter.load(u) for u in users]
    assert sum(a["count"] for a in spread) == procs * writes
    assert sorted(t for a in spread for t in a["tags"]) == sorted(expected)
    _assert_every_file_loads(adapter, [SHARED, *users])


def _hammer(data_dir: Path, users: list[str], durability: Durability) -> None:
    adapter = TinyDBPersistenceAdapter(data_dir, durability=durability)
    padding = "x" * 2000  # bigger files widen the window a kill can land in
    i = 0
    while True:
        user_id = users[i % len(users)]
        attrs = adapter.load(user_id)
        attrs["i"] = i
        attrs["padding"] = padding[: i % 2000]
        with contextlib.suppress(StaleWriteError):
            adapter.save(user_id, attrs)
        i += 1


@pytest.mark.slow
@pytest.mark.parametrize("durability", DURABILITY_MODES)
def test_sigkill_mid_write_never_corrupts(tmp_path: Path, durability: Durability) -> None:
    """Every durability mode still writes by temp file and rename: a killed writer never
    leaves a damaged file, whatever it skips of the fsyncs."""
    users = [f"amzn1.ask.account.K{i}" for i in range(3)]
    adapter = TinyDBPersistenceAdapter(tmp_path)
    adapter.ensure_ready()
    rng = random.Random(1234)
    kills = 25
    for _ in range(kills):
        # Two writers at once, so a kill can also land while the other holds or waits.
        writers = [
            CTX.Process(target=_hammer, args=(tmp_path, users, durability)) for _ in range(2)
        ]
        for w in writers:
            w.start()
        time.sleep(rng.uniform(0.02, 0.08))
        for w in writers:
            assert w.pid is not None
            os.kill(w.pid, signal.SIGKILL)
        for w in writers:
            w.join(10)
            assert w.exitcode == -signal.SIGKILL
        _assert_every_file_loads(adapter, users)
    # The writers really were writing when killed (not stuck or never started).
    assert sum(adapter.load(u)["_revision"] for u in users) > 2 * kills
    # After all that the store still takes writes (locks were released by the kernel).
    for user_id in users:
        _increment(adapter, user_id, "after")


def _die_at(data_dir: Path, user_id: str, point: str) -> None:
    """Save, but SIGKILL ourselves at ``point`` inside the atomic write."""
    real = getattr(os, point)
    state = {"hits": 0}

    def crash(*args: Any, **kwargs: Any) -> Any:
        state["hits"] += 1
        # For fsync, the first call is the temp file's (before rename); die there.
        os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)  # pragma: no cover

    setattr(os, point, crash)  # the os module skill.storage uses
    adapter = TinyDBPersistenceAdapter(data_dir)
    attrs = adapter.load(user_id)
    attrs["v"] = "new"
    adapter.save(user_id, attrs)
    os._exit(3)  # pragma: no cover - the save must never finish


@pytest.mark.parametrize("point", ["replace", "fsync"])
def test_crash_between_write_and_rename_keeps_old_file(tmp_path: Path, point: str) -> None:
    user_id = "amzn1.ask.account.CRASH"
    adapter = TinyDBPersistenceAdapter(tmp_path)
    adapter.ensure_ready()
    adapter.save(user_id, {"v": "old"})
    path = adapter.path_for(user_id)
    before = path.read_bytes()

    child = CTX.Process(target=_die_at, args=(tmp_path, user_id, point))
    child.start()
    child.join(10)
    assert child.exitcode == -signal.SIGKILL

    assert path.read_bytes() == before
    assert adapter.load(user_id) == {"v": "old", "_revision": 1}
    tmp = path.with_name(f".{path.name}.tmp")
    assert tmp.exists()  # the crash really happened after the temp file was written
    if point == "replace":
        written = json.loads(tmp.read_bytes())
        assert written["user"]["1"]["attributes"] == {"v": "new"}
    assert adapter.check() == []
    # The dead writer's lock is gone and its temp file is simply replaced.
    adapter.save(user_id, {"_revision": 1, "v": "next"})
    assert adapter.load(user_id) == {"v": "next", "_revision": 2}
    assert not tmp.exists()


def _start_up(data_dir: Path, barrier: Any, failures: Any) -> None:
    barrier.wait()
    try:
        TinyDBPersistenceAdapter(data_dir).ensure_ready()
    except Exception as exc:  # reported to the parent, which asserts there were none
        failures.put(f"{type(exc).__name__}: {exc}")


def test_workers_starting_together_on_a_fresh_folder_all_boot(tmp_path: Path) -> None:
    # gunicorn starts every worker at once; each checks (and the first writes) the marker.
    workers = 6
    for attempt in range(10):
        data_dir = tmp_path / f"fresh-{attempt}"
        barrier = CTX.Barrier(workers)
        failures = CTX.Queue()
        processes = [
            CTX.Process(target=_start_up, args=(data_dir, barrier, failures))
            for _ in range(workers)
        ]
        for process in processes:
            process.start()
        for process in processes:
            process.join(timeout=30)
        errors = [failures.get() for _ in range(failures.qsize())]
        assert errors == [], errors
        assert json.loads((data_dir / "STORE.json").read_text()) == {"layout": 1}
