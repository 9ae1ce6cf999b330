"""Reminders through the Alexa Reminders API: "remind me to stop work at half past five on
weekdays", "remind me about kid time at four", "what reminders do I have", "cancel my work
reminder".

The voice permission flow is the one timers use: without the permission the skill keeps what
was asked for and hands over to Alexa (AskFor); ``Connections.Response`` ACCEPTED sets it,
DENIED or NOT_ANSWERED gets a kind answer and a consent card. Every API failure is spoken
kindly, never as an error. The user's record keeps only which alert token is which reminder.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ask_sdk_model import Response
from ask_sdk_model.interfaces.connections import SendRequestDirective
from ask_sdk_model.permission_status import PermissionStatus
from ask_sdk_model.ui import AskForPermissionsConsentCard

from skill.alexa.alexa_api import AlexaApiError, ApiAccess, ReminderRequest
from skill.alexa.handlers.services import TIME_ZONE, api_access, device_id
from skill.alexa.registry import handles
from skill.alexa.turn import Turn, resolved_id, spoken_value
from skill.domain import reminders as schedule
from speech import ssml
from speech.catalog import Catalog

logger = logging.getLogger(__name__)

#: The permission a skill needs to create, list and delete its reminders.
REMINDERS_SCOPE = "alexa::alerts:reminders:skill:readwrite"
#: Reminder kinds (ReminderKind slot ids) and the content words for each.
WORK, KID_TIME = "work", "kid-time"
KINDS = (WORK, KID_TIME)
#: User attribute: alert token, time and repeat of each reminder the skill set, by kind.
REMINDERS = "reminders"
#: User attribute: the reminder asked for while the permission was being asked for.
PENDING = "reminder_pending"
#: A pending reminder older than this is not set by a late "yes".
PENDING_FOR = timedelta(minutes=10)
#: ReminderRepeat slot ids.
_REPEAT_IDS = {"weekdays": schedule.WEEKDAYS, "daily": schedule.DAILY}


def _key(kind: str) -> str:
    """The content-key form of a kind ("kid-time" -> "kid_time")."""
    return kind.replace("-", "_")


def reminders_granted(turn: Turn) -> bool:
    """True when the user has given the skill the reminders permission."""
    system = getattr(turn.input.request_envelope.context, "system", None)
    permissions = getattr(getattr(system, "user", None), "permissions", None)
    scopes = getattr(permissions, "scopes", None)
    scope = scopes.get(REMINDERS_SCOPE) if isinstance(scopes, dict) else None
    return getattr(scope, "status", None) == PermissionStatus.GRANTED


def ask_for_reminders(token: str) -> SendRequestDirective:
    """Hands the conversation to Alexa to ask, by voice, for the reminders permission."""
    return SendRequestDirective(
        name="AskFor",
        payload={
            "@type": "AskForPermissionsConsentRequest",
            "@version": "2",
            "permissionScopes": [{"permissionScope": REMINDERS_SCOPE, "consentLevel": "ACCOUNT"}],
        },
        token=token,
    )


def reminders_consent_card() -> AskForPermissionsConsentCard:
    """The Alexa app card that lets the user allow reminders later."""
    return AskForPermissionsConsentCard(permissions=[REMINDERS_SCOPE])


# --- what is said -------------------------------------------------------------------------------


def time_words(catalog: Catalog, at: time) -> str:
    """A time as English locales write it for Alexa to say: "5:30 PM", "4 pm"."""
    period = catalog.text("reminders.pm" if at.hour >= 12 else "reminders.am")
    hour = at.hour % 12 or 12
    clock = f"{hour}" if at.minute == 0 else f"{hour}:{at.minute:02d}"
    return f"{clock} {period}"


def when_words(catalog: Catalog, repeat: str, first: datetime, now: datetime) -> str:
    """When it rings: every weekday, every day, today or tomorrow (a one-off is within a day)."""
    if repeat != schedule.ONCE:
        return catalog.text(f"reminders.when_{repeat}")
    today = now.astimezone(first.tzinfo).date()
    return catalog.text(
        "reminders.when_today" if first.date() == today else "reminders.when_tomorrow"
    )


def describe(catalog: Catalog, kind: str | None, at: time, when: str) -> str:
    """One reminder in a sentence: "to stop work at 5:30 PM every weekday"."""
    what = catalog.text(f"reminders.what_{_key(kind)}") if kind in KINDS else ""
    return catalog.text(
        "reminders.item", what=what, time=time_words(catalog, at), when=when
    ).strip()


# --- the time zone and the API -----------------------------------------------------------------


def _zone_name(turn: Turn, access: ApiAccess) -> str | None:
    """The device's time zone name (cached for the session), or ``None`` when unknown: a reminder
    in a guessed zone would ring at the wrong hour, so there is no UTC fallback here."""
    device = device_id(turn.input)
    cached = turn.session.get(TIME_ZONE)
    if isinstance(cached, dict) and cached.get("device") == device and cached.get("zone") != "UTC":
        name = cached.get("zone")
        if isinstance(name, str):
            return name
    if device is None:
        return None
    try:
        name = turn.deps.alexa_api.time_zone(access, device)
        ZoneInfo(name)
    except AlexaApiError as exc:
        logger.warning("time zone for a reminder unknown: %s", exc)
        return None
    except (ZoneInfoNotFoundError, ValueError):
        logger.warning("the device's time zone is not one we know")
        return None
    turn.session[TIME_ZONE] = {"device": device, "zone": name}
    return name


def _access(turn: Turn) -> ApiAccess | None:
    """API access when the Alexa API may be called for this request."""
    access = api_access(turn.input)
    if access is None or not turn.deps.alexa_api.allows(access.endpoint):
        return None
    return access


def _stored(turn: Turn) -> dict[str, Any]:
    """A copy of the user's reminders by kind (odd entries dropped); :func:`_keep` saves it."""
    kept = turn.user.extra.get(REMINDERS)
    clean = {
        kind: entry
        for kind, entry in (kept.items() if isinstance(kept, dict) else [])
        if kind in KINDS and isinstance(entry, dict) and isinstance(entry.get("token"), str)
    }
    return clean


def _keep(turn: Turn, **changes: Any) -> None:
    """Save these keys of the record's kept extras (``None`` removes one); the typed record
    has no fields for reminders, so they ride in its ``extra`` keys, untouched by the rest."""
    extra = dict(turn.user.extra)
    for key, value in changes.items():
        if value is None:
            extra.pop(key, None)
        else:
            extra[key] = value
    turn.remember(extra=extra)


def _create(turn: Turn, kind: str, wanted: schedule.Schedule) -> str:
    """Set the reminder and remember it; what to say about it."""
    catalog = turn.catalog
    access = _access(turn)
    zone_name = _zone_name(turn, access) if access is not None else None
    if access is None or zone_name is None:
        return turn.say("reminders.failed")
    zone = ZoneInfo(zone_name)
    first = schedule.next_occurrence(wanted, turn.now, zone)
    locale = getattr(turn.request, "locale", None)
    request = ReminderRequest(
        request_time=schedule.api_local_time(turn.now.astimezone(zone)),
        scheduled_time=schedule.api_local_time(first),
        time_zone=zone_name,
        locale=locale if isinstance(locale, str) and locale else catalog.locale,
        announcement=catalog.text(f"reminders.announce_{_key(kind)}"),
        recurrence_rule=schedule.recurrence_rule(wanted),
    )
    api = turn.deps.alexa_api
    try:
        token = api.create_reminder(access, request)
    except AlexaApiError as exc:
        logger.warning("reminder not set: %s", exc)
        return turn.say("reminders.failed")
    stored = _stored(turn)
    replaced = stored.get(kind)
    stored[kind] = {"token": token, "time": wanted.at.strftime("%H:%M"), "repeat": wanted.repeat}
    _keep(turn, **{REMINDERS: stored, PENDING: None})
    # The new one is safe first; only then is the old one of the same kind removed.
    if replaced is not None and replaced["token"] != token:
        try:
            api.delete_reminder(access, replaced["token"])
        except AlexaApiError as exc:
            logger.warning("replaced reminder not deleted: %s", exc)
    when = when_words(catalog, wanted.repeat, first, turn.now)
    return turn.say("reminders.set", reminder=describe(catalog, kind, wanted.at, when))


def _wanted(turn: Turn) -> schedule.Schedule | None:
    """The time and repeat asked for, or ``None`` when the time is missing or unusable."""
    value = spoken_value(turn.slot("time"))
    at = schedule.parse_time(value)
    if at is None:
        return None
    repeat_id = resolved_id(turn.slot("repeat"))
    return schedule.Schedule(at, _REPEAT_IDS.get(repeat_id or "", schedule.ONCE))


def _set(turn: Turn, kind: str) -> Response:
    wanted = _wanted(turn)
    if wanted is None:
        return turn.end(turn.say(f"reminders.time_unclear_{_key(kind)}"))
    if reminders_granted(turn):
        return turn.end(_create(turn, kind, wanted))
    # Keep what was asked for, so a "yes" to Alexa's permission question can set it.
    pending = {
        "kind": kind,
        "time": wanted.at.strftime("%H:%M"),
        "repeat": wanted.repeat,
        "asked_at": turn.now.isoformat(),
    }
    _keep(turn, **{PENDING: pending})
    turn.input.response_builder.add_directive(ask_for_reminders(f"reminder:{kind}"))
    return turn.end(turn.say("reminders.ask"))


@handles("SetWorkReminderIntent")
def set_work_reminder(turn: Turn) -> Response:
    """Handles "remind me to stop work at half past five on weekdays"."""
    return _set(turn, WORK)


@handles("SetKidTimeReminderIntent")
def set_kid_time_reminder(turn: Turn) -> Response:
    """Handles "remind me about kid time at four"."""
    return _set(turn, KID_TIME)


def _without_permission(turn: Turn) -> Response:
    turn.input.response_builder.set_card(reminders_consent_card())
    return turn.end(turn.say("reminders.no_permission"))


@handles("ListRemindersIntent")
def list_reminders(turn: Turn) -> Response:
    """The skill's reminders that are still on, named by kind, with time and repeat."""
    catalog = turn.catalog
    access = _access(turn)
    if not reminders_granted(turn):
        return _without_permission(turn)
    if access is None:
        return turn.end(turn.say("reminders.failed"))
    try:
        alerts = turn.deps.alexa_api.list_reminders(access)
    except AlexaApiError as exc:
        logger.warning("reminders not listed: %s", exc)
        return turn.end(turn.say("reminders.failed"))
    stored = _stored(turn)
    live = {alert.token: alert for alert in alerts if alert.status == "ON"}
    # Reminders deleted in the Alexa app are forgotten here too.
    for kind in [k for k, entry in stored.items() if entry["token"] not in live]:
        del stored[kind]
    _keep(turn, **{REMINDERS: stored})
    if not live:
        return turn.end(turn.say("reminders.none"))
    kinds = {entry["token"]: kind for kind, entry in stored.items()}
    items = []
    for token, alert in live.items():
        named = kinds.get(token)
        entry = stored.get(named) if named else None
        at = schedule.parse_time(entry["time"], said_am_pm=True) if entry else None
        at = at or schedule.parse_api_local_time(alert.scheduled_time)
        if at is None:
            continue
        repeat = entry["repeat"] if entry else schedule.ONCE
        when = catalog.text(f"reminders.when_{repeat}") if repeat != schedule.ONCE else ""
        items.append(describe(catalog, named, at, when))
    if not items:
        return turn.end(turn.say("reminders.none"))
    joined = items[-1]
    if len(items) > 1:
        joined = f"{', '.join(items[:-1])} {catalog.text('reminders.and')} {joined}"
    return turn.end(turn.say("reminders.list", count=len(items), items=joined))


@handles("CancelReminderIntent")
def cancel_reminder(turn: Turn) -> Response:
    """Cancels the named reminder (work or kid time), or every reminder of the skill."""
    catalog = turn.catalog
    if not reminders_granted(turn):
        return _without_permission(turn)
    access = _access(turn)
    if access is None:
        return turn.end(turn.say("reminders.failed"))
    kind = resolved_id(turn.slot("reminder"))
    stored = _stored(turn)
    # A reminder named but not one of ours cancels nothing; none named cancels them all.
    named = spoken_value(turn.slot("reminder")) is not None
    kinds = [kind] if kind in KINDS else [] if named else list(stored)
    chosen = [k for k in kinds if k in stored]
    if not chosen:
        return turn.end(turn.say("reminders.nothing_to_cancel"))
    cancelled = []
    for each in chosen:
        try:
            turn.deps.alexa_api.delete_reminder(access, stored[each]["token"])
        except AlexaApiError as exc:
            logger.warning("reminder not deleted: %s", exc)
            continue
        del stored[each]
        cancelled.append(each)
    _keep(turn, **{REMINDERS: stored})
    if not cancelled:
        return turn.end(turn.say("reminders.failed"))
    if kind in KINDS:
        return turn.end(turn.say(f"reminders.cancelled_{_key(kind)}"))
    return turn.end(catalog.say("reminders.cancelled_all", count=len(cancelled)))


def reminders_permission(turn: Turn) -> Response:
    """Alexa's answer to the reminders permission request (called for ``Connections.Response``
    naming the reminders scope)."""
    payload = getattr(turn.request, "payload", None)
    status = payload.get("status") if isinstance(payload, dict) else None
    pending = turn.user.extra.get(PENDING)
    if status != "ACCEPTED":
        _keep(turn, **{PENDING: None})
        turn.input.response_builder.set_card(reminders_consent_card())
        return turn.end(turn.say("reminders.declined"))
    wanted, kind = _pending(pending, turn.now)
    if wanted is None or kind is None:
        return turn.end(turn.say("reminders.accepted_idle"))
    return turn.end(ssml.join(turn.say("reminders.accepted"), _create(turn, kind, wanted)))


def _pending(value: object, now: datetime) -> tuple[schedule.Schedule | None, str | None]:
    """The reminder waiting for the permission, unless it is unreadable or too old."""
    if not isinstance(value, dict) or value.get("kind") not in KINDS:
        return None, None
    try:
        asked = datetime.fromisoformat(str(value["asked_at"]))
        at = schedule.parse_time(value["time"], said_am_pm=True)
        wanted = schedule.Schedule(at, str(value["repeat"])) if at else None
    except (KeyError, ValueError):
        return None, None
    if wanted is None or now - asked > PENDING_FOR:
        return None, None
    return wanted, str(value["kind"])
