"""The local web console (skill/devtools/console.py): routes, turns through /alexa, session
carry-over, input checks and offline audio. Expected speech comes from the content file, never
literals."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from skill.config import Config
from skill.devtools.console import (
    MAX_SSML_CHARS,
    MAX_TEXT_CHARS,
    ConsoleExtension,
    example_utterances,
)
from skill.devtools.simulator import FALLBACK_INTENT, UtteranceMatcher, load_model
from skill.web.app import create_app as create_web_app
from speech.catalog import Catalog, load_catalogs
from tests.conftest import Skill

SAY = "/console/api/say"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalogs().for_locale("en-US")


@pytest.fixture
def console(make_skill: Callable[..., Skill]) -> FlaskClient:
    """A --dev app (no signature check, console on) with the pinned test clock."""
    return make_skill(signed=False, dev_console=True).client


def test_the_console_is_an_extension_the_web_app_never_adds_itself(tmp_path: Path) -> None:
    """Even with dev_console on, only a ConsoleExtension handed to the factory adds /console."""
    config = Config(data_dir=tmp_path / "data", verify_signatures=False, dev_console=True)
    assert create_web_app(config).test_client().get("/console").status_code == 404
    plugged = create_web_app(config, extensions=[ConsoleExtension()]).test_client()
    assert plugged.get("/console").status_code == 200
    turn = plugged.post(SAY, json={"text": "open mama moments", "locale": "en-US"})
    assert turn.status_code == 200 and turn.get_json()["intent"] == "LaunchRequest"


def test_a_production_app_loads_no_developer_tools(tmp_path: Path) -> None:
    """gunicorn's 'skill.app:create_app()' without dev_console never imports skill.devtools."""
    code = (
        "import sys\n"
        "from skill.app import create_app\n"
        "from pathlib import Path\n"
        "from skill.config import Config\n"
        f"app = create_app(Config(data_dir=Path({str(tmp_path / 'data')!r})))\n"
        "print(sorted(m for m in sys.modules if m.startswith('skill.devtools')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


def say(client: FlaskClient, text: str, session: dict[str, Any] | None = None) -> dict[str, Any]:
    response = client.post(SAY, json={"text": text, "locale": "en-US", "session": session})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert isinstance(body, dict)
    return body


# --------------------------------------------------------------------------------------------
# Registration and the page
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/console"),
        ("GET", "/console/api/model"),
        ("POST", SAY),
        ("POST", "/console/api/audio"),
    ],
)
def test_console_absent_by_default(
    make_skill: Callable[..., Skill], method: str, path: str
) -> None:
    client = make_skill(signed=False).client
    response = client.open(path, method=method, json={"text": "open mama moments"})
    assert response.status_code == 404
    assert response.is_json


def test_page_and_static_files_served(console: FlaskClient) -> None:
    page = console.get("/console")
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "/console/static/console.js" in html
    assert "/console/static/console.css" in html
    # Offline: the page loads nothing from another host.
    assert "http://" not in html and "https://" not in html
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    for name, mimetype in [("console.js", "javascript"), ("console.css", "text/css")]:
        static = console.get(f"/console/static/{name}")
        assert static.status_code == 200
        assert mimetype in static.mimetype


def test_page_script_never_uses_inner_html(console: FlaskClient) -> None:
    script = console.get("/console/static/console.js").get_data(as_text=True)
    assert "innerHTML" not in script.replace("never innerHTML", "")
    assert "insertAdjacentHTML" not in script
    assert "textContent" in script


def test_model_examples_come_from_the_interaction_model(console: FlaskClient) -> None:
    body = console.get("/console/api/model").get_json()
    model = load_model("en-US")
    assert body["locale"] == "en-US"
    assert "en-GB" in body["locales"]
    assert body["invocation_name"] == model.invocation_name
    assert body["examples"] == example_utterances(model)
    assert f"open {model.invocation_name}" in body["examples"]
    samples = {s for intent in model.intents for s in intent.samples}
    assert len(set(body["examples"]) & samples) >= 5
    matcher = UtteranceMatcher(model)
    for example in body["examples"]:
        match = matcher.match(example)
        assert match is not None and match.intent != FALLBACK_INTENT, example


def test_model_unknown_locale(console: FlaskClient) -> None:
    response = console.get("/console/api/model?locale=xx-XX")
    assert response.status_code == 400
    assert response.get_json()["error"] == "unknown_locale"


# --------------------------------------------------------------------------------------------
# Turns
# --------------------------------------------------------------------------------------------


def test_launch(console: FlaskClient, catalog: Catalog) -> None:
    turn = say(console, "open mama moments")
    assert turn["intent"] == "LaunchRequest"
    assert turn["status"] == 200 and turn["error"] is None
    assert catalog.text("welcome.new") in turn["speech"]["text"]
    assert turn["speech"]["ssml"].startswith("<speak>")
    assert turn["reprompt"]["text"] == catalog.text("menu.reprompt")
    assert turn["ended"] is False
    assert turn["request"]["request"]["type"] == "LaunchRequest"
    assert turn["request"]["session"]["new"] is True
    assert turn["session"]["session_id"] == turn["request"]["session"]["sessionId"]
    assert turn["session"]["user_id"].startswith("amzn1.ask.account.CONSOLE-")


def test_start_kid_time_for_twenty_minutes(console: FlaskClient, catalog: Catalog) -> None:
    turn = say(console, "start kid time for twenty minutes")
    assert turn["intent"] == "StartKidTimeIntent"
    assert turn["slots"]["duration"]["value"] == "PT20M"
    assert turn["sample"] == "start kid time for {duration}"
    sent = turn["request"]["request"]["intent"]
    assert sent["name"] == "StartKidTimeIntent"
    assert sent["slots"]["duration"]["value"] == "PT20M"
    assert catalog.text("kidtime.started", minutes=20) in turn["speech"]["text"]
    assert turn["card"]["title"] == catalog.text("kidtime.card_title")
    assert turn["ended"] is True
    assert turn["session"]["session_id"] is None  # ended: the next turn opens a new session


def test_give_me_a_strategy(console: FlaskClient, catalog: Catalog) -> None:
    turn = say(console, "give me a strategy")
    assert turn["intent"] == "GetStrategyIntent"
    titles = {s.title for s in catalog.strategies}
    assert turn["card"]["title"] in titles
    kinds = ("strategy.intro_strategy", "strategy.intro_shift")
    assert any(
        catalog.text(key, title=turn["card"]["title"]) in turn["speech"]["text"] for key in kinds
    )
    assert catalog.text("strategy.offer_next") in turn["speech"]["text"]
    assert turn["reprompt"]["text"] == catalog.text("strategy.reprompt")
    assert turn["ended"] is False
    assert turn["session_attributes"] == turn["session"]["attributes"]


def test_session_carries_over_yes_gives_another_strategy(
    console: FlaskClient, catalog: Catalog
) -> None:
    first = say(console, "open mama moments")
    offer = say(console, "give me a strategy", first["session"])
    assert offer["session"]["session_id"] == first["session"]["session_id"]
    assert offer["request"]["session"]["new"] is False
    yes = say(console, "yes", offer["session"])
    assert yes["intent"] == "AMAZON.YesIntent"
    # The page's session attributes went back to the skill, so "yes" answered the offer.
    assert yes["request"]["session"]["attributes"] == offer["session"]["attributes"]
    assert yes["request"]["session"]["sessionId"] == first["session"]["session_id"]
    assert yes["request"]["session"]["user"]["userId"] == first["session"]["user_id"]
    assert yes["card"]["title"] in {s.title for s in catalog.strategies}
    assert yes["card"]["title"] != offer["card"]["title"]
    assert catalog.text("strategy.offer_next") in yes["speech"]["text"]


def test_yes_without_the_session_is_not_an_answer(console: FlaskClient, catalog: Catalog) -> None:
    offer = say(console, "give me a strategy")
    # Same user, but the page "forgot" the session: the server holds no state of its own.
    fresh = {"user_id": offer["session"]["user_id"]}
    yes = say(console, "yes", fresh)
    assert yes["request"]["session"]["new"] is True
    assert catalog.text("yes_no.unexpected") in yes["speech"]["text"]


def test_naming_the_skill_starts_a_new_session(console: FlaskClient) -> None:
    first = say(console, "open mama moments")
    again = say(console, "open mama moments", first["session"])
    assert again["request"]["session"]["new"] is True
    assert again["session"]["session_id"] != first["session"]["session_id"]
    assert again["session"]["user_id"] == first["session"]["user_id"]


def test_persistent_state_follows_the_user_id(console: FlaskClient, catalog: Catalog) -> None:
    started = say(console, "start kid time for twenty minutes")
    user = {"user_id": started["session"]["user_id"]}
    back = say(console, "open mama moments", user)
    assert catalog.text("welcome.new") not in back["speech"]["text"]
    stranger = say(console, "open mama moments")
    assert catalog.text("welcome.new") in stranger["speech"]["text"]


def test_skill_refusal_is_reported_not_a_500(make_skill: Callable[..., Skill]) -> None:
    # Console on but signatures still checked: /alexa refuses the unsigned envelope.
    client = make_skill(signed=True, dev_console=True).client
    response = client.post(SAY, json={"text": "open mama moments"})
    assert response.status_code == 502
    body = response.get_json()
    assert body["error"] == "skill_error"
    assert "invalid_signature" in body["message"]
    assert body["intent"] == "LaunchRequest"


# --------------------------------------------------------------------------------------------
# Bad input: always a 4xx JSON body, never a 500
# --------------------------------------------------------------------------------------------

_GOOD_SESSION = {"user_id": "amzn1.ask.account.CONSOLE-x"}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "malformed_json"),
        (b"[1, 2]", "malformed_json"),
        (b'"text"', "malformed_json"),
        (b"{}", "missing_text"),
        (b'{"text": ""}', "missing_text"),
        (b'{"text": "   "}', "missing_text"),
        (b'{"text": 42}', "missing_text"),
        (json.dumps({"text": "x" * (MAX_TEXT_CHARS + 1)}).encode(), "text_too_long"),
        (json.dumps({"text": "hi " * 20_000}).encode(), "text_too_long"),
        (b'{"text": "help", "locale": "xx-XX"}', "unknown_locale"),
        (b'{"text": "help", "locale": 5}', "unknown_locale"),
        (b'{"text": "help", "session": []}', "invalid_session"),
        (b'{"text": "help", "session": {"user_id": "<script>"}}', "invalid_session"),
        (
            json.dumps({"text": "help", "session": {**_GOOD_SESSION, "session_id": "x"}}).encode(),
            "invalid_session",
        ),
        (
            json.dumps(
                {
                    "text": "help",
                    "session": {
                        **_GOOD_SESSION,
                        "session_id": "amzn1.echo-api.session.abc",
                        "attributes": [1],
                    },
                }
            ).encode(),
            "invalid_session",
        ),
        (
            json.dumps(
                {
                    "text": "help",
                    "session": {
                        **_GOOD_SESSION,
                        "session_id": "amzn1.echo-api.session.abc",
                        "attributes": {"big": "x" * 40_000},
                    },
                }
            ).encode(),
            "invalid_session",
        ),
    ],
)
def test_bad_say_requests(console: FlaskClient, body: bytes, code: str) -> None:
    response = console.post(SAY, data=body, content_type="application/json")
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"] == code


def test_say_needs_a_json_content_type(console: FlaskClient) -> None:
    # A plain form post from another page cannot drive the console.
    response = console.post(SAY, data="text=forget+me", content_type="text/plain")
    assert response.status_code == 415
    assert response.is_json


def test_body_over_the_app_limit_is_413_json(console: FlaskClient) -> None:
    body = json.dumps({"text": "x" * (300 * 1024)})
    response = console.post(SAY, data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.is_json


def test_get_on_say_is_405_json(console: FlaskClient) -> None:
    response = console.get(SAY)
    assert response.status_code == 405
    assert response.is_json


# --------------------------------------------------------------------------------------------
# Audio
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_audio_is_a_wav(console: FlaskClient, catalog: Catalog) -> None:
    ssml = say(console, "open mama moments")["reprompt"]["ssml"]
    response = console.post("/console/api/audio", json={"ssml": ssml, "locale": "en-US"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "audio/wav"
    with wave.open(io.BytesIO(response.get_data())) as wav:
        assert wav.getnframes() / wav.getframerate() > 1.0
        assert wav.getsampwidth() == 2


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({}, "missing_ssml"),
        ({"ssml": 3}, "missing_ssml"),
        ({"ssml": "x" * (MAX_SSML_CHARS + 1)}, "ssml_too_long"),
        ({"ssml": "<speak><p>unclosed</speak>"}, "invalid_ssml"),
        ({"ssml": "<speak></speak>"}, "invalid_ssml"),
        ({"ssml": "<speak>hi</speak>", "locale": "xx-XX"}, "unknown_locale"),
    ],
)
def test_bad_audio_requests(console: FlaskClient, payload: dict[str, Any], code: str) -> None:
    response = console.post("/console/api/audio", json=payload)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"] == code
