"""Does a request cost the same with 1 user and with 100,000? Measures the TinyDB store.

Usage::

    .venv/bin/python bench/bench_store.py [--sizes 1,1000,10000,100000] [--requests N]
                                          [--no-fsync] [--data-dir DIR] [--keep]

For each size the store is pre-populated with that many users (files written directly with
the store's own storage code, without fsync, then one ``sync``), and then a state-changing
request for random existing users is timed:

* adapter level: load + modify + save through ``TinyDBPersistenceAdapter`` (one process);
* full path (when ``skill.app`` imports): POST a StartKidTimeIntent to ``/alexa`` through
  Flask's test client, next to a hello-world ask-sdk-core skill in an equally small Flask app
  (json -> DefaultSerializer.deserialize -> skill.invoke -> serialize, no persistence).

Targets: every size within 1.5x of hello-world p50; 100k within 1.2x of 1 user.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from skill.storage import TinyDBPersistenceAdapter
from skill.storage.records import make_tables
from skill.storage.tinydb import AtomicJSONStorage

APP_ID = "amzn1.ask.skill.00000000-0000-0000-0000-000000000000"
WARMUP = 200
#: Each timed request moves the clock this far, so the previous kid-time stretch is stale
#: (the request really changes state) and older sessions are pruned (files stay ~1 KB).
STEP = timedelta(days=61)


def user_id(i: int) -> str:
    return f"amzn1.ask.account.BENCH{i:08d}"


def initial_attributes(now: datetime) -> dict[str, Any]:
    """A realistic returning user's record (~0.5 KB)."""
    started = now - timedelta(days=2)
    return {
        "visits": 12,
        "last_visit": (now - timedelta(days=1)).isoformat(),
        "kid_time": {
            "active": None,
            "sessions": [
                {"started_at": started.isoformat(), "minutes": 14, "planned_minutes": 15},
            ],
        },
        "strategies_heard": ["good-enough", "boundaries", "kid-time", "delegate", "support"],
    }


def populate(data_dir: Path, size: int, now: datetime) -> float:
    """Write ``size`` user files the way the store would, fast; returns seconds taken."""
    t0 = time.perf_counter()
    adapter = TinyDBPersistenceAdapter(data_dir)
    adapter.ensure_ready()
    tables = make_tables(initial_attributes(now), 1)
    for i in range(size):
        # durable=False: fsync per file would make 100k users take minutes; one sync() below.
        AtomicJSONStorage(adapter.path_for(user_id(i)), durable=False).write(tables)
        if size >= 20_000 and i % 20_000 == 0 and i:
            print(f"    ... {i:,} users", file=sys.stderr)
    os.sync()
    return time.perf_counter() - t0


def percentiles(samples: list[float]) -> tuple[float, float]:
    """(p50, p99) in milliseconds."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1e3, p99 * 1e3


def timed(n: int, one: Callable[[int], None]) -> list[float]:
    for i in range(WARMUP):
        one(i)
    samples = []
    for i in range(n):
        t0 = time.perf_counter()
        one(i)
        samples.append(time.perf_counter() - t0)
    return samples


class Clock:
    """The app's clock, set by the benchmark before each request."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def intent_request(uid: str, now: datetime, intent: str = "StartKidTimeIntent") -> bytes:
    """A minimal Alexa IntentRequest, by hand."""
    application = {"applicationId": APP_ID}
    user = {"userId": uid}
    body = {
        "version": "1.0",
        "session": {
            "new": False,
            "sessionId": f"amzn1.echo-api.session.{uuid.uuid4()}",
            "application": application,
            "user": user,
        },
        "context": {
            "System": {
                "application": application,
                "user": user,
                "device": {"deviceId": "amzn1.ask.device.BENCH", "supportedInterfaces": {}},
                "apiEndpoint": "https://api.amazonalexa.com",
            }
        },
        "request": {
            "type": "IntentRequest",
            "requestId": f"amzn1.echo-api.request.{uuid.uuid4()}",
            "timestamp": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "locale": "en-US",
            "intent": {"name": intent, "confirmationStatus": "NONE", "slots": {}},
        },
    }
    return json.dumps(body).encode()


def hello_world_app() -> Any:
    """The anchor (bench/hello_world.py): one handler answering "hello", no persistence."""
    from bench.hello_world import create_app

    return create_app()


def poster(
    client: Any, bodies: list[bytes], clock: Clock | None, times: list[datetime]
) -> Callable[[int], None]:
    """Request ``i``: set the app's clock to its time, POST its body, insist on 200."""

    def one(i: int) -> None:
        if clock is not None:
            clock.now = times[i]
        resp = client.post("/alexa", data=bodies[i], content_type="application/json")
        if resp.status_code != 200:
            raise SystemExit(f"request failed: {resp.status_code} {resp.get_data(as_text=True)}")

    return one


class MemoryAdapter:
    """The same contract with no disk at all: separates the app's cost from the store's."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}

    def load(self, uid: str) -> dict[str, Any]:
        return json.loads(json.dumps(self.records.get(uid, {"_revision": 0})))  # type: ignore[no-any-return]

    def get_attributes(self, request_envelope: Any) -> dict[str, Any]:
        return self.load(request_envelope.context.system.user.user_id)

    def save_attributes(self, request_envelope: Any, attributes: dict[str, Any]) -> None:
        attributes["_revision"] = attributes.get("_revision", 0) + 1
        self.records[request_envelope.context.system.user.user_id] = json.loads(
            json.dumps(attributes)
        )

    def delete_attributes(self, request_envelope: Any) -> None:
        self.records.pop(request_envelope.context.system.user.user_id, None)


def bench_full(
    data_dir: Path,
    size: int,
    n: int,
    start: datetime,
    durable: bool,
    rng: random.Random,
    *,
    memory: bool = False,
) -> list[float]:
    from skill.alexa.handlers.base import Deps
    from skill.app import create_app
    from skill.config import Config

    clock = Clock(start)
    adapter: Any = (
        MemoryAdapter() if memory else TinyDBPersistenceAdapter(data_dir, durable=durable)
    )
    app = create_app(
        Config(data_dir=data_dir, verify_signatures=False),
        adapter=adapter,
        deps=Deps(clock=clock, rng=random.Random(0)),
    )
    client = app.test_client()
    total = WARMUP + n
    times = [start + STEP * (i + 1) for i in range(total)]
    bodies = [intent_request(user_id(rng.randrange(size)), times[i]) for i in range(total)]
    # Check once that the request really changed the user's state.
    probe = user_id(rng.randrange(size))
    before = adapter.load(probe)["_revision"]
    clock.now = start
    resp = client.post("/alexa", data=intent_request(probe, start), content_type="application/json")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert "outputSpeech" in resp.get_data(as_text=True)
    assert adapter.load(probe)["_revision"] == before + 1, "the request did not save state"

    return timed(n, poster(client, bodies, clock, times))


def bench_hello(n: int) -> list[float]:
    client = hello_world_app().test_client()
    now = datetime.now(UTC)
    bodies = [intent_request(user_id(i), now) for i in range(WARMUP + n)]
    return timed(n, poster(client, bodies, None, []))


def bench_adapter(
    data_dir: Path, size: int, n: int, start: datetime, durable: bool, rng: random.Random
) -> list[float]:
    adapter = TinyDBPersistenceAdapter(data_dir, durable=durable)
    picks = [user_id(rng.randrange(size)) for _ in range(WARMUP + n)]

    def one(i: int) -> None:
        now = start + STEP * (i + 1)
        attrs = adapter.load(picks[i])
        attrs["visits"] = attrs.get("visits", 0) + 1
        attrs["last_visit"] = now.isoformat()
        kid_time = attrs.setdefault("kid_time", {"active": None, "sessions": []})
        kid_time["active"] = {"started_at": now.isoformat(), "planned_minutes": 15}
        adapter.save(picks[i], attrs)

    return timed(n, one)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Store latency vs number of users.")
    parser.add_argument("--sizes", default="1,1000,10000,100000")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--no-fsync", action="store_true", help="measure with durable=False")
    parser.add_argument("--data-dir", type=Path, help="where to build stores (default: temp)")
    parser.add_argument("--keep", action="store_true", help="keep the stores afterwards")
    args = parser.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")]
    durable = not args.no_fsync
    root = args.data_dir or Path(tempfile.mkdtemp(prefix="bench-store-"))
    root.mkdir(parents=True, exist_ok=True)

    try:
        import skill.app  # noqa: F401

        full_path = True
    except ImportError as exc:
        print(f"skill.app not importable ({exc}); adapter level only", file=sys.stderr)
        full_path = False

    print(f"requests per size: {args.requests} (+{WARMUP} warm-up); fsync: {durable}")
    print(f"stores under {root}")
    start = datetime.now(UTC).replace(microsecond=0)
    adapter_rows: list[tuple[int, float, float]] = []
    full_rows: list[tuple[int, float, float]] = []
    hello = percentiles(bench_hello(args.requests)) if full_path else None
    memory = None
    if full_path:
        memory_dir = root / "memory"
        TinyDBPersistenceAdapter(memory_dir).ensure_ready()
        memory = percentiles(
            bench_full(memory_dir, 1, args.requests, start, durable, random.Random(0), memory=True)
        )
    try:
        for size in sizes:
            data_dir = root / f"users-{size}"
            shutil.rmtree(data_dir, ignore_errors=True)
            took = populate(data_dir, size, start)
            print(f"  {size:>7,} users pre-populated in {took:.1f} s", file=sys.stderr)
            rng = random.Random(size)
            adapter_rows.append(
                (
                    size,
                    *percentiles(bench_adapter(data_dir, size, args.requests, start, durable, rng)),
                )
            )
            if full_path:
                # Its own, later timeline: the adapter run left stretches "running" until then.
                later = start + STEP * (WARMUP + args.requests + 10)
                samples = bench_full(data_dir, size, args.requests, later, durable, rng)
                full_rows.append((size, *percentiles(samples)))
            if not args.keep:
                shutil.rmtree(data_dir, ignore_errors=True)
    finally:
        if not args.keep and args.data_dir is None:
            shutil.rmtree(root, ignore_errors=True)
    if hello is not None:
        # Measured again at the end: the first run may have been on a cold machine.
        hello = min(hello, percentiles(bench_hello(args.requests)))

    print("\nadapter level: load + modify + save, one process")
    print(f"{'users':>8} {'p50 ms':>8} {'p99 ms':>8} {'x 1-user':>9}")
    base = adapter_rows[0][1]
    for size, p50, p99 in adapter_rows:
        print(f"{size:>8,} {p50:>8.3f} {p99:>8.3f} {p50 / base:>9.2f}")

    if hello is not None:
        print("\nfull path: POST /alexa StartKidTimeIntent via Flask test client")
        print(f"{'users':>8} {'p50 ms':>8} {'p99 ms':>8} {'x hello':>8} {'x 1-user':>9}")
        print(f"{'hello':>8} {hello[0]:>8.3f} {hello[1]:>8.3f} {1:>8.2f} {'':>9}")
        if memory is not None:
            m50, m99 = memory
            print(f"{'no-disk':>8} {m50:>8.3f} {m99:>8.3f} {m50 / hello[0]:>8.2f} {'':>9}")
        base = full_rows[0][1]
        for size, p50, p99 in full_rows:
            print(f"{size:>8,} {p50:>8.3f} {p99:>8.3f} {p50 / hello[0]:>8.2f} {p50 / base:>9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
