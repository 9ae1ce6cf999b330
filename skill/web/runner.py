"""Running the skill on one request: shared by the web endpoint and the Lambda handler."""

from __future__ import annotations

import random
import time
from typing import Any, Protocol

from ask_sdk_core.exceptions import AskSdkException
from ask_sdk_core.skill import CustomSkill
from ask_sdk_model import RequestEnvelope

from skill.alexa.builder import HANDLED_INTENTS, HANDLED_REQUEST_TYPES
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


class RunObserver(Protocol):
    """Hears what the runner does, for metrics. Labels are request types and intent names the
    skill declares (anything else is ``"other"``), never user ids or slot values."""

    def answered(self, request_type: str, intent: str, seconds: float) -> None: ...

    def retried(self) -> None: ...


class _Unobserved:
    def answered(self, request_type: str, intent: str, seconds: float) -> None:
        pass

    def retried(self) -> None:
        pass


def labels_of(payload: dict[str, Any]) -> tuple[str, str]:
    """(request type, intent) of a checked envelope, bounded to what the skill declares."""
    request = payload["request"]
    request_type = request["type"] if request["type"] in HANDLED_REQUEST_TYPES else "other"
    intent = (request.get("intent") or {}).get("name") if request_type == "IntentRequest" else ""
    if intent and intent not in HANDLED_INTENTS:
        intent = "other"
    return request_type, intent or ""


class SkillRunner:
    """The skill with ask-sdk's serializer, the request checks and the stale-write retries.

    ``last_attempt`` is the same skill built to apologise for a stale write
    (``build_skill(..., apologise_for_stale_writes=True)``): when given, a burst that loses
    every race gets the spoken apology on the last attempt instead of :class:`SkillBusy`.
    """

    def __init__(
        self,
        skill: CustomSkill,
        skill_id: str | None = None,
        *,
        last_attempt: CustomSkill | None = None,
        observer: RunObserver | None = None,
    ) -> None:
        self.skill = skill
        self.skill_id = skill_id
        self.last_attempt = last_attempt
        self.observer: RunObserver = observer or _Unobserved()
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

    def run(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Answer a checked request."""
        started = time.perf_counter()
        envelope = self._deserialize(payload)
        for attempt in range(WRITE_ATTEMPTS):
            last = attempt == WRITE_ATTEMPTS - 1
            skill = self.last_attempt if last and self.last_attempt is not None else self.skill
            try:
                # The raw payload is the SDK's context: handlers read fields that ask-sdk-model
                # drops (the SkillDisabled event body) from there.
                response = skill.invoke(request_envelope=envelope, context=payload)
            except StaleWriteError:
                self.observer.retried()
                # Random, growing back-off so racing processes stop colliding on one user.
                time.sleep(random.uniform(0, min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2**attempt)))
                continue
            except AskSdkException:
                # The SDK's own checks (for example the skill id) fail before any handler runs.
                raise RequestRefused("invalid_request", "the request was refused") from None
            serialized = self.serializer.serialize(response)
            assert isinstance(serialized, dict)  # a ResponseEnvelope serializes to an object
            self.observer.answered(*labels_of(payload), time.perf_counter() - started)
            return serialized
        raise SkillBusy("too many simultaneous changes for one user; try again")

    def _deserialize(self, payload: dict[str, Any]) -> RequestEnvelope:
        try:
            envelope: RequestEnvelope = self.serializer.deserialize_object(payload, RequestEnvelope)
        except (AskSdkException, ValueError, TypeError, AttributeError, RecursionError):
            raise RequestRefused("invalid_request", "the request could not be read") from None
        if envelope is None or envelope.request is None or envelope.context is None:
            raise RequestRefused("invalid_request", "the request could not be read")
        return envelope
