"""A local stand-in for Alexa: utterance matcher, request envelopes and conversations.

Everything here is driven by ``interaction_models/<locale>.json`` (the single source of truth
for intents and sample utterances):

* :func:`load_model` reads one locale's model into small frozen dataclasses;
* :class:`UtteranceMatcher` turns typed text into an intent and slots the way Alexa would
  (sample utterances become regular expressions, ``AMAZON.DURATION`` values become ISO-8601
  durations, custom slot values are resolved through their synonyms);
* :class:`EnvelopeFactory` builds real Alexa request envelopes (plain dicts);
* :class:`Conversation` carries a session from turn to turn through a transport, either the
  Flask app in-process (:class:`AppTransport`) or a running server (:class:`HttpTransport`);
* :func:`run_replay` checks a recorded dialog (``tests/dialogs/*.json``) against a skill;
* ``simulate``, ``chat`` and ``replay`` are click commands that ``skill/cli.py`` registers.
"""

from __future__ import annotations

import difflib
import importlib
import json
import re
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypedDict

import click

if TYPE_CHECKING:
    from flask import Flask

JSON = dict[str, Any]

LAUNCH_REQUEST = "LaunchRequest"
FALLBACK_INTENT = "AMAZON.FallbackIntent"
DEFAULT_SKILL_ID = "amzn1.ask.skill.00000000-0000-4000-8000-000000000000"
DEFAULT_USER_ID = "amzn1.ask.account.SIMULATOR-LOCAL-USER"
DEFAULT_DEVICE_ID = "amzn1.ask.device.SIMULATOR-LOCAL-DEVICE"
API_ENDPOINT = "https://api.amazonalexa.com"

_LOCALE = re.compile(r"^[a-z]{2}-[A-Z]{2}$")


class ModelError(ValueError):
    """An interaction model file is missing or does not have the expected shape."""


# --------------------------------------------------------------------------------------------
# Interaction models
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlotDef:
    """One slot declared on an intent."""

    name: str
    type: str


@dataclass(frozen=True)
class IntentDef:
    """One intent with its slots and sample utterances."""

    name: str
    slots: tuple[SlotDef, ...] = ()
    samples: tuple[str, ...] = ()

    def slot(self, name: str) -> SlotDef | None:
        """The declared slot called ``name``, if any."""
        return next((s for s in self.slots if s.name == name), None)


@dataclass(frozen=True)
class TypeValue:
    """One value of a custom slot type: its id, canonical name and synonyms."""

    id: str
    name: str
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True)
class SlotTypeDef:
    """A custom slot type."""

    name: str
    values: tuple[TypeValue, ...]


@dataclass(frozen=True)
class InteractionModel:
    """The language model of one locale."""

    locale: str
    invocation_name: str
    intents: tuple[IntentDef, ...]
    types: Mapping[str, SlotTypeDef]
    raw: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)

    def intent(self, name: str) -> IntentDef | None:
        """The intent called ``name``, if the model declares it."""
        return next((i for i in self.intents if i.name == name), None)

    @property
    def intent_names(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.intents)


def default_models_dir() -> Path | None:
    """The repository's ``interaction_models`` folder when it exists on disk."""
    path = Path(__file__).resolve().parents[1] / "interaction_models"
    return path if path.is_dir() else None


def _read_model_text(locale: str, models_dir: Path | None) -> str:
    name = f"{locale}.json"
    if models_dir is not None:
        path = Path(models_dir) / name
        if not path.is_file():
            raise ModelError(f"no interaction model for {locale} in {models_dir}")
        return path.read_text(encoding="utf-8")
    try:
        resource = resources.files("interaction_models").joinpath(name)
        if resource.is_file():
            return resource.read_text(encoding="utf-8")
    except (ModuleNotFoundError, TypeError, FileNotFoundError, NotADirectoryError):
        pass
    fallback = Path(__file__).resolve().parents[1] / "interaction_models" / name
    if not fallback.is_file():
        raise ModelError(f"no interaction model for {locale}")
    return fallback.read_text(encoding="utf-8")


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ModelError(f"{where} must be an object")
    return value


def _list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise ModelError(f"{where} must be a list")
    return value


def _str(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ModelError(f"{where} must be a non-empty string")
    return value


def parse_model(data: object, locale: str) -> InteractionModel:
    """Check and convert the JSON of an ASK CLI interaction model file."""
    root = _mapping(data, locale)
    language = _mapping(
        _mapping(root.get("interactionModel"), f"{locale}: interactionModel").get("languageModel"),
        f"{locale}: languageModel",
    )
    invocation = _str(language.get("invocationName"), f"{locale}: invocationName")
    intents: list[IntentDef] = []
    for n, item in enumerate(_list(language.get("intents"), f"{locale}: intents")):
        where = f"{locale}: intents[{n}]"
        intent = _mapping(item, where)
        slots = tuple(
            SlotDef(
                _str(_mapping(s, f"{where}.slots").get("name"), f"{where}.slots.name"),
                _str(_mapping(s, f"{where}.slots").get("type"), f"{where}.slots.type"),
            )
            for s in _list(intent.get("slots", []), f"{where}.slots")
        )
        samples = tuple(
            _str(s, f"{where}.samples")
            for s in _list(intent.get("samples", []), f"{where}.samples")
        )
        intents.append(IntentDef(_str(intent.get("name"), f"{where}.name"), slots, samples))
    types: dict[str, SlotTypeDef] = {}
    for n, item in enumerate(_list(language.get("types", []), f"{locale}: types")):
        where = f"{locale}: types[{n}]"
        type_ = _mapping(item, where)
        values = []
        for m, raw_value in enumerate(_list(type_.get("values"), f"{where}.values")):
            value = _mapping(raw_value, f"{where}.values[{m}]")
            name = _mapping(value.get("name"), f"{where}.values[{m}].name")
            synonyms = tuple(
                _str(s, f"{where}.values[{m}].synonyms")
                for s in _list(name.get("synonyms", []), f"{where}.values[{m}].synonyms")
            )
            value_name = _str(name.get("value"), f"{where}.values[{m}].name.value")
            value_id = value.get("id") or value_name
            values.append(
                TypeValue(_str(value_id, f"{where}.values[{m}].id"), value_name, synonyms)
            )
        type_name = _str(type_.get("name"), f"{where}.name")
        types[type_name] = SlotTypeDef(type_name, tuple(values))
    return InteractionModel(locale, invocation, tuple(intents), types, root)


def load_model(locale: str, models_dir: Path | None = None) -> InteractionModel:
    """Load ``<models_dir>/<locale>.json`` (default: the packaged ``interaction_models``)."""
    if not _LOCALE.match(locale):
        raise ModelError(f"not a locale: {locale!r}")
    text = _read_model_text(locale, models_dir)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelError(f"{locale}: invalid JSON: {exc}") from None
    return parse_model(data, locale)


def available_locales(models_dir: Path | None = None) -> list[str]:
    """Locales that have a model file in ``models_dir`` (default: the repository folder)."""
    folder = models_dir or default_models_dir()
    if folder is None:
        return []
    return sorted(p.stem for p in Path(folder).glob("*.json") if _LOCALE.match(p.stem))


# --------------------------------------------------------------------------------------------
# Text normalisation and spoken durations
# --------------------------------------------------------------------------------------------

_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})
_DECIMAL_POINT = re.compile(r"(?<=\d)\.(?=\d)")
_NOT_WORD = re.compile(r"[^a-z0-9'\u00b7 ]+")
_STRAY_APOSTROPHE = re.compile(r"(?<![a-z0-9])'|'(?![a-z0-9])")
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Lowercase, drop punctuation (keeping apostrophes and decimal points), collapse spaces."""
    text = text.translate(_QUOTES).lower()
    text = _DECIMAL_POINT.sub("\u00b7", text)  # protect "1.5" from the punctuation sweep
    text = text.replace("-", " ").replace("_", " ")
    text = _NOT_WORD.sub(" ", text)
    text = _STRAY_APOSTROPHE.sub(" ", text)
    return _SPACES.sub(" ", text).strip().replace("\u00b7", ".")


def _key(text: str) -> str:
    """A comparison key: normalised, apostrophes removed."""
    return normalize(text).replace("'", "")


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

_SMALL_NUMBERS = {
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
        if unit in _SMALL_NUMBERS and 0 < _SMALL_NUMBERS[unit] < 10:
            tokens.take()
            total += _SMALL_NUMBERS[unit]
    elif word in _SMALL_NUMBERS:
        tokens.take()
        total = _SMALL_NUMBERS[word]
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


# --------------------------------------------------------------------------------------------
# Utterance matching
# --------------------------------------------------------------------------------------------


class SlotValue(TypedDict):
    """A filled slot as the matcher understood it."""

    #: What Alexa puts in ``slot.value``: ISO-8601 for durations, the spoken words otherwise.
    value: str
    #: The custom slot value id when the words resolved, else ``None``.
    resolved_id: str | None
    #: The canonical value name when resolved, else ``None``.
    resolved_name: str | None
    #: The slot type, e.g. ``AMAZON.DURATION`` or ``StrategyTopic``.
    type: str
    #: The words that filled the slot.
    spoken: str


@dataclass(frozen=True)
class Match:
    """The intent (or ``LaunchRequest``) an utterance maps to, with its filled slots."""

    intent: str
    slots: dict[str, SlotValue] = field(default_factory=dict)
    #: The sample utterance that matched (``None`` for launch, local phrases and fallback).
    sample: str | None = None
    #: True when the utterance named the skill ("open …", "ask … to …"): a new session.
    invoked: bool = False


#: Local phrases for the built-in intents, so people can type them.
BUILTIN_PHRASES: dict[str, tuple[str, ...]] = {
    "AMAZON.HelpIntent": ("help", "help me", "what can i say", "what can you do", "i need help"),
    "AMAZON.StopIntent": ("stop", "exit", "goodbye", "bye", "shut up", "be quiet", "that's all"),
    "AMAZON.CancelIntent": ("cancel", "never mind", "nevermind", "forget it"),
    "AMAZON.RepeatIntent": (
        "repeat", "repeat that", "say that again", "say it again", "again", "what did you say",
        "pardon", "come again",
    ),
    "AMAZON.NextIntent": ("next", "next one", "another one", "another", "skip", "skip it"),
    "AMAZON.YesIntent": (
        "yes", "yeah", "yep", "yes please", "sure", "ok", "okay", "of course", "please do",
        "go ahead",
    ),
    "AMAZON.NoIntent": ("no", "nope", "no thanks", "no thank you", "nah", "not now"),
    "AMAZON.StartOverIntent": ("start over", "start again", "restart", "begin again"),
    "AMAZON.NavigateHomeIntent": ("go home", "home", "main menu", "go back home"),
}  # fmt: skip

_LAUNCH_VERBS = r"(?:open|launch|start|begin|load|run|play|talk to|use)"
_ONE_SHOT_VERBS = r"(?:ask|tell)"
_ONE_SHOT_JOINERS = ("to", "for", "about", "that", "if", "whether")
_FILLERS = ("alexa", "please", "hey", "um", "uh", "so", "now", "ok", "okay", "just")
_SLOT = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class _Pattern:
    intent: IntentDef
    sample: str
    regex: re.Pattern[str]
    slot_names: tuple[str, ...]
    literal_words: int


def _word_regex(words: str) -> str:
    """A regex for literal sample text: apostrophes optional, single spaces between words."""
    parts = []
    for word in normalize(words).split():
        parts.append("".join("'?" if ch == "'" else re.escape(ch) for ch in word))
    return " ".join(parts)


def _compile_sample(intent: IntentDef, sample: str) -> _Pattern:
    pieces: list[str] = []
    names: list[str] = []
    pos = 0
    for m in _SLOT.finditer(sample):
        literal = sample[pos : m.start()]
        pieces.append(_word_regex(literal))
        pieces.append(f"(?P<{m.group(1)}>.+?)")
        names.append(m.group(1))
        pos = m.end()
    pieces.append(_word_regex(sample[pos:]))
    regex = " ".join(p for p in pieces if p)
    literal_words = len(normalize(_SLOT.sub(" ", sample)).split())
    return _Pattern(intent, sample, re.compile(f"^{regex}$"), tuple(names), literal_words)


class UtteranceMatcher:
    """Maps typed or transcribed text to an intent and slots using one interaction model."""

    def __init__(self, model: InteractionModel) -> None:
        self.model = model
        self._patterns = [
            _compile_sample(intent, sample) for intent in model.intents for sample in intent.samples
        ]
        self._phrases: dict[str, str] = {}
        declared = set(model.intent_names)
        for intent_name, phrases in BUILTIN_PHRASES.items():
            if intent_name in declared:
                for phrase in phrases:
                    self._phrases.setdefault(_key(phrase), intent_name)
        self._resolvers: dict[str, dict[str, TypeValue]] = {
            type_name: {
                _key(word): value
                for value in type_.values
                for word in (*value.synonyms, value.name, value.id)
            }
            for type_name, type_ in model.types.items()
        }
        name = _word_regex(model.invocation_name)
        self._launch = re.compile(rf"^{_LAUNCH_VERBS} {name}$|^{_ONE_SHOT_VERBS} {name}$")
        self._one_shot = re.compile(
            rf"^(?:{_ONE_SHOT_VERBS} {name}|(?:open|launch|start|use) {name} (?:and|to))"
            rf" (?P<rest>.+)$"
        )

    # -- public --------------------------------------------------------------------------

    def match(self, text: str) -> Match | None:
        """The intent for ``text``; ``None`` only for empty input; unknown → FallbackIntent."""
        normal = normalize(text)
        if normal.startswith("alexa "):
            normal = normal[len("alexa ") :]
        if not normal or normal == "alexa":
            return None
        if self._launch.match(normal):
            return Match(LAUNCH_REQUEST, invoked=True)
        one_shot = self._one_shot.match(normal)
        if one_shot:
            rest = one_shot.group("rest")
            inner = self._match_inner(rest)
            first, _, remainder = rest.partition(" ")
            if inner.intent == FALLBACK_INTENT and first in _ONE_SHOT_JOINERS and remainder:
                inner = self._match_inner(remainder)
            return Match(inner.intent, inner.slots, inner.sample, invoked=True)
        return self._match_inner(normal)

    def resolve(self, slot_type: str, spoken: str) -> TypeValue | None:
        """The custom slot value whose name, synonym or id is ``spoken`` (case-insensitive)."""
        return self._resolvers.get(slot_type, {}).get(_key(spoken))

    # -- internals -----------------------------------------------------------------------

    def _match_inner(self, normal: str) -> Match:
        found = self._match_exact(normal)
        if found is None:
            words = normal.split()
            stripped = " ".join(w for w in words if w not in _FILLERS)
            if stripped and stripped != normal:
                found = self._match_exact(stripped)
        return found or Match(FALLBACK_INTENT)

    def _match_exact(self, normal: str) -> Match | None:
        key = normal.replace("'", "")
        best: tuple[tuple[int, int, int], Match] | None = None
        for index, pattern in enumerate(self._patterns):
            m = pattern.regex.match(normal)
            if not m:
                continue
            slots: dict[str, SlotValue] = {}
            understood = 1
            for name in pattern.slot_names:
                slot = pattern.intent.slot(name)
                slot_type = slot.type if slot else "AMAZON.SearchQuery"
                value = self.slot_value(slot_type, m.group(name).strip())
                unresolved = slot_type in self.model.types or value["value"] == "?"
                if value["resolved_id"] is None and unresolved:
                    understood = 0
                slots[name] = value
            rank = (understood, pattern.literal_words, -index)
            if best is None or rank > best[0]:
                best = (rank, Match(pattern.intent.name, slots, pattern.sample))
        if best is not None and best[0][0]:
            return best[1]
        if key in self._phrases:
            return Match(self._phrases[key])
        # A sample that is nothing but an unresolved slot ("{trigger}") would match any words;
        # Alexa only fills such a slot when it is being elicited, so it is no match here.
        return best[1] if best is not None and best[0][1] > 0 else None

    def slot_value(self, slot_type: str, spoken: str) -> SlotValue:
        """How Alexa would fill a slot of ``slot_type`` from the words ``spoken``."""
        if slot_type == "AMAZON.DURATION":
            iso = spoken_duration_to_iso(spoken)
            # Alexa sends "?" when it heard a duration slot but could not understand it.
            return SlotValue(
                value=iso or "?",
                resolved_id=None,
                resolved_name=None,
                type=slot_type,
                spoken=spoken,
            )
        resolved = self.resolve(slot_type, spoken)
        return SlotValue(
            value=spoken,
            resolved_id=resolved.id if resolved else None,
            resolved_name=resolved.name if resolved else None,
            type=slot_type,
            spoken=spoken,
        )


# --------------------------------------------------------------------------------------------
# Request envelopes
# --------------------------------------------------------------------------------------------


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class SessionState:
    """The session a conversation is in."""

    session_id: str
    new: bool = True
    attributes: dict[str, Any] = field(default_factory=dict)


class EnvelopeFactory:
    """Builds Alexa request envelopes (``version 1.0``) as plain dicts."""

    def __init__(
        self,
        skill_id: str = DEFAULT_SKILL_ID,
        user_id: str = DEFAULT_USER_ID,
        locale: str = "en-US",
        clock: Callable[[], datetime] = _utc_now,
        *,
        device_id: str = DEFAULT_DEVICE_ID,
        api_access_token: str = "simulator-api-access-token",
    ) -> None:
        self.skill_id = skill_id
        self.user_id = user_id
        self.locale = locale
        self.clock = clock
        self.device_id = device_id
        self.api_access_token = api_access_token

    @staticmethod
    def new_session_id() -> str:
        return f"amzn1.echo-api.session.{uuid.uuid4()}"

    def new_session(self, attributes: Mapping[str, Any] | None = None) -> SessionState:
        """A fresh session (``new`` true) with optional starting attributes."""
        return SessionState(self.new_session_id(), True, dict(attributes or {}))

    def timestamp(self) -> str:
        """The clock's time as Alexa writes it: ISO-8601, UTC, whole seconds, ``Z``."""
        now = self.clock()
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def authority(self, slot_type: str) -> str:
        """The entity-resolution authority of a custom slot type in this skill."""
        return f"amzn1.er-authority.echo-sdk.{self.skill_id}.{slot_type}"

    def envelope(self, request: JSON, session: SessionState | None) -> JSON:
        """Wrap a ``request`` object in the session and context Alexa sends along."""
        application = {"applicationId": self.skill_id}
        user = {"userId": self.user_id}
        body: JSON = {"version": "1.0"}
        if session is not None:
            body["session"] = {
                "new": session.new,
                "sessionId": session.session_id,
                "application": dict(application),
                "attributes": dict(session.attributes),
                "user": dict(user),
            }
        body["context"] = {
            "System": {
                "application": dict(application),
                "user": dict(user),
                "device": {"deviceId": self.device_id, "supportedInterfaces": {}},
                "apiEndpoint": API_ENDPOINT,
                "apiAccessToken": self.api_access_token,
            }
        }
        body["request"] = request
        return body

    def _request(self, request_type: str) -> JSON:
        return {
            "type": request_type,
            "requestId": f"amzn1.echo-api.request.{uuid.uuid4()}",
            "timestamp": self.timestamp(),
            "locale": self.locale,
        }

    def launch_request(self, session: SessionState | None = None) -> JSON:
        return self.envelope(self._request(LAUNCH_REQUEST), session or self.new_session())

    def slot(self, name: str, value: SlotValue | None) -> JSON:
        """One slot object; with entity resolutions for custom slot types."""
        slot: JSON = {"name": name, "confirmationStatus": "NONE"}
        if value is None:
            return slot
        slot["value"] = value["value"]
        simple: JSON = {"type": "Simple", "value": value["value"]}
        if not value["type"].startswith("AMAZON."):
            authority: JSON = {"authority": self.authority(value["type"])}
            if value["resolved_id"] is not None:
                authority["status"] = {"code": "ER_SUCCESS_MATCH"}
                authority["values"] = [
                    {"value": {"name": value["resolved_name"], "id": value["resolved_id"]}}
                ]
            else:
                authority["status"] = {"code": "ER_SUCCESS_NO_MATCH"}
            resolutions = {"resolutionsPerAuthority": [authority]}
            slot["resolutions"] = resolutions
            simple["resolutions"] = json.loads(json.dumps(resolutions))
        slot["slotValue"] = simple
        return slot

    def intent_request(
        self,
        intent: str,
        slots: Mapping[str, SlotValue] | None = None,
        session: SessionState | None = None,
        *,
        declared_slots: Iterable[str] = (),
    ) -> JSON:
        """An IntentRequest; declared but unfilled slots are sent without a value, as Alexa does."""
        filled = dict(slots or {})
        names = list(dict.fromkeys([*declared_slots, *filled]))
        request = self._request("IntentRequest")
        request["intent"] = {
            "name": intent,
            "confirmationStatus": "NONE",
            "slots": {name: self.slot(name, filled.get(name)) for name in names},
        }
        return self.envelope(request, session or self.new_session())

    def session_ended_request(
        self,
        session: SessionState | None = None,
        reason: str = "USER_INITIATED",
        error: Mapping[str, str] | None = None,
    ) -> JSON:
        request = self._request("SessionEndedRequest")
        request["reason"] = reason
        if error is not None:
            request["error"] = dict(error)
        return self.envelope(request, session or self.new_session())

    def request_for(self, match: Match, session: SessionState, model: InteractionModel) -> JSON:
        """The envelope for a matched utterance."""
        if match.intent == LAUNCH_REQUEST:
            return self.launch_request(session)
        declared = model.intent(match.intent)
        names = [s.name for s in declared.slots] if declared else []
        return self.intent_request(match.intent, match.slots, session, declared_slots=names)


# --------------------------------------------------------------------------------------------
# Transports
# --------------------------------------------------------------------------------------------


class Transport(Protocol):
    """Posts one request envelope; answers ``(HTTP status, parsed JSON or body text)``."""

    def post(self, envelope: JSON) -> tuple[int, Any]: ...


def _decode(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


class AppTransport:
    """Posts to a Flask app in-process through its test client."""

    def __init__(self, app: Flask, path: str = "/alexa") -> None:
        self.app = app
        self.path = path
        self._client = app.test_client()

    def post(self, envelope: JSON) -> tuple[int, Any]:
        response = self._client.post(
            self.path,
            data=json.dumps(envelope),
            headers={"Content-Type": "application/json"},
        )
        return response.status_code, _decode(response.get_data(as_text=True))


class HttpTransport:
    """Posts to a running skill server over HTTP with ``requests``."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url
        self.timeout = timeout

    def post(self, envelope: JSON) -> tuple[int, Any]:
        import requests

        try:
            response = requests.post(
                self.url,
                data=json.dumps(envelope),
                headers={"Content-Type": "application/json"},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            return 0, f"no response from {self.url}: {exc}"
        return response.status_code, _decode(response.text)


# --------------------------------------------------------------------------------------------
# Conversations
# --------------------------------------------------------------------------------------------

_BREAK = re.compile(r"<break\b[^>]*/>")
_TAG = re.compile(r"<[^>]+>")


def ssml_to_text(ssml: str) -> str:
    """Plain text of an SSML string (tags stripped, breaks shown as ``...``)."""
    try:
        from speech.ssml import to_plain_text
    except ImportError:  # pragma: no cover - speech is part of this repository
        import html

        text = _TAG.sub(" ", _BREAK.sub(" ... ", ssml))
        return _SPACES.sub(" ", html.unescape(text)).strip()
    return to_plain_text(ssml)


def _speech(output: object) -> tuple[str | None, str | None]:
    """``(ssml, plain text)`` of an ``outputSpeech`` object."""
    if not isinstance(output, Mapping):
        return None, None
    if output.get("type") == "SSML" and isinstance(output.get("ssml"), str):
        return output["ssml"], ssml_to_text(output["ssml"])
    if isinstance(output.get("text"), str):
        return output["text"], output["text"]
    return None, None


@dataclass
class Turn:
    """One exchange: what was said, what was sent, what came back."""

    utterance: str
    intent: str
    slots: dict[str, SlotValue]
    request: JSON
    status: int
    response: JSON | None
    speech: str | None = None
    text: str | None = None
    reprompt: str | None = None
    reprompt_text: str | None = None
    card: JSON | None = None
    ended: bool = False
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error is None

    @property
    def session_attributes(self) -> dict[str, Any]:
        if self.response is None:
            return {}
        attributes = self.response.get("sessionAttributes")
        return dict(attributes) if isinstance(attributes, Mapping) else {}

    @property
    def card_title(self) -> str | None:
        title = (self.card or {}).get("title")
        return title if isinstance(title, str) else None

    def to_json(self) -> JSON:
        return {
            "utterance": self.utterance,
            "intent": self.intent,
            "slots": dict(self.slots),
            "status": self.status,
            "speech": self.speech,
            "text": self.text,
            "reprompt": self.reprompt,
            "card": self.card,
            "ended": self.ended,
            "error": self.error,
            "request": self.request,
            "response": self.response,
        }


def _turn(utterance: str, match: Match, request: JSON, status: int, body: Any) -> Turn:
    turn = Turn(utterance, match.intent, dict(match.slots), request, status, None)
    if status != 200 or not isinstance(body, Mapping):
        if status == 200:
            turn.error = f"response is not a JSON object: {str(body)[:500]}"
        else:
            detail = body if isinstance(body, str) else json.dumps(body)
            turn.error = f"HTTP {status}: {detail[:500]}" if status else str(detail)[:500]
        turn.ended = True
        return turn
    turn.response = dict(body)
    inner = body.get("response")
    inner = inner if isinstance(inner, Mapping) else {}
    turn.speech, turn.text = _speech(inner.get("outputSpeech"))
    reprompt = inner.get("reprompt")
    if isinstance(reprompt, Mapping):
        turn.reprompt, turn.reprompt_text = _speech(reprompt.get("outputSpeech"))
    card = inner.get("card")
    turn.card = dict(card) if isinstance(card, Mapping) else None
    turn.ended = inner.get("shouldEndSession") is True
    return turn


class Conversation:
    """Talks to a skill turn by turn, keeping the session (id, ``new`` flag, attributes)."""

    def __init__(
        self, transport: Transport, factory: EnvelopeFactory, matcher: UtteranceMatcher
    ) -> None:
        self.transport = transport
        self.factory = factory
        self.matcher = matcher
        self.session: SessionState | None = None
        self.turns: list[Turn] = []

    @property
    def in_session(self) -> bool:
        return self.session is not None

    def say(self, text: str) -> Turn:
        """Match ``text`` and send it; empty text is sent as a FallbackIntent."""
        match = self.matcher.match(text) or Match(FALLBACK_INTENT)
        return self.send(match, text)

    def launch(self) -> Turn:
        return self.send(Match(LAUNCH_REQUEST, invoked=True), "")

    def intend(self, intent: str, slots: Mapping[str, str] | None = None) -> Turn:
        """Send an intent directly; slot values are resolved like spoken ones."""
        declared = self.matcher.model.intent(intent)
        filled: dict[str, SlotValue] = {}
        for name, spoken in (slots or {}).items():
            slot = declared.slot(name) if declared else None
            slot_type = slot.type if slot else "AMAZON.SearchQuery"
            filled[name] = self.matcher.slot_value(slot_type, spoken)
        return self.send(Match(intent, filled), "")

    def send(self, match: Match, utterance: str = "") -> Turn:
        if self.session is None or match.invoked:
            self.session = self.factory.new_session()
        request = self.factory.request_for(match, self.session, self.matcher.model)
        status, body = self.transport.post(request)
        turn = _turn(utterance, match, request, status, body)
        self.turns.append(turn)
        if turn.ended:
            self.session = None
        else:
            self.session.new = False
            self.session.attributes = turn.session_attributes
        return turn

    def end(self, reason: str = "USER_INITIATED") -> Turn | None:
        """Send a SessionEndedRequest when a session is open."""
        if self.session is None:
            return None
        request = self.factory.session_ended_request(self.session, reason)
        status, body = self.transport.post(request)
        turn = _turn("", Match("SessionEndedRequest"), request, status, body)
        turn.ended = True
        self.turns.append(turn)
        self.session = None
        return turn


# --------------------------------------------------------------------------------------------
# Replays
# --------------------------------------------------------------------------------------------


@dataclass
class ReplayResult:
    """The outcome of one replay file."""

    turns: list[Turn]
    mismatches: list[str]
    expected: list[JSON]
    actual: list[JSON]

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def diff(self) -> str:
        """A unified diff of expected against observed (only the expected keys)."""
        left = json.dumps(self.expected, indent=2, ensure_ascii=False).splitlines()
        right = json.dumps(self.actual, indent=2, ensure_ascii=False).splitlines()
        return "\n".join(difflib.unified_diff(left, right, "expected", "actual", lineterm=""))


def _observed(turn: Turn, expect: Mapping[str, Any]) -> JSON:
    """The observed values of the keys ``expect`` names, in the same shape."""
    seen: JSON = {}
    for key, wanted in expect.items():
        if key == "intent":
            seen[key] = turn.intent
        elif key == "ended":
            seen[key] = turn.ended
        elif key == "status":
            seen[key] = turn.status
        elif key == "reprompt":
            seen[key] = turn.reprompt is not None
        elif key == "card":
            seen[key] = turn.card is not None
        elif key == "card_title":
            seen[key] = turn.card_title
        elif key == "speech_contains":
            text = (turn.text or "").lower()
            seen[key] = [p for p in wanted if isinstance(p, str) and p.lower() in text]
            if seen[key] != list(wanted):
                seen["speech"] = turn.text
        elif key == "speech_excludes":
            text = (turn.text or "").lower()
            seen[key] = [p for p in wanted if isinstance(p, str) and p.lower() not in text]
        elif key == "slots" and isinstance(wanted, Mapping):
            slots: JSON = {}
            for name, want in wanted.items():
                got = turn.slots.get(name)
                if isinstance(want, Mapping):
                    slots[name] = {k: (got or {}).get(k) for k in want}
                else:
                    slots[name] = got["value"] if got else None
            seen[key] = slots
        elif key == "session_attributes" and isinstance(wanted, Mapping):
            attributes = turn.session_attributes
            seen[key] = {k: attributes.get(k) for k in wanted}
        else:
            seen[key] = f"<unknown expectation {key!r}>"
    return seen


def load_replay(path: Path) -> JSON:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("turns"), list):
        raise ValueError(f"{path}: a replay file is an object with a 'turns' list")
    return data


def run_replay(data: Mapping[str, Any], conversation: Conversation) -> ReplayResult:
    """Say every turn of a replay and compare what came back with its expectations."""
    turns: list[Turn] = []
    mismatches: list[str] = []
    expected: list[JSON] = []
    actual: list[JSON] = []
    for n, step in enumerate(data["turns"], start=1):
        if not isinstance(step, Mapping) or not isinstance(step.get("say"), str):
            raise ValueError(f"turn {n}: needs a 'say' string")
        turn = conversation.say(step["say"])
        turns.append(turn)
        expect = dict(step.get("expect") or {})
        if "status" not in expect and not turn.ok:
            expect["status"] = 200
        seen = _observed(turn, expect)
        shown_expect = {"say": step["say"], **expect}
        shown_seen = {"say": step["say"], **seen}
        if "speech" in seen:
            shown_expect["speech"] = "<speech containing the phrases above>"
        expected.append(shown_expect)
        actual.append(shown_seen)
        for key, wanted in expect.items():
            if key == "speech_contains":
                missing = [p for p in wanted if p not in seen[key]]
                if missing:
                    mismatches.append(f"turn {n} ({step['say']!r}): speech lacks {missing}")
            elif key == "speech_excludes":
                present = [p for p in wanted if p not in seen[key]]
                if present:
                    mismatches.append(f"turn {n} ({step['say']!r}): speech has {present}")
            elif seen[key] != wanted:
                mismatches.append(
                    f"turn {n} ({step['say']!r}): {key} expected {wanted!r}, got {seen[key]!r}"
                    + (f" [{turn.error}]" if turn.error else "")
                )
    return ReplayResult(turns, mismatches, expected, actual)


def replay_from_turns(turns: Iterable[Turn], locale: str) -> JSON:
    """A replay file (intent, slots, ended, reprompt) recorded from real turns."""
    steps = []
    for turn in turns:
        if not turn.utterance:
            continue
        expect: JSON = {"intent": turn.intent}
        if turn.slots:
            expect["slots"] = {name: value["value"] for name, value in turn.slots.items()}
        expect["ended"] = turn.ended
        expect["reprompt"] = turn.reprompt is not None
        steps.append({"say": turn.utterance, "expect": expect})
    return {"locale": locale, "turns": steps}


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


@contextmanager
def _transport(
    url: str | None, skill_id: str | None = None, *, data_dir: Path | None = None
) -> Iterator[tuple[Transport, str]]:
    """The transport to use and the skill id to send (in-process unless ``url`` is given)."""
    if url:
        yield HttpTransport(url), skill_id or DEFAULT_SKILL_ID
        return
    from skill.app import create_app
    from skill.config import Config, ConfigError

    try:
        config = Config.from_env().with_changes(verify_signatures=False)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    if data_dir is not None:
        config = config.with_changes(data_dir=data_dir)
    yield AppTransport(create_app(config)), skill_id or config.skill_id or DEFAULT_SKILL_ID


def _hint(turns: Iterable[Turn], url: str | None) -> None:
    if url and any(t.status == 400 for t in turns):
        click.echo(
            "hint: the simulator sends unsigned requests; run the server with "
            "MAMA_VERIFY_SIGNATURES=0 (and pass --skill-id if it checks one).",
            err=True,
        )


def _conversation(
    transport: Transport, skill_id: str, locale: str, user: str | None
) -> Conversation:
    model = load_model(locale)
    factory = EnvelopeFactory(skill_id, user or DEFAULT_USER_ID, locale)
    return Conversation(transport, factory, UtteranceMatcher(model))


def format_slots(slots: Mapping[str, SlotValue]) -> str:
    parts = []
    for name, value in slots.items():
        shown = value["value"]
        if value["resolved_id"]:
            shown += f" → {value['resolved_id']}"
        elif not value["type"].startswith("AMAZON."):
            shown += " (no match)"
        parts.append(f"{name}={shown}")
    return " ".join(parts)


def format_turn(turn: Turn, *, show_utterance: bool = True) -> str:
    """A turn as the CLI prints it."""
    lines = []
    if turn.utterance and show_utterance:
        lines.append(f"you> {turn.utterance}")
    slots = format_slots(turn.slots)
    lines.append(f"     [{turn.intent}{' ' + slots if slots else ''}]")
    if turn.error:
        lines.append(f"error> {turn.error}")
    if turn.text:
        lines.append(f"alexa> {turn.text}")
    if turn.card_title:
        lines.append(f"     card: {turn.card_title}")
    if turn.ended:
        lines.append("     (session ended)")
    return "\n".join(lines)


_url_option = click.option("--url", default=None, help="Skill endpoint (default: in-process).")
_locale_option = click.option("--locale", default="en-US", show_default=True)
_skill_id_option = click.option(
    "--skill-id", envvar="MAMA_SKILL_ID", default=None, help="Application id to send."
)


@click.command("simulate")
@click.argument("utterances", nargs=-1, required=True)
@_url_option
@_locale_option
@_skill_id_option
@click.option("--user", default=None, help="Alexa user id to send.")
@click.option("--json", "as_json", is_flag=True, help="Print turns as JSON.")
@click.option(
    "--record",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the dialog as a replay file.",
)
def simulate_command(
    utterances: tuple[str, ...],
    url: str | None,
    locale: str,
    skill_id: str | None,
    user: str | None,
    as_json: bool,
    record: Path | None,
) -> None:
    """Say UTTERANCES to the skill, one turn each, and print what Alexa would say."""
    try:
        with _transport(url, skill_id) as (transport, sent_id):
            conversation = _conversation(transport, sent_id, locale, user)
            turns = [conversation.say(text) for text in utterances]
    except ModelError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps([t.to_json() for t in turns], indent=2, ensure_ascii=False))
    else:
        for turn in turns:
            click.echo(format_turn(turn))
    if record is not None:
        record.write_text(
            json.dumps(replay_from_turns(turns, locale), indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
        click.echo(f"recorded {len(turns)} turns to {record}", err=True)
    if any(not t.ok for t in turns):
        _hint(turns, url)
        sys.exit(1)


def _speaker() -> Callable[[str, str], None] | None:
    for module_name in ("speech.playback", "speech.offline", "speech"):
        try:
            module = importlib.import_module(module_name)
        except Exception:  # any import failure just means "no voice"
            continue
        speak = getattr(module, "speak_text", None)
        if callable(speak):
            return speak  # type: ignore[no-any-return]
    return None


@click.command("chat")
@_url_option
@_locale_option
@_skill_id_option
@click.option("--user", default=None, help="Alexa user id to send.")
@click.option("--speak", is_flag=True, help="Also speak answers with the offline voice.")
def chat_command(
    url: str | None, locale: str, skill_id: str | None, user: str | None, speak: bool
) -> None:
    """Talk to the skill: type what you would say; 'quit' or end of input leaves."""
    speaker = _speaker() if speak else None
    if speak and speaker is None:
        click.echo("(offline voice unavailable: speech.offline.speak_text could not be imported)")
    try:
        with _transport(url, skill_id) as (transport, sent_id):
            conversation = _conversation(transport, sent_id, locale, user)
            name = conversation.matcher.model.invocation_name
            click.echo(f"Talking to {name} ({locale}). Try 'open {name}'; 'quit' leaves.")
            while True:
                try:
                    line = input("you> ")
                except EOFError:
                    break
                if line.strip().lower() in {"quit", ":q"}:
                    break
                if not line.strip():
                    continue
                turn = conversation.say(line)
                click.echo(format_turn(turn, show_utterance=False))
                if speaker is not None and turn.speech:
                    try:
                        speaker(turn.speech, locale)
                    except Exception as exc:  # voice is best effort
                        click.echo(f"(could not speak: {exc})")
            conversation.end()
    except ModelError as exc:
        raise click.ClickException(str(exc)) from None


@click.command("replay")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_url_option
@_skill_id_option
@click.option("--user", default=None, help="Alexa user id (default: a fresh one).")
def replay_command(file: Path, url: str | None, skill_id: str | None, user: str | None) -> None:
    """Run a replay FILE and compare; exit code 1 with a diff on mismatch."""
    try:
        data = load_replay(file)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    locale = str(data.get("locale") or "en-US")
    user_id = user or str(data.get("user") or f"amzn1.ask.account.REPLAY-{uuid.uuid4()}")
    with (
        tempfile.TemporaryDirectory(prefix="mama-replay-") as tmp,
        _transport(url, skill_id, data_dir=None if url else Path(tmp)) as (transport, sent_id),
    ):
        conversation = _conversation(transport, sent_id, locale, user_id)
        result = run_replay(data, conversation)
        conversation.end()
    if result.ok:
        click.echo(f"{file}: {len(result.turns)} turns OK")
        return
    click.echo(f"{file}: {len(result.mismatches)} mismatch(es)")
    for line in result.mismatches:
        click.echo(f"  {line}")
    click.echo(result.diff())
    _hint(result.turns, url)
    sys.exit(1)


#: The commands ``skill/cli.py`` registers.
COMMANDS = (simulate_command, chat_command, replay_command)
