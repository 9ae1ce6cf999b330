"""Prometheus metrics at ``/metrics`` (``MAMA_METRICS=1``, the optional ``metrics`` extra).

prometheus-flask-exporter gives the HTTP side (requests and a latency histogram per route rule,
method and status); :class:`SkillMetrics` adds the skill's own: answers per request type and
intent, the skill's latency, stale-write retries and spoken apologies. Every label is a request
type, intent name or error type the code declares, never a user id, slot value or raw path, so
a hostile client cannot grow the label set.

Under gunicorn each worker is its own process: ``PROMETHEUS_MULTIPROC_DIR`` (set by
:mod:`skill.web.gunicorn_conf`) makes them share counters through files, and any worker answers
``/metrics`` for all of them.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from skill.config import ConfigError

#: Seconds; Alexa allows 8 s for an answer, most take a few milliseconds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 8.0)


class SkillMetrics:
    """The skill's counters and histogram; a ``RunObserver`` for the runner."""

    def __init__(self, registry: Any) -> None:
        from prometheus_client import Counter, Histogram

        self.requests = Counter(
            "mama_skill_requests",
            "Alexa requests answered, by request type and intent.",
            ["request_type", "intent"],
            registry=registry,
        )
        self.latency = Histogram(
            "mama_skill_seconds",
            "Time to answer an Alexa request (parse, skill, store), by request type.",
            ["request_type"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.retries = Counter(
            "mama_store_retries",
            "Skill runs repeated because another request for the same user saved first.",
            registry=registry,
        )
        self.apologies = Counter(
            "mama_apologies",
            "Spoken apologies, by the type of the failure behind them.",
            ["error"],
            registry=registry,
        )

    def answered(self, request_type: str, intent: str, seconds: float) -> None:
        """One request answered (intent is ``""`` for requests that carry none)."""
        self.requests.labels(request_type, intent).inc()
        self.latency.labels(request_type).observe(seconds)

    def retried(self) -> None:
        """One lost write race, re-run on fresh state."""
        self.retries.inc()

    def apologised(self, error: str) -> None:
        """The skill spoke its apology because of an ``error`` (an exception type name)."""
        self.apologies.labels(error[:60]).inc()


def install_metrics(app: Flask) -> SkillMetrics:
    """Serve ``/metrics`` from ``app`` and return the skill's metrics to feed."""
    try:
        from prometheus_client import CollectorRegistry
        from prometheus_flask_exporter import PrometheusMetrics
    except ImportError:
        raise ConfigError(
            "MAMA_METRICS=1 needs the metrics extra: pip install 'mama-moments[metrics]'"
        ) from None
    options: dict[str, Any] = {
        # The rule ("/speech/<key>.wav"), not the path a client typed: a bounded label set.
        "group_by": "url_rule",
        "buckets": LATENCY_BUCKETS,
        "excluded_paths": ["/metrics", "/livez", "/healthz", "/readyz"],
    }
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_flask_exporter.multiprocess import GunicornInternalPrometheusMetrics

        GunicornInternalPrometheusMetrics(app, **options)
        # Each process writes its values to the shared folder; nothing to register.
        return SkillMetrics(registry=None)
    # Its own registry per app, so several apps in one process (tests) never collide.
    registry = CollectorRegistry()
    PrometheusMetrics(app, registry=registry, **options)
    return SkillMetrics(registry)
