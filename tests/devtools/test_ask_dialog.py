"""Replays that interoperate with ASK CLI's ``ask dialog``: its replay files and skill-io captures.

Formats from ASK CLI v2 (docs/concepts/Dialog-Command.md, lib/model/dialog-replay-file.js and
dialog-save-skill-io-file.js) and the Skill Simulation API v2 result (SMAPI's
``v2.skill.simulations.SimulationsApiResponse``).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from skill.app import create_app
from skill.cli import main
from skill.config import Config
from skill.devtools.simulator import UtteranceMatcher, load_model
from skill.devtools.simulator.conversation import AppTransport, Conversation, Turn
from skill.devtools.simulator.envelopes import EnvelopeFactory
from skill.devtools.simulator.replay import (
    compare_turns,
    from_ask_replay,
    load_replay,
    run_replay,
    to_ask_replay,
    turns_from_skill_io,
)
from tests.envelopes import SKILL_ID

DIALOGS = Path(__file__).resolve().parents[1] / "dialogs"
REAL_SKILL = "amzn1.ask.skill.12345678-1234-1234-1234-123456789012"


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("MAMA_SKILL_ID", "MAMA_VERIFY_SIGNATURES", "MAMA_VERIFY_TIMESTAMPS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MAMA_DATA_DIR", str(tmp_path / "cli-data"))
    return tmp_path


def write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------
# ASK CLI replay files
# --------------------------------------------------------------------------------------------


def test_an_ask_replay_file_becomes_turns_up_to_quit() -> None:
    data = from_ask_replay(
        {
            "skillId": REAL_SKILL,
            "locale": "en-GB",
            "type": "text",
            "userInput": ["open mama moments", "  help ", "", ".quit", "never sent"],
        }
    )
    assert data == {
        "locale": "en-GB",
        "turns": [{"say": "open mama moments"}, {"say": "help"}],
        "skill_id": REAL_SKILL,
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"type": "audio", "userInput": ["hi"]}, "only 'text'"),
        ({"type": "text", "userInput": "open mama moments"}, "list of strings"),
        ({"type": "text", "userInput": [".quit"]}, "nothing to say"),
        ({"type": "text", "locale": 7, "userInput": ["hi"]}, "'locale'"),
    ],
)
def test_bad_ask_replay_files_are_refused(content: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        from_ask_replay(content)


def test_replay_command_runs_an_ask_replay_file(cli_env: Path) -> None:
    ask_file = write(
        cli_env / "recorded.json",
        {
            "skillId": REAL_SKILL,
            "locale": "en-US",
            "type": "text",
            "userInput": ["open mama moments", "give me a strategy", "stop", ".quit"],
        },
    )
    result = CliRunner().invoke(main, ["replay", str(ask_file)])
    assert result.exit_code == 0, result.output
    assert "3 turns OK" in result.output


def test_replay_command_still_explains_a_file_of_neither_format(cli_env: Path) -> None:
    bad = write(cli_env / "bad.json", {"steps": []})
    result = CliRunner().invoke(main, ["replay", str(bad)])
    assert result.exit_code == 1
    assert "'turns' list, or an ASK CLI replay file with a 'userInput' list" in result.output


@pytest.mark.parametrize("dialog", sorted(DIALOGS.glob("*.json")), ids=lambda p: p.stem)
def test_every_dialog_exports_to_the_ask_format(cli_env: Path, dialog: Path) -> None:
    out = cli_env / "ask.json"
    result = CliRunner().invoke(
        main, ["replay", str(dialog), "--export-ask", str(out), "--skill-id", REAL_SKILL]
    )
    assert result.exit_code == 0, result.output
    exported = json.loads(out.read_text(encoding="utf-8"))
    ours = load_replay(dialog)
    assert set(exported) == {"skillId", "locale", "type", "userInput"}
    assert exported["skillId"] == REAL_SKILL
    assert exported["type"] == "text"
    assert exported["locale"] == ours.get("locale", "en-US")
    assert exported["userInput"] == [t["say"] for t in ours["turns"]] + [".quit"]
    # ... and reading it back gives the same utterances, without the expectations.
    again = load_replay(out)
    assert [t["say"] for t in again["turns"]] == [t["say"] for t in ours["turns"]]


def test_export_needs_the_real_skill_id(cli_env: Path) -> None:
    out = cli_env / "ask.json"
    result = CliRunner().invoke(
        main, ["replay", str(DIALOGS / "kid_time.json"), "--export-ask", str(out)]
    )
    assert result.exit_code == 2
    assert "--skill-id" in result.output
    assert not out.exists()


def test_to_ask_replay_refuses_empty_utterances() -> None:
    with pytest.raises(ValueError, match="non-empty 'say'"):
        to_ask_replay({"turns": [{"say": " "}]}, REAL_SKILL)


# --------------------------------------------------------------------------------------------
# --save-skill-io captures
# --------------------------------------------------------------------------------------------


def simulation_body(turn: Turn, simulation_id: str) -> dict[str, Any]:
    """What the Skill Simulation API answers once a simulation of ``turn`` has finished."""
    captions = [{"type": "Speech", "content": {"caption": turn.text or ""}}]
    return {
        "id": simulation_id,
        "status": "SUCCESSFUL",
        "result": {
            "alexaExecutionInfo": {"alexaResponses": captions},
            "skillExecutionInfo": {
                "invocations": [
                    {
                        "invocationRequest": {"endpoint": "arn:aws:lambda:x", "body": turn.request},
                        "invocationResponse": {"body": turn.response},
                        "metrics": {"skillExecutionTimeInMilliseconds": 12},
                    }
                ]
            },
        },
    }


def capture_of(turns: list[Turn]) -> dict[str, Any]:
    """An ``ask dialog --save-skill-io`` file for ``turns``: a poll in progress, then the end."""
    invocations = []
    for n, turn in enumerate(turns):
        request = {"utterance": turn.utterance, "newSession": n == 0}
        polling = {"id": f"sim-{n}", "status": "IN_PROGRESS"}
        invocations.append({"request": request, "response": {"body": polling}})
        invocations.append({"request": request, "response": {"body": simulation_body(turn, "x")}})
    return {"invocations": invocations}


@pytest.fixture
def kid_time_turns(tmp_path: Path) -> tuple[dict[str, Any], list[Turn]]:
    """The kid-time dialog as the skill really answered it (in-process)."""
    data = load_replay(DIALOGS / "kid_time.json")
    app = create_app(Config(data_dir=tmp_path / "data", verify_signatures=False))
    factory = EnvelopeFactory(SKILL_ID, "amzn1.ask.account.CAPTURE", "en-US")
    chat = Conversation(AppTransport(app), factory, UtteranceMatcher(load_model("en-US")))
    result = run_replay(data, chat)
    assert result.ok, result.mismatches
    return data, result.turns


def test_a_capture_of_the_same_answers_passes(
    kid_time_turns: tuple[dict[str, Any], list[Turn]],
) -> None:
    data, turns = kid_time_turns
    captured = turns_from_skill_io(capture_of(turns))
    assert [t.utterance for t in captured] == [t.utterance for t in turns]
    assert [t.intent for t in captured] == [t.intent for t in turns]
    assert captured[1].slots["duration"]["value"] == "PT20M"
    result = compare_turns(data, captured)
    assert result.ok, result.mismatches


def test_a_capture_that_differs_fails_on_each_compared_field(
    kid_time_turns: tuple[dict[str, Any], list[Turn]],
) -> None:
    data, turns = kid_time_turns
    capture = capture_of(turns)
    finished = [
        i for i in capture["invocations"] if i["response"]["body"]["status"] != "IN_PROGRESS"
    ]

    def invocation(n: int) -> dict[str, Any]:
        result: dict[str, Any] = finished[n]["response"]["body"]["result"]
        return result["skillExecutionInfo"]["invocations"][0]  # type: ignore[no-any-return]

    launch = invocation(0)["invocationResponse"]["body"]["response"]
    launch["shouldEndSession"] = True
    del launch["reprompt"]
    kid_time = invocation(1)
    kid_time["invocationRequest"]["body"]["request"]["intent"]["slots"]["duration"]["value"] = (
        "PT5M"
    )
    kid_time["invocationResponse"]["body"]["response"]["outputSpeech"]["ssml"] = "<speak>Hi</speak>"
    kid_time["invocationResponse"]["body"]["response"]["card"]["title"] = "Other"
    finished[2]["request"]["utterance"] = "something else"
    summary = invocation(4)["invocationRequest"]["body"]["request"]
    summary["intent"]["name"] = "AMAZON.HelpIntent"

    result = compare_turns(data, turns_from_skill_io(capture))
    text = "\n".join(result.mismatches)
    assert "turn 1 ('open mama moments'): ended expected False, got True" in text
    assert "turn 1 ('open mama moments'): reprompt expected True, got False" in text
    assert "slots expected {'duration': 'PT20M'}, got {'duration': 'PT5M'}" in text
    assert "card_title expected 'Kid time', got 'Other'" in text
    assert "speech lacks ['Kid time starts now', '20 minutes']" in text
    assert "turn 3: said 'something else', the dialog says" in text
    assert "intent expected 'KidTimeSummaryIntent', got 'AMAZON.HelpIntent'" in text


#: A hand-written capture in ASK CLI's --save-skill-io form: a poll still IN_PROGRESS, a finished
#: StrategyIntent with a resolved slot and an unfilled one, then a FAILED simulation.
HAND_WRITTEN: dict[str, Any] = json.loads(
    (Path(__file__).parent / "data" / "skill-io-capture.json").read_text(encoding="utf-8")
)


def test_a_hand_written_capture_is_read_field_by_field() -> None:
    first, second = turns_from_skill_io(HAND_WRITTEN)
    assert first.utterance == "ask mama moments for help with boundaries"
    assert first.intent == "StrategyIntent"
    assert set(first.slots) == {"topic"}, "a declared slot without a value was not filled"
    assert first.slots["topic"]["resolved_id"] == "boundaries"
    assert first.slots["topic"]["resolved_name"] == "clear work hours"
    assert first.text == "Clear work hours."
    assert first.session_attributes == {"offer": "strategy"}
    assert first.ok and not first.ended and first.reprompt is None
    assert not second.ok
    assert second.error == "Skill endpoint timed out"

    data = {
        "turns": [
            {
                "say": "ask mama moments for help with boundaries",
                "expect": {
                    "intent": "StrategyIntent",
                    "slots": {"topic": {"resolved_id": "boundaries"}},
                    "session_attributes": {"offer": "strategy"},
                    "speech_contains": ["clear work hours"],
                },
            },
            {"say": "stop", "expect": {"intent": "AMAZON.StopIntent"}},
        ]
    }
    result = compare_turns(data, [first, second])
    assert result.mismatches == [
        "turn 2 ('stop'): intent expected 'AMAZON.StopIntent', got 'AMAZON.FallbackIntent' "
        "[Skill endpoint timed out]",
        "turn 2 ('stop'): status expected 200, got 0 [Skill endpoint timed out]",
    ]


def test_against_skill_io_command(cli_env: Path) -> None:
    capture = write(cli_env / "io.json", HAND_WRITTEN)
    one_turn = {
        "locale": "en-US",
        "turns": [
            {
                "say": "ask mama moments for help with boundaries",
                "expect": {"intent": "StrategyIntent", "ended": False},
            }
        ],
    }
    dialog = write(cli_env / "dialog.json", one_turn)
    result = CliRunner().invoke(main, ["replay", str(dialog), "--against-skill-io", str(capture)])
    assert result.exit_code == 1, "the capture has a second, failed, turn the dialog lacks"
    assert "2 turns expected" not in result.output
    assert "1 turns expected, 2 taken" in result.output

    two_turns = copy.deepcopy(one_turn)
    two_turns["turns"].append({"say": "stop"})
    write(dialog, two_turns)
    result = CliRunner().invoke(main, ["replay", str(dialog), "--against-skill-io", str(capture)])
    assert result.exit_code == 1
    assert "status expected 200, got 0 [Skill endpoint timed out]" in result.output

    two_turns["turns"].pop()
    ok_capture = copy.deepcopy(HAND_WRITTEN)
    ok_capture["invocations"].pop()
    write(capture, ok_capture)
    write(dialog, two_turns)
    result = CliRunner().invoke(main, ["replay", str(dialog), "--against-skill-io", str(capture)])
    assert result.exit_code == 0, result.output
    assert "1 turns OK" in result.output


@pytest.mark.parametrize(
    "capture",
    [{"turns": []}, {"invocations": [{"request": "x"}]}, []],
)
def test_bad_captures_are_clear_errors(cli_env: Path, capture: object) -> None:
    path = write(cli_env / "io.json", capture)
    result = CliRunner().invoke(
        main, ["replay", str(DIALOGS / "kid_time.json"), "--against-skill-io", str(path)]
    )
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "io.json" in result.output
