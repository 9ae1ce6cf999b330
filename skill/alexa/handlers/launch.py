"""The launch turn: a greeting that remembers her and varies, then one short question."""

from __future__ import annotations

from datetime import UTC, datetime

from ask_sdk_model import Response

from skill.alexa.handlers.comfort import OFFER_AFFIRMATION, affirmation_heard_today
from skill.alexa.handlers.first_steps import OFFER_FOCUS_CHECK, focus_to_check, mark_focus_checked
from skill.alexa.handlers.kid_time import running_minutes
from skill.alexa.handlers.letter import told_name
from skill.alexa.handlers.services import remembered_zone
from skill.alexa.registry import handles_request
from skill.alexa.turn import OFFER_MENU, Turn
from speech import compose, ssml

#: User attribute: the last greeting, as "pool:line:question line", so the next one differs.
LAST_GREETING = "last_greeting"


def _last_greeting(value: object) -> tuple[str, int | None, int | None]:
    """The stored last greeting as (pool, line, question line); anything unreadable is none."""
    parts = value.split(":") if isinstance(value, str) else []
    numbers = [int(p) if p.isdigit() else None for p in parts[1:3]]
    numbers += [None] * (2 - len(numbers))
    return (parts[0] if parts else "", numbers[0], numbers[1])


def _moment(value: object) -> datetime | None:
    """A stored ISO time, aware (UTC when it has no zone), or ``None``."""
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


@handles_request("LaunchRequest")
def launch(turn: Turn) -> Response:
    """Greets her: by name when known, aware of kid time running, a focus to check, a long
    gap, or the time of day where her device is; never the same greeting twice in a row."""
    catalog, now, state = turn.catalog, turn.now, turn.state
    visits = state.get("visits")
    visits = visits if isinstance(visits, int) and visits >= 0 else 0
    last_visit = _moment(state.get("last_visit"))
    running = running_minutes(state, now)
    focus = focus_to_check(turn) if running is None else None
    name = told_name(turn)
    # The zone remembered for this device: launches stay quick (one look-up per device, ever).
    hour = now.astimezone(remembered_zone(turn.input, turn.deps.alexa_api, state)).hour
    key = compose.greeting_key(
        is_new=visits == 0 and running is None and focus is None,
        hour=hour,
        days_away=(now - last_visit).days if last_visit is not None else None,
        kid_time_running=running is not None,
        has_focus=focus is not None,
    )
    pool = compose.greeting_pool_key(key, name)
    last_pool, last_line, last_ask = _last_greeting(state.get(LAST_GREETING))
    variant = turn.pick(pool, last_line if last_pool == pool else -1)
    # An opener is followed by a question: today's affirmation until she has heard it, then
    # the menu (a line of greeting.ask, never the same twice in a row).
    opener = key in compose.OPENER_POOLS
    offer_affirmation = opener and not affirmation_heard_today(turn)
    ask = 0
    if opener and not offer_affirmation:
        ask = turn.pick("greeting.ask", last_ask if last_ask is not None else -1)
    state["visits"] = visits + 1
    state["last_visit"] = now.isoformat()
    state[LAST_GREETING] = f"{pool}:{variant}:{ask}"
    focus_title = catalog.strategy(focus).title if focus is not None else None
    if focus is not None:
        mark_focus_checked(turn)
    turn.save()
    if offer_affirmation:
        opening = catalog.say(pool, variant=variant, name=name or "")
        return turn.ask(
            ssml.join(opening, turn.say("affirmation.offer")),
            "affirmation.offer_reprompt",
            offer=OFFER_AFFIRMATION,
        )
    speech = compose.greeting_ssml(
        catalog,
        key,
        variant,
        ask_variant=ask,
        name=name,
        focus_title=focus_title,
        kid_time_minutes=running or 0,
    )
    if key == "greeting.kid_time_running":
        return turn.end(speech)
    if key == "greeting.focus":
        return turn.answer(
            speech,
            reprompt=turn.say("focus.check_reprompt", title=focus_title or ""),
            offer=OFFER_FOCUS_CHECK,
        )
    return turn.ask(speech, offer=OFFER_MENU)
