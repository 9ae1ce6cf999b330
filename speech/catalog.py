"""The spoken content of the skill, loaded from ``speech/content/<locale>.json``.

Every sentence the skill says lives in those files, so the owner can rewrite any of it (her own
letter, for example) without touching code. Files are validated at start-up: every locale must
have the same message keys, placeholders and strategy ids, so a missing translation is a start-up
error rather than a silent gap in a conversation.

A message is one template, plural forms (``{"one": ..., "other": ...}``) or a pool: a list of
variants of one line, so the skill can vary what it says (see ``speech.compose.pick_variant``).
Pools may differ in length between locales. ``answers`` lists, for each message that asks a
question, the replies a parent is likely to give; ``affirmations`` holds the daily affirmations.
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from speech import ssml

#: Message values are one template, plural forms chosen by a ``count`` parameter, or a pool: a
#: list of variants of one line (the skill picks one, never the same twice in a row).
PLURAL_FORMS = ("one", "other")
#: A daily affirmation must not come back within 30 days, so a locale needs more than 30.
MIN_AFFIRMATIONS = 31
REQUIRED_KEYS = (
    "locale",
    "parent_word",
    "offline_voice",
    "causes",
    "strategies",
    "first_steps",
    "letter",
    "mantra",
    "activities",
    "triggers",
    "affirmations",
    "answers",
    "messages",
)
STRATEGY_KINDS = ("strategy", "shift")


class ContentError(ValueError):
    """A content file is missing, unreadable or inconsistent with the others."""


@dataclass(frozen=True)
class Strategy:
    """One practical strategy or mental shift."""

    id: str
    kind: str
    title: str
    paragraphs: tuple[str, ...]
    try_now: str
    #: One or two sentences of why, said after ``try_now`` in the brief form.
    why: str


@dataclass(frozen=True)
class Letter:
    """The self-forgiveness letter, and its short version."""

    title: str
    greeting: str
    paragraphs: tuple[str, ...]
    closing: str
    signature: str
    short: tuple[str, ...]


@dataclass(frozen=True)
class Trigger:
    """A common source of guilt, and the strategies that help with it most."""

    id: str
    title: str
    leans_to: tuple[str, ...]


@dataclass(frozen=True)
class Topic:
    """A titled text: a cause of guilt or a first step. ``text`` is the one spoken line of the
    brief turn; ``detail`` the longer paragraph for "tell me more" and the card."""

    id: str
    title: str
    text: str
    detail: str


@dataclass(frozen=True, eq=False)
class Catalog:
    """All content for one locale, with rendering of message keys to SSML."""

    locale: str
    parent_word: str
    offline_voice: str
    also_for: tuple[str, ...]
    causes: tuple[Topic, ...]
    strategies: tuple[Strategy, ...]
    first_steps: tuple[Topic, ...]
    letter: Letter
    mantra: str
    activities: tuple[str, ...]
    triggers: tuple[Trigger, ...]
    affirmations: tuple[str, ...]
    #: Likely spoken answers to each message that asks a question, by message key.
    answers: Mapping[str, tuple[str, ...]]
    messages: Mapping[str, str | Mapping[str, str] | list[str]]

    def text(self, key: str, *, variant: int = 0, **params: object) -> str:
        """A message as plain text with its placeholders filled in (``variant``: which line of a
        pool; ignored for other messages)."""
        template = self._template(key, params, variant)
        return template.format_map({k: str(v) for k, v in params.items()})

    def say(self, key: str, *, variant: int = 0, **params: object) -> str:
        """A message as an SSML fragment; parameters are escaped, so slot values are safe."""
        template = self._template(key, params, variant)
        return ssml.escape(template).format_map({k: ssml.escape(str(v)) for k, v in params.items()})

    def pool(self, key: str) -> tuple[str, ...]:
        """The variants of a message: a pool's lines, or the one template of a plain message."""
        value = self.messages[key]
        if isinstance(value, list):
            return tuple(value)
        if isinstance(value, str):
            return (value,)
        return (value["other"],)

    def strategy(self, strategy_id: str) -> Strategy:
        """The strategy with this id (``KeyError`` if there is none)."""
        for item in self.strategies:
            if item.id == strategy_id:
                return item
        raise KeyError(strategy_id)

    def trigger(self, trigger_id: object) -> Trigger | None:
        """The guilt trigger with this id, or ``None``."""
        return next((t for t in self.triggers if t.id == trigger_id), None)

    @property
    def strategy_ids(self) -> tuple[str, ...]:
        """Strategy ids in content order."""
        return tuple(s.id for s in self.strategies)

    def _template(self, key: str, params: Mapping[str, object], variant: int = 0) -> str:
        value = self.messages[key]
        if isinstance(value, str):
            return value
        if isinstance(value, list):
            return value[variant % len(value)]
        count = params.get("count")
        return value["one"] if count == 1 else value["other"]


def _placeholders(template: str) -> frozenset[str]:
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


def _message_shape(value: object, where: str) -> tuple[str, frozenset[str]]:
    """('text'|'plural'|'pool', placeholders) of one message, validating it on the way."""
    if isinstance(value, str) and value.strip():
        return "text", _placeholders(value)
    if isinstance(value, list):
        lines = _texts(value, where)
        if len(set(lines)) != len(lines):
            raise ContentError(f"{where}: a pool must not hold the same line twice")
        shared = {_placeholders(line) for line in lines}
        if len(shared) != 1:
            raise ContentError(f"{where}: every line of a pool must use the same placeholders")
        return "pool", shared.pop()
    if isinstance(value, dict) and set(value) == set(PLURAL_FORMS):
        forms = [value[f] for f in PLURAL_FORMS]
        if all(isinstance(f, str) and f.strip() for f in forms):
            names = frozenset().union(*(_placeholders(f) for f in forms))
            return "plural", names | {"count"}
    raise ContentError(
        f"{where}: a message must be non-empty text, a list of lines "
        "or {'one': ..., 'other': ...}"
    )


def _text(data: Mapping[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ContentError(f"{where}: '{key}' must be non-empty text")
    return value


def _texts(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ContentError(f"{where}: must be a non-empty list of texts")
    if not all(isinstance(v, str) and v.strip() for v in value):
        raise ContentError(f"{where}: every item must be non-empty text")
    return tuple(value)


def _objects(data: Mapping[str, Any], key: str, where: str) -> list[Mapping[str, Any]]:
    value = data.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
        raise ContentError(f"{where}: '{key}' must be a non-empty list of objects")
    return value


def _topics(data: Mapping[str, Any], key: str, where: str) -> tuple[Topic, ...]:
    return tuple(
        Topic(
            id=_text(item, "id", f"{where} {key}[{i}]"),
            title=_text(item, "title", f"{where} {key}[{i}]"),
            text=_text(item, "text", f"{where} {key}[{i}]"),
            detail=_text(item, "detail", f"{where} {key}[{i}]"),
        )
        for i, item in enumerate(_objects(data, key, where))
    )


def _strategies(data: Mapping[str, Any], where: str) -> tuple[Strategy, ...]:
    result = []
    for i, item in enumerate(_objects(data, "strategies", where)):
        at = f"{where} strategies[{i}]"
        kind = _text(item, "kind", at)
        if kind not in STRATEGY_KINDS:
            raise ContentError(f"{at}: kind must be one of {', '.join(STRATEGY_KINDS)}")
        result.append(
            Strategy(
                id=_text(item, "id", at),
                kind=kind,
                title=_text(item, "title", at),
                paragraphs=_texts(item.get("paragraphs"), f"{at} paragraphs"),
                try_now=_text(item, "try_now", at),
                why=_text(item, "why", at),
            )
        )
    ids = [s.id for s in result]
    if len(set(ids)) != len(ids):
        raise ContentError(f"{where}: strategy ids must be unique")
    return tuple(result)


def _triggers(data: Mapping[str, Any], strategy_ids: set[str], where: str) -> tuple[Trigger, ...]:
    result = []
    for i, item in enumerate(_objects(data, "triggers", where)):
        at = f"{where} triggers[{i}]"
        leans_to = _texts(item.get("leans_to"), f"{at} leans_to")
        unknown = set(leans_to) - strategy_ids
        if unknown:
            raise ContentError(f"{at}: leans_to names unknown strategies: {', '.join(unknown)}")
        result.append(Trigger(_text(item, "id", at), _text(item, "title", at), leans_to))
    return tuple(result)


def _affirmations(value: object, where: str) -> tuple[str, ...]:
    lines = _texts(value, f"{where} affirmations")
    if len(lines) < MIN_AFFIRMATIONS or len(set(lines)) != len(lines):
        raise ContentError(f"{where}: needs at least {MIN_AFFIRMATIONS} different affirmations")
    return lines


def _answers(
    value: object, messages: Mapping[str, object], where: str
) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise ContentError(f"{where}: 'answers' must be an object of message key to answers")
    unknown = sorted(set(value) - set(messages))
    if unknown:
        raise ContentError(f"{where}: answers for unknown messages: {', '.join(unknown)}")
    return {key: _texts(items, f"{where} answers.{key}") for key, items in value.items()}


def parse_catalog(data: object, where: str) -> Catalog:
    """Validate one content document and build its catalog."""
    if not isinstance(data, dict):
        raise ContentError(f"{where}: the file must hold a JSON object")
    missing = [k for k in REQUIRED_KEYS if k not in data]
    if missing:
        raise ContentError(f"{where}: missing {', '.join(missing)}")
    letter = data["letter"]
    if not isinstance(letter, dict):
        raise ContentError(f"{where}: 'letter' must be an object")
    messages = data["messages"]
    if not isinstance(messages, dict) or not messages:
        raise ContentError(f"{where}: 'messages' must be a non-empty object")
    for key, value in messages.items():
        _message_shape(value, f"{where} messages.{key}")
    also_for = data.get("also_for", [])
    strategies = _strategies(data, where)
    return Catalog(
        locale=_text(data, "locale", where),
        parent_word=_text(data, "parent_word", where),
        offline_voice=_text(data, "offline_voice", where),
        also_for=_texts(also_for, f"{where} also_for") if also_for else (),
        causes=_topics(data, "causes", where),
        strategies=strategies,
        first_steps=_topics(data, "first_steps", where),
        letter=Letter(
            title=_text(letter, "title", f"{where} letter"),
            greeting=_text(letter, "greeting", f"{where} letter"),
            paragraphs=_texts(letter.get("paragraphs"), f"{where} letter paragraphs"),
            closing=_text(letter, "closing", f"{where} letter"),
            signature=_text(letter, "signature", f"{where} letter"),
            short=_texts(letter.get("short"), f"{where} letter short"),
        ),
        mantra=_text(data, "mantra", where),
        activities=_texts(data["activities"], f"{where} activities"),
        triggers=_triggers(data, {s.id for s in strategies}, where),
        affirmations=_affirmations(data["affirmations"], where),
        answers=_answers(data["answers"], messages, where),
        messages=messages,
    )


def _check_consistent(reference: Catalog, other: Catalog) -> None:
    """Every locale must offer the same messages, placeholders and strategies."""
    where = f"{other.locale} (compared with {reference.locale})"
    if set(reference.messages) != set(other.messages):
        gap = sorted(set(reference.messages) ^ set(other.messages))
        raise ContentError(f"{where}: message keys differ: {', '.join(gap)}")
    for key in reference.messages:
        ref = _message_shape(reference.messages[key], key)
        got = _message_shape(other.messages[key], key)
        if ref != got:
            raise ContentError(f"{where}: message '{key}' differs in form or placeholders")
    if set(reference.answers) != set(other.answers):
        gap = sorted(set(reference.answers) ^ set(other.answers))
        raise ContentError(
            f"{where}: answers are declared for different messages: {', '.join(gap)}"
        )
    if [(s.id, s.kind) for s in reference.strategies] != [(s.id, s.kind) for s in other.strategies]:
        raise ContentError(f"{where}: strategy ids or kinds differ")
    if [(t.id, t.leans_to) for t in reference.triggers] != [
        (t.id, t.leans_to) for t in other.triggers
    ]:
        raise ContentError(f"{where}: guilt trigger ids or their strategies differ")


class Catalogs:
    """Catalogs by locale, with a fallback so every Alexa locale gets an answer."""

    def __init__(self, catalogs: Mapping[str, Catalog], default_locale: str) -> None:
        if default_locale not in catalogs:
            raise ContentError(f"no content for the default locale {default_locale}")
        self._by_locale: dict[str, Catalog] = {}
        for catalog in catalogs.values():
            for alias in catalog.also_for:
                self._by_locale.setdefault(alias.lower(), catalog)
        for locale, catalog in catalogs.items():
            self._by_locale[locale.lower()] = catalog
        self.default = catalogs[default_locale]
        self.locales = tuple(sorted(catalogs))

    def for_locale(self, locale: object) -> Catalog:
        """The catalog for a locale such as ``en-GB``; unknown or missing → the default."""
        if not isinstance(locale, str):
            return self.default
        return self._by_locale.get(locale.lower(), self.default)

    def __iter__(self) -> Iterator[Catalog]:
        """Each distinct catalog once."""
        return iter({id(c): c for c in self._by_locale.values()}.values())


def default_content_dir() -> Path:
    """The content folder shipped with the package."""
    return Path(str(resources.files("speech") / "content"))


def load_catalogs(content_dir: Path | None = None, default_locale: str = "en-US") -> Catalogs:
    """Load and cross-check every ``<locale>.json`` in the content folder."""
    folder = content_dir or default_content_dir()
    catalogs: dict[str, Catalog] = {}
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ContentError(f"{path.name}: cannot be read as JSON ({exc})") from None
        catalog = parse_catalog(data, path.name)
        if catalog.locale != path.stem:
            raise ContentError(f"{path.name}: says locale {catalog.locale!r}, expected {path.stem}")
        catalogs[catalog.locale] = catalog
    if not catalogs:
        raise ContentError(f"no content files in {folder}")
    reference = catalogs.get(default_locale) or next(iter(catalogs.values()))
    for catalog in catalogs.values():
        _check_consistent(reference, catalog)
    return Catalogs(catalogs, default_locale)
