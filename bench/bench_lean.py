"""Lean and fast (issue 13): every measure beside the hello-world anchor, in one run.

Usage::

    .venv/bin/python bench/bench_lean.py [--runs N] [--requests N] [--rss-requests N]

The anchor is bench/hello_world.py (one ask-sdk-core handler answering "hello" in a small Flask
app), served exactly as ours is in each row:

* cold start: a fresh ``python`` process that imports the app and calls ``create_app()``, timed
  whole from outside (interpreter start included), ``--runs`` times, anchor and ours in turn;
  ours with the production settings (signature checks on) and with them off;
* first request: the first POST in such a fresh process (ours: signature checks off, since the
  anchor checks nothing; a first *signed* request also fetches the certificate);
* worker RSS: one gunicorn sync worker after ``--rss-requests`` POSTs over HTTP;
* write p50: a state-changing StartKidTimeIntent of a returning user through Flask's test client
  on the TinyDB store, for ``MAMA_DURABILITY`` full, normal and off, each request taken in turn
  with one of the anchor's (so both see the same machine);
* read p50: ReadLetterIntent (changes nothing) on the same store;
* request CPU beyond the store: CPU seconds per state-changing request on an in-memory store,
  in batches of 100 taken in turn with the anchor's; the ratio is the median of the batch pairs';
* signature check: CPU of the same signed requests in an app that checks them (warm certificate
  cache) minus one that does not, in batches taken in turn: the median of the pairs' differences.

Ratios are ours / anchor, medians; pairs of cold-start runs are taken in turn so a drifting
machine moves both. Bytecode is compiled first so neither side pays for ``.pyc`` files.
"""

from __future__ import annotations

import argparse
import compileall
import http.client
import json
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_store import (  # noqa: E402
    STEP,
    WARMUP,
    Clock,
    MemoryAdapter,
    intent_request,
    populate,
    user_id,
)
from bench.hello_world import create_app as create_hello  # noqa: E402

PYTHON = sys.executable
#: Child processes write and use bytecode like a deployed service does.
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

# One fresh process: time create_app() (and the first request) from the inside, print JSON.
CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
sys.path.insert(0, {root!r})
{make}
t1 = time.perf_counter()
client = app.test_client()
body = open({body!r}, "rb").read()
resp = client.post("/alexa", data=body, content_type="application/json")
t2 = time.perf_counter()
assert resp.status_code == 200, resp.get_data(as_text=True)
print(json.dumps({{"create": t1 - t0, "first": t2 - t1}}))
"""
MAKE_HELLO = "from bench.hello_world import create_app; app = create_app()"
MAKE_OURS = "from skill.app import create_app; app = create_app()"


Row = tuple[str, str, str, str, str]


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms"


def ratio(ours: float, anchor: float) -> str:
    return f"{ours / anchor:.2f}×"


# --- fresh processes --------------------------------------------------------------------------


def run_child(make: str, body: Path, env: dict[str, str]) -> tuple[float, float, float]:
    """(whole-process wall, create_app inside, first request) in seconds."""
    code = CHILD.format(root=str(ROOT), make=make, body=str(body))
    t0 = time.perf_counter()
    out = subprocess.run(
        [PYTHON, "-c", code], env=env, capture_output=True, text=True, check=False, cwd=ROOT
    )
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(f"child failed:\n{out.stderr}")
    inside = json.loads(out.stdout.strip().splitlines()[-1])
    return wall, inside["create"], inside["first"]


def cold_starts(runs: int, work: Path) -> dict[str, list[tuple[float, float, float]]]:
    body = work / "first.json"
    launch = json.loads(intent_request(user_id(1), datetime.now(UTC)))
    launch["request"] = {
        "type": "LaunchRequest",
        "requestId": "amzn1.echo-api.request.first",
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "locale": "en-US",
    }
    body.write_text(json.dumps(launch))
    base = {**CHILD_ENV, "MAMA_DATA_DIR": str(work / "cold-data")}
    envs = {
        "hello": (MAKE_HELLO, base),
        "ours (signatures off)": (
            MAKE_OURS,
            {**base, "MAMA_VERIFY_SIGNATURES": "0", "MAMA_VERIFY_TIMESTAMPS": "0"},
        ),
        "ours (production settings)": (MAKE_OURS, base),
    }
    samples: dict[str, list[tuple[float, float, float]]] = {name: [] for name in envs}
    for name, (make, env) in envs.items():  # warm-up: page cache, bytecode, data folder
        if name != "ours (production settings)":
            run_child(make, body, env)
    for _ in range(runs):
        for name, (make, env) in envs.items():
            if name == "ours (production settings)":
                # No signed body here: its first request would be refused, so time start-up only.
                samples[name].append(run_production_start(env))
            else:
                samples[name].append(run_child(make, body, env))
    return samples


def run_production_start(env: dict[str, str]) -> tuple[float, float, float]:
    code = (
        "import time; t0 = time.perf_counter()\n"
        "from skill.app import create_app; create_app()\n"
        "import json; print(json.dumps(time.perf_counter() - t0))\n"
    )
    t0 = time.perf_counter()
    out = subprocess.run(
        [PYTHON, "-c", code], env=env, capture_output=True, text=True, check=True, cwd=ROOT
    )
    wall = time.perf_counter() - t0
    return wall, float(out.stdout.strip()), float("nan")


# --- one gunicorn worker ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def post(port: int, body: bytes) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/alexa", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def worker_rss(app_spec: str, env: dict[str, str], requests: int) -> float:
    """VmRSS in MiB of the one gunicorn sync worker after ``requests`` state-changing POSTs."""
    gunicorn = str(Path(PYTHON).with_name("gunicorn"))
    port = free_port()
    master = subprocess.Popen(
        [gunicorn, "--workers", "1", "--bind", f"127.0.0.1:{port}", "--chdir", str(ROOT), app_spec],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or master.poll() is not None:
                    raise SystemExit(f"gunicorn for {app_spec} did not start") from None
                time.sleep(0.05)
        now = datetime.now(UTC)
        for i in range(requests):
            status = post(port, intent_request(user_id(10_000 + i), now))
            if status != 200:
                raise SystemExit(f"{app_spec}: request {i} answered {status}")
        children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
        if len(children) != 1:
            raise SystemExit(f"expected one worker, found {children}")
        status_text = Path(f"/proc/{children[0]}/status").read_text()
        kib = next(int(line.split()[1]) for line in status_text.splitlines() if "VmRSS" in line)
        return kib / 1024
    finally:
        master.terminate()
        master.wait(10)


# --- in-process request timings ---------------------------------------------------------------


def p50(samples: list[float]) -> float:
    return statistics.median(samples)


def poster(
    client: Any,
    bodies: list[bytes],
    clock: Clock | None,
    times: list[datetime],
    headers: list[dict[str, str]] | None = None,
) -> Callable[[int], None]:
    def one(i: int) -> None:
        if clock is not None:
            clock.now = times[i]
        resp = client.post(
            "/alexa",
            data=bodies[i],
            content_type="application/json",
            headers=headers[i] if headers else None,
        )
        if resp.status_code != 200:
            raise SystemExit(f"request failed: {resp.status_code} {resp.get_data(as_text=True)}")

    return one


def ours_app(adapter: Any, clock: Clock, *, verifier: Any = None) -> Any:
    from skill.alexa.handlers.base import Deps
    from skill.app import create_app
    from skill.config import Config

    config = Config(data_dir=Path(tempfile.gettempdir()), verify_signatures=verifier is not None)
    return create_app(config, adapter=adapter, verifier=verifier, deps=Deps(clock=clock))


def ours_poster(
    adapter: Any,
    n: int,
    start: datetime,
    intent: str,
    users: int,
    *,
    verifier: Any = None,
    sign: Callable[[bytes], dict[str, str]] | None = None,
) -> Callable[[int], None]:
    """Ours, one intent for random returning users; each request moves the clock by STEP."""
    clock = Clock(start)
    client = ours_app(adapter, clock, verifier=verifier).test_client()
    rng = random.Random(n)
    total = WARMUP + n
    times = [start + STEP * (i + 1) for i in range(total)]
    bodies = [intent_request(user_id(rng.randrange(users)), times[i], intent) for i in range(total)]
    headers = [sign(b) for b in bodies] if sign else None
    return poster(client, bodies, clock, times, headers)


def hello_poster(n: int) -> Callable[[int], None]:
    client = create_hello().test_client()
    now = datetime.now(UTC)
    bodies = [intent_request(user_id(i), now) for i in range(WARMUP + n)]
    return poster(client, bodies, None, [])


def in_turn(
    n: int, first: Callable[[int], None], second: Callable[[int], None]
) -> tuple[float, float]:
    """p50 seconds of each side, their requests taken in turn, so a drifting machine moves both."""
    walls: tuple[list[float], list[float]] = ([], [])
    for i in range(WARMUP + n):
        for one, samples in zip((first, second), walls, strict=True):
            t0 = time.perf_counter()
            one(i)
            if i >= WARMUP:
                samples.append(time.perf_counter() - t0)
    return p50(walls[0]), p50(walls[1])


#: Requests per batch when CPU time is taken in turn (process_time ticks are coarse).
CPU_BATCH = 100


@dataclass(frozen=True)
class CpuInTurn:
    """CPU seconds per request of two sides, batch by batch (batch k of each taken in turn),
    and each side's wall p50."""

    first: list[float]
    second: list[float]
    first_wall: float
    second_wall: float

    def ratio(self) -> float:
        """The median of the batch pairs' ratios: drift moves both batches of a pair alike."""
        return statistics.median(b / a for a, b in zip(self.first, self.second, strict=True))

    def added(self) -> float:
        """The median of the batch pairs' differences (second minus first), in seconds."""
        return statistics.median(b - a for a, b in zip(self.first, self.second, strict=True))


def cpu_in_turn(n: int, first: Callable[[int], None], second: Callable[[int], None]) -> CpuInTurn:
    """Both sides' CPU time per request, in batches of CPU_BATCH taken in turn, and wall p50s;
    a burst from another job moves one pair of batches, which the medians leave out."""
    for i in range(WARMUP):
        first(i)
        second(i)
    cpus: tuple[list[float], list[float]] = ([], [])
    walls: tuple[list[float], list[float]] = ([], [])
    for batch in range(WARMUP, WARMUP + n, CPU_BATCH):
        for one, cpu, wall in zip((first, second), cpus, walls, strict=True):
            started = time.process_time()
            requests = range(batch, min(batch + CPU_BATCH, WARMUP + n))
            for i in requests:
                t0 = time.perf_counter()
                one(i)
                wall.append(time.perf_counter() - t0)
            cpu.append((time.process_time() - started) / len(requests))
    return CpuInTurn(cpus[0], cpus[1], p50(walls[0]), p50(walls[1]))


def store_rows(work: Path, n: int) -> list[Row]:
    """Write p50 per durability mode and read p50, each beside hello-world taken in turn."""
    from skill.storage import TinyDBPersistenceAdapter

    rows: list[Row] = []
    start = datetime.now(UTC).replace(microsecond=0)
    users = 1000
    for mode in ("full", "normal", "off"):
        data = work / f"store-{mode}"
        populate(data, users, start)
        adapter = TinyDBPersistenceAdapter(data, durability=mode)  # type: ignore[arg-type]
        before = adapter.load(user_id(0))["_revision"]
        ours = ours_poster(adapter, n, start, "StartKidTimeIntent", users)
        hello, wall = in_turn(n, hello_poster(n), ours)
        assert sum(adapter.load(user_id(i))["_revision"] for i in range(users)) > before * users
        rows.append(
            (
                f"write p50, returning user, MAMA_DURABILITY={mode}",
                ms(hello),
                ms(wall),
                ratio(wall, hello),
                "StartKidTimeIntent, TinyDB, 1,000 users, in turn with the anchor",
            )
        )
        if mode == "full":
            revisions = [adapter.load(user_id(i))["_revision"] for i in range(users)]
            later = start + STEP * (WARMUP + n + 10)
            reader = ours_poster(adapter, n, later, "ReadLetterIntent", users)
            hello, wall = in_turn(n, hello_poster(n), reader)
            after = [adapter.load(user_id(i))["_revision"] for i in range(users)]
            assert after == revisions, "the letter changed state"
            read_row = (
                "read p50 (ReadLetterIntent, changes nothing)",
                ms(hello),
                ms(wall),
                ratio(wall, hello),
                "TinyDB, 1,000 users, in turn with the anchor",
            )
        shutil.rmtree(data, ignore_errors=True)
    rows.append(read_row)
    return rows


def signature_row(n: int) -> Row:
    """What a signed request (warm certificate cache) adds, on the in-memory store.

    Two apps, one checking signatures, take the same requests in batches in turn, so the
    machine's drift moves both; the cost is the difference of their CPU time per request (the
    wall p50s, a noisier figure on a shared machine, are in the notes).
    """
    from tests.alexa_pki import test_pki
    from tests.clock import START

    pki = test_pki()
    clock = Clock(START)
    unsigned_client = ours_app(MemoryAdapter(), clock).test_client()
    signed_client = ours_app(MemoryAdapter(), clock, verifier=pki.verifier()).test_client()
    rng = random.Random(7)
    total = WARMUP + n
    times = [START + STEP * (i + 1) for i in range(total)]
    bodies = [
        intent_request(user_id(rng.randrange(50)), times[i], "ReadLetterIntent")
        for i in range(total)
    ]
    headers = [pki.sign(body) for body in bodies]
    # Both get the headers Alexa always sends; only one app checks them.
    unsigned_one = poster(unsigned_client, bodies, clock, times, headers)
    signed_one = poster(signed_client, bodies, clock, times, headers)
    taken = cpu_in_turn(n, unsigned_one, signed_one)
    return (
        "signature check, warm cache, added per request",
        "—",
        f"+{taken.added() * 1e3:.3f} ms",
        "goal +0.10 ms",
        f"CPU, median of {len(taken.first)} batch pairs; wall p50 "
        f"+{(taken.second_wall - taken.first_wall) * 1e3:.3f} ms ({ms(taken.second_wall)} signed "
        f"vs {ms(taken.first_wall)} unsigned), ReadLetterIntent, in the app",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Cold start, memory, durability, request cost.")
    parser.add_argument("--runs", type=int, default=11, help="fresh processes per kind")
    parser.add_argument("--requests", type=int, default=2000, help="timed requests per row")
    parser.add_argument("--rss-requests", type=int, default=1000)
    args = parser.parse_args(argv)
    for tree in ("skill", "speech", "bench"):
        compileall.compile_dir(ROOT / tree, quiet=1)
    work = Path(tempfile.mkdtemp(prefix="bench-lean-"))
    rows: list[Row] = []
    try:
        cold = cold_starts(args.runs, work)
        hello_wall = p50([s[0] for s in cold["hello"]])
        hello_first = p50([s[2] for s in cold["hello"]])
        pairs = zip(cold["hello"], cold["ours (signatures off)"], strict=True)
        paired = p50([o[0] / h[0] for h, o in pairs])
        for name in ("ours (production settings)", "ours (signatures off)"):
            wall = p50([s[0] for s in cold[name]])
            inside = p50([s[1] for s in cold[name]])
            hello_inside = p50([s[1] for s in cold["hello"]])
            note = f"imports + create_app alone: {ms(inside)} vs {ms(hello_inside)}"
            if name == "ours (signatures off)":
                note += f"; paired ratio {paired:.2f}×"
            rows.append(
                (
                    f"cold start, whole process, {name}",
                    ms(hello_wall),
                    ms(wall),
                    ratio(wall, hello_wall),
                    note,
                )
            )
        first = p50([s[2] for s in cold["ours (signatures off)"]])
        rows.append(
            (
                "first request (LaunchRequest) in a fresh process",
                ms(hello_first),
                ms(first),
                ratio(first, hello_first),
                "signatures off, as the anchor",
            )
        )

        rss_env = {
            **CHILD_ENV,
            "MAMA_DATA_DIR": str(work / "rss-data"),
            "MAMA_VERIFY_SIGNATURES": "0",
        }
        hello_rss = worker_rss("bench.hello_world:create_app()", CHILD_ENV, args.rss_requests)
        ours_rss = worker_rss("skill.app:create_app()", rss_env, args.rss_requests)
        rows.append(
            (
                f"one gunicorn worker's RSS after {args.rss_requests:,} requests",
                f"{hello_rss:.1f} MiB",
                f"{ours_rss:.1f} MiB",
                ratio(ours_rss, hello_rss),
                "StartKidTimeIntent, a new user each time, TinyDB",
            )
        )

        rows.extend(store_rows(work, args.requests))
        taken = cpu_in_turn(
            args.requests,
            hello_poster(args.requests),
            ours_poster(
                MemoryAdapter(), args.requests, datetime.now(UTC), "StartKidTimeIntent", 1000
            ),
        )
        rows.append(
            (
                "request CPU beyond the store (in-memory store)",
                f"{statistics.median(taken.first) * 1e3:.3f} ms",
                f"{statistics.median(taken.second) * 1e3:.3f} ms",
                f"{taken.ratio():.2f}×",
                f"StartKidTimeIntent, median of {len(taken.first)} batch pairs' ratios; "
                f"wall p50 {ms(taken.second_wall)} vs {ms(taken.first_wall)}",
            )
        )
        rows.append(signature_row(3 * args.requests))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    cores = os.cpu_count()
    print(
        f"\n{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {cores} cores, "
        f"Python {platform.python_version()}; {args.runs} fresh processes per kind, "
        f"{args.requests} timed requests per row (+{WARMUP} warm-up)\n"
    )
    print("| measure | hello-world | ours | ratio | notes |")
    print("| --- | --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
