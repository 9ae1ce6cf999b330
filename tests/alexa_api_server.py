"""A real local HTTP server standing in for api.amazonalexa.com: the Timers, Reminders and
Settings APIs.

Requests are recorded so tests can check the exact calls; answers can be turned into failures.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote


@dataclass
class Recorded:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeAlexaApi:
    """What the server answers; change the fields to make it fail."""

    time_zone: Any = "Europe/London"
    timer_status: int = 200
    #: Raw body for timer creation instead of the usual ``{"id": ...}``.
    timer_body: bytes | None = None
    delete_status: int = 200
    settings_status: int = 200
    #: The Customer Profile first name; ``None`` answers 403 (permission not granted).
    given_name: Any = None
    #: Seconds to wait before answering anything (for client timeouts).
    delay: float = 0.0
    #: Reminders API: the status a create, list or delete answers (200 = as documented).
    reminder_status: int = 200
    reminders_list_status: int = 200
    reminder_delete_status: int = 200
    #: Raw body for reminder creation instead of the usual ``{"alertToken": ...}``.
    reminder_body: bytes | None = None
    #: The reminders the stand-in holds, by alert token (what POST created).
    reminders: dict[str, Any] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    url: str = ""
    _timers: int = 0
    _reminders: int = 0

    def calls(self, method: str, prefix: str = "/") -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path.startswith(prefix)]

    def answer(self, method: str, path: str, body: Any) -> tuple[int, bytes]:
        if method == "POST" and path == "/v1/alerts/timers":
            if self.timer_status != 200:
                return self.timer_status, b'{"message": "no"}'
            if self.timer_body is not None:
                return 200, self.timer_body
            self._timers += 1
            timer = {"id": f"timer-{self._timers}", "status": "ON", "duration": body["duration"]}
            return 200, json.dumps(timer).encode()
        if path == "/v1/alerts/reminders" or path.startswith("/v1/alerts/reminders/"):
            return self.answer_reminders(method, path, body)
        if method == "GET" and path == "/v2/accounts/~current/settings/Profile.givenName":
            if self.given_name is None:
                return 403, b'{"code": "ACCESS_DENIED"}'
            return 200, json.dumps(self.given_name).encode()
        if method == "DELETE" and path.startswith("/v1/alerts/timers/"):
            return self.delete_status, b""
        if method == "GET" and path.endswith("/settings/System.timeZone"):
            if self.settings_status != 200:
                return self.settings_status, b'{"message": "no"}'
            return 200, json.dumps(self.time_zone).encode()
        return 404, b'{"message": "not found"}'

    def answer_reminders(self, method: str, path: str, body: Any) -> tuple[int, bytes]:
        """The Reminders API: create (201), list, and delete (404 for an unknown token)."""
        if method == "POST" and path == "/v1/alerts/reminders":
            if self.reminder_status != 200:
                return self.reminder_status, b'{"code": "INVALID_BEARER_TOKEN"}'
            if self.reminder_body is not None:
                return 201, self.reminder_body
            self._reminders += 1
            token = f"reminder-{self._reminders}"
            self.reminders[token] = {"alertToken": token, "status": "ON", **body}
            return 201, json.dumps({"alertToken": token, "status": "ON"}).encode()
        if method == "GET" and path == "/v1/alerts/reminders":
            if self.reminders_list_status != 200:
                return self.reminders_list_status, b'{"code": "INTERNAL_ERROR"}'
            alerts = list(self.reminders.values())
            return 200, json.dumps({"totalCount": str(len(alerts)), "alerts": alerts}).encode()
        if method == "DELETE":
            if self.reminder_delete_status != 200:
                return self.reminder_delete_status, b'{"code": "INTERNAL_ERROR"}'
            token = unquote(path.rsplit("/", 1)[1])
            if self.reminders.pop(token, None) is None:
                return 404, b'{"code": "ALERT_NOT_FOUND"}'
            return 200, b""
        return 405, b'{"message": "method not allowed"}'


def _handler(api: FakeAlexaApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            api.requests.append(Recorded(self.command, self.path, dict(self.headers), body))
            if api.delay:
                time.sleep(api.delay)
            status, payload = api.answer(self.command, self.path, body)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output quiet

    return Handler


@contextmanager
def running(api: FakeAlexaApi | None = None) -> Iterator[FakeAlexaApi]:
    """Serve ``api`` on 127.0.0.1 at a free port for the duration of the block."""
    api = api or FakeAlexaApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    server.daemon_threads = True
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class StandInTransport:
    """Posts like ``inner`` but as if Alexa sent the requests: the stand-in as ``apiEndpoint``
    and the given permission scopes granted (local conversations carry neither)."""

    def __init__(self, inner: Any, api: FakeAlexaApi, scopes: list[str]) -> None:
        self.inner = inner
        self.api = api
        self.scopes = scopes

    def post(self, envelope: dict[str, Any]) -> tuple[int, Any]:
        system = envelope["context"]["System"]
        system["apiEndpoint"] = self.api.url
        if self.scopes:
            granted = {scope: {"status": "GRANTED"} for scope in self.scopes}
            system["user"]["permissions"] = {"scopes": granted}
        status, body = self.inner.post(envelope)
        return int(status), body


@contextmanager
def stand_in_conversation(settings: dict[str, Any], data_dir: Any, locale: str, user: str) -> Any:
    """A conversation with the app whose Alexa API calls reach the stand-in, for replay files
    with an ``alexa_api`` block (``time_zone``, granted ``permissions``)."""
    from skill.alexa.alexa_api import AlexaApi
    from skill.alexa.turn import Deps
    from skill.config import Config
    from skill.devtools.simulator import (
        AppTransport,
        Conversation,
        EnvelopeFactory,
        UtteranceMatcher,
    )
    from skill.devtools.simulator.model import load_model
    from skill.web.app import create_app

    fake = FakeAlexaApi(time_zone=settings.get("time_zone", "Europe/London"))
    with running(fake) as api:
        # Unsigned (local tools), but with a client that may call the loopback stand-in.
        app = create_app(
            Config(data_dir=data_dir, verify_signatures=False), deps=Deps(alexa_api=AlexaApi())
        )
        transport = StandInTransport(AppTransport(app), api, list(settings.get("permissions", [])))
        factory = EnvelopeFactory("amzn1.ask.skill.replay", user, locale)
        yield Conversation(transport, factory, UtteranceMatcher(load_model(locale)))
