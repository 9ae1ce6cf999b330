"""Kid time: start a timed unplugged stretch, end it, and hear how the week went."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from ask_sdk_model import Response
from ask_sdk_model.canfulfill import CanFulfillSlotValues, CanUnderstandSlotValues

from skill.alexa.alexa_api import AlexaApiError, TimerRequest
from skill.alexa.handlers.reminders import REMINDERS_SCOPE, reminders_permission
from skill.alexa.handlers.services import (
    api_access,
    ask_for_timers,
    local_now,
    timers_consent_card,
    timers_granted,
)
from skill.alexa.registry import SlotVerdict, handles, handles_request
from skill.alexa.turn import Turn, spoken_value
from skill.alexa.visuals import kid_time_screen, supports_apl
from skill.domain import kidtime
from speech import compose, ssml
from speech.catalog import Catalog

logger = logging.getLogger(__name__)

#: Offer names understood by the Yes handler.
OFFER_KID_TIME = "kid_time"
#: User attribute: when the skill last asked, by voice, for the timers permission.
TIMERS_ASKED_AT = "timers_asked_at"
#: A parent who said no (or nothing) is asked again only after this long.
ASK_AGAIN_AFTER = timedelta(days=30)


def _kid_time(state: dict[str, Any]) -> dict[str, Any]:
    """The kid-time part of the user's record, created on first use."""
    record: dict[str, Any] = state.setdefault("kid_time", {})
    record.setdefault("active", None)
    record.setdefault("sessions", [])
    return record


def _close_active(record: dict[str, Any], now: datetime) -> dict[str, Any] | None:
    """End the running stretch, if any, and record it; returns the recorded session."""
    active = record.get("active")
    record["active"] = None
    if not isinstance(active, dict):
        return None
    try:
        started = datetime.fromisoformat(str(active["started_at"]))
        planned = int(active["planned_minutes"])
    except (KeyError, TypeError, ValueError):
        return None  # an unreadable entry is dropped rather than blocking kid time forever
    elapsed = kidtime.elapsed_minutes(started, now)
    finished = {
        "started_at": started.isoformat(),
        "minutes": kidtime.recorded_minutes(planned, elapsed),
        "planned_minutes": planned,
    }
    record["sessions"] = [*kidtime.prune(record["sessions"], now), finished]
    return finished


def _active(state: dict[str, Any], now: datetime) -> tuple[dict[str, Any], datetime, int] | None:
    """The running stretch, its start and its planned minutes; ``None`` if none (or stale)."""
    active = state.get("kid_time", {}).get("active")
    if not isinstance(active, dict):
        return None
    try:
        started = datetime.fromisoformat(str(active["started_at"]))
        planned = int(active["planned_minutes"])
    except (KeyError, TypeError, ValueError):
        return None
    if kidtime.is_stale(planned, started, now):
        return None
    return active, started, planned


def _may_ask_for_timers(state: dict[str, Any], now: datetime) -> bool:
    """Ask for the timers permission once, then again only every :data:`ASK_AGAIN_AFTER`."""
    try:
        asked = datetime.fromisoformat(str(state[TIMERS_ASKED_AT]))
    except (KeyError, ValueError):
        return True
    return now - asked >= ASK_AGAIN_AFTER


def _create_timer(turn: Turn, minutes: int) -> str | None:
    """Set an announcing Alexa timer; its id, or ``None`` when it could not be set."""
    access = api_access(turn.input)
    if access is None:
        return None
    locale = getattr(turn.request, "locale", None)
    timer = TimerRequest(
        minutes=minutes,
        label=turn.catalog.text("timer.label"),
        locale=locale if isinstance(locale, str) and locale else turn.catalog.locale,
        announcement=turn.catalog.text("timer.announce"),
    )
    try:
        return turn.deps.alexa_api.create_timer(access, timer)
    except AlexaApiError as exc:
        logger.warning("kid-time timer not set: %s", exc)
        return None


def _cancel_timer(turn: Turn, timer_id: object) -> None:
    """Cancel the stretch's timer; failing to is logged, never spoken (it will just ring)."""
    access = api_access(turn.input)
    if not isinstance(timer_id, str) or access is None:
        return
    try:
        turn.deps.alexa_api.cancel_timer(access, timer_id)
    except AlexaApiError as exc:
        logger.warning("kid-time timer not cancelled: %s", exc)


def running_minutes(state: dict[str, Any], now: datetime) -> int | None:
    """Minutes of the kid time running now, or ``None`` when there is none (or it is stale)."""
    running = _active(state, now)
    return None if running is None else kidtime.elapsed_minutes(running[1], now)


def _duration(slot: Any, catalog: Catalog) -> SlotVerdict:
    """A duration is fulfilled as asked only within 5–60 minutes; outside, it would be clamped."""
    minutes = kidtime.parse_duration_minutes(getattr(slot, "value", None))
    if minutes is None:
        return CanUnderstandSlotValues.NO, CanFulfillSlotValues.NO
    if kidtime.MIN_MINUTES <= minutes <= kidtime.MAX_MINUTES:
        return CanUnderstandSlotValues.YES, CanFulfillSlotValues.YES
    return CanUnderstandSlotValues.YES, CanFulfillSlotValues.NO


@handles("StartKidTimeIntent", can_fulfill={"duration": _duration}, yes_to=[OFFER_KID_TIME])
def start_kid_time(turn: Turn) -> Response:
    """Starts and records a stretch of unplugged time, with one activity idea."""
    catalog, now, state = turn.catalog, turn.now, turn.state
    duration = spoken_value(turn.slot("duration"))
    running = running_minutes(state, now)
    if running is not None:
        return turn.end(compose.kid_time_running_ssml(catalog, running))
    record = _kid_time(state)
    _close_active(record, now)  # a forgotten, stale stretch is recorded at its planned length
    planned = kidtime.plan(duration)
    started_at = now.isoformat()
    active: dict[str, Any] = {"started_at": started_at, "planned_minutes": planned.minutes}
    record["active"] = active
    granted = timers_granted(turn.input)
    ask = not granted and _may_ask_for_timers(state, now)
    if ask:
        state[TIMERS_ASKED_AT] = now.isoformat()
    turn.save()
    # The timer is created only once kid time is safely stored: a stale write re-runs the
    # request, and a timer created before it would then be created twice.
    timer_note = ""
    if granted:
        timer_id = _create_timer(turn, planned.minutes)
        if timer_id is None:
            timer_note = turn.say("timer.failed")
        else:
            active["timer_id"] = timer_id
            turn.save()
            timer_note = turn.say("timer.set")
    elif ask:
        turn.input.response_builder.add_directive(ask_for_timers(started_at))
        timer_note = turn.say("timer.ask")

    activity = turn.deps.rng.choice(catalog.activities)
    note = ""
    if planned.adjusted is not None:
        note = turn.say(
            f"kidtime.adjusted_{planned.adjusted}",
            minutes=planned.minutes,
            minimum=kidtime.MIN_MINUTES,
            maximum=kidtime.MAX_MINUTES,
        )
    card = catalog.text("kidtime.card", minutes=planned.minutes, activity=activity)
    if supports_apl(turn.input):
        turn.input.response_builder.add_directive(
            kid_time_screen(catalog, planned.minutes, activity)
        )
    return turn.end(
        ssml.join(note, compose.kid_time_ssml(catalog, planned.minutes, activity), timer_note),
        card=(catalog.text("kidtime.card_title"), card),
    )


@handles("EndKidTimeIntent")
def end_kid_time(turn: Turn) -> Response:
    """On "we're done": records the real length and celebrates it."""
    now, state = turn.now, turn.state
    running = _active(state, now)
    if running is None:
        return turn.ask(
            turn.say("kidtime.not_running"), "kidtime.offer_reprompt", offer=OFFER_KID_TIME
        )
    record = _kid_time(state)
    finished = _close_active(record, now)
    turn.save()
    active, started, planned = running
    if now < started + timedelta(minutes=planned):  # once it has rung it is gone anyway
        _cancel_timer(turn, active.get("timer_id"))
    minutes = finished["minutes"] if finished else 0
    today = local_now(turn.input, turn.deps.alexa_api, now)
    week = kidtime.summarize_week(record["sessions"], today)
    done = turn.say("kidtime.done", count=minutes) if minutes else turn.say("kidtime.done_short")
    return turn.end(ssml.join(done, turn.say("kidtime.done_week", count=week.sessions)))


@handles("KidTimeSummaryIntent", can_fulfill={})
def kid_time_summary(turn: Turn) -> Response:
    """This week's kid time: sessions, minutes and the day streak, aware of kid time running."""
    catalog, now = turn.catalog, turn.now
    sessions = turn.state.get("kid_time", {}).get("sessions", [])
    today = local_now(turn.input, turn.deps.alexa_api, now)
    week = kidtime.summarize_week(sessions if isinstance(sessions, list) else [], today)
    running = running_minutes(turn.state, now)
    speech = compose.week_summary_ssml(
        catalog, week.sessions, week.minutes, week.streak_days, running_minutes=running
    )
    card = (catalog.text("summary.card_title"), ssml.to_plain_text(speech))
    if running is not None:
        return turn.end(ssml.join(speech, turn.say("summary.running_close")), card=card)
    return turn.ask(
        ssml.join(speech, turn.say("summary.offer")),
        "kidtime.offer_reprompt",
        card=card,
        offer=OFFER_KID_TIME,
    )


@handles_request("Connections.Response")
def timer_permission(turn: Turn) -> Response:
    """Alexa's answer to the voice permission request: set the timer, or fall back kindly."""
    if getattr(turn.request, "name", None) != "AskFor":
        return turn.silent()  # no other connection is ever started by this skill
    payload = getattr(turn.request, "payload", None)
    if isinstance(payload, dict) and payload.get("permissionScope") == REMINDERS_SCOPE:
        return reminders_permission(turn)
    status = payload.get("status") if isinstance(payload, dict) else None
    if status == "ACCEPTED":
        return turn.end(_set_timer(turn))
    # DENIED or NOT_ANSWERED: kid time goes on without a timer; the card lets her allow it.
    turn.input.response_builder.set_card(timers_consent_card())
    return turn.end(turn.say("timer.declined"))


def _set_timer(turn: Turn) -> str:
    """A timer for what is left of the running kid time; what to say about it."""
    running = _active(turn.state, turn.now)
    if running is None:
        return turn.say("timer.accepted_idle")
    active, started, planned = running
    left = planned - kidtime.elapsed_minutes(started, turn.now)
    if left < 1:
        return turn.say("timer.accepted_idle")
    if not isinstance(active.get("timer_id"), str):
        timer_id = _create_timer(turn, left)
        if timer_id is None:
            return turn.say("timer.failed")
        active["timer_id"] = timer_id
        turn.save()
    return turn.say("timer.accepted", count=left)
