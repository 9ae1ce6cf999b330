"""Spoken English durations ("an hour and a half") → ISO-8601 (``PT1H30M``), as Alexa sends."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from fractions import Fraction

from skill.devtools.simulator.text import normalize

_UNITS: dict[str, str] = {}
for _unit, _names in {
    "W": ("week", "weeks", "wk", "wks"),
    "D": ("day", "days"),
    "H": ("hour", "hours", "hr", "hrs", "h"),
    "M": ("minute", "minutes", "min", "mins", "m"),
    "S": ("second", "seconds", "sec", "secs", "s"),
}.items():
    for _name in _names:
        _UNITS[_name] = _unit

#: How many of the next smaller unit one unit holds (for fractions such as "half an hour").
_SMALLER = {"W": ("D", 7), "D": ("H", 24), "H": ("M", 60), "M": ("S", 60)}

#: Number words below twenty (clock times use them too).
SMALL_NUMBERS = {
    word: n
    for n, word in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
        ]
    )
}
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip


class _Tokens:
    def __init__(self, words: Sequence[str]) -> None:
        self.words = list(words)
        self.i = 0

    def peek(self, offset: int = 0) -> str | None:
        j = self.i + offset
        return self.words[j] if j < len(self.words) else None

    def take(self, *options: str) -> str | None:
        word = self.peek()
        if word is not None and (not options or word in options):
            self.i += 1
            return word
        return None

    def take_seq(self, *words: str) -> bool:
        if self.words[self.i : self.i + len(words)] == list(words):
            self.i += len(words)
            return True
        return False

    @property
    def done(self) -> bool:
        return self.i >= len(self.words)


def _number(tokens: _Tokens) -> Fraction | None:
    word = tokens.peek()
    if word is None:
        return None
    if re.fullmatch(r"\d+(?:\.\d+)?", word):
        tokens.take()
        return Fraction(word)
    if word in ("a", "an", "one") and tokens.peek(1) in ("couple", "pair"):
        tokens.i += 2
        tokens.take("of")
        return Fraction(2)
    if word == "couple":
        tokens.take()
        tokens.take("of")
        return Fraction(2)
    total: int | None = None
    if word in _TENS:
        tokens.take()
        total = _TENS[word]
        unit = tokens.peek()
        if unit in SMALL_NUMBERS and 0 < SMALL_NUMBERS[unit] < 10:
            tokens.take()
            total += SMALL_NUMBERS[unit]
    elif word in SMALL_NUMBERS:
        tokens.take()
        total = SMALL_NUMBERS[word]
    elif word in ("a", "an"):
        tokens.take()
        total = 1
    if total is None:
        return None
    if tokens.peek() == "hundred":
        tokens.take()
        total *= 100
        tokens.take("and")
        rest = _number(tokens)
        if rest is not None:
            total += int(rest)
    return Fraction(total)


def _fraction_word(tokens: _Tokens) -> Fraction | None:
    """``half``, ``a quarter``, ``three quarters`` … followed by an optional ``of a/an``."""
    start = tokens.i
    count = Fraction(1)
    tokens.take("a", "an", "one")
    word = tokens.peek()
    if word not in ("half", "quarter", "quarters"):
        tokens.i = start
        number = _number(tokens)
        if number is None or tokens.peek() not in ("quarter", "quarters"):
            tokens.i = start
            return None
        count = number
        word = tokens.peek()
    tokens.take()
    value = Fraction(1, 2) if word == "half" else Fraction(1, 4) * count
    tokens.take("of")
    tokens.take("a", "an")
    return value


def _amount(tokens: _Tokens) -> Fraction | None:
    value = _fraction_word(tokens)
    if value is not None:
        return value
    value = _number(tokens)
    if value is None:
        return None
    if tokens.take_seq("and", "a", "half"):
        value += Fraction(1, 2)
    elif tokens.take_seq("and", "a", "quarter"):
        value += Fraction(1, 4)
    return value


def _iso(amounts: Mapping[str, Fraction]) -> str:
    totals = dict(amounts)
    for unit in ("W", "D", "H", "M"):
        value = totals.get(unit, Fraction(0))
        whole = value.numerator // value.denominator
        rest = value - whole
        if rest:
            smaller, factor = _SMALLER[unit]
            totals[unit] = Fraction(whole)
            totals[smaller] = totals.get(smaller, Fraction(0)) + rest * factor
    seconds = totals.get("S", Fraction(0))
    ints = {u: int(v) for u, v in totals.items() if u != "S"}
    if set(ints) <= {"W"} and not seconds and ints.get("W"):
        return f"P{ints['W']}W"
    days = ints.get("D", 0) + 7 * ints.get("W", 0)
    date_part = f"{days}D" if days else ""
    time_part = "".join(f"{ints[u]}{u}" for u in ("H", "M") if ints.get(u))
    if seconds:
        secs = str(int(seconds)) if seconds.denominator == 1 else f"{float(seconds):g}"
        time_part += f"{secs}S"
    if not date_part and not time_part:
        return "PT0S"
    return f"P{date_part}" + (f"T{time_part}" if time_part else "")


def spoken_duration_to_iso(text: str) -> str | None:
    """``"twenty minutes"`` → ``"PT20M"``; ``"an hour and a half"`` → ``"PT1H30M"``.

    Units are kept as spoken (``"90 minutes"`` stays ``PT90M``), as Alexa does. Anything that is
    not entirely a duration gives ``None``.
    """
    tokens = _Tokens(normalize(text).split())
    tokens.take("for")
    amounts: dict[str, Fraction] = {}
    found = False
    while not tokens.done:
        if found and tokens.take("and") and tokens.done:
            return None
        value = _amount(tokens)
        if value is None:
            return None
        unit_word = tokens.take()
        if unit_word is None or unit_word not in _UNITS:
            return None
        unit = _UNITS[unit_word]
        if tokens.take_seq("and", "a", "half"):
            value += Fraction(1, 2)
        elif tokens.take_seq("and", "a", "quarter"):
            value += Fraction(1, 4)
        amounts[unit] = amounts.get(unit, Fraction(0)) + value
        found = True
    if not found:
        return None
    return _iso(amounts)
