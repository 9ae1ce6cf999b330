"""DynamoDB-compatible servers on loopback, started by the tests themselves; never AWS.

* :func:`dynalite` runs `dynalite` (npm; the DynamoDB API on LevelDB, installed into
  ``tests/e2e/node_modules`` from the lock file by ``npm ci --prefix tests/e2e``) in its own
  process. Missing node or package: skipped locally, a failure with ``CI=true``.
* :func:`moto_server` runs moto's server in a thread of this process (a second, independent
  implementation of the same API, from the ``dev`` extra).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.servers import free_port

E2E_DIR = Path(__file__).resolve().parents[1] / "e2e"
DYNALITE_CLI = E2E_DIR / "node_modules" / "dynalite" / "cli.js"
START_UP_SECONDS = 30.0
#: Tables leave CREATING this fast (dynalite's default is 500 ms; AWS takes seconds): the
#: store waits for ACTIVE either way, a test should not.
CREATE_TABLE_MS = 20


def fake_aws_environment(env: MutableMapping[str, str], home: Path) -> None:
    """Dummy credentials and no real AWS profile or config file, in ``env`` (os.environ or a
    child's environment): boto3 must sign requests, and nothing may reach a real account."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        env[name] = "testing"
    env["AWS_SESSION_TOKEN"] = "testing"
    env["AWS_CONFIG_FILE"] = str(home / "no-aws-config")
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(home / "no-aws-credentials")
    env.pop("AWS_PROFILE", None)


@pytest.fixture(autouse=True)
def fake_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Dummy credentials for the test's process; no real AWS profile or config can leak in.
    Import it into a test module to use it there (it is autouse)."""
    env: dict[str, str] = {}
    fake_aws_environment(env, tmp_path)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def _missing(reason: str) -> None:
    """Skip locally, fail in CI (CI must never pass by skipping the real server)."""
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def _answers(url: str) -> bool:
    """Whether a DynamoDB API answers at ``url`` (any JSON reply; the request is unsigned)."""
    try:
        reply = requests.post(
            url,
            data="{}",
            headers={
                "X-Amz-Target": "DynamoDB_20120810.ListTables",
                "Content-Type": "application/x-amz-json-1.0",
            },
            timeout=2,
        )
    except requests.RequestException:
        return False
    return reply.headers.get("Content-Type", "").startswith("application/x-amz-json")


@contextmanager
def dynalite(*, path: Path | None = None) -> Iterator[str]:
    """A dynalite server on a free loopback port; yields its URL. ``path``: LevelDB on disk
    (otherwise in memory). The server is stopped (SIGTERM, then SIGKILL) on exit."""
    node = shutil.which("node")
    if node is None:
        _missing("node is not installed (Debian package nodejs)")
    if not DYNALITE_CLI.is_file():
        _missing("dynalite is missing: run `npm ci --prefix tests/e2e`")
    assert node is not None
    last_error = ""
    for _ in range(3):  # a free port can be taken between the probe and the listen
        port = free_port()
        args = [node, str(DYNALITE_CLI), "--host", "127.0.0.1", "--port", str(port)]
        args += ["--createTableMs", str(CREATE_TABLE_MS), "--deleteTableMs", "0"]
        if path is not None:
            args += ["--path", str(path)]
        process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_UP_SECONDS
        while time.monotonic() < deadline and process.poll() is None and not _answers(url):
            time.sleep(0.05)
        if process.poll() is None and _answers(url):
            try:
                yield url
            finally:
                _stop(process)
            return
        _stop(process)
        last_error = process.stderr.read().decode(errors="replace") if process.stderr else ""
    raise RuntimeError(f"dynalite did not start: {last_error[-2000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's DynamoDB server in a thread of this process; yields its URL.

    Its requests are served one at a time: moto checks a ``ConditionExpression`` and then writes
    with no lock between, so two threads of its own threaded server can both pass one check,
    which DynamoDB never lets happen (a conditional write is atomic per item). Serialised, it
    is still an independent implementation of the conditions, without that race of its own.
    """
    pytest.importorskip("moto.server")
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    app = DomainDispatcherApplication(create_backend_app)
    one_at_a_time = threading.Lock()

    def serialised(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        with one_at_a_time:
            return list(app(environ, start_response))

    port = free_port()
    server = make_server(
        "127.0.0.1", port, serialised, threaded=True, request_handler=MotoRequestHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


SERVERS = {"dynalite": dynalite, "moto": moto_server}
