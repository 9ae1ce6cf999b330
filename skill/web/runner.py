"""Running the skill on one request: shared by the web endpoint and the Lambda handler."""

from __future__ import annotations

import json
import random
import time
from typing import Any

from ask_sdk_core.exceptions import AskSdkException
from ask_sdk_core.skill import CustomSkill
from ask_sdk_model import RequestEnvelope

from skill.alexa.builder import HANDLED_REQUEST_TYPES
from skill.alexa.serializer import AlexaSerializer
from skill.storage import StaleWriteError
from skill.web.envelope import envelope_problem

#: A stale write means another request for the same user won the race; re-run on fresh state.
#: One person's requests rarely overlap; under a burst, exponential back-off spreads them out.
WRITE_ATTEMPTS = 10
BACKOFF_FIRST_S = 0.001
BACKOFF_MAX_S = 0.1


class RequestRefused(ValueError):
    """Not a request this skill runs: ``code`` names the kind, ``str()`` is a public reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class SkillBusy(RuntimeError):
    """Every attempt lost a write race for the same user; the caller may retry."""


class SkillRunner:
    """The skill with ask-sdk's serializer, the request checks and the stale-write retries."""

    def __init__(self, skill: CustomSkill, skill_id: str | None = None) -> None:
        self.skill = skill
        self.skill_id = skill_id
        self.serializer = AlexaSerializer()  # ISO timestamps without dateutil (issue 13)

    def check(self, payload: object) -> dict[str, Any]:
        """The payload as an envelope dict of a supported shape, for this skill."""
        problem = envelope_problem(payload, HANDLED_REQUEST_TYPES)
        if problem is not None:
            raise RequestRefused("invalid_request", problem)
        assert isinstance(payload, dict)  # envelope_problem checked it
        app_id = payload["context"]["System"]["application"]["applicationId"]
        if self.skill_id is not None and app_id != self.skill_id:
            raise RequestRefused("unknown_skill", "this request is for another skill")
        return payload

    def run(self, payload: dict[str, Any], raw: str | None = None) -> dict[str, Any]:
        """Answer a checked request (``raw`` is its JSON text, when the caller has it)."""
        envelope = self._deserialize(raw if raw is not None else json.dumps(payload))
        for attempt in range(WRITE_ATTEMPTS):
            try:
                # The raw payload is the SDK's context: handlers read fields that ask-sdk-model
                # drops (the SkillDisabled event body) from there.
                response = self.skill.invoke(request_envelope=envelope, context=payload)
            except StaleWriteError:
                # Random, growing back-off so racing processes stop colliding on one user.
                time.sleep(random.uniform(0, min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2**attempt)))
                continue
            except AskSdkException:
                # The SDK's own checks (for example the skill id) fail before any handler runs.
                raise RequestRefused("invalid_request", "the request was refused") from None
            serialized = self.serializer.serialize(response)
            assert isinstance(serialized, dict)  # a ResponseEnvelope serializes to an object
            return serialized
        raise SkillBusy("too many simultaneous changes for one user; try again")

    def _deserialize(self, raw: str) -> RequestEnvelope:
        try:
            envelope: RequestEnvelope = self.serializer.deserialize(raw, RequestEnvelope)
        except (AskSdkException, ValueError, TypeError, AttributeError, RecursionError):
            raise RequestRefused("invalid_request", "the request could not be read") from None
        if envelope is None or envelope.request is None or envelope.context is None:
            raise RequestRefused("invalid_request", "the request could not be read")
        return envelope
