"""Every interaction model is one Alexa would accept, and all locales agree on intents and slots."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from skill.devtools.simulator import (
    BUILTIN_PHRASES,
    InteractionModel,
    available_locales,
    load_model,
    normalize,
)

MODELS_DIR = Path(__file__).resolve().parents[2] / "interaction_models"
LOCALES = ["en-US", "en-GB", "en-AU", "en-CA", "en-IN"]

CUSTOM_INTENTS = {
    "StartKidTimeIntent": {"duration": "AMAZON.DURATION"},
    "EndKidTimeIntent": {},
    "KidTimeSummaryIntent": {},
    "GetStrategyIntent": {"topic": "StrategyTopic"},
    "ReadLetterIntent": {},
    "HearMantraIntent": {},
    "ForgetMeIntent": {},
    "SetGuiltTriggerIntent": {"trigger": "GuiltTrigger"},
    "ChooseFocusIntent": {},
    "FirstStepsIntent": {},
    "FeelingGuiltyIntent": {},
    "WhyGuiltyIntent": {},
    "SetNameIntent": {"name": "AMAZON.FirstName"},
    "ReadAlongIntent": {},
    "ShortLetterIntent": {},
}
BUILT_IN_INTENTS = {
    "AMAZON.HelpIntent",
    "AMAZON.StopIntent",
    "AMAZON.CancelIntent",
    "AMAZON.FallbackIntent",
    "AMAZON.RepeatIntent",
    "AMAZON.NextIntent",
    "AMAZON.YesIntent",
    "AMAZON.NoIntent",
    "AMAZON.StartOverIntent",
    "AMAZON.NavigateHomeIntent",
}
TOPIC_IDS = {
    "good-enough",
    "boundaries",
    "kid-time",
    "delegate",
    "forgive-yourself",
    "support",
    "your-value",
    "self-care",
    "be-present",
    "imperfection",
}
# Lowercase words, spaces, possessive/contraction apostrophes, periods in abbreviations, {slots}.
SAMPLE_CHARS = re.compile(r"^[a-z' .{}]+$")
TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?|\{[a-z][a-zA-Z_]*\}|(?:[a-z]\.){2,}")
SLOT_REF = re.compile(r"\{([^{}]*)\}")


def raw(locale: str) -> dict[str, Any]:
    data = json.loads((MODELS_DIR / f"{locale}.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(params=LOCALES)
def model(request: pytest.FixtureRequest) -> InteractionModel:
    return load_model(request.param, MODELS_DIR)


def test_one_file_per_locale() -> None:
    assert sorted(LOCALES) == available_locales(MODELS_DIR)
    for locale in LOCALES:
        assert (MODELS_DIR / f"{locale}.json").is_file()


def test_default_location_is_the_repository_folder() -> None:
    assert load_model("en-US") == load_model("en-US", MODELS_DIR)


@pytest.mark.parametrize("locale", LOCALES)
def test_ask_cli_shape(locale: str) -> None:
    data = raw(locale)
    assert list(data) == ["interactionModel"]
    language = data["interactionModel"]["languageModel"]
    assert set(language) == {"invocationName", "intents", "types"}
    for intent in language["intents"]:
        assert set(intent) <= {"name", "slots", "samples"}
        assert isinstance(intent["samples"], list)


def test_invocation_name(model: InteractionModel) -> None:
    name = model.invocation_name
    assert name == "mama moments"
    assert re.fullmatch(r"[a-z]+( [a-z]+)+", name)
    for sample in (s for i in model.intents for s in i.samples):
        assert name not in sample


def test_intents_and_slots_are_the_documented_ones(model: InteractionModel) -> None:
    names = [i.name for i in model.intents]
    assert len(names) == len(set(names))
    assert set(names) == set(CUSTOM_INTENTS) | BUILT_IN_INTENTS
    for intent in model.intents:
        declared = {s.name: s.type for s in intent.slots}
        assert declared == CUSTOM_INTENTS.get(intent.name, {}), intent.name


def test_custom_intents_have_enough_samples(model: InteractionModel) -> None:
    for name in CUSTOM_INTENTS:
        intent = model.intent(name)
        assert intent is not None
        assert 10 <= len(intent.samples) <= 25, (name, len(intent.samples))


def test_samples_follow_alexa_rules(model: InteractionModel) -> None:
    for intent in model.intents:
        for sample in intent.samples:
            assert sample == sample.strip() and "  " not in sample, sample
            assert SAMPLE_CHARS.match(sample), (
                f"{intent.name}: {sample!r} has a forbidden character"
            )
            assert not re.search(r"\d", sample), f"{sample!r}: numbers must be spelled out"
            for token in sample.split():
                # words, {slots}, or abbreviations such as "a.m." (the only place for a period)
                assert TOKEN.fullmatch(token), f"{intent.name}: {sample!r}: bad token {token!r}"
            assert not re.search(r"\}\s*\{", sample), f"{sample!r}: slots need words between them"
            assert "''" not in sample and not sample.startswith("'"), sample


def test_no_sample_is_shared(model: InteractionModel) -> None:
    owners: dict[str, list[str]] = {}
    for intent in model.intents:
        for sample in intent.samples:
            owners.setdefault(normalize(sample), []).append(intent.name)
    shared = {s: o for s, o in owners.items() if len(o) > 1}
    assert not shared


def test_slots_in_samples_are_declared_and_used(model: InteractionModel) -> None:
    for intent in model.intents:
        declared = {s.name for s in intent.slots}
        used: set[str] = set()
        for sample in intent.samples:
            refs = SLOT_REF.findall(sample)
            assert all(re.fullmatch(r"[a-z][a-zA-Z_]*", r) for r in refs), sample
            assert set(refs) <= declared, f"{intent.name}: {sample!r} uses an undeclared slot"
            assert len(refs) == len(set(refs)), sample
            used.update(refs)
        assert used == declared, f"{intent.name}: slots never used in a sample: {declared - used}"


def test_slot_types_exist(model: InteractionModel) -> None:
    used = {s.type for i in model.intents for s in i.slots}
    for slot_type in used:
        assert slot_type.startswith("AMAZON.") or slot_type in model.types, slot_type
    assert set(model.types) <= used, "every custom type is used by a slot"


def test_strategy_topic_values(model: InteractionModel) -> None:
    topic = model.types["StrategyTopic"]
    ids = [v.id for v in topic.values]
    assert len(ids) == len(set(ids))
    assert set(ids) == TOPIC_IDS
    words = [normalize(w) for v in topic.values for w in (v.name, *v.synonyms)]
    duplicates = [w for w, n in Counter(words).items() if n > 1]
    assert not duplicates, duplicates
    for value in topic.values:
        for word in (value.name, *value.synonyms):
            assert word == normalize(word), f"{word!r} should be lowercase without punctuation"
        assert len(value.synonyms) >= 2, value.id


def test_topic_values_from_the_brief(model: InteractionModel) -> None:
    topic = {v.id: {v.name, *v.synonyms} for v in model.types["StrategyTopic"].values}
    expected = {
        "good-enough": {"good enough", "perfection", "perfectionism"},
        "boundaries": {"boundaries", "work hours", "switching off"},
        "kid-time": {"kid time", "quality time"},
        "delegate": {"delegating", "asking for help", "help at home"},
        "forgive-yourself": {"forgiving myself", "mistakes", "cutting myself slack"},
        "support": {"support", "friends", "community"},
        "your-value": {"my value", "my work", "my career"},
        "self-care": {"self care", "me time", "rest"},
        "be-present": {"being present", "unplugging", "my phone"},
        "imperfection": {"imperfection", "celebrating wins"},
    }
    for topic_id, words in expected.items():
        assert words <= topic[topic_id], topic_id


@pytest.mark.parametrize(
    ("locale", "mom", "not_mom"),
    [
        ("en-US", "mom", "mum"),
        ("en-CA", "mom", "mum"),
        ("en-GB", "mum", "mom"),
        ("en-AU", "mum", "mom"),
        ("en-IN", "mum", "mom"),
    ],
)
def test_mom_or_mum(locale: str, mom: str, not_mom: str) -> None:
    model = load_model(locale, MODELS_DIR)
    words = " ".join(
        w for v in model.types["StrategyTopic"].values for w in (v.name, *v.synonyms)
    ).split()
    assert f"{mom}s" in words and f"{mom}" in words
    assert not_mom not in words and f"{not_mom}s" not in words


def test_all_locales_share_intents_slots_and_topic_ids() -> None:
    def shape(model: InteractionModel) -> object:
        intents = {i.name: sorted((s.name, s.type) for s in i.slots) for i in model.intents}
        types = {name: sorted(v.id for v in t.values) for name, t in model.types.items()}
        return intents, types

    reference = shape(load_model("en-US", MODELS_DIR))
    for locale in LOCALES[1:]:
        assert shape(load_model(locale, MODELS_DIR)) == reference, locale


def test_local_builtin_phrases_do_not_shadow_samples(model: InteractionModel) -> None:
    samples = {normalize(s).replace("'", "") for i in model.intents for s in i.samples}
    for intent, phrases in BUILTIN_PHRASES.items():
        assert intent in BUILT_IN_INTENTS
        for phrase in phrases:
            assert normalize(phrase).replace("'", "") not in samples, (intent, phrase)
