"""What handlers read from a request to use Alexa's services: API access, permissions, time zone."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model.interfaces.connections import SendRequestDirective
from ask_sdk_model.permission_status import PermissionStatus
from ask_sdk_model.ui import AskForPermissionsConsentCard

from skill.alexa.alexa_api import AlexaApi, AlexaApiError, ApiAccess

logger = logging.getLogger(__name__)

#: The permission a skill needs to create timers.
TIMERS_SCOPE = "alexa::alerts:timers:skill:readwrite"
#: The permission to read the account holder's first name (for the letter's greeting).
GIVEN_NAME_SCOPE = "alexa::profile:given_name:read"
#: Session attribute: the profile's first name, looked up once per session ("" for none).
PROFILE_NAME = "profile_name"
#: Session attribute: the device's time zone, looked up once per session.
TIME_ZONE = "time_zone"


def session(handler_input: HandlerInput) -> dict[str, Any]:
    """This session's attributes (an empty dict outside a session)."""
    attributes = handler_input.attributes_manager.session_attributes
    return attributes if attributes is not None else {}


def _system(handler_input: HandlerInput) -> Any:
    return getattr(handler_input.request_envelope.context, "system", None)


def api_access(handler_input: HandlerInput) -> ApiAccess | None:
    """The endpoint and token for Alexa API calls, when the request carries both."""
    system = _system(handler_input)
    endpoint = getattr(system, "api_endpoint", None)
    token = getattr(system, "api_access_token", None)
    if isinstance(endpoint, str) and endpoint and isinstance(token, str) and token:
        return ApiAccess(endpoint, token)
    return None


def device_id(handler_input: HandlerInput) -> str | None:
    """The id of the device the request came from, if any."""
    value = getattr(getattr(_system(handler_input), "device", None), "device_id", None)
    return value if isinstance(value, str) and value else None


def timers_granted(handler_input: HandlerInput) -> bool:
    """True when the user has given the skill the timers permission."""
    permissions = getattr(getattr(_system(handler_input), "user", None), "permissions", None)
    scopes = getattr(permissions, "scopes", None)
    scope = scopes.get(TIMERS_SCOPE) if isinstance(scopes, dict) else None
    return getattr(scope, "status", None) == PermissionStatus.GRANTED


def ask_for_timers(token: str) -> SendRequestDirective:
    """Hands the conversation to Alexa to ask, by voice, for the timers permission."""
    return SendRequestDirective(
        name="AskFor",
        payload={
            "@type": "AskForPermissionsConsentRequest",
            "@version": "2",
            "permissionScopes": [{"permissionScope": TIMERS_SCOPE, "consentLevel": "ACCOUNT"}],
        },
        token=token,
    )


def timers_consent_card() -> AskForPermissionsConsentCard:
    """The Alexa app card that lets the user allow timers later."""
    return AskForPermissionsConsentCard(permissions=[TIMERS_SCOPE])


def _zone(name: object) -> tzinfo | None:
    if not isinstance(name, str) or not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def device_zone(handler_input: HandlerInput, api: AlexaApi) -> tzinfo:
    """The device's time zone from the Settings API, cached for the session; UTC if unknown.

    A failed look-up is cached as UTC too: asking again on every request of the same session
    would only add the same delay each time.
    """
    device = device_id(handler_input)
    attributes = session(handler_input)
    cached = attributes.get(TIME_ZONE)
    if isinstance(cached, dict) and cached.get("device") == device:
        return _zone(cached.get("zone")) or UTC
    name = "UTC"
    access = api_access(handler_input)
    # A disallowed endpoint (unsigned local tools) is not a failure: there is simply no API.
    if device is not None and access is not None and api.allows(access.endpoint):
        try:
            name = api.time_zone(access, device)
        except AlexaApiError as exc:
            logger.warning("time zone look-up failed: %s", exc)
    zone = _zone(name)
    if zone is None:
        logger.warning("unknown time zone; using UTC")
        name, zone = "UTC", UTC
    attributes[TIME_ZONE] = {"device": device, "zone": name}
    return zone


def remembered_zone(
    handler_input: HandlerInput, api: AlexaApi, remembered: object
) -> tuple[tzinfo, dict[str, Any]]:
    """The device's time zone for a launch: ``remembered`` (what the last launch kept, as
    ``{"device", "zone"}``) when it is for this device, so a launch makes no API call; looked up
    only when there is none yet. Returns the zone and what to remember."""
    device = device_id(handler_input)
    if isinstance(remembered, dict) and remembered.get("device") == device:
        zone = _zone(remembered.get("zone"))
        if zone is not None:
            session(handler_input)[TIME_ZONE] = {"device": device, "zone": remembered["zone"]}
            return zone, dict(remembered)
    zone = device_zone(handler_input, api)
    return zone, dict(session(handler_input)[TIME_ZONE])


def local_now(handler_input: HandlerInput, api: AlexaApi, now: datetime) -> datetime:
    """``now`` on the device's wall clock, for "today" and "this week"."""
    return now.astimezone(device_zone(handler_input, api))


def profile_given_name(handler_input: HandlerInput, api: AlexaApi) -> str | None:
    """The first name from the Customer Profile API, when the user has granted a permission.

    Looked up once per session and kept only there: a name the user shares this way is not
    stored, so revoking the permission takes it away again.
    """
    attributes = session(handler_input)
    cached = attributes.get(PROFILE_NAME)
    if isinstance(cached, str):
        return cached or None
    permissions = getattr(getattr(_system(handler_input), "user", None), "permissions", None)
    access = api_access(handler_input)
    name = None
    if getattr(permissions, "consent_token", None) and access and api.allows(access.endpoint):
        try:
            name = api.given_name(access)
        except AlexaApiError as exc:
            logger.warning("given name look-up failed: %s", exc)
    attributes[PROFILE_NAME] = name or ""
    return name
