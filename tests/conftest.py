"""Shared fixtures: the real app over a TinyDB store in a temporary folder, with a pinned clock."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from skill.alexa import alexa_api
from skill.alexa.handlers.base import Deps
from skill.app import create_app
from skill.config import Config
from speech import ssml
from tests.alexa_pki import test_pki
from tests.clock import START, Clock


@dataclass
class Reply:
    """One HTTP answer from /alexa, with the speech pulled out for assertions."""

    status: int
    body: dict[str, Any]

    @property
    def response(self) -> dict[str, Any]:
        return dict(self.body.get("response") or {})

    @property
    def ssml(self) -> str:
        return str(self.response.get("outputSpeech", {}).get("ssml", ""))

    @property
    def text(self) -> str:
        return ssml.to_plain_text(self.ssml)

    @property
    def reprompt(self) -> str | None:
        reprompt = self.response.get("reprompt")
        return None if reprompt is None else str(reprompt["outputSpeech"]["ssml"])

    @property
    def ended(self) -> bool:
        return bool(self.response.get("shouldEndSession"))

    @property
    def attributes(self) -> dict[str, Any]:
        return dict(self.body.get("sessionAttributes") or {})

    @property
    def card(self) -> dict[str, Any] | None:
        return self.response.get("card")


@dataclass
class Skill:
    """The app under test and a way to post envelopes to it."""

    app: Flask
    client: FlaskClient
    clock: Clock
    data_dir: Path
    signed: bool = False
    posted: list[dict[str, Any]] = field(default_factory=list)

    def post(self, envelope: dict[str, Any]) -> Reply:
        body = json.dumps(envelope).encode()
        headers = test_pki().sign(body) if self.signed else {}
        result = self.client.post(
            "/alexa", data=body, headers=headers, content_type="application/json"
        )
        return Reply(result.status_code, result.get_json(silent=True) or {})

    def post_raw(self, body: bytes, headers: dict[str, str] | None = None, **kw: Any) -> Reply:
        result = self.client.post("/alexa", data=body, headers=headers or {}, **kw)
        return Reply(result.status_code, result.get_json(silent=True) or {})


@pytest.fixture(autouse=True)
def pinned_wall_clock(request: pytest.FixtureRequest) -> Iterator[None]:
    """The wall clock of this process starts at the pinned START too (and keeps ticking), so a
    stray ``datetime.now()`` can never make a test depend on the day it runs. Tests that talk
    to a server in another process, whose clock is real, are marked ``real_clock``."""
    if request.node.get_closest_marker("real_clock"):
        yield
        return
    with time_machine.travel(START, tick=True):
        yield


@pytest.fixture(autouse=True)
def no_real_alexa_api(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may reach Amazon: the Alexa API client only calls loopback stand-ins."""
    monkeypatch.setattr(alexa_api, "ALEXA_API_HOSTS", alexa_api.LOOPBACK_HOSTS)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_skill(tmp_path: Path, clock: Clock) -> Callable[..., Skill]:
    """Build the app; by default signatures are checked against the local test PKI."""

    def make(signed: bool = True, **config: Any) -> Skill:
        settings = Config(data_dir=tmp_path / "data", verify_signatures=signed, **config)
        app = create_app(
            settings,
            verifier=test_pki().verifier(clock=clock) if signed else None,
            deps=Deps(clock=clock, rng=random.Random(7)),
        )
        return Skill(app, app.test_client(), clock, settings.data_dir, signed=signed)

    return make


@pytest.fixture
def skill(make_skill: Callable[..., Skill]) -> Skill:
    return make_skill()
