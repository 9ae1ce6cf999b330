"""Replay files (``tests/dialogs/*.json``): run a recorded dialog and compare, or record one.

Two more formats interoperate with ASK CLI's ``ask dialog``:

* **ASK CLI replay files** (``ask dialog --replay FILE``, or ``.record`` in its interactive
  mode): ``{"skillId", "locale", "type": "text", "userInput": ["open ...", ..., ".quit"]}``.
  :func:`load_replay` reads them as turns without expectations (a turn then fails only when the
  skill does); ``.quit`` ends the input there, as it does in ASK CLI. :func:`to_ask_replay`
  writes one of our dialogs in that format, ``.quit`` appended so ``ask dialog`` exits after it.
* **Captures** from ``ask dialog --save-skill-io FILE``: ``{"invocations": [{"request":
  {"utterance", "newSession"}, "response": {"body": <Skill Simulation API result>}}]}``. ASK CLI
  appends one entry per poll, so only entries whose ``body.status`` is ``SUCCESSFUL`` or
  ``FAILED`` count, one per utterance. :func:`turns_from_skill_io` turns them into
  :class:`Turn` objects and :func:`compare_turns` checks our expectations on them. The fields
  compared, from ``body.result.skillExecutionInfo.invocations[]`` (the first that is not a
  SessionEndedRequest):

  ========================  ================================================================
  ``say``                   ``request.utterance`` of the capture, in order (must be equal)
  ``intent``                ``invocationRequest.body.request.intent.name``, else its ``type``
  ``slots``                 ``...request.intent.slots.<name>.value``; ``resolved_id`` and
                            ``resolved_name`` from the first ``ER_SUCCESS_MATCH`` resolution
  ``ended``                 ``invocationResponse.body.response.shouldEndSession`` is ``true``
  ``reprompt``              ``...response.reprompt`` is present
  ``card``, ``card_title``  ``...response.card`` and its ``title``
  ``speech_contains``,      ``...response.outputSpeech`` (SSML reduced to text), as locally
  ``speech_excludes``
  ``session_attributes``    ``invocationResponse.body.sessionAttributes``
  ``status``                200 for a ``SUCCESSFUL`` simulation with a skill response; a
                            ``FAILED`` one, or one that never reached the skill, is an error
  ========================  ================================================================
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skill.devtools.simulator.constants import FALLBACK_INTENT, JSON
from skill.devtools.simulator.conversation import Conversation, Turn, turn_from_exchange
from skill.devtools.simulator.matcher import Match, SlotValue

#: What ``ask dialog`` reads: the only ``type`` it knows, and the input that ends a replay.
ASK_REPLAY_TYPE = "text"
ASK_QUIT = ".quit"
#: Simulation statuses that end ASK CLI's polling for one utterance.
_FINAL_STATUSES = ("SUCCESSFUL", "FAILED")


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


def _read_json(path: Path) -> object:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: invalid JSON: {exc}") from None


def load_replay(path: Path) -> JSON:
    """Read one of our replay files, or an ASK CLI replay file as turns without expectations."""
    data = _read_json(path)
    if isinstance(data, dict) and "userInput" in data and "turns" not in data:
        return from_ask_replay(data, str(path))
    if not isinstance(data, dict) or not isinstance(data.get("turns"), list):
        raise ValueError(
            f"{path}: a replay file is an object with a 'turns' list, or an ASK CLI replay "
            "file with a 'userInput' list"
        )
    return data


def from_ask_replay(data: Mapping[str, Any], where: str = "replay") -> JSON:
    """Our replay form of an ``ask dialog`` replay file (inputs up to ``.quit``)."""
    kind = data.get("type", ASK_REPLAY_TYPE)
    if kind != ASK_REPLAY_TYPE:
        raise ValueError(f"{where}: ASK CLI replay type {kind!r} is not supported (only 'text')")
    inputs = data.get("userInput")
    if not isinstance(inputs, list) or not all(isinstance(i, str) for i in inputs):
        raise ValueError(f"{where}: 'userInput' must be a list of strings")
    locale = data.get("locale", "en-US")
    if not isinstance(locale, str) or not locale.strip():
        raise ValueError(f"{where}: 'locale' must be a string such as 'en-US'")
    turns: list[JSON] = []
    for text in inputs:
        if text.strip() == ASK_QUIT:
            break  # ask dialog exits here; nothing after it is sent
        if text.strip():
            turns.append({"say": text.strip()})
    if not turns:
        raise ValueError(f"{where}: 'userInput' has nothing to say before {ASK_QUIT!r}")
    result: JSON = {"locale": locale.strip(), "turns": turns}
    if isinstance(data.get("skillId"), str):
        result["skill_id"] = data["skillId"]
    return result


def to_ask_replay(data: Mapping[str, Any], skill_id: str) -> JSON:
    """One of our dialogs as an ``ask dialog --replay`` file (expectations are dropped)."""
    inputs = [step["say"] for step in data["turns"] if isinstance(step, Mapping)]
    if not all(isinstance(text, str) and text.strip() for text in inputs):
        raise ValueError("every turn needs a non-empty 'say' string")
    return {
        "skillId": skill_id,
        "locale": str(data.get("locale") or "en-US"),
        "type": ASK_REPLAY_TYPE,
        "userInput": [*inputs, ASK_QUIT],
    }


def _resolution(slot: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """``(id, name)`` of a slot's first successful entity resolution, if any."""
    authorities = (slot.get("resolutions") or {}).get("resolutionsPerAuthority") or []
    for authority in authorities:
        if (authority.get("status") or {}).get("code") != "ER_SUCCESS_MATCH":
            continue
        for item in authority.get("values") or []:
            value = item.get("value") or {}
            return value.get("id"), value.get("name")
    return None, None


def _match_of(request: Mapping[str, Any]) -> Match:
    """The intent and slots a request envelope carries, as the local matcher would give them."""
    inner = request.get("request") or {}
    kind = str(inner.get("type") or "")
    if kind != "IntentRequest":
        return Match(kind or FALLBACK_INTENT)
    intent = inner.get("intent") or {}
    slots: dict[str, SlotValue] = {}
    for name, slot in (intent.get("slots") or {}).items():
        if not isinstance(slot, Mapping) or slot.get("value") is None:
            continue  # Alexa sends every declared slot; unfilled ones have no value
        resolved_id, resolved_name = _resolution(slot)
        value = str(slot["value"])
        slots[name] = SlotValue(
            value=value,
            resolved_id=resolved_id,
            resolved_name=resolved_name,
            type="",
            spoken=value,
        )
    return Match(str(intent.get("name") or FALLBACK_INTENT), slots)


def turns_from_skill_io(capture: object, where: str = "capture") -> list[Turn]:
    """The turns of an ``ask dialog --save-skill-io`` capture, one per utterance."""
    entries = capture.get("invocations") if isinstance(capture, Mapping) else None
    if not isinstance(entries, list):
        raise ValueError(f"{where}: a --save-skill-io capture is an object with 'invocations'")
    turns: list[Turn] = []
    for n, entry in enumerate(entries):
        asked = entry.get("request") if isinstance(entry, Mapping) else None
        body = ((entry.get("response") or {}) if isinstance(entry, Mapping) else {}).get("body")
        if not isinstance(asked, Mapping) or not isinstance(body, Mapping):
            raise ValueError(f"{where}: invocations[{n}] lacks request or response.body")
        status = body.get("status")
        if status not in _FINAL_STATUSES:
            continue  # a poll while the simulation was still IN_PROGRESS
        utterance = str(asked.get("utterance") or "")
        result = body.get("result") or {}
        invocations = (result.get("skillExecutionInfo") or {}).get("invocations") or []
        reached = [
            i
            for i in invocations
            if ((i.get("invocationRequest") or {}).get("body") or {}).get("request", {}).get("type")
            != "SessionEndedRequest"
        ] or invocations
        if status == "FAILED" or not reached:
            error = (result.get("error") or {}).get("message") or "the skill was not invoked"
            turns.append(turn_from_exchange(utterance, Match(FALLBACK_INTENT), {}, 0, error))
            continue
        request = (reached[0].get("invocationRequest") or {}).get("body") or {}
        response = (reached[0].get("invocationResponse") or {}).get("body")
        turns.append(
            turn_from_exchange(utterance, _match_of(request), dict(request), 200, response)
        )
    return turns


def load_skill_io(path: Path) -> list[Turn]:
    return turns_from_skill_io(_read_json(path), str(path))


def run_replay(data: Mapping[str, Any], conversation: Conversation) -> ReplayResult:
    """Say every turn of a replay and compare what came back with its expectations."""
    turns = []
    for n, step in enumerate(data["turns"], start=1):
        if not isinstance(step, Mapping) or not isinstance(step.get("say"), str):
            raise ValueError(f"turn {n}: needs a 'say' string")
        turns.append(conversation.say(step["say"]))
    return compare_turns(data, turns)


def compare_turns(data: Mapping[str, Any], turns: list[Turn]) -> ReplayResult:
    """Check a replay's expectations on turns that were already taken (here or by Alexa)."""
    mismatches: list[str] = []
    expected: list[JSON] = []
    actual: list[JSON] = []
    steps = list(data["turns"])
    if len(turns) != len(steps):
        mismatches.append(f"{len(steps)} turns expected, {len(turns)} taken")
    for n, (step, turn) in enumerate(zip(steps, turns, strict=False), start=1):
        if not isinstance(step, Mapping) or not isinstance(step.get("say"), str):
            raise ValueError(f"turn {n}: needs a 'say' string")
        if turn.utterance.strip().lower() != step["say"].strip().lower():
            mismatches.append(f"turn {n}: said {turn.utterance!r}, the dialog says {step['say']!r}")
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
