"""Hand-written Alexa request envelopes, following Alexa's request JSON reference."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

SKILL_ID = "amzn1.ask.skill.00000000-0000-0000-0000-000000000001"
USER_ID = "amzn1.ask.account.TESTUSER1"


def timestamp(moment: datetime) -> str:
    """Alexa's timestamp format: UTC with a trailing Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def envelope(
    request: dict[str, Any],
    *,
    now: datetime,
    user_id: str = USER_ID,
    locale: str = "en-US",
    new: bool = True,
    attributes: dict[str, Any] | None = None,
    with_session: bool = True,
) -> dict[str, Any]:
    """A full request envelope around a ``request`` object."""
    application = {"applicationId": SKILL_ID}
    user = {"userId": user_id}
    body: dict[str, Any] = {
        "version": "1.0",
        "context": {
            "System": {
                "application": application,
                "user": user,
                "device": {"deviceId": "amzn1.ask.device.TEST", "supportedInterfaces": {}},
                "apiEndpoint": "https://api.amazonalexa.com",
                "apiAccessToken": "test-token",
            }
        },
        "request": {
            "requestId": f"amzn1.echo-api.request.{uuid.uuid4()}",
            "timestamp": timestamp(now),
            "locale": locale,
            **request,
        },
    }
    if with_session:
        body["session"] = {
            "new": new,
            "sessionId": "amzn1.echo-api.session.TEST",
            "application": application,
            "user": user,
            "attributes": attributes or {},
        }
    return body


def launch(**kwargs: Any) -> dict[str, Any]:
    return envelope({"type": "LaunchRequest"}, **kwargs)


def intent(name: str, slots: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    """An IntentRequest; ``slots`` maps slot name to its value (str) or a full slot object."""
    slot_objects = {}
    for slot_name, value in (slots or {}).items():
        if isinstance(value, dict):
            slot_objects[slot_name] = {"name": slot_name, **value}
        else:
            slot_objects[slot_name] = {
                "name": slot_name,
                "value": value,
                "confirmationStatus": "NONE",
            }
    request = {
        "type": "IntentRequest",
        "dialogState": "COMPLETED",
        "intent": {"name": name, "confirmationStatus": "NONE", "slots": slot_objects},
    }
    return envelope(request, **kwargs)


def resolved_slot(name: str, spoken: str, value_id: str) -> dict[str, Any]:
    """A custom slot as Alexa sends it after entity resolution matched ``value_id``."""
    return {
        "value": spoken,
        "confirmationStatus": "NONE",
        "resolutions": {
            "resolutionsPerAuthority": [
                {
                    "authority": f"amzn1.er-authority.echo-sdk.{SKILL_ID}.StrategyTopic",
                    "status": {"code": "ER_SUCCESS_MATCH"},
                    "values": [{"value": {"name": spoken, "id": value_id}}],
                }
            ]
        },
    }


def session_ended(**kwargs: Any) -> dict[str, Any]:
    return envelope(
        {"type": "SessionEndedRequest", "reason": "USER_INITIATED"}, new=False, **kwargs
    )


def skill_disabled(persistence: str | None, **kwargs: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "type": "AlexaSkillEvent.SkillDisabled",
        "eventCreationTime": timestamp(kwargs["now"]),
        "eventPublishingTime": timestamp(kwargs["now"]),
    }
    if persistence is not None:
        request["body"] = {"userInformationPersistenceStatus": persistence}
    return envelope(request, with_session=False, **kwargs)


# --- Alexa services: API endpoint, permissions, screens, and the requests that come with them ---

TIMERS_SCOPE = "alexa::alerts:timers:skill:readwrite"


def with_system(
    body: dict[str, Any],
    *,
    api_endpoint: str | None = None,
    api_access_token: str | None = None,
    device_id: str | None = None,
    timers: str | None = None,
    apl: bool = False,
    consent_token: str | None = None,
) -> dict[str, Any]:
    """The envelope with ``context.System`` changed: where the Alexa API is, the timers
    permission status (``"GRANTED"`` / ``"DENIED"``), and whether the device has a screen."""
    system = body["context"]["System"]
    if api_endpoint is not None:
        system["apiEndpoint"] = api_endpoint
    if api_access_token is not None:
        system["apiAccessToken"] = api_access_token
    if device_id is not None:
        system["device"]["deviceId"] = device_id
    if timers is not None:
        system["user"]["permissions"] = {"scopes": {TIMERS_SCOPE: {"status": timers}}}
    if consent_token is not None:
        system["user"].setdefault("permissions", {})["consentToken"] = consent_token
    if apl:
        system["device"]["supportedInterfaces"]["Alexa.Presentation.APL"] = {
            "runtime": {"maxVersion": "2023.3"}
        }
    return body


def connections_response(
    status: str, *, token: str = "", name: str = "AskFor", **kwargs: Any
) -> dict[str, Any]:
    """Alexa's answer to the skill's voice permission request (``Connections.SendRequest``)."""
    request = {
        "type": "Connections.Response",
        "name": name,
        "status": {"code": "200", "message": "OK"},
        "token": token,
        "payload": {"permissionScope": TIMERS_SCOPE, "status": status},
    }
    return envelope(request, new=False, **kwargs)


def can_fulfill(name: str, slots: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    """A CanFulfillIntentRequest: Alexa asking whether the skill could take this intent."""
    body = intent(name, slots, **kwargs)
    body["request"]["type"] = "CanFulfillIntentRequest"
    del body["request"]["dialogState"]
    return body
