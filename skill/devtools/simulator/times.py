"""Spoken English clock times ("half past five", "four thirty pm") → Alexa's AMAZON.TIME values
("05:30", "16:30"), so local conversations fill a time slot as Alexa does.

Like Alexa, an hour said without "am" or "pm" is sent as it was said ("five" → "05:00"): reading
it as the afternoon is the skill's job, not the speech recogniser's.
"""

from __future__ import annotations

import re

from skill.devtools.simulator.durations import SMALL_NUMBERS
from skill.devtools.simulator.text import normalize

_HOURS = {word: n for word, n in SMALL_NUMBERS.items() if n <= 12}
_MINUTES = {
    "o five": 5, "oh five": 5, "ten": 10, "fifteen": 15, "twenty": 20, "twenty five": 25,
    "thirty": 30, "forty": 40, "forty five": 45, "fifty": 50, "fifty five": 55,
}  # fmt: skip
_PARTS = {"morning": "MO", "afternoon": "AF", "evening": "EV", "night": "NI", "tonight": "NI"}
_DIGITS = re.compile(r"^(\d{1,2})(?::(\d{2}))?$")


def _hour(word: str) -> int | None:
    match = _DIGITS.match(word)
    if match and match.group(2) is None:
        return int(match.group(1))
    return _HOURS.get(word)


def _clock(hour: int, minute: int, period: str | None) -> str | None:
    if period == "pm" and hour < 12:
        hour += 12
    elif period == "am" and hour == 12:
        hour = 0
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return f"{hour:02d}:{minute:02d}"


def spoken_time_to_iso(text: str) -> str | None:
    """The AMAZON.TIME value for a spoken time, or ``None`` when it is not one."""
    said = f" {normalize(text)} ".replace(" a m ", " am ").replace(" p m ", " pm ")
    words = said.split()
    if words[:1] == ["the"]:
        words = words[1:]
    phrase = " ".join(words)
    if phrase in _PARTS or phrase.removeprefix("in the ") in _PARTS:
        return _PARTS[phrase.removeprefix("in the ")]
    if phrase in ("noon", "midday"):
        return "12:00"
    if phrase == "midnight":
        return "00:00"
    period = None
    if words and words[-1] in ("am", "pm"):
        period, words = words[-1], words[:-1]
    if words and words[-1] == "o'clock":
        words = words[:-1]
    phrase = " ".join(words)
    digits = _DIGITS.match(phrase)
    if digits:
        return _clock(int(digits.group(1)), int(digits.group(2) or 0), period)
    for lead, offset in (("half past ", 30), ("quarter past ", 15), ("quarter to ", -15)):
        if phrase.startswith(lead):
            hour = _hour(phrase.removeprefix(lead))
            if hour is None:
                return None
            if offset < 0:
                return _clock((hour - 1) % 24, 60 + offset, period)
            return _clock(hour, offset, period)
    if not words:
        return None
    hour = _hour(words[0])
    if hour is None:
        return None
    rest = " ".join(words[1:])
    if not rest:
        return _clock(hour, 0, period)
    minute = int(rest) if re.fullmatch(r"\d{2}", rest) else _MINUTES.get(rest)
    return None if minute is None else _clock(hour, minute, period)
