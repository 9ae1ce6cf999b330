"""Utterance matching: typed or transcribed text → an intent and its slots, as Alexa would."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TypedDict

from skill.devtools.simulator.constants import FALLBACK_INTENT, LAUNCH_REQUEST
from skill.devtools.simulator.durations import spoken_duration_to_iso
from skill.devtools.simulator.model import IntentDef, InteractionModel, TypeValue
from skill.devtools.simulator.nlu import CONFIDENT, DEFAULT_THRESHOLD, FuzzyRanker, _trim
from skill.devtools.simulator.text import _key, normalize
from skill.devtools.simulator.times import spoken_time_to_iso


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
    #: How sure the matcher is (0–1): 1.0 for an exact sample, the fuzzy score otherwise.
    score: float = 1.0
    #: Runner-up intents with their scores, best first ("did you mean …" when unsure).
    alternatives: tuple[tuple[str, float], ...] = ()
    #: Which layer answered: ``exact``, ``fuzzy`` or ``none`` (fallback).
    layer: str = "exact"

    @property
    def unsure(self) -> bool:
        """True when the answer is a guess worth confirming: low score or Fallback."""
        return self.layer != "exact" and bool(self.alternatives) and self.score < CONFIDENT


#: Local phrases for the built-in intents, so people can type them.
BUILTIN_PHRASES: dict[str, tuple[str, ...]] = {
    "AMAZON.HelpIntent": (
        "help", "help me", "what can i say", "what can you do", "i need help", "how does it work",
        "how do i use it", "what do i do", "what are the options", "what can i ask",
        "i don't understand", "i'm stuck", "tell me what you can do", "instructions",
        "how does this skill work",
    ),
    "AMAZON.StopIntent": (
        "stop", "exit", "goodbye", "bye", "shut up", "be quiet", "that's all", "quit", "i'm done",
        "that's enough", "stop it", "bye bye", "good night", "see you", "that's it", "leave",
        "i have to go", "talk later", "enough", "that is all", "that will be all",
    ),
    "AMAZON.CancelIntent": (
        "cancel", "never mind", "nevermind", "forget it", "don't bother", "scratch that", "abort",
    ),
    "AMAZON.RepeatIntent": (
        "repeat", "repeat that", "say that again", "say it again", "again", "what did you say",
        "pardon", "come again", "what was that again", "i didn't hear you", "sorry what", "huh",
    ),
    "AMAZON.NextIntent": ("next", "skip", "skip it", "skip this one", "move on"),
    "AMAZON.YesIntent": (
        "yes", "yeah", "yep", "yes please", "ok", "okay", "of course", "please do", "go ahead",
        "yup", "yes i do", "i do", "ok sure", "certainly", "alright then", "sounds great", "do it",
        "that would be nice",
    ),
    "AMAZON.NoIntent": (
        "no", "nope", "no thanks", "no thank you", "nah", "not now", "no way", "i'm fine",
        "i'm okay", "no i don't", "i'm good", "not this time", "later", "i'll pass", "pass",
    ),
    "AMAZON.StartOverIntent": (
        "start over", "start again", "restart", "begin again", "from the top",
        "start from scratch", "start all over",
    ),
    "AMAZON.NavigateHomeIntent": ("go home", "home", "main menu", "go back home", "menu"),
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
    #: A slot elicitation answer ("{trigger}"): it counts only when every slot resolves.
    elicitation: bool = False


def _word_regex(words: str) -> str:
    """A regex for literal sample text: apostrophes optional, single spaces between words."""
    parts = []
    for word in normalize(words).split():
        parts.append("".join("'?" if ch == "'" else re.escape(ch) for ch in word))
    return " ".join(parts)


def _compile_sample(intent: IntentDef, sample: str, elicitation: bool = False) -> _Pattern:
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
    return _Pattern(
        intent, sample, re.compile(f"^{regex}$"), tuple(names), literal_words, elicitation
    )


class UtteranceMatcher:
    """Maps typed or transcribed text to an intent and slots using one interaction model."""

    def __init__(self, model: InteractionModel, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.model = model
        self.threshold = threshold
        self._patterns = [
            _compile_sample(intent, sample) for intent in model.intents for sample in intent.samples
        ]
        # Alexa accepts a slot's elicitation answers ("{trigger}") while it asks for that slot;
        # with no dialog state here they count only when the whole answer is a known value.
        self._patterns += [
            _compile_sample(intent, sample, elicitation=True)
            for intent in model.intents
            for slot in intent.slots
            for sample in slot.samples
        ]
        # Patterns by their first literal word, so a match tries a few dozen, not all of them;
        # a pattern that starts with a slot is tried every time. Order (the tie-break) is kept.
        self._by_first: dict[str, list[tuple[int, _Pattern]]] = {}
        self._slot_first: list[tuple[int, _Pattern]] = []
        for index, pattern in enumerate(self._patterns):
            first = pattern.sample.split()[0]
            if _SLOT.fullmatch(first):
                self._slot_first.append((index, pattern))
            else:
                self._by_first.setdefault(_key(first), []).append((index, pattern))
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
        self._ranker = FuzzyRanker(
            model,
            ((p, i) for p, i in self._phrases.items()),
            threshold,
        )
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
            if inner.layer != "exact" and first in _ONE_SHOT_JOINERS and remainder:
                # "ask … for help": the words after the joiner may be the request itself.
                without = self._match_inner(remainder)
                if (
                    inner.intent == FALLBACK_INTENT
                    or without.layer == "exact"
                    or (without.intent != FALLBACK_INTENT and without.score > inner.score)
                ):
                    inner = without
            return replace(inner, invoked=True)
        return self._match_inner(normal)

    def rank(self, text: str, limit: int = 3) -> list[tuple[str, float]]:
        """The fuzzy layer's best intents for ``text`` with their scores, best first."""
        normal = normalize(text)
        return [(c.intent, c.score) for c in self._ranker.rank(normal, limit)]

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
        if found is None:
            return self._match_fuzzy(normal)
        if any(slot["value"] == "?" for slot in found.slots.values()):
            # A sample took words it could not read as a duration ("begin a quarter of an hour
            # of kid time" against "{duration} of kid time"): a fuzzy reading may do better.
            guess = self._match_fuzzy(normal)
            heard = [slot for slot in guess.slots.values() if slot["value"] != "?"]
            understood = guess.intent != FALLBACK_INTENT and len(heard) == len(guess.slots)
            if understood and (guess.intent != found.intent or heard):
                return guess
        return found

    def _match_fuzzy(self, normal: str) -> Match:
        """The second layer: the best fuzzy candidate above the threshold, else Fallback."""
        ranked = self._ranker.rank(normal, limit=4)
        if not ranked:
            return Match(FALLBACK_INTENT, layer="none", score=0.0)
        best = ranked[0]
        # One word shares too little to guess from; it must nearly spell a sample.
        needed = max(self.threshold, 0.85) if len(normal.split()) == 1 else self.threshold
        if best.score < needed or best.intent == FALLBACK_INTENT:
            alternatives = tuple((c.intent, c.score) for c in ranked[:3])
            return Match(FALLBACK_INTENT, score=best.score, alternatives=alternatives, layer="none")
        declared = self.model.intent(best.intent)
        slots: dict[str, SlotValue] = {}
        for name, spoken in best.slots:
            slot = declared.slot(name) if declared else None
            if slot is not None:
                slots[name] = self.slot_value(slot.type, spoken)
        alternatives = tuple((c.intent, c.score) for c in ranked[1:4])
        return Match(
            best.intent,
            slots,
            best.template,
            score=best.score,
            alternatives=alternatives,
            layer="fuzzy",
        )

    def _match_exact(self, normal: str) -> Match | None:
        key = normal.replace("'", "")
        best: tuple[tuple[int, int, int], Match] | None = None
        first = key.split(" ", 1)[0]
        candidates = sorted(self._by_first.get(first, []) + self._slot_first, key=lambda c: c[0])
        for index, pattern in candidates:
            m = pattern.regex.match(normal)
            if not m:
                continue
            slots: dict[str, SlotValue] = {}
            understood = 1
            for name in pattern.slot_names:
                slot = pattern.intent.slot(name)
                slot_type = slot.type if slot else "AMAZON.SearchQuery"
                value = self.slot_value(slot_type, m.group(name).strip())
                trimmed = " ".join(_trim(m.group(name).split()))
                if trimmed and trimmed != value["spoken"] and not value["resolved_id"]:
                    # "call me maria please": politeness is not part of the value.
                    shorter = self.slot_value(slot_type, trimmed)
                    if slot_type not in self.model.types or shorter["resolved_id"]:
                        value = shorter
                if value["value"] == "?" and pattern.sample.startswith("{"):
                    # "{duration} with my kids" took "i want some focused time": no duration
                    # was said, so this sample does not apply.
                    understood = -1
                    break
                unresolved = slot_type in self.model.types or value["value"] == "?"
                if value["resolved_id"] is None and unresolved:
                    understood = 0
                slots[name] = value
            if understood < 0 or (pattern.elicitation and not understood):
                continue
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
        if slot_type == "AMAZON.TIME":
            return SlotValue(
                value=spoken_time_to_iso(spoken) or "?",
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
