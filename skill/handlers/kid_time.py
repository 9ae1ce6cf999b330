"""Kid time: start a timed unplugged stretch, end it, and hear how the week went."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import get_slot, is_intent_name
from ask_sdk_model import Response

from skill import kidtime
from skill.handlers.base import Deps, answer, catalog_of, save_user_state, user_state
from speech import compose, ssml

#: Offer names understood by the Yes handler.
OFFER_KID_TIME = "kid_time"


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


def running_minutes(state: dict[str, Any], now: datetime) -> int | None:
    """Minutes of the kid time running now, or ``None`` when there is none (or it is stale)."""
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
    return kidtime.elapsed_minutes(started, now)


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
        record["active"] = {"started_at": now.isoformat(), "planned_minutes": planned.minutes}
        save_user_state(handler_input)

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
        return answer(
            handler_input,
            ssml.join(note, compose.kid_time_ssml(catalog, planned.minutes, activity)),
            card=(catalog.text("kidtime.card_title"), card),
        )


class EndKidTimeHandler(AbstractRequestHandler):
    """ "We're done": records the real length and celebrates it."""

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
        record = _kid_time(state)
        finished = _close_active(record, now)
        save_user_state(handler_input)
        minutes = finished["minutes"] if finished else 0
        week = kidtime.summarize_week(record["sessions"], now)
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
        week = kidtime.summarize_week(sessions if isinstance(sessions, list) else [], now)
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
