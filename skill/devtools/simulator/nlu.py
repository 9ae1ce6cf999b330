"""The matcher's second layer: fuzzy, slot-aware intent ranking for phrasings no sample has.

Exact sample matching (:mod:`skill.devtools.simulator.matcher`) answers first. When it finds nothing,
:class:`FuzzyRanker` tags the slot values it can recognise (custom slot values and synonyms,
spoken durations), replaces them by their slot type, and compares what is left with every
sample *template* of the model (samples with each ``{slot}`` replaced by its type) using
rapidfuzz's token scorers. An intent's score is that of its best template; below a confidence
threshold the answer is ``AMAZON.FallbackIntent``, with the runner-ups kept for "did you mean".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from skill.devtools.simulator.durations import spoken_duration_to_iso
from skill.devtools.simulator.model import InteractionModel
from skill.devtools.simulator.text import _key

#: Below this score (0–1) the best guess is not trusted and the answer is Fallback.
DEFAULT_THRESHOLD = 0.72
#: Scores at or above this are shown without "did you mean".
CONFIDENT = 0.85

# Words that carry politeness or hesitation, not meaning; dropped before comparing.
_CARRIERS = frozenset(
    [
        "alexa",
        "please",
        "kindly",
        "um",
        "uh",
        "er",
        "hey",
        "hi",
        "oh",
        "well",
        "so",
        "just",
        "now",
        "right",
        "actually",
        "really",
        "okay",
        "ok",
        "maybe",
    ]
)
# Requests that open many utterances ("can you ...", "i'd like to ...").
_OPENERS = re.compile(
    r"^(?:(?:can|could|would|will) you (?:please )?|i(?:'d| would) like (?:to )?|"
    r"i want (?:to )?|i need (?:to )?|let me |do you have |is there )"
)
_SLOT = re.compile(r"\{(\w+)\}")
_DURATION_WORD = re.compile(
    r"^(?:\d+(?:\.\d+)?|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|"
    r"sixty|ninety|half|quarter|quarters|couple|and|of|hour|hours|minute|minutes|min|mins|"
    r"second|seconds|hr|hrs)$"
)


@dataclass(frozen=True)
class Candidate:
    """One ranked intent: its score (0–1), the template that won, and the slots it found."""

    intent: str
    score: float
    template: str
    #: slot name → the spoken words that fill it
    slots: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class _Template:
    intent: str
    sample: str
    #: the sample with every ``{slot}`` replaced by its type's marker
    text: str
    #: slot name → marker, in sample order
    slots: tuple[tuple[str, str], ...]


def _marker(slot_type: str) -> str:
    """A single word standing for any value of ``slot_type`` ("amazonduration", "strategytopic")."""
    return "x" + re.sub(r"[^a-z]", "", slot_type.lower()) + "x"


def strip_carriers(words: list[str]) -> list[str]:
    """Drop politeness and hesitation words, but never all of the words."""
    kept = [w for w in words if w not in _CARRIERS]
    return kept or words


class FuzzyRanker:
    """Ranks intents for free text against one interaction model's sample templates."""

    def __init__(
        self,
        model: InteractionModel,
        extra_phrases: Iterable[tuple[str, str]] = (),
        threshold: float = DEFAULT_THRESHOLD,
    ) -> None:
        self.model = model
        self.threshold = threshold
        templates: list[_Template] = []
        for intent in model.intents:
            slot_types = {s.name: s.type for s in intent.slots}
            for sample in intent.samples:
                names = _SLOT.findall(sample)
                markers = tuple(
                    (n, _marker(slot_types.get(n, "AMAZON.SearchQuery"))) for n in names
                )
                text = sample
                for name, marker in markers:
                    text = text.replace("{" + name + "}", marker)
                templates.append(_Template(intent.name, sample, self._prepare(text), markers))
        for phrase, intent_name in extra_phrases:
            templates.append(_Template(intent_name, phrase, self._prepare(phrase), ()))
        self._templates = templates
        self._texts = [t.text for t in templates]
        # Longest values first, so "comparing myself to other moms" beats "comparing myself".
        lexicon: list[tuple[list[str], str]] = []
        for type_name, slot_type in model.types.items():
            for value in slot_type.values:
                for word in {value.name, *value.synonyms}:
                    lexicon.append((_key(word).split(), type_name))
        lexicon.sort(key=lambda item: -len(item[0]))
        self._lexicon = lexicon
        self._duration_used = any(
            s.type == "AMAZON.DURATION" for i in model.intents for s in i.slots
        )

    # -- public --------------------------------------------------------------------------

    def rank(self, normal: str, limit: int = 3) -> list[Candidate]:
        """The best ``limit`` intents for the normalised text ``normal``, best first."""
        words = normal.replace("'", "").split()
        tagged, spans = self._tag(words)
        query = self._prepare(" ".join(tagged))
        if not query:
            return []
        # Both scorers run over every template in C; combining them here is cheap.
        by_sort = process.extract(query, self._texts, scorer=fuzz.token_sort_ratio, limit=None)
        by_set = dict(
            (i, sc)
            for _t, sc, i in process.extract(
                query, self._texts, scorer=fuzz.token_set_ratio, limit=None
            )
        )
        best: dict[str, tuple[float, _Template]] = {}
        for _text, sort_score, index in by_sort:
            template = self._templates[index]
            score = 0.5 * sort_score + 0.5 * by_set[index]
            # A template that asks for a slot the text has no recognised value for fits less.
            missing = sum(1 for _n, m in template.slots if m not in spans)
            score -= 6 * missing
            if template.intent not in best or best[template.intent][0] < score:
                best[template.intent] = (score, template)
        ranked = sorted(best.items(), key=lambda item: -item[1][0])[:limit]
        return [
            Candidate(
                intent,
                round(max(score, 0.0) / 100, 3),
                template.sample,
                self._slots(intent, template, words, spans),
            )
            for intent, (score, template) in ranked
        ]

    def _slots(
        self, intent: str, template: _Template, words: list[str], spans: dict[str, str]
    ) -> tuple[tuple[str, str], ...]:
        """Slot words for ``intent``: recognised values, else the words where a slot sits."""
        found = {name: spans[m] for name, m in template.slots if m in spans}
        declared = self.model.intent(intent)
        for slot in declared.slots if declared else ():
            if slot.name in found:
                continue
            marker = _marker(slot.type)
            if marker in spans:
                found[slot.name] = spans[marker]
                continue
            if slot.type == "AMAZON.DURATION":
                continue  # a duration is recognised or absent, never guessed from context
            spoken = self._between_anchors(intent, slot.name, words)
            if spoken:
                found[slot.name] = spoken
        return tuple(found.items())

    def _between_anchors(self, intent: str, slot: str, words: list[str]) -> str | None:
        """The words after the literal word that precedes ``{slot}`` in one of its samples."""
        for template in self._templates:
            if template.intent != intent or slot not in dict(template.slots):
                continue
            before, _, after = template.sample.partition("{" + slot + "}")
            lead = _key(before).split()
            tail = _key(after).split()
            if not lead or tail:
                continue  # only trailing slots ("... about {trigger}") are cut out this way
            anchor = lead[-1]
            if anchor in words:
                position = len(words) - 1 - words[::-1].index(anchor)
                rest = words[position + 1 :]
                if rest and len(rest) <= 8:
                    return " ".join(rest)
        return None

    # -- internals -----------------------------------------------------------------------

    @staticmethod
    def _prepare(text: str) -> str:
        words = _key(text).split()
        text = " ".join(strip_carriers(words))
        return _OPENERS.sub("", text)

    def _tag(self, words: list[str]) -> tuple[list[str], dict[str, str]]:
        """Replace recognised slot values by their type marker; remember the spoken words."""
        out: list[str] = []
        spans: dict[str, str] = {}
        i = 0
        while i < len(words):
            if self._duration_used:
                length = self._duration_at(words, i)
                if length:
                    marker = _marker("AMAZON.DURATION")
                    spans.setdefault(marker, " ".join(words[i : i + length]))
                    out.append(marker)
                    i += length
                    continue
            for value_words, type_name in self._lexicon:
                n = len(value_words)
                if n and words[i : i + n] == value_words:
                    marker = _marker(type_name)
                    spans.setdefault(marker, " ".join(words[i : i + n]))
                    out.append(marker)
                    i += n
                    break
            else:
                out.append(words[i])
                i += 1
        return out, spans

    @staticmethod
    def _duration_at(words: list[str], start: int) -> int:
        """How many words from ``start`` make the longest spoken duration (0 for none)."""
        end = start
        while end < len(words) and _DURATION_WORD.match(words[end]):
            end += 1
        for stop in range(end, start, -1):
            if spoken_duration_to_iso(" ".join(words[start:stop])):
                return stop - start
        return 0
