"""The offline NLU: fuzzy second layer, Fallback threshold, "did you mean", and ``nlu-eval``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from skill.devtools.simulator import BUILTIN_PHRASES, UtteranceMatcher, load_model
from skill.devtools.simulator.commands import format_turn
from skill.devtools.simulator.conversation import Turn
from skill.devtools.simulator.nlu_eval import (
    Annotation,
    AnnotationError,
    evaluate,
    nlu_eval_command,
    parse_annotations,
    read_annotations,
    to_csv,
    to_json,
)
from skill.devtools.simulator.text import _key
from tests.conftest import Skill

ROOT = Path(__file__).resolve().parents[2]
ANNOTATIONS = ROOT / "interaction_models" / "annotations"
LOCALES = ["en-US", "en-GB", "en-AU", "en-CA", "en-IN"]


@pytest.fixture(scope="module")
def matcher() -> UtteranceMatcher:
    return UtteranceMatcher(load_model("en-US"))


# -- the fuzzy layer -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("could you please read my letter for me", "ReadLetterIntent"),
        ("um i am feeling guilty again today", "FeelingGuiltyIntent"),
        ("tell me something that would help me", "GetStrategyIntent"),
        ("how's my week been going so far", "KidTimeSummaryIntent"),
        ("what is my mantra today", "HearMantraIntent"),
        ("i want the long version of that", "MoreDetailIntent"),
        ("honestly today was a really bad day", "BadDayIntent"),
    ],
)
def test_phrasings_without_a_sample_find_their_intent(
    matcher: UtteranceMatcher, text: str, intent: str
) -> None:
    match = matcher.match(text)
    assert match is not None
    assert match.layer == "fuzzy", "this test is about phrasings the samples do not have"
    assert match.intent == intent


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("we will play with the kids for twenty minutes now", "PT20M"),
        ("okay half an hour with my kids please", "PT30M"),
        ("i can do a quarter of an hour of play with them", "PT15M"),
        ("let me get forty five minutes with the children", "PT45M"),
    ],
)
def test_durations_fill_the_slot_in_fuzzy_matches(
    matcher: UtteranceMatcher, text: str, iso: str
) -> None:
    match = matcher.match(text)
    assert match is not None
    assert match.intent == "StartKidTimeIntent"
    assert match.slots["duration"]["value"] == iso


def test_slot_values_fill_in_fuzzy_matches(matcher: UtteranceMatcher) -> None:
    match = matcher.match("got any ideas for dealing with burnout")
    assert match is not None
    assert match.intent == "GetStrategyIntent"
    assert match.slots["topic"]["resolved_id"] == "self-care"


def test_guilt_about_a_trigger_is_feeling_guilty(matcher: UtteranceMatcher) -> None:
    exact = matcher.match("I feel guilty about missing school events")
    assert exact is not None and exact.intent == "FeelingGuiltyIntent"
    assert exact.slots["trigger"]["resolved_id"] == "missing-moments"
    unknown = matcher.match("i feel so guilty about the bake sale")
    assert unknown is not None and unknown.intent == "FeelingGuiltyIntent"
    assert unknown.slots["trigger"]["value"] == "the bake sale"
    assert unknown.slots["trigger"]["resolved_id"] is None


def test_a_bare_trigger_answers_the_trigger_question(matcher: UtteranceMatcher) -> None:
    answer = matcher.match("social media")
    assert answer is not None and answer.intent == "SetGuiltTriggerIntent"
    assert answer.slots["trigger"]["resolved_id"] == "comparison"
    hedged = matcher.match("i'd say checking email")
    assert hedged is not None and hedged.intent == "SetGuiltTriggerIntent"
    assert hedged.slots["trigger"]["resolved_id"] == "half-present"


@pytest.mark.parametrize(
    "text",
    [
        "what's the weather in seattle",
        "order me some batteries",
        "play jazz in the kitchen",
        "how far away is the sun",
        "start",
    ],
)
def test_out_of_domain_is_fallback_with_runner_ups(matcher: UtteranceMatcher, text: str) -> None:
    match = matcher.match(text)
    assert match is not None
    assert match.intent == "AMAZON.FallbackIntent"
    assert match.layer == "none"


def test_low_confidence_offers_runner_ups(matcher: UtteranceMatcher) -> None:
    match = matcher.match("the thing with the letter and reading")
    assert match is not None
    assert match.alternatives, "a guess comes with the intents it beat"
    scores = [score for _intent, score in match.alternatives]
    assert scores == sorted(scores, reverse=True)
    assert all(0 <= s <= 1 for s in scores)


def test_exact_matches_stay_exact(matcher: UtteranceMatcher) -> None:
    match = matcher.match("read the letter")
    assert match is not None
    assert (match.layer, match.score, match.alternatives) == ("exact", 1.0, ())
    assert not match.unsure


def test_threshold_is_configurable() -> None:
    strict = UtteranceMatcher(load_model("en-US"), threshold=0.99)
    loose = UtteranceMatcher(load_model("en-US"), threshold=0.3)
    text = "could you please read my letter for me"
    assert (strict.match(text) or pytest.fail()).intent == "AMAZON.FallbackIntent"
    assert (loose.match(text) or pytest.fail()).intent == "ReadLetterIntent"


def test_rank_orders_intents(matcher: UtteranceMatcher) -> None:
    ranked = matcher.rank("please read me my letter now", limit=3)
    assert ranked[0][0] == "ReadLetterIntent"
    assert len(ranked) == 3 and ranked[0][1] >= ranked[1][1] >= ranked[2][1]


def test_did_you_mean_is_printed_by_chat() -> None:
    turn = Turn("read lettr", "ReadLetterIntent", {}, {}, 200, None)
    turn.did_you_mean = (("ReadAlongIntent", 0.58), ("ShortLetterIntent", 0.5))
    text = format_turn(turn)
    assert "did you mean: ReadAlongIntent (0.58), ShortLetterIntent (0.50)?" in text


# -- annotation sets -----------------------------------------------------------------------


CSV = """utterance,referenceTimestamp,intent,slot[duration],slot[topic]
start kid time for ten minutes,,StartKidTimeIntent,PT10M,
give me a tip about burnout,,GetStrategyIntent,,burnout
order a pizza,,AMAZON.FallbackIntent,,
"""


def test_csv_and_json_round_trip() -> None:
    annotations = parse_annotations(CSV)
    assert annotations[0] == Annotation(
        "start kid time for ten minutes", "StartKidTimeIntent", {"duration": "PT10M"}
    )
    assert annotations[1].slots == {"topic": "burnout"}
    body = to_json(annotations)
    assert body["data"][0] == {
        "inputs": {"utterance": "start kid time for ten minutes"},
        "expected": [
            {"intent": {"name": "StartKidTimeIntent", "slots": {"duration": {"value": "PT10M"}}}}
        ],
    }
    assert parse_annotations(json.dumps(body)) == annotations
    assert parse_annotations(to_csv(annotations)) == annotations


@pytest.mark.parametrize(
    "text",
    [
        "utterance,intent\nhello,AMAZON.HelpIntent\n",
        "utterance,referenceTimestamp,intent,topic\nx,,GetStrategyIntent,y\n",
        "utterance,referenceTimestamp,intent\n,,AMAZON.HelpIntent\n",
        '{"data": [{"inputs": {}}]}',
        '{"nothing": []}',
        "{not json",
    ],
)
def test_bad_annotation_files_are_errors(text: str) -> None:
    with pytest.raises(AnnotationError):
        parse_annotations(text)


def test_evaluate_scores_intents_slots_and_confusion(matcher: UtteranceMatcher) -> None:
    annotations = [
        *parse_annotations(CSV),
        Annotation("read the letter", "AMAZON.HelpIntent"),  # deliberately wrong
        Annotation("start kid time for ten minutes", "StartKidTimeIntent", {"duration": "PT5M"}),
    ]
    report = evaluate(matcher, annotations)
    assert report.intent_accuracy == pytest.approx(4 / 5)
    assert report.wrong_intent_rate == pytest.approx(1 / 5)
    assert report.slot_accuracy == pytest.approx(2 / 3)
    assert report.confusion() == {("AMAZON.HelpIntent", "ReadLetterIntent"): 1}
    text = report.text()
    assert "intent accuracy:  80.0%" in text and "AMAZON.HelpIntent -> ReadLetterIntent: 1" in text
    assert "'read the letter': expected AMAZON.HelpIntent, got ReadLetterIntent" in text


def test_slot_values_compare_by_resolution(matcher: UtteranceMatcher) -> None:
    same_value = [Annotation("give me a tip about burnout", "GetStrategyIntent", {"topic": "rest"})]
    assert evaluate(matcher, same_value).slot_accuracy == 1.0


def test_cli_prints_scores_and_exits_1_below_the_threshold(tmp_path: Path) -> None:
    path = tmp_path / "set.csv"
    path.write_text(CSV + "read the letter,,AMAZON.HelpIntent,,\n", encoding="utf-8")
    runner = CliRunner()
    passed = runner.invoke(nlu_eval_command, [str(path), "--threshold", "0.5"])
    assert passed.exit_code == 0, passed.output
    assert "intent accuracy:  75.0%" in passed.output
    assert "confusion" in passed.output and "failures:" in passed.output
    failed = runner.invoke(nlu_eval_command, [str(path), "--threshold", "0.9", "--quiet"])
    assert failed.exit_code == 1
    assert "failures:" not in failed.output


def test_cli_exports_json_for_smapi(tmp_path: Path) -> None:
    out = tmp_path / "en-GB.json"
    result = CliRunner().invoke(
        nlu_eval_command, [str(ANNOTATIONS / "en-GB.csv"), "--export-json", str(out), "--quiet"]
    )
    assert result.exit_code == 0, result.output
    assert "against the en-GB model" in result.output
    body = json.loads(out.read_text(encoding="utf-8"))
    assert len(body["data"]) == len(read_annotations(ANNOTATIONS / "en-GB.csv"))
    assert all(item["expected"][0]["intent"]["name"] for item in body["data"])


def test_cli_refuses_bad_files(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("nope\n", encoding="utf-8")
    result = CliRunner().invoke(nlu_eval_command, [str(path)])
    assert result.exit_code == 1
    assert "Error:" in result.output and "Traceback" not in result.output
    locale = CliRunner().invoke(
        nlu_eval_command, [str(ANNOTATIONS / "en-US.csv"), "--locale", "xx"]
    )
    assert locale.exit_code == 1 and "not a locale" in locale.output


# -- the shipped held-out sets -------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_held_out_sets_are_big_enough_and_cover_every_intent(locale: str) -> None:
    annotations = read_annotations(ANNOTATIONS / f"{locale}.csv")
    assert len(annotations) >= (150 if locale == "en-US" else 60)
    model = load_model(locale)
    custom = {i.name for i in model.intents if not i.name.startswith("AMAZON.")}
    covered = {a.intent for a in annotations}
    assert custom <= covered, custom - covered
    assert "AMAZON.FallbackIntent" in covered
    assert {a.intent for a in annotations} <= set(model.intent_names)
    if locale == "en-US":
        assert set(model.intent_names) <= covered, set(model.intent_names) - covered


@pytest.mark.parametrize("locale", LOCALES)
def test_held_out_utterances_are_not_samples(locale: str) -> None:
    model = load_model(locale)
    known = {_key(s) for i in model.intents for s in i.samples}
    known |= {_key(s) for i in model.intents for slot in i.slots for s in slot.samples}
    known |= {_key(p) for phrases in BUILTIN_PHRASES.values() for p in phrases}
    for annotation in read_annotations(ANNOTATIONS / f"{locale}.csv"):
        assert _key(annotation.utterance) not in known, annotation.utterance


@pytest.mark.parametrize("locale", LOCALES)
def test_held_out_accuracy_stays_high(locale: str) -> None:
    report = evaluate(
        UtteranceMatcher(load_model(locale)), read_annotations(ANNOTATIONS / f"{locale}.csv")
    )
    assert report.intent_accuracy >= 0.9, report.text()
    assert report.slot_accuracy >= 0.85, report.text()


def test_the_console_shows_did_you_mean(make_skill: Callable[..., Skill]) -> None:
    client = make_skill(signed=False, dev_console=True).client
    unsure = client.post(
        "/console/api/say",
        json={"text": "the thing with the letter and reading", "locale": "en-US"},
    ).get_json()
    assert unsure["did_you_mean"], unsure
    assert all(set(g) == {"intent", "score"} for g in unsure["did_you_mean"])
    assert unsure["score"] < 0.85
    sure = client.post("/console/api/say", json={"text": "read the letter", "locale": "en-US"})
    body = sure.get_json()
    assert body["did_you_mean"] == [] and body["score"] == 1.0


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("raed my letter", "ReadLetterIntent"),
        ("strat kid time", "StartKidTimeIntent"),
        ("give me a stratgy", "GetStrategyIntent"),
        ("anothr one", "AMAZON.NextIntent"),
    ],
)
def test_typos_still_match(matcher: UtteranceMatcher, text: str, intent: str) -> None:
    match = matcher.match(text)
    assert match is not None and match.intent == intent


def test_slot_words_lose_politeness(matcher: UtteranceMatcher) -> None:
    match = matcher.match("call me maria please")
    assert match is not None and match.intent == "SetNameIntent"
    assert match.slots["name"]["value"] == "maria"
    # but a value that ends in a filler word keeps it ("getting it all right")
    topic = matcher.match("tell me about getting it all right")
    assert topic is not None and topic.slots["topic"]["resolved_id"] == "good-enough"


def test_a_leading_slot_does_not_swallow_a_request(matcher: UtteranceMatcher) -> None:
    """ "{duration} with my kids" must not read "i want some quiet time" as a duration."""
    quiet = matcher.match("i want some quiet time with my kids")
    assert quiet is not None and quiet.intent == "StartKidTimeIntent"
    assert "duration" not in quiet.slots
    quarter = matcher.match("go for a quarter of an hour of kid time")
    assert quarter is not None and quarter.intent == "StartKidTimeIntent"
    assert quarter.slots["duration"]["value"] == "PT15M"
    unclear = matcher.match("start kid time for a little while")
    assert unclear is not None and unclear.slots["duration"]["value"] == "?"
