"""``mama-moments debug``: ask-sdk-local-debug loads our Lambda handler and answers, offline.

Nothing here opens a socket: the invoker is built (which builds, not connects, the websocket
client) and a debugger message is handed to its protocol as Alexa's debug service would send it.
"""

from __future__ import annotations

import json
import logging
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from ask_sdk_local_debug.client.autobahn_client_protocol import AutobahnClientProtocol
from ask_sdk_local_debug.config.constant_config import CONNECTION_TIMEOUT_SECONDS
from ask_sdk_local_debug.util.parser import argument_parser
from click.testing import CliRunner

from skill.cli import main
from skill.devtools import debug
from tests.clock import START
from tests.envelopes import USER_ID, intent, launch

SKILL = "amzn1.ask.skill.12345678-1234-1234-1234-123456789012"
TOKEN = "Atza|not-a-real-token"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def skill_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAMA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MAMA_STORE", "tinydb")
    monkeypatch.delenv("MAMA_SKILL_ID", raising=False)


def debug_message(envelope: dict[str, Any]) -> bytes:
    """What the debug service sends: a dynamic-endpoints Request around the envelope."""
    message = {
        "version": "1.0",
        "type": "SkillRequestMessage",
        "requestId": str(uuid.uuid4()),
        "requestPayload": json.dumps(envelope),
    }
    return json.dumps(message).encode("utf-8")


def test_the_arguments_are_the_debuggers_own() -> None:
    args = debug.debugger_args(TOKEN, SKILL, region="EU")
    parsed = argument_parser(args)
    assert parsed.access_token == TOKEN
    assert parsed.skill_id == SKILL
    assert parsed.region == "EU"
    assert parsed.skill_handler == "handler"
    assert Path(parsed.skill_file_path) == REPO / "skill" / "lambda_handler.py"


def test_the_invoker_connects_to_the_development_stage_for_one_hour() -> None:
    invoker = debug.local_debugger(debug.debugger_args(TOKEN, SKILL, region="EU"))
    client = invoker.web_socket_client
    assert client.web_socket_config.web_socket_server_uri == (
        f"wss://bob-dispatch-prod-eu.amazon.com/v1/skills/{SKILL}"
        "/stages/development/connectCustomDebugEndpoint"
    )
    assert client.web_socket_config.headers["authorization"] == TOKEN
    assert CONNECTION_TIMEOUT_SECONDS == 60 * 60, "the one-hour limit the README states"


def test_the_invoker_loads_our_handler_and_answers() -> None:
    invoker = debug.local_debugger(debug.debugger_args(TOKEN, SKILL))
    skill_handler = invoker.web_socket_client.factory.skill_invoker_config.skill_builder_func
    answer = skill_handler(launch(now=START), None)
    assert "Mama Moments" in answer["response"]["outputSpeech"]["ssml"]
    assert answer["response"]["shouldEndSession"] is False


class Captured(AutobahnClientProtocol):
    """The debugger's protocol with the socket's send replaced by a list."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[bytes] = []

    def sendMessage(self, payload: bytes, *args: object, **kwargs: object) -> None:
        self.sent.append(payload)


def protocol() -> Captured:
    invoker = debug.local_debugger(debug.debugger_args(TOKEN, SKILL))
    captured = Captured()
    captured.factory = invoker.web_socket_client.factory
    return captured


def test_a_debug_message_is_answered_through_the_protocol(
    caplog: pytest.LogCaptureFixture,
) -> None:
    captured = protocol()
    message = debug_message(intent("StartKidTimeIntent", now=START))
    with caplog.at_level(logging.INFO):
        captured.onMessage(message, False)
    (sent,) = captured.sent
    reply = json.loads(sent)
    assert reply["type"] == "SkillResponseSuccessMessage"
    assert reply["originalRequestId"] == json.loads(message)["requestId"]
    payload = json.loads(reply["responsePayload"])
    assert "Kid time" in payload["response"]["outputSpeech"]["ssml"]
    # The debugger would log both envelopes whole; ours says only what kind of request it was.
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Skill request: IntentRequest StartKidTimeIntent" in logged
    assert "Skill response: SkillResponseSuccessMessage" in logged
    assert USER_ID not in logged
    assert "apiAccessToken" not in logged


def test_a_bad_request_becomes_the_debuggers_failure_message() -> None:
    captured = protocol()
    captured.onMessage(debug_message({"version": "1.0", "request": "not an object"}), False)
    reply = json.loads(captured.sent[0])
    assert reply["type"] == "SkillResponseFailureMessage"
    assert reply["errorCode"] == "500"
    assert reply["errorMessage"]


def test_describe_never_shows_slots_or_ids() -> None:
    message = debug_message(intent("SetNameIntent", {"name": "Ana"}, now=START)).decode()
    described = debug.describe_debug_request(message)
    assert described == "IntentRequest SetNameIntent"
    assert debug.describe_debug_request("{not json") == "an unreadable request"


def test_the_command_runs_the_invoker(monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[list[str]] = []

    class FakeInvoker:
        def __init__(self, args: list[str]) -> None:
            self.args = args

        def invoke(self) -> None:
            ran.append(self.args)

    monkeypatch.setattr(debug, "local_debugger", FakeInvoker)
    result = CliRunner().invoke(
        main, ["debug", "--accessToken", TOKEN, "--skillId", SKILL, "--region", "FE"]
    )
    assert result.exit_code == 0, result.output
    assert "development stage" in result.output and "one hour" in result.output
    (args,) = ran
    assert argument_parser(args).region == "FE"
    assert TOKEN not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--skillId", SKILL], "--access-token"),
        (["--accessToken", TOKEN, "--skillId", "my-skill"], "amzn1.ask.skill."),
        (["--accessToken", TOKEN, "--skillId", SKILL, "--region", "US"], "'US' is not one of"),
    ],
)
def test_bad_arguments(monkeypatch: pytest.MonkeyPatch, args: list[str], message: str) -> None:
    monkeypatch.delenv("ASK_ACCESS_TOKEN", raising=False)
    result = CliRunner().invoke(main, ["debug", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_without_the_extra_it_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ask_sdk_local_debug.local_debugger_invoker", None)
    result = CliRunner().invoke(main, ["debug", "--accessToken", TOKEN, "--skillId", SKILL])
    assert result.exit_code == 1
    assert "pip install 'mama-moments[debug]'" in result.output
