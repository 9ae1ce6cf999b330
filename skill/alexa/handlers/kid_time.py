"""Kid time: start a timed unplugged stretch, end it, and hear how the week went."""

from __future__ import annotations

import logging
from dataclasses import replace
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
from skill.domain.user import ActiveKidTime, KidTime, KidTimeSession, UserRecord
from speech import compose, ssml
from speech.catalog import Catalog

logger = logging.getLogger(__name__)

#: Offer names understood by the Yes handler.
OFFER_KID_TIME = "kid_time"
#: A parent who said no (or nothing) is asked again only after this long.
ASK_AGAIN_AFTER = timedelta(days=30)


def _close_active(kid_time: KidTime, now: datetime) -> tuple[KidTime, KidTimeSession | None]:
    """End the running stretch, if any, and record it: the new kid time and the session."""
    active = kid_time.active
    cutoff = (now - timedelta(days=kidtime.KEEP_DAYS)).date()
    kept = tuple(s for s in kid_time.sessions if s.started_at.date() > cutoff)
    if active is None:
        return replace(kid_time, sessions=kept), None
    elapsed = kidtime.elapsed_minutes(active.started_at, now)
    finished = KidTimeSession(
        active.started_at,
        kidtime.recorded_minutes(active.planned_minutes, elapsed),
        active.planned_minutes,
    )
    return KidTime(None, (*kept, finished)), finished


def running(user: UserRecord, now: datetime) -> ActiveKidTime | None:
    """The running stretch; ``None`` if none (or too old to still be going on)."""
    active = user.kid_time.active
    if active is None or kidtime.is_stale(active.planned_minutes, active.started_at, now):
        return None
    return active


def _may_ask_for_timers(user: UserRecord, now: datetime) -> bool:
    """Ask for the timers permission once, then again only every :data:`ASK_AGAIN_AFTER`."""
    asked = user.timers_asked_at
    return asked is None or now - asked >= ASK_AGAIN_AFTER


def week(user: UserRecord, today: datetime) -> kidtime.WeekSummary:
    """This week's kid time on the device's wall clock."""
    entries = [
        {"started_at": s.started_at.isoformat(), "minutes": s.minutes}
        for s in user.kid_time.sessions
    ]
    return kidtime.summarize_week(entries, today)


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


def running_minutes(user: UserRecord, now: datetime) -> int | None:
    """Minutes of the kid time running now, or ``None`` when there is none (or it is stale)."""
    active = running(user, now)
    return None if active is None else kidtime.elapsed_minutes(active.started_at, now)


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
    catalog, now, user = turn.catalog, turn.now, turn.user
    duration = spoken_value(turn.slot("duration"))
    minutes = running_minutes(user, now)
    if minutes is not None:
        return turn.end(compose.kid_time_running_ssml(catalog, minutes))
    # A forgotten, stale stretch is recorded at its planned length.
    kid_time, _ = _close_active(user.kid_time, now)
    planned = kidtime.plan(duration)
    granted = timers_granted(turn.input)
    ask = not granted and _may_ask_for_timers(user, now)
    active = ActiveKidTime(now, planned.minutes)
    turn.remember(
        kid_time=replace(kid_time, active=active),
        timers_asked_at=now if ask else user.timers_asked_at,
    )
    # The timer is created only once kid time is safely stored: a stale write re-runs the
    # request, and a timer created before it would then be created twice.
    timer_note = ""
    if granted:
        timer_id = _create_timer(turn, planned.minutes)
        if timer_id is None:
            timer_note = turn.say("timer.failed")
        else:
            turn.remember(kid_time=replace(kid_time, active=replace(active, timer_id=timer_id)))
            timer_note = turn.say("timer.set")
    elif ask:
        turn.input.response_builder.add_directive(ask_for_timers(now.isoformat()))
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
    now, user = turn.now, turn.user
    active = running(user, now)
    if active is None:
        return turn.ask(
            turn.say("kidtime.not_running"), "kidtime.offer_reprompt", offer=OFFER_KID_TIME
        )
    kid_time, finished = _close_active(user.kid_time, now)
    user = turn.remember(kid_time=kid_time)
    if now < active.started_at + timedelta(minutes=active.planned_minutes):
        _cancel_timer(turn, active.timer_id)  # once it has rung it is gone anyway
    minutes = finished.minutes if finished else 0
    summary = week(user, local_now(turn.input, turn.deps.alexa_api, now))
    done = turn.say("kidtime.done", count=minutes) if minutes else turn.say("kidtime.done_short")
    return turn.end(ssml.join(done, turn.say("kidtime.done_week", count=summary.sessions)))


@handles("KidTimeSummaryIntent", can_fulfill={})
def kid_time_summary(turn: Turn) -> Response:
    """This week's kid time: sessions, minutes and the day streak, aware of kid time running."""
    catalog, now = turn.catalog, turn.now
    summary = week(turn.user, local_now(turn.input, turn.deps.alexa_api, now))
    minutes = running_minutes(turn.user, now)
    speech = compose.week_summary_ssml(
        catalog, summary.sessions, summary.minutes, summary.streak_days, running_minutes=minutes
    )
    card = (catalog.text("summary.card_title"), ssml.to_plain_text(speech))
    if minutes is not None:
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
    active = running(turn.user, turn.now)
    if active is None:
        return turn.say("timer.accepted_idle")
    left = active.planned_minutes - kidtime.elapsed_minutes(active.started_at, turn.now)
    if left < 1:
        return turn.say("timer.accepted_idle")
    if active.timer_id is None:
        timer_id = _create_timer(turn, left)
        if timer_id is None:
            return turn.say("timer.failed")
        turn.remember(
            kid_time=replace(turn.user.kid_time, active=replace(active, timer_id=timer_id))
        )
    return turn.say("timer.accepted", count=left)
