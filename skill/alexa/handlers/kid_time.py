"""Kid time: start a timed unplugged stretch, end it, and hear how the week went."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import get_slot, is_intent_name, is_request_type
from ask_sdk_model import Response

from skill.alexa.alexa_api import AlexaApi, AlexaApiError, TimerRequest
from skill.alexa.handlers.base import Deps, answer, catalog_of, save_user_state, user_state
from skill.alexa.handlers.services import (
    api_access,
    ask_for_timers,
    local_now,
    timers_consent_card,
    timers_granted,
)
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


def _create_timer(
    handler_input: HandlerInput, api: AlexaApi, catalog: Catalog, minutes: int
) -> str | None:
    """Set an announcing Alexa timer; its id, or ``None`` when it could not be set."""
    access = api_access(handler_input)
    if access is None:
        return None
    locale = getattr(handler_input.request_envelope.request, "locale", None)
    timer = TimerRequest(
        minutes=minutes,
        label=catalog.text("timer.label"),
        locale=locale if isinstance(locale, str) and locale else catalog.locale,
        announcement=catalog.text("timer.announce"),
    )
    try:
        return api.create_timer(access, timer)
    except AlexaApiError as exc:
        logger.warning("kid-time timer not set: %s", exc)
        return None


def _cancel_timer(handler_input: HandlerInput, api: AlexaApi, timer_id: object) -> None:
    """Cancel the stretch's timer; failing to is logged, never spoken (it will just ring)."""
    access = api_access(handler_input)
    if not isinstance(timer_id, str) or access is None:
        return
    try:
        api.cancel_timer(access, timer_id)
    except AlexaApiError as exc:
        logger.warning("kid-time timer not cancelled: %s", exc)


def running_minutes(state: dict[str, Any], now: datetime) -> int | None:
    """Minutes of the kid time running now, or ``None`` when there is none (or it is stale)."""
    running = _active(state, now)
    return None if running is None else kidtime.elapsed_minutes(running[1], now)


class StartKidTimeHandler(AbstractRequestHandler):
    """Starts and records a stretch of unplugged time, with one activity idea."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_intent_name("StartKidTimeIntent")(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        slot = get_slot(handler_input, "duration")
        return self.start(handler_input, slot.value if slot is not None else None)

    def start(self, handler_input: HandlerInput, duration: object = None) -> Response:
        """Start kid time for a spoken duration (also used when the user says yes to an offer)."""
        catalog = catalog_of(handler_input)
        now = self.deps.clock()
        state = user_state(handler_input)
        running = running_minutes(state, now)
        if running is not None:
            return answer(
                handler_input,
                catalog.say("kidtime.already_running", count=running),
            )
        record = _kid_time(state)
        _close_active(record, now)  # a forgotten, stale stretch is recorded at its planned length
        planned = kidtime.plan(duration)
        started_at = now.isoformat()
        active: dict[str, Any] = {"started_at": started_at, "planned_minutes": planned.minutes}
        record["active"] = active
        granted = timers_granted(handler_input)
        ask = not granted and _may_ask_for_timers(state, now)
        if ask:
            state[TIMERS_ASKED_AT] = now.isoformat()
        save_user_state(handler_input)
        # The timer is created only once kid time is safely stored: a stale write re-runs the
        # request, and a timer created before it would then be created twice.
        timer_note = ""
        if granted:
            timer_id = _create_timer(handler_input, self.deps.alexa_api, catalog, planned.minutes)
            if timer_id is None:
                timer_note = catalog.say("timer.failed")
            else:
                active["timer_id"] = timer_id
                save_user_state(handler_input)
                timer_note = catalog.say("timer.set")
        elif ask:
            handler_input.response_builder.add_directive(ask_for_timers(started_at))
            timer_note = catalog.say("timer.ask")

        activity = self.deps.rng.choice(catalog.activities)
        note = ""
        if planned.adjusted is not None:
            note = catalog.say(
                f"kidtime.adjusted_{planned.adjusted}",
                minutes=planned.minutes,
                minimum=kidtime.MIN_MINUTES,
                maximum=kidtime.MAX_MINUTES,
            )
        card = catalog.text("kidtime.card", minutes=planned.minutes, activity=activity)
        if supports_apl(handler_input):
            handler_input.response_builder.add_directive(
                kid_time_screen(catalog, planned.minutes, activity)
            )
        return answer(
            handler_input,
            ssml.join(note, compose.kid_time_ssml(catalog, planned.minutes, activity), timer_note),
            card=(catalog.text("kidtime.card_title"), card),
        )


class EndKidTimeHandler(AbstractRequestHandler):
    """On "we're done": records the real length and celebrates it."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_intent_name("EndKidTimeIntent")(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        catalog = catalog_of(handler_input)
        now = self.deps.clock()
        state = user_state(handler_input)
        if running_minutes(state, now) is None:
            return answer(
                handler_input,
                catalog.say("kidtime.not_running"),
                reprompt=catalog.say("kidtime.offer_reprompt"),
                offer=OFFER_KID_TIME,
            )
        running = _active(state, now)
        record = _kid_time(state)
        finished = _close_active(record, now)
        save_user_state(handler_input)
        if running is not None:
            active, started, planned = running
            if now < started + timedelta(minutes=planned):  # once it has rung it is gone anyway
                _cancel_timer(handler_input, self.deps.alexa_api, active.get("timer_id"))
        minutes = finished["minutes"] if finished else 0
        today = local_now(handler_input, self.deps.alexa_api, now)
        week = kidtime.summarize_week(record["sessions"], today)
        done = (
            catalog.say("kidtime.done", count=minutes)
            if minutes
            else catalog.say("kidtime.done_short")
        )
        return answer(
            handler_input,
            ssml.join(
                done,
                catalog.say("kidtime.done_week", count=week.sessions),
            ),
        )


class KidTimeSummaryHandler(AbstractRequestHandler):
    """This week's kid time: sessions, minutes and the day streak."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_intent_name("KidTimeSummaryIntent")(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        catalog = catalog_of(handler_input)
        now = self.deps.clock()
        sessions = user_state(handler_input).get("kid_time", {}).get("sessions", [])
        today = local_now(handler_input, self.deps.alexa_api, now)
        week = kidtime.summarize_week(sessions if isinstance(sessions, list) else [], today)
        if week.sessions == 0:
            speech = catalog.say("summary.none")
        else:
            speech = ssml.join(
                catalog.say("summary.sessions", count=week.sessions),
                catalog.say("summary.minutes", count=week.minutes),
                catalog.say("summary.streak", count=week.streak_days) if week.streak_days else "",
            )
        card = ssml.to_plain_text(speech)
        return answer(
            handler_input,
            ssml.join(speech, catalog.say("summary.offer")),
            reprompt=catalog.say("kidtime.offer_reprompt"),
            card=(catalog.text("summary.card_title"), card),
            offer=OFFER_KID_TIME,
        )


class TimerPermissionHandler(AbstractRequestHandler):
    """Alexa's answer to the voice permission request: set the timer, or fall back kindly."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_request_type("Connections.Response")(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        request = handler_input.request_envelope.request
        if getattr(request, "name", None) != "AskFor":
            response: Response = handler_input.response_builder.response
            return response  # no other connection is ever started by this skill
        catalog = catalog_of(handler_input)
        payload = getattr(request, "payload", None)
        status = payload.get("status") if isinstance(payload, dict) else None
        if status == "ACCEPTED":
            return answer(handler_input, self._set_timer(handler_input, catalog))
        # DENIED or NOT_ANSWERED: kid time goes on without a timer; the card lets her allow it.
        handler_input.response_builder.set_card(timers_consent_card())
        return answer(handler_input, catalog.say("timer.declined"))

    def _set_timer(self, handler_input: HandlerInput, catalog: Catalog) -> str:
        """A timer for what is left of the running kid time; what to say about it."""
        now = self.deps.clock()
        state = user_state(handler_input)
        running = _active(state, now)
        if running is None:
            return catalog.say("timer.accepted_idle")
        active, started, planned = running
        left = planned - kidtime.elapsed_minutes(started, now)
        if left < 1:
            return catalog.say("timer.accepted_idle")
        if not isinstance(active.get("timer_id"), str):
            timer_id = _create_timer(handler_input, self.deps.alexa_api, catalog, left)
            if timer_id is None:
                return catalog.say("timer.failed")
            active["timer_id"] = timer_id
            save_user_state(handler_input)
        return catalog.say("timer.accepted", count=left)
