"""Servers the tests start in another process: a free port, gunicorn, waiting until healthy."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import requests

#: Generous: gunicorn workers booting together on a busy 2-core machine can take many seconds.
START_UP_SECONDS = 90.0


def free_port() -> int:
    """A loopback port nothing listens on (bound, read, released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn(arguments: list[str], env: Mapping[str, str]) -> Iterator[str]:
    """gunicorn from this venv with ``arguments`` on a free port; yields its base URL once it is
    healthy, and stops it with SIGTERM afterwards."""
    port = free_port()
    command = [str(Path(sys.executable).with_name("gunicorn")), *arguments]
    process = subprocess.Popen(
        [*command, "--bind", f"127.0.0.1:{port}"],
        env=dict(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def wait_until_healthy(
    base_url: str, process: subprocess.Popen[bytes], *, within: float = START_UP_SECONDS
) -> None:
    """Poll ``GET /healthz`` until it answers 200, the process exits, or the deadline passes.

    Every transient failure while the server boots (refused or reset connections, read timeouts,
    a 5xx from a worker that is not ready yet) is retried; only the deadline or an exited
    process ends the wait, with the server's own output in the error.
    """
    deadline = time.monotonic() + within
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            reply = requests.get(f"{base_url}/healthz", timeout=2)
            if reply.status_code == 200:
                return
            last_error = f"HTTP {reply.status_code}"
        except requests.RequestException as exc:
            last_error = type(exc).__name__
        time.sleep(0.1)
    if process.poll() is None:
        process.kill()
    _, stderr = process.communicate(timeout=10)
    raise RuntimeError(
        f"server at {base_url} was not healthy within {within:.0f} s "
        f"(exit code {process.returncode}, last error {last_error}): {stderr!r}"
    )
