"""Replay files (``tests/dialogs/*.json``): run a recorded dialog and compare, or record one."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skill.devtools.simulator.constants import JSON
from skill.devtools.simulator.conversation import Conversation, Turn


@dataclass
class ReplayResult:
    """The outcome of one replay file."""

    turns: list[Turn]
    mismatches: list[str]
    expected: list[JSON]
    actual: list[JSON]

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def diff(self) -> str:
        """A unified diff of expected against observed (only the expected keys)."""
        left = json.dumps(self.expected, indent=2, ensure_ascii=False).splitlines()
        right = json.dumps(self.actual, indent=2, ensure_ascii=False).splitlines()
        return "\n".join(difflib.unified_diff(left, right, "expected", "actual", lineterm=""))


def _observed(turn: Turn, expect: Mapping[str, Any]) -> JSON:
    """The observed values of the keys ``expect`` names, in the same shape."""
    seen: JSON = {}
    for key, wanted in expect.items():
        if key == "intent":
            seen[key] = turn.intent
        elif key == "ended":
            seen[key] = turn.ended
        elif key == "status":
            seen[key] = turn.status
        elif key == "reprompt":
            seen[key] = turn.reprompt is not None
        elif key == "card":
            seen[key] = turn.card is not None
        elif key == "card_title":
            seen[key] = turn.card_title
        elif key == "speech_contains":
            text = (turn.text or "").lower()
            seen[key] = [p for p in wanted if isinstance(p, str) and p.lower() in text]
            if seen[key] != list(wanted):
                seen["speech"] = turn.text
        elif key == "speech_excludes":
            text = (turn.text or "").lower()
            seen[key] = [p for p in wanted if isinstance(p, str) and p.lower() not in text]
        elif key == "slots" and isinstance(wanted, Mapping):
            slots: JSON = {}
            for name, want in wanted.items():
                got = turn.slots.get(name)
                if isinstance(want, Mapping):
                    slots[name] = {k: (got or {}).get(k) for k in want}
                else:
                    slots[name] = got["value"] if got else None
            seen[key] = slots
        elif key == "session_attributes" and isinstance(wanted, Mapping):
            attributes = turn.session_attributes
            seen[key] = {k: attributes.get(k) for k in wanted}
        else:
            seen[key] = f"<unknown expectation {key!r}>"
    return seen


def load_replay(path: Path) -> JSON:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("turns"), list):
        raise ValueError(f"{path}: a replay file is an object with a 'turns' list")
    return data


def run_replay(data: Mapping[str, Any], conversation: Conversation) -> ReplayResult:
    """Say every turn of a replay and compare what came back with its expectations."""
    turns: list[Turn] = []
    mismatches: list[str] = []
    expected: list[JSON] = []
    actual: list[JSON] = []
    for n, step in enumerate(data["turns"], start=1):
        if not isinstance(step, Mapping) or not isinstance(step.get("say"), str):
            raise ValueError(f"turn {n}: needs a 'say' string")
        turn = conversation.say(step["say"])
        turns.append(turn)
        expect = dict(step.get("expect") or {})
        if "status" not in expect and not turn.ok:
            expect["status"] = 200
        seen = _observed(turn, expect)
        shown_expect = {"say": step["say"], **expect}
        shown_seen = {"say": step["say"], **seen}
        if "speech" in seen:
            shown_expect["speech"] = "<speech containing the phrases above>"
        expected.append(shown_expect)
        actual.append(shown_seen)
        for key, wanted in expect.items():
            if key == "speech_contains":
                missing = [p for p in wanted if p not in seen[key]]
                if missing:
                    mismatches.append(f"turn {n} ({step['say']!r}): speech lacks {missing}")
            elif key == "speech_excludes":
                present = [p for p in wanted if p not in seen[key]]
                if present:
                    mismatches.append(f"turn {n} ({step['say']!r}): speech has {present}")
            elif seen[key] != wanted:
                mismatches.append(
                    f"turn {n} ({step['say']!r}): {key} expected {wanted!r}, got {seen[key]!r}"
                    + (f" [{turn.error}]" if turn.error else "")
                )
    return ReplayResult(turns, mismatches, expected, actual)


def replay_from_turns(turns: Iterable[Turn], locale: str) -> JSON:
    """A replay file (intent, slots, ended, reprompt) recorded from real turns."""
    steps = []
    for turn in turns:
        if not turn.utterance:
            continue
        expect: JSON = {"intent": turn.intent}
        if turn.slots:
            expect["slots"] = {name: value["value"] for name, value in turn.slots.items()}
        expect["ended"] = turn.ended
        expect["reprompt"] = turn.reprompt is not None
        steps.append({"say": turn.utterance, "expect": expect})
    return {"locale": locale, "turns": steps}
