"""A state-changing request on DynamoDB (dynalite) against TinyDB, both through the app, one run.

Usage::

    .venv/bin/python bench/bench_dynamodb.py [--users 1000] [--requests 1000] [--rounds 3]
                                             [--migrate-users 10000] [--in-memory]

Needs ``npm ci --prefix tests/e2e`` (dynalite) and the ``dev`` extra. It starts dynalite on a
free loopback port (LevelDB on disk in a temp folder unless ``--in-memory``), then:

1. **Requests**: POST a StartKidTimeIntent for a random one of ``--users`` existing users to
   ``/alexa`` through Flask's test client, ``--requests`` times, with the app over the TinyDB
   store (durable, the default) and over the DynamoDB store; a hello-world ask-sdk skill is
   the anchor. Each request loads, changes and saves the user (conditional write on DynamoDB).
   The stores take turns for ``--rounds`` rounds; each row is its best round.
2. **Migration**: ``migrate-store`` of ``--migrate-users`` users TinyDB → DynamoDB into a new
   table, the same again (idempotent: nothing written), and DynamoDB → TinyDB into a new
   folder; wall time of each.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_store import (  # noqa: E402  (after the path set-up above)
    STEP,
    WARMUP,
    Clock,
    bench_hello,
    initial_attributes,
    intent_request,
    percentiles,
    poster,
    timed,
    user_id,
)

from skill.config import Config  # noqa: E402
from skill.storage import TinyDBPersistenceAdapter  # noqa: E402
from skill.storage.dynamodb import DynamoDbStore, dynamodb_adapter  # noqa: E402
from skill.storage.keys import user_hash  # noqa: E402
from skill.storage.migrate import DynamoDbSide, TinyDBSide, migrate  # noqa: E402
from skill.storage.records import StoredRecord, make_tables  # noqa: E402
from skill.storage.tinydb import AtomicJSONStorage  # noqa: E402
from tests.storage.dynamodb_servers import dynalite, fake_aws_environment  # noqa: E402


def fill_tinydb(store: TinyDBPersistenceAdapter, count: int, now: datetime) -> None:
    """``count`` user files written with the store's own storage code (no fsync: set-up)."""
    tables = make_tables(initial_attributes(now), 1)
    for i in range(count):
        AtomicJSONStorage(store.path_for(user_id(i)), durable=False).write(tables)
    os.sync()


def fill_dynamodb(store: DynamoDbStore, count: int, now: datetime) -> None:
    record = StoredRecord(1, 1, initial_attributes(now))
    for i in range(count):
        store.write(user_hash(user_id(i)), record, expected=None)


def bench_app(adapter: Any, users: int, n: int, start: datetime, data_dir: Path) -> list[float]:
    """p50 samples of a state-changing request through the whole app over ``adapter``."""
    from skill.alexa.handlers.base import Deps
    from skill.app import create_app

    clock = Clock(start)
    app = create_app(
        Config(data_dir=data_dir, verify_signatures=False),
        adapter=adapter,
        deps=Deps(clock=clock, rng=random.Random(0)),
    )
    client = app.test_client()
    rng = random.Random(users)
    total = WARMUP + n
    times = [start + STEP * (i + 1) for i in range(total)]
    bodies = [intent_request(user_id(rng.randrange(users)), times[i]) for i in range(total)]
    probe = user_id(0)
    before = adapter.load(probe)["_revision"]
    clock.now = start
    body = intent_request(probe, start)
    reply = client.post("/alexa", data=body, content_type="application/json")
    assert reply.status_code == 200 and "outputSpeech" in reply.get_data(as_text=True)
    assert adapter.load(probe)["_revision"] == before + 1, "the request did not save state"
    return timed(n, poster(client, bodies, clock, times))


def dynamo_config(url: str, data_dir: Path) -> Config:
    return Config(
        store="dynamodb",
        dynamodb_endpoint_url=url,
        dynamodb_table=f"bench-{uuid.uuid4().hex[:10]}",
        data_dir=data_dir,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="DynamoDB (dynalite) vs TinyDB, through the app.")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3, help="best p50 of this many rounds")
    parser.add_argument("--migrate-users", type=int, default=10_000, help="0 skips it")
    parser.add_argument("--in-memory", action="store_true", help="dynalite without LevelDB")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="bench-dynamodb-"))
    fake_aws_environment(os.environ, root)
    start = datetime.now(UTC).replace(microsecond=0)
    try:
        with dynalite(path=None if args.in_memory else root / "leveldb") as url:
            print(f"dynalite at {url} ({'in memory' if args.in_memory else 'LevelDB on disk'})")
            print(f"{args.users:,} users; {args.requests} requests each (+{WARMUP} warm-up)")
            tiny = TinyDBPersistenceAdapter(root / "tinydb")
            tiny.ensure_ready()
            fill_tinydb(tiny, args.users, start)
            dynamo = dynamodb_adapter(dynamo_config(url, root / "unused"))
            fill_dynamodb(dynamo, args.users, start)

            hello = percentiles(bench_hello(args.requests))
            tiny_rounds, dynamo_rounds = [], []
            for round_ in range(args.rounds):
                # Interleaved rounds, best p50 kept: the machine's noise hits both stores alike.
                # Each round on a later timeline, so every request really changes state.
                when = start + STEP * (WARMUP + args.requests + 10) * round_
                tiny_rounds.append(
                    percentiles(bench_app(tiny, args.users, args.requests, when, root))
                )
                dynamo_rounds.append(
                    percentiles(bench_app(dynamo, args.users, args.requests, when, root))
                )
            tiny_row, dynamo_row = min(tiny_rounds), min(dynamo_rounds)
            hello = min(hello, percentiles(bench_hello(args.requests)))

            print("\nPOST /alexa StartKidTimeIntent (load, change, save) via Flask test client,")
            print(f"best of {args.rounds} interleaved rounds")
            print(f"{'store':>22} {'p50 ms':>8} {'p99 ms':>8} {'x hello':>8} {'x tinydb':>9}")
            print(f"{'hello world (no store)':>22} {hello[0]:>8.2f} {hello[1]:>8.2f} {1:>8.2f}")
            for name, (p50, p99) in (("TinyDB (fsync)", tiny_row), ("DynamoDB", dynamo_row)):
                ratio = p50 / tiny_row[0]
                print(f"{name:>22} {p50:>8.2f} {p99:>8.2f} {p50 / hello[0]:>8.2f} {ratio:>9.2f}")

            if args.migrate_users:
                migration(url, root, args.migrate_users, start)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


def migration(url: str, root: Path, users: int, start: datetime) -> None:
    source = TinyDBPersistenceAdapter(root / "migrate-from")
    source.ensure_ready()
    fill_tinydb(source, users, start)
    table = dynamodb_adapter(dynamo_config(url, root / "unused"))
    back = TinyDBPersistenceAdapter(root / "migrate-back")
    back.ensure_ready()
    rows = []
    for label, reader, writer in (
        ("tinydb -> dynamodb", TinyDBSide(source), DynamoDbSide(table)),
        ("same again", TinyDBSide(source), DynamoDbSide(table)),
        ("dynamodb -> tinydb", DynamoDbSide(table), TinyDBSide(back)),
    ):
        t0 = time.perf_counter()
        report = migrate(reader, writer)
        took = time.perf_counter() - t0
        if not report.verified:
            raise SystemExit(f"migration not verified: {report.summary()}")
        rows.append((label, took, report.copied, report.unchanged))
    print(f"\nmigrate-store, {users:,} users (verified; TinyDB writes with fsync)")
    print(f"{'run':>20} {'seconds':>8} {'copied':>8} {'unchanged':>10}")
    for label, took, copied, unchanged in rows:
        print(f"{label:>20} {took:>8.1f} {copied:>8,} {unchanged:>10,}")


if __name__ == "__main__":
    sys.exit(main())
