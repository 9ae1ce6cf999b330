"""Conversations: a session carried turn to turn through a transport (in-process or HTTP)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from skill.devtools.simulator.constants import FALLBACK_INTENT, JSON, LAUNCH_REQUEST
from skill.devtools.simulator.envelopes import EnvelopeFactory, SessionState
from skill.devtools.simulator.matcher import Match, SlotValue, UtteranceMatcher
from skill.devtools.simulator.text import _SPACES

if TYPE_CHECKING:
    from flask import Flask

# --------------------------------------------------------------------------------------------
# Transports
# --------------------------------------------------------------------------------------------


class Transport(Protocol):
    """Posts one request envelope; answers ``(HTTP status, parsed JSON or body text)``."""

    def post(self, envelope: JSON) -> tuple[int, Any]: ...


def _decode(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


class AppTransport:
    """Posts to a Flask app in-process through its test client."""

    def __init__(self, app: Flask, path: str = "/alexa") -> None:
        self.app = app
        self.path = path
        self._client = app.test_client()

    def post(self, envelope: JSON) -> tuple[int, Any]:
        response = self._client.post(
            self.path,
            data=json.dumps(envelope),
            headers={"Content-Type": "application/json"},
        )
        return response.status_code, _decode(response.get_data(as_text=True))


class HttpTransport:
    """Posts to a running skill server over HTTP with ``requests``."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url
        self.timeout = timeout

    def post(self, envelope: JSON) -> tuple[int, Any]:
        import requests

        try:
            response = requests.post(
                self.url,
                data=json.dumps(envelope),
                headers={"Content-Type": "application/json"},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            return 0, f"no response from {self.url}: {exc}"
        return response.status_code, _decode(response.text)


# --------------------------------------------------------------------------------------------
# Conversations
# --------------------------------------------------------------------------------------------

_BREAK = re.compile(r"<break\b[^>]*/>")
_TAG = re.compile(r"<[^>]+>")


def ssml_to_text(ssml: str) -> str:
    """Plain text of an SSML string (tags stripped, breaks shown as ``...``)."""
    try:
        from speech.ssml import to_plain_text
    except ImportError:  # pragma: no cover - speech is part of this repository
        import html

        text = _TAG.sub(" ", _BREAK.sub(" ... ", ssml))
        return _SPACES.sub(" ", html.unescape(text)).strip()
    return to_plain_text(ssml)


def _speech(output: object) -> tuple[str | None, str | None]:
    """``(ssml, plain text)`` of an ``outputSpeech`` object."""
    if not isinstance(output, Mapping):
        return None, None
    if output.get("type") == "SSML" and isinstance(output.get("ssml"), str):
        return output["ssml"], ssml_to_text(output["ssml"])
    if isinstance(output.get("text"), str):
        return output["text"], output["text"]
    return None, None


@dataclass
class Turn:
    """One exchange: what was said, what was sent, what came back."""

    utterance: str
    intent: str
    slots: dict[str, SlotValue]
    request: JSON
    status: int
    response: JSON | None
    speech: str | None = None
    text: str | None = None
    reprompt: str | None = None
    reprompt_text: str | None = None
    card: JSON | None = None
    ended: bool = False
    error: str | None = None
    #: When the matcher guessed with low confidence: runner-up intents and their scores.
    did_you_mean: tuple[tuple[str, float], ...] = ()

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error is None

    @property
    def session_attributes(self) -> dict[str, Any]:
        if self.response is None:
            return {}
        attributes = self.response.get("sessionAttributes")
        return dict(attributes) if isinstance(attributes, Mapping) else {}

    @property
    def card_title(self) -> str | None:
        title = (self.card or {}).get("title")
        return title if isinstance(title, str) else None

    def to_json(self) -> JSON:
        return {
            "utterance": self.utterance,
            "intent": self.intent,
            "slots": dict(self.slots),
            "status": self.status,
            "speech": self.speech,
            "text": self.text,
            "reprompt": self.reprompt,
            "card": self.card,
            "ended": self.ended,
            "error": self.error,
            "request": self.request,
            "response": self.response,
        }


def turn_from_exchange(utterance: str, match: Match, request: JSON, status: int, body: Any) -> Turn:
    """A :class:`Turn` from one request and what came back (HTTP status and parsed body)."""
    turn = Turn(utterance, match.intent, dict(match.slots), request, status, None)
    if match.unsure:
        turn.did_you_mean = match.alternatives
    if status != 200 or not isinstance(body, Mapping):
        if status == 200:
            turn.error = f"response is not a JSON object: {str(body)[:500]}"
        else:
            detail = body if isinstance(body, str) else json.dumps(body)
            turn.error = f"HTTP {status}: {detail[:500]}" if status else str(detail)[:500]
        turn.ended = True
        return turn
    turn.response = dict(body)
    inner = body.get("response")
    inner = inner if isinstance(inner, Mapping) else {}
    turn.speech, turn.text = _speech(inner.get("outputSpeech"))
    reprompt = inner.get("reprompt")
    if isinstance(reprompt, Mapping):
        turn.reprompt, turn.reprompt_text = _speech(reprompt.get("outputSpeech"))
    card = inner.get("card")
    turn.card = dict(card) if isinstance(card, Mapping) else None
    turn.ended = inner.get("shouldEndSession") is True
    return turn


class Conversation:
    """Talks to a skill turn by turn, keeping the session (id, ``new`` flag, attributes)."""

    def __init__(
        self, transport: Transport, factory: EnvelopeFactory, matcher: UtteranceMatcher
    ) -> None:
        self.transport = transport
        self.factory = factory
        self.matcher = matcher
        self.session: SessionState | None = None
        self.turns: list[Turn] = []

    @property
    def in_session(self) -> bool:
        return self.session is not None

    def say(self, text: str) -> Turn:
        """Match ``text`` and send it; empty text is sent as a FallbackIntent."""
        match = self.matcher.match(text) or Match(FALLBACK_INTENT)
        return self.send(match, text)

    def launch(self) -> Turn:
        return self.send(Match(LAUNCH_REQUEST, invoked=True), "")

    def intend(self, intent: str, slots: Mapping[str, str] | None = None) -> Turn:
        """Send an intent directly; slot values are resolved like spoken ones."""
        declared = self.matcher.model.intent(intent)
        filled: dict[str, SlotValue] = {}
        for name, spoken in (slots or {}).items():
            slot = declared.slot(name) if declared else None
            slot_type = slot.type if slot else "AMAZON.SearchQuery"
            filled[name] = self.matcher.slot_value(slot_type, spoken)
        return self.send(Match(intent, filled), "")

    def send(self, match: Match, utterance: str = "") -> Turn:
        if self.session is None or match.invoked:
            self.session = self.factory.new_session()
        request = self.factory.request_for(match, self.session, self.matcher.model)
        status, body = self.transport.post(request)
        turn = turn_from_exchange(utterance, match, request, status, body)
        self.turns.append(turn)
        if turn.ended:
            self.session = None
        else:
            self.session.new = False
            self.session.attributes = turn.session_attributes
        return turn

    def end(self, reason: str = "USER_INITIATED") -> Turn | None:
        """Send a SessionEndedRequest when a session is open."""
        if self.session is None:
            return None
        request = self.factory.session_ended_request(self.session, reason)
        status, body = self.transport.post(request)
        turn = turn_from_exchange("", Match("SessionEndedRequest"), request, status, body)
        turn.ended = True
        self.turns.append(turn)
        self.session = None
        return turn
