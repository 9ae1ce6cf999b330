"""Alexa request envelopes (``version 1.0``) built as plain dicts, and the session they carry."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from skill.devtools.simulator.constants import (
    API_ENDPOINT,
    DEFAULT_DEVICE_ID,
    DEFAULT_SKILL_ID,
    DEFAULT_USER_ID,
    JSON,
    LAUNCH_REQUEST,
)
from skill.devtools.simulator.matcher import Match, SlotValue
from skill.devtools.simulator.model import InteractionModel


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class SessionState:
    """The session a conversation is in."""

    session_id: str
    new: bool = True
    attributes: dict[str, Any] = field(default_factory=dict)


class EnvelopeFactory:
    """Builds Alexa request envelopes (``version 1.0``) as plain dicts."""

    def __init__(
        self,
        skill_id: str = DEFAULT_SKILL_ID,
        user_id: str = DEFAULT_USER_ID,
        locale: str = "en-US",
        clock: Callable[[], datetime] = _utc_now,
        *,
        device_id: str = DEFAULT_DEVICE_ID,
        api_access_token: str = "simulator-api-access-token",
    ) -> None:
        self.skill_id = skill_id
        self.user_id = user_id
        self.locale = locale
        self.clock = clock
        self.device_id = device_id
        self.api_access_token = api_access_token

    @staticmethod
    def new_session_id() -> str:
        return f"amzn1.echo-api.session.{uuid.uuid4()}"

    def new_session(self, attributes: Mapping[str, Any] | None = None) -> SessionState:
        """A fresh session (``new`` true) with optional starting attributes."""
        return SessionState(self.new_session_id(), True, dict(attributes or {}))

    def timestamp(self) -> str:
        """The clock's time as Alexa writes it: ISO-8601, UTC, whole seconds, ``Z``."""
        now = self.clock()
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def authority(self, slot_type: str) -> str:
        """The entity-resolution authority of a custom slot type in this skill."""
        return f"amzn1.er-authority.echo-sdk.{self.skill_id}.{slot_type}"

    def envelope(self, request: JSON, session: SessionState | None) -> JSON:
        """Wrap a ``request`` object in the session and context Alexa sends along."""
        application = {"applicationId": self.skill_id}
        user = {"userId": self.user_id}
        body: JSON = {"version": "1.0"}
        if session is not None:
            body["session"] = {
                "new": session.new,
                "sessionId": session.session_id,
                "application": dict(application),
                "attributes": dict(session.attributes),
                "user": dict(user),
            }
        body["context"] = {
            "System": {
                "application": dict(application),
                "user": dict(user),
                "device": {"deviceId": self.device_id, "supportedInterfaces": {}},
                "apiEndpoint": API_ENDPOINT,
                "apiAccessToken": self.api_access_token,
            }
        }
        body["request"] = request
        return body

    def _request(self, request_type: str) -> JSON:
        return {
            "type": request_type,
            "requestId": f"amzn1.echo-api.request.{uuid.uuid4()}",
            "timestamp": self.timestamp(),
            "locale": self.locale,
        }

    def launch_request(self, session: SessionState | None = None) -> JSON:
        return self.envelope(self._request(LAUNCH_REQUEST), session or self.new_session())

    def slot(self, name: str, value: SlotValue | None) -> JSON:
        """One slot object; with entity resolutions for custom slot types."""
        slot: JSON = {"name": name, "confirmationStatus": "NONE"}
        if value is None:
            return slot
        slot["value"] = value["value"]
        simple: JSON = {"type": "Simple", "value": value["value"]}
        if not value["type"].startswith("AMAZON."):
            authority: JSON = {"authority": self.authority(value["type"])}
            if value["resolved_id"] is not None:
                authority["status"] = {"code": "ER_SUCCESS_MATCH"}
                authority["values"] = [
                    {"value": {"name": value["resolved_name"], "id": value["resolved_id"]}}
                ]
            else:
                authority["status"] = {"code": "ER_SUCCESS_NO_MATCH"}
            resolutions = {"resolutionsPerAuthority": [authority]}
            slot["resolutions"] = resolutions
            simple["resolutions"] = json.loads(json.dumps(resolutions))
        slot["slotValue"] = simple
        return slot

    def intent_request(
        self,
        intent: str,
        slots: Mapping[str, SlotValue] | None = None,
        session: SessionState | None = None,
        *,
        declared_slots: Iterable[str] = (),
    ) -> JSON:
        """An IntentRequest; declared but unfilled slots are sent without a value, as Alexa does."""
        filled = dict(slots or {})
        names = list(dict.fromkeys([*declared_slots, *filled]))
        request = self._request("IntentRequest")
        request["intent"] = {
            "name": intent,
            "confirmationStatus": "NONE",
            "slots": {name: self.slot(name, filled.get(name)) for name in names},
        }
        return self.envelope(request, session or self.new_session())

    def session_ended_request(
        self,
        session: SessionState | None = None,
        reason: str = "USER_INITIATED",
        error: Mapping[str, str] | None = None,
    ) -> JSON:
        request = self._request("SessionEndedRequest")
        request["reason"] = reason
        if error is not None:
            request["error"] = dict(error)
        return self.envelope(request, session or self.new_session())

    def request_for(self, match: Match, session: SessionState, model: InteractionModel) -> JSON:
        """The envelope for a matched utterance."""
        if match.intent == LAUNCH_REQUEST:
            return self.launch_request(session)
        declared = model.intent(match.intent)
        names = [s.name for s in declared.slots] if declared else []
        return self.intent_request(match.intent, match.slots, session, declared_slots=names)
