"""The AWS Lambda entry point, driven in-process with a TinyDB store in a temporary folder."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from ask_sdk_model import RequestEnvelope, ResponseEnvelope
from ask_sdk_model.response import Response

from skill import lambda_handler as L
from skill.config import ConfigError
from skill.storage import StaleWriteError, TinyDBPersistenceAdapter
from skill.web.runner import WRITE_ATTEMPTS, SkillRunner
from speech import ssml
from speech.catalog import load_catalogs
from tests import envelopes as E

US = load_catalogs().for_locale("en-US")


@pytest.fixture(autouse=True)
def lambda_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """A fresh container: settings from the environment, the skill built on first use."""
    for name in ("MAMA_SKILL_ID", "MAMA_STORE", "MAMA_DEFAULT_LOCALE"):
        monkeypatch.delenv(name, raising=False)
    data_dir = tmp_path / "data"
    monkeypatch.setenv("MAMA_DATA_DIR", str(data_dir))
    L.lambda_runner.cache_clear()
    yield data_dir
    L.lambda_runner.cache_clear()


def now() -> datetime:
    return datetime.now(UTC)


def speech(result: dict[str, Any]) -> str:
    return ssml.to_plain_text(result["response"]["outputSpeech"]["ssml"])


def test_launch_then_start_kid_time(lambda_env: Path) -> None:
    launch = L.handler(E.launch(now=now()), None)
    assert launch["version"] == "1.0"
    assert speech(launch).lower().count("welcome to mama moments") == 1
    assert launch["response"]["shouldEndSession"] is False

    start = L.handler(E.intent("StartKidTimeIntent", {"duration": "PT20M"}, now=now()), object())
    assert "20 minutes" in speech(start)
    stored = TinyDBPersistenceAdapter(lambda_env).load(E.USER_ID)
    assert stored["visits"] == 1
    assert stored["kid_time"]["active"]["planned_minutes"] == 20


def test_skill_is_built_once_per_container() -> None:
    L.handler(E.launch(now=now()), None)
    first = L.lambda_runner()
    L.handler(E.launch(now=now()), None)
    assert L.lambda_runner() is first


def test_importing_builds_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    # A broken setting would fail at import if the skill were built there; it must not.
    monkeypatch.setenv("MAMA_STORE", "bogus")
    done = subprocess.run(
        [sys.executable, "-c", "import skill.lambda_handler"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_matching_skill_id_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAMA_SKILL_ID", E.SKILL_ID)
    assert (
        speech(L.handler(E.launch(now=now()), None)).lower().count("welcome to mama moments") == 1
    )


def test_wrong_skill_id_is_refused(monkeypatch: pytest.MonkeyPatch, lambda_env: Path) -> None:
    monkeypatch.setenv("MAMA_SKILL_ID", "amzn1.ask.skill.someone-else")
    with pytest.raises(ValueError, match="another skill"):
        L.handler(E.launch(now=now()), None)
    assert not (lambda_env / "users").exists() or not any((lambda_env / "users").rglob("*.json"))


def _without(path: tuple[str, ...]) -> dict[str, Any]:
    event = E.intent("HearMantraIntent", now=now())
    node: Any = event
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return event


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (None, "JSON object"),
        ("{}", "JSON object"),
        ([], "JSON object"),
        ({}, "missing field version"),
        (_without(("context",)), "missing field context"),
        (_without(("context", "System", "user", "userId")), "userId"),
        (_without(("request", "type")), "missing field request.type"),
        (
            {**E.launch(now=now()), "request": {**E.launch(now=now())["request"], "type": "X"}},
            "unsupported request type",
        ),
        (_without(("request", "intent")), "needs request.intent.name"),
    ],
)
def test_malformed_events_are_refused(event: object, reason: str) -> None:
    with pytest.raises(L.RequestRefused, match=reason) as caught:
        L.handler(event, None)
    assert isinstance(caught.value, ValueError), "Lambda reports a ValueError, not garbage"


def test_unreadable_timestamp_is_refused() -> None:
    event = E.launch(now=now())
    event["request"]["timestamp"] = "not a date"
    with pytest.raises(L.RequestRefused, match="could not be read"):
        L.handler(event, None)


def test_skill_disabled_deletes_the_user(lambda_env: Path) -> None:
    L.handler(E.launch(now=now()), None)
    store = TinyDBPersistenceAdapter(lambda_env)
    assert store.path_for(E.USER_ID).exists()
    result = L.handler(E.skill_disabled("NOT_PERSISTED", now=now()), None)
    assert "outputSpeech" not in result["response"]
    assert not store.path_for(E.USER_ID).exists()


def test_bad_settings_fail_the_invocation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAMA_STORE", "postgres")
    with pytest.raises(ConfigError, match="MAMA_STORE"):
        L.handler(E.launch(now=now()), None)


class FlakySkill:
    """Loses ``stale`` write races, then answers."""

    def __init__(self, stale: int) -> None:
        self.stale = stale
        self.calls = 0

    def invoke(self, request_envelope: RequestEnvelope, context: Any) -> ResponseEnvelope:
        self.calls += 1
        if self.calls <= self.stale:
            raise StaleWriteError("stale write")
        return ResponseEnvelope(version="1.0", response=Response(should_end_session=True))


def test_stale_writes_are_retried_on_fresh_state() -> None:
    skill = FlakySkill(stale=3)
    result = SkillRunner(skill).run(E.launch(now=now()))  # type: ignore[arg-type]
    assert result["response"]["shouldEndSession"] is True
    assert skill.calls == 4


def test_endless_stale_writes_give_up() -> None:
    skill = FlakySkill(stale=100)
    with pytest.raises(L.SkillBusy):
        SkillRunner(skill).run(E.launch(now=now()))  # type: ignore[arg-type]
    assert skill.calls == WRITE_ATTEMPTS
