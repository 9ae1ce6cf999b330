"""gunicorn settings for the production server: ``gunicorn -c python:skill.web.gunicorn_conf``.

``make run``, ``mama-moments run`` and ``make serve-prod`` all use it; flags given on the command
line (``--bind``, ``--workers``) win over these. Why gevent workers, and these numbers, is in
docs/ARCHITECTURE.md ("The production server"). In short: a gevent worker waits for a slow client
in a greenlet, not in a process, so 200 idle or dribbling connections cost memory, not workers;
a request body gets ``MAMA_BODY_TIMEOUT_SECONDS`` (a JSON 408 after that, see
:mod:`skill.web.body`), request headers and idle keep-alive connections get ``keepalive``
seconds.

Environment: ``MAMA_BIND`` (default ``127.0.0.1:5000``), ``MAMA_WORKERS`` or gunicorn's usual
``WEB_CONCURRENCY`` (default two per CPU: a durable write blocks its worker for an fsync),
``MAMA_LOG_FORMAT``, and ``MAMA_METRICS`` (counters shared by the workers through
``PROMETHEUS_MULTIPROC_DIR``, a fresh temporary folder unless it is set).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from skill.web.logs import gunicorn_logconfig

_TRUE = {"1", "true", "yes", "on"}


def _workers() -> int:
    raw = os.environ.get("MAMA_WORKERS") or os.environ.get("WEB_CONCURRENCY") or ""
    try:
        value = int(raw)
    except ValueError:
        value = 0
    return value if value > 0 else 2 * (os.cpu_count() or 1)


def _metrics_on() -> bool:
    return os.environ.get("MAMA_METRICS", "").strip().lower() in _TRUE


wsgi_app = "skill.app:create_app()"
bind = [os.environ.get("MAMA_BIND") or "127.0.0.1:5000"]
worker_class = "gevent"
workers = _workers()
#: Connections one worker holds at once (idle ones included): slow clients queue here.
worker_connections = 1000
#: A worker that stops checking in (stuck on CPU, not on a client) is restarted after this.
timeout = 30
#: On SIGTERM, requests in flight get this long; Alexa never waits more than 8 s anyway.
graceful_timeout = 10
#: Seconds for a request's headers and between keep-alive requests; then the socket is closed.
keepalive = 5
accesslog = "-"
#: gunicorn 24+'s control socket sits at one path per user: parallel servers would share it.
control_socket_disable = True
logconfig_dict = gunicorn_logconfig(os.environ.get("MAMA_LOG_FORMAT", "text").strip().lower())
#: Behind a reverse proxy on the same host, trust its X-Forwarded-* headers (gunicorn's default).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

_own_metrics_dir: Path | None = None


def on_starting(server: Any) -> None:
    """Before any worker: give the workers a shared, empty folder for their metrics."""
    global _own_metrics_dir
    if not _metrics_on():
        return
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        # Files left by an earlier run would be added to this run's counts.
        for stale in Path(folder).glob("*.db"):
            stale.unlink()
    else:
        _own_metrics_dir = Path(tempfile.mkdtemp(prefix="mama-metrics-"))
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(_own_metrics_dir)


def when_ready(server: Any) -> None:
    """The master listens: say where. (Each worker opens the store itself, degraded if it must;
    the master imports none of the app, so gevent patches a clean process in every worker.)"""
    addresses = ", ".join(f"http://{address}/alexa" for address in server.cfg.bind)
    server.log.info("Mama Moments listening on %s with %d workers", addresses, server.cfg.workers)


def child_exit(server: Any, worker: Any) -> None:
    """A worker is gone: its live gauges must not count any more."""
    if _metrics_on() and os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def on_exit(server: Any) -> None:
    """Remove the metrics folder this configuration made (never one it was given)."""
    if _own_metrics_dir is not None:
        shutil.rmtree(_own_metrics_dir, ignore_errors=True)
