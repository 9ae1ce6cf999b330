"""The matcher's second layer: fuzzy, slot-aware intent ranking for phrasings no sample has.

Exact sample matching (:mod:`skill.devtools.simulator.matcher`) answers first. When it finds
nothing, :class:`FuzzyRanker` tags the slot values it can recognise (custom slot values, synonyms,
spoken durations), replaces them by their slot type, and compares what is left with every
sample *template* of the model (samples with each ``{slot}`` replaced by its type) using
rapidfuzz's token scorers. An intent's score is that of its best template; below a confidence
threshold the answer is ``AMAZON.FallbackIntent``, with the runner-ups kept for "did you mean".
"""

from __future__ import annotations

import math
import re
import zlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from skill.devtools.simulator.durations import spoken_duration_to_iso
from skill.devtools.simulator.model import InteractionModel
from skill.devtools.simulator.text import _key

#: Below this score (0–1) the best guess is not trusted and the answer is Fallback.
DEFAULT_THRESHOLD = 0.6
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
    """A short made-up word standing for any value of ``slot_type`` ("xkfx").

    Short, so that sharing a slot adds about as much to a character-level likeness as sharing
    a short word would, not as much as a long one ("xstrategytopicx" outweighed the rest).
    """
    code = zlib.crc32(slot_type.encode("utf-8"))
    return "x" + chr(97 + code % 26) + chr(97 + (code // 26) % 26) + "x"


def strip_carriers(words: list[str]) -> list[str]:
    """Drop politeness and hesitation words, but never all of the words."""
    kept = [w for w in words if w not in _CARRIERS]
    return kept or words


# Short function words: unknown ones say nothing about the request being out of domain.
_FUNCTION_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "i",
        "im",
        "me",
        "my",
        "mine",
        "you",
        "your",
        "it",
        "its",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "am",
        "to",
        "of",
        "for",
        "in",
        "on",
        "at",
        "with",
        "and",
        "or",
        "but",
        "that",
        "this",
        "these",
        "those",
        "some",
        "any",
        "all",
        "do",
        "does",
        "did",
        "can",
        "could",
        "would",
        "will",
        "shall",
        "should",
        "what",
        "whats",
        "how",
        "why",
        "when",
        "where",
        "who",
        "which",
        "there",
        "here",
        "have",
        "has",
        "had",
        "get",
        "got",
        "let",
        "lets",
        "us",
        "we",
        "our",
        "they",
        "them",
        "their",
        "he",
        "she",
        "her",
        "him",
        "his",
        "not",
        "no",
        "dont",
        "cant",
        "wont",
    ]
)
# Words that say when, not what: never a slot value on their own.
_TIME_WORDS = frozenset(
    ["today", "tonight", "now", "week", "morning", "afternoon", "evening", "anymore", "again"]
)
#: In this many samples of an intent, a word counts fully as that intent's word.
_REGULAR_USE = 3
#: How many templates per scorer are looked at closely.
_SHORTLIST = 24
#: How much the word evidence counts against the template likeness (0–1).
WORD_WEIGHT = 0.5


class FuzzyRanker:
    """Ranks intents for free text against one interaction model's sample templates.

    Two signals, each 0–100: how closely the text resembles the intent's best template
    (rapidfuzz token-sort and token-set ratios, so word order and extra words cost little),
    and how much of the text's weight (IDF over intents) the intent's own words explain.
    Words the model never uses weigh the most, so out-of-domain requests score low.
    """

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
        # Templates grouped by the slot types they use: each group is compared with the text
        # tagged for exactly those types, so "kid time" stays words for "start kid time" and
        # becomes a topic only for "tell me about {topic}".
        groups: dict[frozenset[str], list[int]] = defaultdict(list)
        for index, template in enumerate(templates):
            groups[frozenset(m for _n, m in template.slots)].append(index)
        self._groups = [
            (markers, indexes, [templates[i].text for i in indexes])
            for markers, indexes in groups.items()
        ]
        # Token-sorted once here, so the token-sort shortlist is a plain (fast) ratio.
        self._sorted = [[_sorted_words(t) for t in texts] for _m, _i, texts in self._groups]
        # Per group: word → positions of the templates that use it.
        self._word_index: list[dict[str, list[int]]] = []
        for _m, _i, texts in self._groups:
            where: dict[str, list[int]] = defaultdict(list)
            for position, text in enumerate(texts):
                for word in set(text.split()):
                    where[word].append(position)
            self._word_index.append(dict(where))
        # Longest values first, so "comparing myself to other moms" beats "comparing myself".
        lexicon: list[tuple[list[str], str]] = []
        for type_name, slot_type in model.types.items():
            for value in slot_type.values:
                for word in {value.name, *value.synonyms}:
                    lexicon.append((_key(word).split(), _marker(type_name)))
        lexicon.sort(key=lambda item: -len(item[0]))
        self._lexicon: dict[str, list[tuple[list[str], str]]] = defaultdict(list)
        for value_words, marker in lexicon:
            if value_words:
                self._lexicon[value_words[0]].append((value_words, marker))
        self._duration = _marker("AMAZON.DURATION")
        # Slots that take any words (a first name): unknown words may fill them.
        self._open_markers = {
            _marker(s.type)
            for i in model.intents
            for s in i.slots
            if s.type.startswith("AMAZON.") and s.type != "AMAZON.DURATION"
        }
        # Word evidence: each intent's vocabulary, and each word's rarity across intents.
        vocab: dict[str, set[str]] = defaultdict(set)
        uses: dict[tuple[str, str], int] = defaultdict(int)
        for template in templates:
            stems = {_stem(w) for w in template.text.split()}
            vocab[template.intent].update(stems)
            for word in stems:
                uses[(word, template.intent)] += 1
        # word → {intent: strength}: a word in one stray sample of an intent ("think" in
        # "i don't think so") is weaker evidence than one its samples keep using ("letter").
        self._strength: dict[str, dict[str, float]] = defaultdict(dict)
        for (word, intent_name), n in uses.items():
            self._strength[word][intent_name] = 0.5 + 0.5 * min(1.0, n / _REGULAR_USE)
        count = max(len(vocab), 2)
        df: dict[str, int] = defaultdict(int)
        for words in vocab.values():
            for word in words:
                df[word] += 1
        self._idf = {w: math.log(count / n) + 0.1 for w, n in df.items()}
        # The two words right before an open slot in a sample ("call me {name}" → "call me").
        self._open_anchors: dict[str, set[tuple[str, ...]]] = defaultdict(set)
        for template in templates:
            for name, marker in template.slots:
                if marker in self._open_markers:
                    before = _key(template.sample.partition("{" + name + "}")[0]).split()
                    if before:
                        self._open_anchors[marker].add(tuple(before[-2:]))
        self._known = set(df) | _FUNCTION_WORDS | _CARRIERS
        self._markers = {m for t in templates for _n, m in t.slots}
        self._unknown_idf = math.log(count) + 0.1

    # -- public --------------------------------------------------------------------------

    def rank(self, normal: str, limit: int = 3) -> list[Candidate]:
        """The best ``limit`` intents for the normalised text ``normal``, best first."""
        words = normal.replace("'", "").split()
        if not self._prepare(" ".join(words)):
            return []
        all_markers = {m for markers, _i, _t in self._groups for m in markers}
        _tagged_all, spans = self._tag(words, all_markers)
        best: dict[str, tuple[float, _Template]] = {}
        for (markers, indexes, texts), sorted_texts, group_index in zip(
            self._groups, self._sorted, self._word_index, strict=True
        ):
            tagged, _spans = self._tag(words, markers) if markers else (words, {})
            query = self._prepare(" ".join(tagged))
            if not query:
                continue
            # One word shares too little for word evidence: it must nearly spell a template.
            single = len(query.split()) == 1
            evidence = {} if single else self._evidence({_stem(w) for w in query.split()})
            # A shortlist: the closest by token-sorted ratio (in C, over the whole group), plus
            # the templates that share the text's rarest words (the token-set scorer's strength,
            # without running it over every template). Both scores then only for those.
            by_sort = process.extract(
                _sorted_words(query),
                sorted_texts,
                scorer=fuzz.ratio,
                processor=None,
                limit=_SHORTLIST,
                score_cutoff=30,
            )
            shortlist = {position for _t, _sc, position in by_sort}
            shortlist |= self._sharing_rare_words(group_index, query.split())
            missing = sum(1 for m in markers if m not in tagged)
            for position in shortlist:
                template = self._templates[indexes[position]]
                text = texts[position]
                likeness = 0.5 * fuzz.token_sort_ratio(query, text) + 0.5 * fuzz.token_set_ratio(
                    query, text
                )
                # A template that asks for a slot the text has no value for fits less.
                likeness -= 6 * missing
                if single:
                    score = fuzz.ratio(query, text)
                else:
                    score = (1 - WORD_WEIGHT) * likeness + WORD_WEIGHT * evidence.get(
                        template.intent, 0.0
                    )
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

    def _sharing_rare_words(self, index: dict[str, list[int]], words: list[str]) -> set[int]:
        """Templates that use the rarest of ``words`` (by IDF), about two shortlists' worth."""
        known = [w for w in set(words) if w in index and w not in _FUNCTION_WORDS]
        known.sort(key=lambda w: (-self._idf.get(_stem(w), 0.0), len(index[w])))
        found: set[int] = set()
        for word in known:
            if len(found) >= 2 * _SHORTLIST:
                break
            found.update(index[word][: 2 * _SHORTLIST])
        return found

    def _evidence(self, query_words: set[str]) -> dict[str, float]:
        """Per intent, the share (0–100) of the text's IDF weight its vocabulary explains."""
        weights = {}
        for word in query_words:
            if word in self._idf:
                # A slot marker stands for its value's words, which say nothing about the
                # intent by themselves ("kid time" is a topic, and also kid time).
                weights[word] = self._idf[word] * (0.5 if word in self._markers else 1.0)
            elif word not in _FUNCTION_WORDS and word not in _CARRIERS:
                weights[word] = self._unknown_idf
        total = sum(weights.values())
        if not total:
            return {}
        explained: dict[str, float] = defaultdict(float)
        for word, weight in weights.items():
            for intent, strength in self._strength.get(word, {}).items():
                explained[intent] += weight * strength
        return {intent: 100 * value / total for intent, value in explained.items()}

    def _slots(
        self, intent: str, template: _Template, words: list[str], spans: dict[str, str]
    ) -> tuple[tuple[str, str], ...]:
        """Slot words for ``intent``: recognised values, else the words where a slot sits."""
        found: dict[str, str] = {}
        in_template = dict(template.slots)
        declared = self.model.intent(intent)
        for slot in declared.slots if declared else ():
            marker = _marker(slot.type)
            if marker in spans:
                spoken = spans[marker]
                if slot.name in in_template and template.sample.endswith("{" + slot.name + "}"):
                    literal = set(_key(_SLOT.sub(" ", template.sample)).split())
                    spoken = _to_the_end(words, spoken, slot.type in self.model.types, literal)
                found[slot.name] = spoken
                continue
            if slot.type == "AMAZON.DURATION" or slot.name not in in_template:
                # A duration is recognised or absent; other words fill only the slot the
                # winning sample has, never one guessed from an unrelated sample.
                continue
            between = self._between_anchors(intent, slot.name, words)
            if between:
                found[slot.name] = between
        return tuple(found.items())

    def _between_anchors(self, intent: str, slot: str, words: list[str]) -> str | None:
        """The words after the literal word that precedes ``{slot}`` in one of its samples."""
        for template in self._templates:
            if template.intent != intent or slot not in dict(template.slots):
                continue
            before, _, after = template.sample.partition("{" + slot + "}")
            lead = _key(before).split()
            if not lead or _key(after).split():
                continue  # only trailing slots ("... about {trigger}") are cut out this way
            anchor = lead[-1]
            if anchor in words:
                position = len(words) - 1 - words[::-1].index(anchor)
                rest = _trim(words[position + 1 :])
                content = [w for w in rest if w not in _FUNCTION_WORDS and w not in _TIME_WORDS]
                if content and len(rest) <= 8:
                    return " ".join(rest)
        return None

    # -- internals -----------------------------------------------------------------------

    @staticmethod
    def _prepare(text: str) -> str:
        words = _key(text).split()
        text = " ".join(strip_carriers(words))
        return _OPENERS.sub("", text)

    def _tag(self, words: list[str], markers: Iterable[str]) -> tuple[list[str], dict[str, str]]:
        """Replace recognised slot values (of the ``markers`` types) by their marker."""
        wanted = set(markers)
        out: list[str] = []
        spans: dict[str, str] = {}
        i = 0
        while i < len(words):
            if self._duration in wanted and _DURATION_WORD.match(words[i]):
                length = self._duration_at(words, i)
                if length:
                    spans.setdefault(self._duration, " ".join(words[i : i + length]))
                    out.append(self._duration)
                    i += length
                    continue
            for value_words, marker in self._lexicon.get(words[i], ()):
                n = len(value_words)
                if marker in wanted and words[i : i + n] == value_words:
                    spans.setdefault(marker, " ".join(words[i : i + n]))
                    out.append(marker)
                    i += n
                    break
            else:
                open_marker = next((m for m in self._open_markers if m in wanted), None)
                if (
                    open_marker
                    and open_marker not in spans
                    and words[i] not in self._known
                    and any(
                        tuple(words[max(0, i - len(a)) : i]) == a
                        for a in self._open_anchors[open_marker]
                    )
                ):
                    # An unknown word where a name may go: up to two of them make the name.
                    n = 2 if i + 1 < len(words) and words[i + 1] not in self._known else 1
                    spans[open_marker] = " ".join(words[i : i + n])
                    out.append(open_marker)
                    i += n
                    continue
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


def _to_the_end(words: list[str], spoken: str, custom: bool, literal: set[str]) -> str:
    """A custom value at the end of a sample takes the words after it too, as Alexa hears
    them ("yelling at the kids", not just "yelling")."""
    value = spoken.split()
    if not custom:
        return spoken
    for start in range(len(words) - len(value) + 1):
        if words[start : start + len(value)] == value:
            rest = words[start:]
            # Stop at the sample's own words ("the school run tips" against "tips on {topic}").
            cut = next(
                (
                    i
                    for i, w in enumerate(rest)
                    if i >= len(value) and w in literal and w not in _FUNCTION_WORDS
                ),
                None,
            )
            rest = _trim(rest[:cut] if cut is not None else rest)
            if len(value) <= len(rest) <= 8:
                return " ".join(rest)
            break
    return spoken


_SUFFIXES = ("ing", "ed", "ist", "ism", "es", "s", "ly")


def _stem(word: str) -> str:
    """A crude stem for word evidence, so "yelled", "yelling" and "yell" count as one word.

    Slot markers and short words are left alone; the fuzzy scores still see the real words.
    """
    if (
        (word.startswith("x") and word.endswith("x"))
        or len(word) <= 4
        or word in _FUNCTION_WORDS
        or word in _CARRIERS
    ):
        return word
    if word.endswith("ies") and len(word) > 5:
        return word[:-3] + "y"  # "strategies" → "strategy"
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _sorted_words(text: str) -> str:
    return " ".join(sorted(text.split()))


def _trim(words: list[str]) -> list[str]:
    """Slot words without the politeness around them ("maria please" → "maria")."""
    start, end = 0, len(words)
    while start < end and words[start] in _CARRIERS:
        start += 1
    while end > start and words[end - 1] in _CARRIERS | {"thanks", "thank", "you"}:
        end -= 1
    return words[start:end]
