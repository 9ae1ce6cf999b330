"""Pronunciation fixes per locale, as data: ``speech/lexicon/<locale>.json``.

Each entry names a ``phrase`` and the ``word`` in it that a voice gets wrong there ("close" in
"close the laptop" is the verb, not the adjective). The offline voice gets a respelling
(``offline``: "cloze"), applied only to the text handed to espeak-ng; Alexa gets SSML around the
word (``alexa``: ``{"role": "amazon:VB"}`` for ``<w role=...>``, or ``{"ipa": "..."}`` for
``<phoneme alphabet="ipa" ph=...>``). Cards and transcripts never see either.

Everything here is pure apart from :func:`load_lexicon`, which reads (and caches) the files.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from speech.ssml import escape

#: Alexa's ``<w role>`` values (the SSML reference's part-of-speech roles).
ALEXA_ROLES = frozenset({"amazon:VB", "amazon:VBD", "amazon:NN", "amazon:SENSE_1"})

# Locales without a file of their own, and espeak-ng voices, use the nearest locale's fixes.
_FALLBACKS = {"en-au": "en-GB", "en-nz": "en-GB", "en-ie": "en-GB", "en-ca": "en-US"}
_VOICE_LOCALES = {"en-us": "en-US", "en-gb": "en-GB", "en": "en-GB", "en-in": "en-IN"}
_TAG = re.compile(r"(<[^>]*>)")


class LexiconError(ValueError):
    """A lexicon file that cannot be used."""


@dataclass(frozen=True)
class Entry:
    """One fix: ``word`` inside ``phrase`` is said as ``offline`` offline, and marked up for
    Alexa with ``alexa_role`` or ``alexa_ipa``."""

    phrase: str
    word: str
    offline: str | None = None
    alexa_role: str | None = None
    alexa_ipa: str | None = None

    @functools.cached_property
    def pattern(self) -> re.Pattern[str]:
        """The phrase, any case and spacing, with the word as group ``word``."""
        return re.compile(self._regex(named=True), re.IGNORECASE)

    def _regex(self, *, named: bool) -> str:
        words = self.phrase.split()
        index = [w.lower() for w in words].index(self.word.lower())
        parts = [re.escape(w) for w in words]
        if named:
            parts[index] = f"(?P<word>{parts[index]})"
        return r"\b" + r"\s+".join(parts) + r"\b"

    def alexa_markup(self, spoken: str) -> str:
        """The SSML Alexa gets for the word as written (``spoken`` is already escaped)."""
        if self.alexa_ipa:
            return f'<phoneme alphabet="ipa" ph="{escape(self.alexa_ipa)}">{spoken}</phoneme>'
        return f'<w role="{self.alexa_role}">{spoken}</w>'


#: Answers kept marked up per lexicon (each a few hundred bytes of SSML).
_MARKED_CACHE_SIZE = 512


@dataclass(frozen=True)
class Lexicon:
    """The fixes for one locale (possibly none)."""

    locale: str
    entries: tuple[Entry, ...] = ()

    @functools.cached_property
    def fingerprint(self) -> str:
        """Changes whenever an offline respelling changes (part of the audio cache key)."""
        material = json.dumps(
            [[e.phrase, e.word, e.offline] for e in self.entries if e.offline], ensure_ascii=False
        )
        return hashlib.sha256(material.encode("utf-8")).hexdigest()[:16]

    def for_offline(self, text: str) -> str:
        """Plain text as espeak-ng should get it: each entry's word respelled in its phrase."""
        for entry in self.entries:
            if entry.offline:
                text = _replace_word(entry, text, functools.partial(_same_case, entry.offline))
        return text

    def for_alexa(self, ssml_text: str) -> str:
        """SSML with each entry's word marked up for Alexa; tags and attributes are left alone.

        Idempotent: a marked word is no longer inside one text run with the rest of its phrase.
        Pure, so answers said again (most are: a few variants each) come from a small cache.
        """
        marked = self._alexa_marked.get(ssml_text)
        if marked is None:
            marked = self._mark_for_alexa(ssml_text)
            if len(self._alexa_marked) >= _MARKED_CACHE_SIZE:
                self._alexa_marked.clear()  # simpler than LRU, and refilled within a few turns
            self._alexa_marked[ssml_text] = marked
        return marked

    def _mark_for_alexa(self, ssml_text: str) -> str:
        if not self._alexa_entries or self._alexa_phrases.search(ssml_text) is None:
            return ssml_text  # the usual case: one search instead of one per entry and text run
        # Only the entries whose phrase occurs somewhere can occur in a text run.
        entries = [e for e in self._alexa_entries if e.pattern.search(ssml_text)]
        pieces = _TAG.split(ssml_text)
        for i in range(0, len(pieces), 2):  # even pieces are text between tags
            for entry in entries:
                pieces[i] = _replace_word(entry, pieces[i], entry.alexa_markup)
        return "".join(pieces)

    @functools.cached_property
    def _alexa_marked(self) -> dict[str, str]:
        return {}

    @functools.cached_property
    def _alexa_entries(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.alexa_role or e.alexa_ipa)

    @functools.cached_property
    def _alexa_phrases(self) -> re.Pattern[str]:
        """Any phrase with Alexa markup: no match in the whole SSML means none in its text runs."""
        alternatives = "|".join(f"(?:{e._regex(named=False)})" for e in self._alexa_entries)
        return re.compile(alternatives or "(?!)", re.IGNORECASE)


def _same_case(respelling: str, written: str) -> str:
    """The respelling, capitalised like the word it stands for."""
    return respelling[:1].upper() + respelling[1:] if written[:1].isupper() else respelling


def _replace_word(entry: Entry, text: str, replacement: Callable[[str], str]) -> str:
    """``text`` with the entry's word replaced (by ``replacement(word)``) wherever its phrase
    occurs."""

    def swap(match: re.Match[str]) -> str:
        start, end = match.span("word")
        whole = match.group(0)
        offset = match.start()
        return whole[: start - offset] + replacement(match.group("word")) + whole[end - offset :]

    return entry.pattern.sub(swap, text)


def parse_lexicon(data: object, where: str) -> Lexicon:
    """Check a lexicon file's content and build it; :class:`LexiconError` says what is wrong."""
    if not isinstance(data, Mapping) or not isinstance(data.get("locale"), str):
        raise LexiconError(f"{where}: expected an object with a 'locale'")
    raw_entries = data.get("entries", [])
    if not isinstance(raw_entries, list):
        raise LexiconError(f"{where}: 'entries' must be a list")
    return Lexicon(str(data["locale"]), tuple(_entries(raw_entries, where)))


def _entries(raw_entries: Iterable[object], where: str) -> Iterable[Entry]:
    for number, raw in enumerate(raw_entries):
        at = f"{where}: entry {number}"
        if not isinstance(raw, Mapping):
            raise LexiconError(f"{at}: expected an object")
        phrase, word, offline = raw.get("phrase"), raw.get("word"), raw.get("offline")
        alexa = raw.get("alexa", {})
        if not (isinstance(phrase, str) and isinstance(word, str) and isinstance(alexa, Mapping)):
            raise LexiconError(f"{at}: needs a 'phrase', a 'word' and optionally 'alexa' {{}}")
        if word.lower() not in (w.lower() for w in phrase.split()):
            raise LexiconError(f"{at}: {word!r} is not a word of {phrase!r}")
        if offline is not None and (not isinstance(offline, str) or not offline.strip()):
            raise LexiconError(f"{at}: 'offline' must be a non-empty respelling")
        role, ipa = alexa.get("role"), alexa.get("ipa")
        if role is not None and role not in ALEXA_ROLES:
            roles = ", ".join(sorted(ALEXA_ROLES))
            raise LexiconError(f"{at}: Alexa has no <w role={role!r}>; use one of {roles}")
        if ipa is not None and (not isinstance(ipa, str) or not ipa.strip()):
            raise LexiconError(f"{at}: 'ipa' must be a non-empty IPA string")
        if offline is None and role is None and ipa is None:
            raise LexiconError(f"{at}: fixes nothing (no 'offline' and no 'alexa')")
        yield Entry(phrase, word, offline, role, ipa)


def default_lexicon_dir() -> Path:
    """The shipped lexicon files."""
    return Path(__file__).with_name("lexicon")


def lexicon_locale(locale_or_voice: str, available: Iterable[str]) -> str | None:
    """Pure: which file serves a locale (``en-AU``) or an espeak-ng voice (``gmw/en-us``)."""
    by_lower = {name.lower(): name for name in available}
    wanted = locale_or_voice.strip().lower().replace("_", "-").rsplit("/", 1)[-1]
    for candidate in (wanted, _FALLBACKS.get(wanted, ""), _VOICE_LOCALES.get(wanted, "")):
        if candidate.lower() in by_lower:
            return by_lower[candidate.lower()]
    return None


@functools.lru_cache(maxsize=32)
def load_lexicon(locale_or_voice: str, lexicon_dir: Path | None = None) -> Lexicon:
    """The lexicon for a locale or voice; an empty one when no file serves it."""
    folder = lexicon_dir or default_lexicon_dir()
    available = [p.stem for p in folder.glob("*.json")]
    name = lexicon_locale(locale_or_voice, available)
    if name is None:
        return Lexicon(locale_or_voice)
    path = folder / f"{name}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LexiconError(f"{path}: {exc}") from exc
    return parse_lexicon(data, str(path))
