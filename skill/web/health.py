"""``/livez`` (alias ``/healthz``) and ``/readyz``: is the process up, can it take writes.

Liveness answers 200 while the process serves at all, with ``"degraded"`` when the store cannot
take writes: restarting the process would not help, and reads still work. Readiness answers 503
then, so a load balancer sends traffic elsewhere until the store is back. Both ask the store
adapter's own ``readiness()`` (the TinyDB folder is probed; another back end says whether it is
reachable), at most once per ``max_age`` seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from functools import partial

from flask import Blueprint, Response, jsonify

from skill.storage.admin import Readiness
from skill.storage.errors import StoreError

logger = logging.getLogger(__name__)


class StoreHealth:
    """The store's last readiness answer, refreshed when older than ``max_age`` seconds."""

    def __init__(
        self,
        check: Callable[[], Readiness],
        *,
        max_age: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._check = check
        self._max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._last: Readiness | None = None
        self._checked_at = 0.0

    @classmethod
    def of(cls, adapter: object, *, max_age: float = 1.0) -> StoreHealth:
        """Health from ``adapter.readiness()``, else from its ``ensure_ready()`` (the DynamoDB
        store's: ``StoreError`` while the table is not reachable); else always ready."""
        readiness = getattr(adapter, "readiness", None)
        if callable(readiness):
            return cls(readiness, max_age=max_age)
        ensure_ready = getattr(adapter, "ensure_ready", None)
        if callable(ensure_ready):
            return cls(partial(_readiness_of, ensure_ready), max_age=max_age)
        return cls(Readiness, max_age=max_age)

    def current(self) -> Readiness:
        """The readiness now (cached for ``max_age``); changes are logged once."""
        with self._lock:
            now = self._clock()
            if self._last is not None and now - self._checked_at < self._max_age:
                return self._last
            try:
                answer = self._check()
            except Exception as exc:  # a back end that cannot even say is not ready
                answer = Readiness("unreachable", f"readiness check failed: {type(exc).__name__}")
            if self._last is None or answer.ready != self._last.ready:
                if answer.ready:
                    logger.info("the store is ready")
                else:
                    logger.error("the store is %s: %s", answer.problem, answer.detail)
            self._last, self._checked_at = answer, now
            return answer


def _readiness_of(ensure_ready: Callable[[], object]) -> Readiness:
    try:
        ensure_ready()
    except StoreError as exc:
        return Readiness("unreachable", str(exc))
    return Readiness()


def health_blueprint(health: StoreHealth) -> Blueprint:
    """The probe routes, answered from ``health``."""
    blueprint = Blueprint("health", __name__)

    def live() -> Response:
        state = health.current()
        if state.ready:
            return jsonify({"status": "ok"})
        return jsonify({"status": "degraded", "store": state.problem})

    def ready() -> tuple[Response, int]:
        state = health.current()
        if state.ready:
            return jsonify({"status": "ready"}), 200
        return jsonify({"status": "not_ready", "store": state.problem}), 503

    blueprint.add_url_rule("/livez", "livez", live)
    # The older name, kept for existing probes and scripts.
    blueprint.add_url_rule("/healthz", "healthz", live)
    blueprint.add_url_rule("/readyz", "readyz", ready)
    return blueprint
