"""The production server (gunicorn, gevent workers, skill/web/gunicorn_conf.py) against slow and
hostile clients, a read-only data folder and several workers sharing metrics (issue 12 faults 1,
8 and 9; issue 16 part 4)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from skill.storage import TinyDBPersistenceAdapter
from tests import envelopes as E
from tests.servers import free_port, wait_until_healthy

BODY_TIMEOUT_S = 2
WORKERS = 2

# The server checks timestamps against the real clock, so the envelopes use it too.
pytestmark = [pytest.mark.slow, pytest.mark.real_clock]


class Server:
    """One production server in a child process."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, data_dir: Path) -> None:
        self.process = process
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.data_dir = data_dir

    def post(self, envelope: dict[str, object]) -> requests.Response:
        return requests.post(f"{self.url}/alexa", json=envelope, timeout=10)

    def raw(self, head: bytes, body: bytes = b"") -> socket.socket:
        """A connection that has sent ``head`` and ``body`` and then sends nothing more."""
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=15)
        sock.sendall(head + body)
        return sock

    def worker_pids(self) -> set[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return {int(pid) for pid in children.read_text().split()}


def _answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of the one response on ``sock``."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed before an answer: {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        body += sock.recv(65536)
    return int(lines[0].split()[1]), headers, body


def _start(data_dir: Path, *, prefix: list[str] | None = None, **env: str) -> Server:
    port = free_port()
    settings = {
        **os.environ,
        "MAMA_DATA_DIR": str(data_dir),
        "MAMA_VERIFY_SIGNATURES": "0",
        "MAMA_BIND": f"127.0.0.1:{port}",
        "MAMA_WORKERS": str(WORKERS),
        "MAMA_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT_S),
        **env,
    }
    command = [sys.executable, "-m", "gunicorn", "-c", "python:skill.web.gunicorn_conf"]
    process = subprocess.Popen(
        [*(prefix or []), *command],
        env=settings,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    server = Server(process, port, data_dir)
    wait_until_healthy(server.url, process)
    return server


def _stop(server: Server) -> bytes:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
    _, stderr = server.process.communicate(timeout=30)
    return stderr


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = _start(tmp_path / "data")
    try:
        yield running
    finally:
        _stop(running)


def _timed(call: Callable[[], object]) -> float:
    started = time.monotonic()
    call()
    return time.monotonic() - started


def test_stalled_bodies_get_a_json_408_and_hold_no_worker(server: Server) -> None:
    head = (
        b"POST /alexa HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 2000\r\n\r\n"
    )
    # Four times as many stalled clients as workers: a sync worker per client would be gone.
    stalled = [server.raw(head, b'{"version": "1.0", ') for _ in range(4 * WORKERS)]
    started = time.monotonic()
    # While they stall, other requests are answered at once.
    launch = server.post(E.launch(now=datetime.now(UTC)))
    assert launch.status_code == 200 and launch.json()["response"]["outputSpeech"]
    assert time.monotonic() - started < 1.0
    for sock in stalled:
        with sock:
            status, headers, body = _answer(sock)
        assert status == 408 and headers["content-type"] == "application/json"
        assert json.loads(body)["error"] == "request_timeout"
        assert headers["x-content-type-options"] == "nosniff"
    waited = time.monotonic() - started
    assert BODY_TIMEOUT_S - 0.5 < waited < BODY_TIMEOUT_S + 3, waited


def test_a_chunked_body_over_the_limit_is_413_through_gunicorn(tmp_path: Path) -> None:
    running = _start(tmp_path / "data", MAMA_MAX_BODY_BYTES="4096")
    try:
        envelope = json.dumps(E.launch(now=datetime.now(UTC))).encode()
        padded = envelope + b" " * (5000 - len(envelope))
        chunks = b"".join(
            b"%x\r\n%s\r\n" % (len(part), part)
            for part in (padded[i : i + 1000] for i in range(0, len(padded), 1000))
        )
        head = (
            b"POST /alexa HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        with running.raw(head, chunks + b"0\r\n\r\n") as sock:
            status, headers, body = _answer(sock)
        assert status == 413 and headers["content-type"] == "application/json"
        assert json.loads(body)["error"] == "request_entity_too_large"
        store = TinyDBPersistenceAdapter(running.data_dir)
        assert not store.path_for(E.USER_ID).exists()
        # The same body within the limit is served.
        small = b"%x\r\n%s\r\n0\r\n\r\n" % (len(envelope), envelope)
        with running.raw(head, small) as sock:
            assert _answer(sock)[0] == 200
    finally:
        _stop(running)


def test_metrics_are_shared_by_the_workers(tmp_path: Path) -> None:
    running = _start(tmp_path / "data", MAMA_METRICS="1", MAMA_WORKERS="3")
    try:
        launches = 30
        with ThreadPoolExecutor(max_workers=6) as pool:
            now = datetime.now(UTC)
            users = [f"metrics-user-{n}" for n in range(launches)]
            for answer in pool.map(lambda u: running.post(E.launch(now=now, user_id=u)), users):
                assert answer.status_code == 200
        # Whichever worker answers /metrics counts every worker's requests.
        for _ in range(3):
            text = requests.get(f"{running.url}/metrics", timeout=10).text
            line = next(
                line
                for line in text.splitlines()
                if line.startswith("mama_skill_requests_total{")
                and 'request_type="LaunchRequest"' in line
            )
            assert float(line.rsplit(" ", 1)[1]) == launches
            assert "metrics-user" not in text
    finally:
        _stop(running)


# --- fault 1: a worker that boots while the data folder is read-only ---------------------------


def _can_remount() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("nsenter") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount --bind / /mnt 2>/dev/null || mount -t tmpfs x /mnt"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


@pytest.mark.skipif(not _can_remount(), reason="needs root and mount namespaces (unshare -m)")
def test_a_worker_booting_on_a_read_only_folder_serves_degraded(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    # The server runs in its own mount namespace, where the data folder is a bind mount that
    # can be made read-only under it (root ignores permission bits, not a read-only mount).
    wrapper = ["unshare", "-m", "sh", "-c", f'mount --bind {data_dir} {data_dir} && exec "$@"', "-"]
    running = _start(data_dir, prefix=wrapper)
    try:
        now = datetime.now(UTC)
        assert running.post(E.intent("StartKidTimeIntent", now=now)).status_code == 200
        # The server answers the first request after this with a remount read-only.
        subprocess.run(
            [
                "nsenter",
                "-t",
                str(running.process.pid),
                "-m",
                "mount",
                "-o",
                "remount,ro,bind",
                str(data_dir),
            ],
            check=True,
        )
        # Every worker restarts on the read-only folder (before the fix: gunicorn exited, 3).
        old = running.worker_pids()
        for pid in old:
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            pids = running.worker_pids()
            if len(pids) == WORKERS and not pids & old:
                break
            assert running.process.poll() is None, _stop(running)
            time.sleep(0.2)
        wait_until_healthy(running.url, running.process)
        assert running.process.poll() is None
        live = requests.get(f"{running.url}/healthz", timeout=5).json()
        assert live == {"status": "degraded", "store": "not writable"}
        assert requests.get(f"{running.url}/readyz", timeout=5).status_code == 503
        # Reads are served; writes get the spoken apology, a normal Alexa answer.
        summary = running.post(E.intent("KidTimeSummaryIntent", now=datetime.now(UTC)))
        assert summary.status_code == 200
        assert "sorry" not in summary.json()["response"]["outputSpeech"]["ssml"].lower()
        write = running.post(E.launch(now=datetime.now(UTC)))
        assert write.status_code == 200
        assert "sorry" in write.json()["response"]["outputSpeech"]["ssml"].lower()
        # The folder comes back: readiness follows without a restart.
        subprocess.run(
            [
                "nsenter",
                "-t",
                str(running.process.pid),
                "-m",
                "mount",
                "-o",
                "remount,rw,bind",
                str(data_dir),
            ],
            check=True,
        )
        time.sleep(1.2)  # the readiness answer is kept for a second
        assert requests.get(f"{running.url}/readyz", timeout=5).status_code == 200
        assert running.post(E.launch(now=datetime.now(UTC))).status_code == 200
    finally:
        _stop(running)
