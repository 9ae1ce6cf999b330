"""The launch turn: a greeting that remembers her and varies, then one short question."""

from __future__ import annotations

from ask_sdk_model import Response

from skill.alexa.handlers.comfort import OFFER_AFFIRMATION, affirmation_heard_today
from skill.alexa.handlers.first_steps import OFFER_FOCUS_CHECK, focus_checked, focus_to_check
from skill.alexa.handlers.kid_time import running_minutes
from skill.alexa.handlers.letter import told_name
from skill.alexa.handlers.services import TIME_ZONE, remembered_zone
from skill.alexa.registry import handles_request
from skill.alexa.turn import OFFER_MENU, Turn
from speech import compose, ssml

#: The last greeting is kept as "pool:line:question line", so the next one differs.


def _last_greeting(value: object) -> tuple[str, int | None, int | None]:
    """The stored last greeting as (pool, line, question line); anything unreadable is none."""
    parts = value.split(":") if isinstance(value, str) else []
    numbers = [int(p) if p.isdigit() else None for p in parts[1:3]]
    numbers += [None] * (2 - len(numbers))
    return (parts[0] if parts else "", numbers[0], numbers[1])


@handles_request("LaunchRequest")
def launch(turn: Turn) -> Response:
    """Greets her: by name when known, aware of kid time running, a focus to check, a long
    gap, or the time of day where her device is; never the same greeting twice in a row."""
    catalog, now, user = turn.catalog, turn.now, turn.user
    visits, last_visit = user.visits, user.last_visit
    running = running_minutes(user, now)
    focus = focus_to_check(turn) if running is None else None
    name = told_name(turn)
    # The zone remembered for this device: launches stay quick (one look-up per device, ever).
    # The record has no typed field for it yet; it rides in the record's kept extra keys.
    zone, remembered = remembered_zone(turn.input, turn.deps.alexa_api, user.extra.get(TIME_ZONE))
    hour = now.astimezone(zone).hour
    key = compose.greeting_key(
        is_new=visits == 0 and running is None and focus is None,
        hour=hour,
        days_away=(now - last_visit).days if last_visit is not None else None,
        kid_time_running=running is not None,
        has_focus=focus is not None,
    )
    pool = compose.greeting_pool_key(key, name)
    last_pool, last_line, last_ask = _last_greeting(user.last_greeting)
    variant = turn.pick(pool, last_line if last_pool == pool else -1)
    # An opener is followed by a question: today's affirmation until she has heard it, then
    # the menu (a line of greeting.ask, never the same twice in a row).
    opener = key in compose.OPENER_POOLS
    offer_affirmation = opener and not affirmation_heard_today(turn)
    ask = 0
    if opener and not offer_affirmation:
        ask = turn.pick("greeting.ask", last_ask if last_ask is not None else -1)
    focus_title = catalog.strategy(focus).title if focus is not None else None
    turn.remember(
        visits=visits + 1,
        last_visit=now,
        last_greeting=f"{pool}:{variant}:{ask}",
        focus=focus_checked(turn) if focus is not None else user.focus,
        extra={**user.extra, TIME_ZONE: remembered},
    )
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
