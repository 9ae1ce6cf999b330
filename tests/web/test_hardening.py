"""Issue 12's faults, in process: each test failed before its fix (see the fault's number)."""

from __future__ import annotations

import io
import json
import logging
import os
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import EnvironBuilder, run_wsgi_app

from skill.config import Config
from skill.storage import StaleWriteError, TinyDBPersistenceAdapter
from skill.storage.admin import Readiness
from skill.web.body import BodyTimeout, BodyTooLarge, BodyUnreadable, read_body
from skill.web.health import StoreHealth
from skill.web.runner import WRITE_ATTEMPTS
from speech.catalog import load_catalogs
from tests import envelopes as E
from tests.conftest import Reply, Skill

US = load_catalogs().for_locale("en-US")


def _chunked_post(skill: Skill, body: bytes) -> Reply:
    """A body without Content-Length, framed by the server (as gunicorn does for chunked)."""
    environ = EnvironBuilder("/alexa", method="POST", content_type="application/json").get_environ()
    environ.pop("CONTENT_LENGTH", None)
    environ.update({"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True})
    chunks, status, _ = run_wsgi_app(skill.app, environ, buffered=True)
    raw = b"".join(chunks)
    return Reply(int(status.split()[0]), json.loads(raw) if raw else {})


# --- fault 8: chunked bodies over MAMA_MAX_BODY_BYTES ----------------------------------------


def test_a_chunked_body_over_the_limit_is_413_not_cut_off(make_skill: Any) -> None:
    skill = make_skill(signed=False, max_body_bytes=4096)
    envelope = E.launch(now=skill.clock())
    # Valid JSON up to the limit, then padding: cutting it at the limit would parse fine.
    body = json.dumps(envelope).encode()
    padded = body + b" " * (4096 - len(body)) + b" " * 100
    reply = _chunked_post(skill, padded)
    assert reply.status == 413 and reply.body["error"] == "request_entity_too_large"
    assert not TinyDBPersistenceAdapter(skill.data_dir).path_for(E.USER_ID).exists()


def test_a_chunked_body_within_the_limit_is_served(make_skill: Any) -> None:
    skill = make_skill(signed=False, max_body_bytes=4096)
    reply = _chunked_post(skill, json.dumps(E.launch(now=skill.clock())).encode())
    assert reply.status == 200 and reply.text


def test_read_body_counts_exactly_to_the_limit() -> None:
    def environ(body: bytes, **extra: Any) -> dict[str, Any]:
        return {"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True, **extra}

    assert read_body(environ(b"x" * 10), max_bytes=10, timeout=1) == b"x" * 10
    with pytest.raises(BodyTooLarge):
        read_body(environ(b"x" * 11), max_bytes=10, timeout=1)
    with pytest.raises(BodyTooLarge):  # declared too large: refused before reading
        read_body(environ(b"", CONTENT_LENGTH="11"), max_bytes=10, timeout=1)
    with pytest.raises(BodyUnreadable):
        read_body(environ(b"abc", CONTENT_LENGTH="5"), max_bytes=10, timeout=1)
    with pytest.raises(BodyUnreadable):
        read_body(environ(b"abc", CONTENT_LENGTH="three"), max_bytes=10, timeout=1)
    # No length and no framing server: WSGI says the body is empty (never read to EOF).
    assert read_body({"wsgi.input": io.BytesIO(b"abc")}, max_bytes=10, timeout=1) == b""


# --- fault 9, the part that needs no server: a slow drip ends at the deadline ----------------


class Drip(io.RawIOBase):
    """A body that arrives one byte per read, each read taking ``delay`` seconds."""

    def __init__(self, delay: float) -> None:
        self.delay = delay

    def read(self, size: int = -1) -> bytes:
        import time

        time.sleep(self.delay)
        return b"{"


@pytest.mark.real_clock
def test_a_dripping_body_stops_at_the_deadline() -> None:
    environ = {"wsgi.input": Drip(0.05), "CONTENT_LENGTH": "100000"}
    with pytest.raises(BodyTimeout):
        read_body(environ, max_bytes=200_000, timeout=0.2)


@pytest.mark.real_clock
def test_a_stalled_body_is_a_json_408(make_skill: Any) -> None:
    skill = make_skill(signed=False, body_timeout_seconds=1)
    result = skill.client.post(
        "/alexa",
        content_type="application/json",
        environ_overrides={"wsgi.input": Drip(0.3), "CONTENT_LENGTH": "5000"},
    )
    assert result.status_code == 408 and result.is_json
    assert result.get_json()["error"] == "request_timeout"


# --- fault 10: nosniff everywhere, a short echo of an unknown speech name ----------------------


def test_every_answer_says_nosniff(skill: Skill) -> None:
    answers = [
        skill.client.get("/healthz"),
        skill.client.get("/readyz"),
        skill.client.get("/nowhere"),
        skill.client.get("/alexa"),  # 405
        skill.client.post("/alexa", data=b"{", content_type="application/json"),  # 400
        skill.client.post("/alexa", data=b"x" * (300 * 1024)),  # 413
        skill.client.get("/speech/nothing.wav"),
    ]
    assert {answer.status_code for answer in answers} == {200, 400, 404, 405, 413}
    for answer in answers:
        assert answer.headers.get("X-Content-Type-Options") == "nosniff", answer.status_code


def test_the_speech_404_does_not_echo_a_long_name(skill: Skill) -> None:
    name = "a" * 4000
    answer = skill.client.get(f"/speech/{name}.wav")
    assert answer.status_code == 404
    message = answer.get_json()["message"]
    assert len(message) < 100 and "aaaa" in message and name not in message


# --- fault 6: System.ExceptionEncountered -------------------------------------------------------


def _exception_encountered(now: Any) -> dict[str, Any]:
    request = {
        "type": "System.ExceptionEncountered",
        "error": {"type": "INVALID_RESPONSE", "message": "SSML is not well formed at <speek>"},
        "cause": {"requestId": "amzn1.echo-api.request.earlier"},
    }
    return E.envelope(request, now=now, with_session=False)


def test_exception_encountered_is_200_empty_and_logged(
    skill: Skill, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        reply = skill.post(_exception_encountered(skill.clock()))
    assert reply.status == 200
    assert "outputSpeech" not in reply.response and "reprompt" not in reply.response
    [line] = [r.getMessage() for r in caplog.records if "rejected" in r.getMessage()]
    assert "INVALID_RESPONSE" in line and "SSML is not well formed" in line
    assert E.USER_ID not in caplog.text


# --- fault 5: a burst that loses every write race ----------------------------------------------


class AlwaysStale(TinyDBPersistenceAdapter):
    """Every save loses the race, as under a long burst for one user."""

    saves = 0

    def save_attributes(self, request_envelope: Any, attributes: dict[str, Any]) -> None:
        AlwaysStale.saves += 1
        raise StaleWriteError("stale write")


def test_exhausted_write_retries_get_the_spoken_apology(tmp_path: Path, make_skill: Any) -> None:
    from skill.app import create_app

    adapter = AlwaysStale(tmp_path / "data")
    adapter.ensure_ready()
    AlwaysStale.saves = 0
    app = create_app(Config(data_dir=tmp_path / "data", verify_signatures=False), adapter=adapter)
    answer = app.test_client().post("/alexa", json=E.launch(now=make_skill().clock()))
    assert answer.status_code == 200, answer.get_json()
    reply = Reply(200, answer.get_json())
    assert reply.text == US.text("error.apology")
    assert reply.reprompt is not None  # the session stays open to try again
    assert AlwaysStale.saves == WRITE_ATTEMPTS


# --- fault 1: a store that cannot be written at boot -------------------------------------------


@pytest.fixture
def read_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The data folder, with a user's record in it, then no file can be created there."""
    data = tmp_path / "data"
    store = TinyDBPersistenceAdapter(data)
    store.ensure_ready()
    store.save(E.USER_ID, {"visits": 3})
    real_open = os.open

    def refuse_creation(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        writes = flags & (os.O_CREAT | os.O_WRONLY | os.O_RDWR)
        # Relative names opened in a folder descriptor are inside the data folder too.
        inside = kwargs.get("dir_fd") is not None or str(path).startswith(str(data))
        if writes and inside:
            raise OSError(30, "Read-only file system")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse_creation)
    return data


def test_an_app_booting_on_a_read_only_store_serves_degraded(
    read_only: Path, make_skill: Any
) -> None:
    skill = make_skill(signed=False)
    assert skill.data_dir == read_only
    live = skill.client.get("/healthz")
    assert live.status_code == 200
    assert live.get_json() == {"status": "degraded", "store": "not writable"}
    assert skill.client.get("/livez").get_json()["status"] == "degraded"
    ready = skill.client.get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["status"] == "not_ready"
    # A read is served; a write gets the spoken apology (200, a normal Alexa response).
    summary = skill.post(E.intent("KidTimeSummaryIntent", now=skill.clock()))
    assert summary.status == 200 and summary.text and summary.text != US.text("error.apology")
    launch = skill.post(E.launch(now=skill.clock()))
    assert launch.status == 200 and launch.text == US.text("error.apology")
    assert TinyDBPersistenceAdapter(read_only).load(E.USER_ID)["visits"] == 3


def test_a_writable_store_is_ready(skill: Skill) -> None:
    assert skill.client.get("/livez").get_json() == {"status": "ok"}
    ready = skill.client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json() == {"status": "ready"}


def test_readiness_comes_back_when_the_folder_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = TinyDBPersistenceAdapter(tmp_path / "data")
    real_open = os.open

    def refuse_creation(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & os.O_CREAT:
            raise OSError(30, "Read-only file system")
        return real_open(path, flags, *args, **kwargs)

    now = [0.0]
    health = StoreHealth(store.readiness, max_age=1.0, clock=lambda: now[0])
    monkeypatch.setattr(os, "open", refuse_creation)
    assert health.current().problem == "not writable"
    monkeypatch.setattr(os, "open", real_open)
    assert not health.current().ready  # the answer is kept for max_age
    now[0] = 1.5
    assert health.current().ready
    assert (tmp_path / "data" / "STORE.json").is_file()  # the layout was made on recovery


def test_a_store_marker_from_the_future_is_not_usable(tmp_path: Path) -> None:
    store = TinyDBPersistenceAdapter(tmp_path)
    store.ensure_ready()
    (tmp_path / "STORE.json").write_text('{"layout": 99}')
    state = store.readiness()
    assert state.problem == "not usable" and "newer" in state.detail


class NoReadiness:
    """A store adapter that offers no readiness (it is taken as ready)."""


class Unreachable:
    def readiness(self) -> Readiness:
        raise ConnectionError("no route to the table")


def test_store_adapters_plug_their_own_readiness_in() -> None:
    assert StoreHealth.of(NoReadiness()).current().ready
    down = StoreHealth.of(Unreachable()).current()
    assert down.problem == "unreachable" and "ConnectionError" in down.detail
