"""The local Alexa stand-in: matcher, durations, envelopes, conversations, replays and the CLI."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from ask_sdk_core.serialize import DefaultSerializer
from click.testing import CliRunner
from werkzeug.serving import make_server

from skill.devtools import simulator
from skill.devtools.simulator import (
    AppTransport,
    Conversation,
    EnvelopeFactory,
    HttpTransport,
    Match,
    ModelError,
    UtteranceMatcher,
    load_model,
    load_replay,
    normalize,
    replay_from_turns,
    run_replay,
    spoken_duration_to_iso,
)

LOCALES = ["en-US", "en-GB", "en-AU", "en-CA", "en-IN"]
DIALOGS = sorted((Path(__file__).parents[1] / "dialogs").glob("*.json"))
SKILL_ID = "amzn1.ask.skill.11111111-2222-4333-8444-555555555555"
FIXED = datetime(2026, 11, 25, 9, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture(scope="module")
def matcher() -> UtteranceMatcher:
    return UtteranceMatcher(load_model("en-US"))


@pytest.fixture
def factory() -> EnvelopeFactory:
    return EnvelopeFactory(SKILL_ID, "amzn1.ask.account.TEST", "en-US", lambda: FIXED)


# --------------------------------------------------------------------------------------------
# Normalisation and durations
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  We\u2019re DONE!!  ", "we're done"),
        ("How did I do, this week?", "how did i do this week"),
        ("twenty-five minutes", "twenty five minutes"),
        ("1.5 hours.", "1.5 hours"),
        ("'quoted' words", "quoted words"),
        ("self-care", "self care"),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("spoken", "iso"),
    [
        ("20 minutes", "PT20M"),
        ("twenty minutes", "PT20M"),
        ("twenty five minutes", "PT25M"),
        ("twenty-five minutes", "PT25M"),
        ("half an hour", "PT30M"),
        ("a half hour", "PT30M"),
        ("an hour", "PT1H"),
        ("one hour", "PT1H"),
        ("1 hour 15 minutes", "PT1H15M"),
        ("one hour and fifteen minutes", "PT1H15M"),
        ("an hour and a half", "PT1H30M"),
        ("one and a half hours", "PT1H30M"),
        ("1.5 hours", "PT1H30M"),
        ("ten min", "PT10M"),
        ("10 mins", "PT10M"),
        ("45 mins", "PT45M"),
        ("a quarter of an hour", "PT15M"),
        ("quarter of an hour", "PT15M"),
        ("three quarters of an hour", "PT45M"),
        ("ninety minutes", "PT90M"),
        ("two hrs", "PT2H"),
        ("a minute", "PT1M"),
        ("half a minute", "PT30S"),
        ("thirty seconds", "PT30S"),
        ("a couple of minutes", "PT2M"),
        ("a day", "P1D"),
        ("two weeks", "P2W"),
        ("a day and two hours", "P1DT2H"),
        ("one hundred and twenty minutes", "PT120M"),
        ("for 5 minutes", "PT5M"),
    ],
)
def test_spoken_durations(spoken: str, iso: str) -> None:
    assert spoken_duration_to_iso(spoken) == iso


@pytest.mark.parametrize(
    "spoken", ["", "a while", "minutes", "twenty", "twenty bananas", "an hour and", "soon", "lots"]
)
def test_not_durations(spoken: str) -> None:
    assert spoken_duration_to_iso(spoken) is None


def test_durations_agree_with_the_skills_parser() -> None:
    from skill.domain.kidtime import parse_duration_minutes

    for spoken, minutes in [("half an hour", 30), ("1 hour 15 minutes", 75), ("ten min", 10)]:
        assert parse_duration_minutes(spoken_duration_to_iso(spoken)) == minutes


# --------------------------------------------------------------------------------------------
# Utterance matching
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("start kid time", "StartKidTimeIntent"),
        ("Start kid time.", "StartKidTimeIntent"),
        ("i want to play with my kids", "StartKidTimeIntent"),
        ("start kid time please", "StartKidTimeIntent"),
        ("we're done", "EndKidTimeIntent"),
        ("We\u2019re done!", "EndKidTimeIntent"),
        ("were done", "EndKidTimeIntent"),
        ("we are done", "EndKidTimeIntent"),
        ("kid time is over", "EndKidTimeIntent"),
        ("I'm back at work", "EndKidTimeIntent"),
        ("how did I do this week?", "KidTimeSummaryIntent"),
        ("what's my streak", "KidTimeSummaryIntent"),
        ("whats my streak", "KidTimeSummaryIntent"),
        ("give me a strategy", "GetStrategyIntent"),
        ("give me a tip", "GetStrategyIntent"),
        ("read me the letter", "ReadLetterIntent"),
        ("read my affirmation letter", "ReadLetterIntent"),
        ("say my mantra", "HearMantraIntent"),
        ("what is my mantra", "HearMantraIntent"),
        ("forget me", "ForgetMeIntent"),
        ("delete my data", "ForgetMeIntent"),
        ("help", "AMAZON.HelpIntent"),
        ("what can I say", "AMAZON.HelpIntent"),
        ("stop", "AMAZON.StopIntent"),
        ("cancel", "AMAZON.CancelIntent"),
        ("never mind", "AMAZON.CancelIntent"),
        ("repeat", "AMAZON.RepeatIntent"),
        ("say that again", "AMAZON.RepeatIntent"),
        ("next", "AMAZON.NextIntent"),
        ("yes", "AMAZON.YesIntent"),
        ("yeah", "AMAZON.YesIntent"),
        ("Yes please!", "AMAZON.YesIntent"),
        ("no", "AMAZON.NoIntent"),
        ("nope", "AMAZON.NoIntent"),
        ("start over", "AMAZON.StartOverIntent"),
        ("go home", "AMAZON.NavigateHomeIntent"),
        ("home", "AMAZON.NavigateHomeIntent"),
        ("what is the capital of peru", "AMAZON.FallbackIntent"),
        ("blah", "AMAZON.FallbackIntent"),
        ("start", "AMAZON.FallbackIntent"),
    ],
)
def test_match_intents(matcher: UtteranceMatcher, text: str, intent: str) -> None:
    match = matcher.match(text)
    assert match is not None
    assert match.intent == intent
    assert not match.invoked


@pytest.mark.parametrize(
    ("text", "iso", "spoken"),
    [
        ("start kid time for 20 minutes", "PT20M", "20 minutes"),
        ("start kid time for twenty minutes", "PT20M", "twenty minutes"),
        ("give me half an hour of kid time", "PT30M", "half an hour"),
        ("start kid time for an hour", "PT1H", "an hour"),
        ("begin kid time for 1 hour 15 minutes", "PT1H15M", "1 hour 15 minutes"),
        ("kid time for ten min", "PT10M", "ten min"),
        ("I'm going to spend forty five minutes with my kids", "PT45M", "forty five minutes"),
    ],
)
def test_match_durations(matcher: UtteranceMatcher, text: str, iso: str, spoken: str) -> None:
    match = matcher.match(text)
    assert match is not None
    assert match.intent == "StartKidTimeIntent"
    slot = match.slots["duration"]
    assert slot["value"] == iso
    assert slot["spoken"] == spoken
    assert slot["type"] == "AMAZON.DURATION"
    assert slot["resolved_id"] is None


def test_unclear_duration_is_sent_as_question_mark(matcher: UtteranceMatcher) -> None:
    match = matcher.match("start kid time for a little while")
    assert match is not None
    assert match.intent == "StartKidTimeIntent"
    assert match.slots["duration"]["value"] == "?"


def test_no_duration_leaves_slot_unfilled(matcher: UtteranceMatcher) -> None:
    match = matcher.match("start kid time")
    assert match is not None
    assert match.slots == {}


@pytest.mark.parametrize(
    ("text", "topic_id"),
    [
        ("tell me about perfectionism", "good-enough"),
        ("help me with work hours", "boundaries"),
        ("give me a strategy for quality time", "kid-time"),
        ("i need help with asking for help", "delegate"),
        ("tell me about Cutting Myself Slack", "forgive-yourself"),
        ("tell me about other moms", "support"),
        ("what can I do about my career", "your-value"),
        ("help me with me time", "self-care"),
        ("tell me about my phone", "be-present"),
        ("tell me about celebrating wins", "imperfection"),
        ("tell me about be-present", "be-present"),
    ],
)
def test_match_topics(matcher: UtteranceMatcher, text: str, topic_id: str) -> None:
    match = matcher.match(text)
    assert match is not None
    assert match.intent == "GetStrategyIntent"
    assert match.slots["topic"]["resolved_id"] == topic_id
    assert match.slots["topic"]["type"] == "StrategyTopic"


def test_unknown_topic_keeps_the_words(matcher: UtteranceMatcher) -> None:
    match = matcher.match("tell me about knitting")
    assert match is not None
    assert match.intent == "GetStrategyIntent"
    assert match.slots["topic"] == {
        "value": "knitting",
        "resolved_id": None,
        "resolved_name": None,
        "type": "StrategyTopic",
        "spoken": "knitting",
    }


@pytest.mark.parametrize("locale", LOCALES)
def test_every_synonym_resolves(locale: str) -> None:
    model = load_model(locale)
    matcher = UtteranceMatcher(model)
    for value in model.types["StrategyTopic"].values:
        for word in (value.name, *value.synonyms):
            match = matcher.match(f"tell me about {word}")
            assert match is not None
            assert match.slots["topic"]["resolved_id"] == value.id, word
            assert match.slots["topic"]["resolved_name"] == value.name


@pytest.mark.parametrize("locale", LOCALES)
def test_every_sample_matches_its_own_intent(locale: str) -> None:
    model = load_model(locale)
    matcher = UtteranceMatcher(model)
    fillers = {
        "duration": "twenty minutes",
        "topic": "boundaries",
        "trigger": "yelling",
        "name": "ana",
    }
    for intent in model.intents:
        for sample in intent.samples:
            text = sample.format(**fillers)
            match = matcher.match(text)
            assert match is not None
            assert match.intent == intent.name, (sample, match)
            assert match.sample == sample
            for name in fillers.keys() & set(match.slots):
                assert match.slots[name]["value"] in {"PT20M", "boundaries", "yelling", "ana"}


def test_mum_synonyms_only_in_gb(matcher: UtteranceMatcher) -> None:
    gb = UtteranceMatcher(load_model("en-GB"))
    assert (gb.match("help me with mum guilt") or Match("")).slots["topic"]["resolved_id"] == (
        "forgive-yourself"
    )
    assert (matcher.match("help me with mum guilt") or Match("")).slots["topic"][
        "resolved_id"
    ] is None
    assert (matcher.match("help me with mom guilt") or Match("")).slots["topic"][
        "resolved_id"
    ] == "forgive-yourself"


@pytest.mark.parametrize(
    "text",
    [
        "open mama moments",
        "Alexa, open Mama Moments",
        "launch mama moments",
        "start mama moments",
        "talk to mama moments",
        "ask mama moments",
    ],
)
def test_launch_phrases(matcher: UtteranceMatcher, text: str) -> None:
    match = matcher.match(text)
    assert match == Match("LaunchRequest", invoked=True)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("ask mama moments to start kid time for 20 minutes", "StartKidTimeIntent"),
        ("Alexa, ask Mama Moments to read me the letter", "ReadLetterIntent"),
        ("tell mama moments we're done", "EndKidTimeIntent"),
        ("ask mama moments how did i do this week", "KidTimeSummaryIntent"),
        ("ask mama moments for a strategy", "GetStrategyIntent"),
        ("ask mama moments to give me a tip about rest", "GetStrategyIntent"),
        ("open mama moments and say my mantra", "HearMantraIntent"),
        ("ask mama moments to juggle", "AMAZON.FallbackIntent"),
    ],
)
def test_one_shot_invocations(matcher: UtteranceMatcher, text: str, intent: str) -> None:
    match = matcher.match(text)
    assert match is not None
    assert match.intent == intent
    assert match.invoked


def test_one_shot_keeps_slots(matcher: UtteranceMatcher) -> None:
    match = matcher.match("ask mama moments to start kid time for half an hour")
    assert match is not None
    assert match.slots["duration"]["value"] == "PT30M"


@pytest.mark.parametrize("text", ["", "   ", "?!", "alexa"])
def test_empty_input_matches_nothing(matcher: UtteranceMatcher, text: str) -> None:
    assert matcher.match(text) is None


def test_resolve(matcher: UtteranceMatcher) -> None:
    value = matcher.resolve("StrategyTopic", "SWITCHING OFF")
    assert value is not None and value.id == "boundaries"
    assert matcher.resolve("StrategyTopic", "gardening") is None
    assert matcher.resolve("NoSuchType", "rest") is None


def test_load_model_rejects_bad_locales(tmp_path: Path) -> None:
    with pytest.raises(ModelError):
        load_model("../etc/passwd")
    with pytest.raises(ModelError):
        load_model("fr-FR", tmp_path)
    (tmp_path / "en-US.json").write_text("{not json")
    with pytest.raises(ModelError):
        load_model("en-US", tmp_path)
    (tmp_path / "en-US.json").write_text(json.dumps({"interactionModel": {}}))
    with pytest.raises(ModelError):
        load_model("en-US", tmp_path)


# --------------------------------------------------------------------------------------------
# Envelopes
# --------------------------------------------------------------------------------------------


def test_launch_envelope(factory: EnvelopeFactory) -> None:
    session = factory.new_session()
    body = factory.launch_request(session)
    assert body["version"] == "1.0"
    assert body["session"] == {
        "new": True,
        "sessionId": session.session_id,
        "application": {"applicationId": SKILL_ID},
        "attributes": {},
        "user": {"userId": "amzn1.ask.account.TEST"},
    }
    system = body["context"]["System"]
    assert system["application"] == {"applicationId": SKILL_ID}
    assert system["user"] == {"userId": "amzn1.ask.account.TEST"}
    assert system["device"]["supportedInterfaces"] == {}
    assert system["device"]["deviceId"]
    assert system["apiEndpoint"] == "https://api.amazonalexa.com"
    assert system["apiAccessToken"]
    request = body["request"]
    assert request["type"] == "LaunchRequest"
    assert request["requestId"].startswith("amzn1.echo-api.request.")
    assert request["timestamp"] == "2026-11-25T09:30:15Z"
    assert request["locale"] == "en-US"
    assert "intent" not in request


def test_timestamp_is_utc_with_z() -> None:
    plus_two = timezone(timedelta(hours=2))
    factory = EnvelopeFactory(clock=lambda: datetime(2026, 1, 2, 3, 4, 5, tzinfo=plus_two))
    assert factory.timestamp() == "2026-01-02T01:04:05Z"
    naive = EnvelopeFactory(clock=lambda: datetime(2026, 1, 2, 3, 4, 5))
    assert naive.timestamp() == "2026-01-02T03:04:05Z"


def test_intent_envelope_with_resolution(
    factory: EnvelopeFactory, matcher: UtteranceMatcher
) -> None:
    match = matcher.match("tell me about perfectionism")
    assert match is not None
    body = factory.request_for(match, factory.new_session(), matcher.model)
    intent = body["request"]["intent"]
    assert intent["name"] == "GetStrategyIntent"
    assert intent["confirmationStatus"] == "NONE"
    slot = intent["slots"]["topic"]
    assert slot["name"] == "topic"
    assert slot["value"] == "perfectionism"
    assert slot["confirmationStatus"] == "NONE"
    assert slot["resolutions"] == {
        "resolutionsPerAuthority": [
            {
                "authority": f"amzn1.er-authority.echo-sdk.{SKILL_ID}.StrategyTopic",
                "status": {"code": "ER_SUCCESS_MATCH"},
                "values": [{"value": {"name": "good enough", "id": "good-enough"}}],
            }
        ]
    }


def test_intent_envelope_without_resolution_match(
    factory: EnvelopeFactory, matcher: UtteranceMatcher
) -> None:
    match = matcher.match("tell me about knitting")
    assert match is not None
    slot = factory.request_for(match, factory.new_session(), matcher.model)["request"]["intent"][
        "slots"
    ]["topic"]
    assert slot["value"] == "knitting"
    authority = slot["resolutions"]["resolutionsPerAuthority"][0]
    assert authority["status"] == {"code": "ER_SUCCESS_NO_MATCH"}
    assert "values" not in authority


def test_declared_slots_are_sent_empty(factory: EnvelopeFactory, matcher: UtteranceMatcher) -> None:
    match = matcher.match("give me a strategy")
    assert match is not None
    slots = factory.request_for(match, factory.new_session(), matcher.model)["request"]["intent"][
        "slots"
    ]
    assert slots == {"topic": {"name": "topic", "confirmationStatus": "NONE"}}
    none = factory.intent_request("AMAZON.HelpIntent")["request"]["intent"]
    assert none == {"name": "AMAZON.HelpIntent", "confirmationStatus": "NONE", "slots": {}}


def test_duration_slot_has_no_resolutions(
    factory: EnvelopeFactory, matcher: UtteranceMatcher
) -> None:
    match = matcher.match("start kid time for 20 minutes")
    assert match is not None
    slot = factory.request_for(match, factory.new_session(), matcher.model)["request"]["intent"][
        "slots"
    ]["duration"]
    assert slot["value"] == "PT20M"
    assert "resolutions" not in slot


def test_session_ended_envelope(factory: EnvelopeFactory) -> None:
    session = factory.new_session({"a": 1})
    session.new = False
    body = factory.session_ended_request(session)
    assert body["request"]["type"] == "SessionEndedRequest"
    assert body["request"]["reason"] == "USER_INITIATED"
    assert body["session"]["new"] is False
    assert body["session"]["attributes"] == {"a": 1}


def test_envelopes_deserialize_with_the_ask_sdk(
    factory: EnvelopeFactory, matcher: UtteranceMatcher
) -> None:
    serializer = DefaultSerializer()
    for text in ["open mama moments", "tell me about rest", "start kid time for an hour"]:
        match = matcher.match(text)
        assert match is not None
        body = factory.request_for(match, factory.new_session(), matcher.model)
        envelope = serializer.deserialize(json.dumps(body), "ask_sdk_model.RequestEnvelope")
        assert envelope.context.system.application.application_id == SKILL_ID
        assert envelope.request.locale == "en-US"
        if match.intent != "LaunchRequest":
            assert envelope.request.intent.name == match.intent
    ended = serializer.deserialize(
        json.dumps(factory.session_ended_request()), "ask_sdk_model.RequestEnvelope"
    )
    assert ended.request.reason.value == "USER_INITIATED"


# --------------------------------------------------------------------------------------------
# Conversations with a fake transport
# --------------------------------------------------------------------------------------------


class FakeTransport:
    """Answers with canned responses and records every request."""

    def __init__(self, *answers: tuple[int, Any]) -> None:
        self.answers = list(answers)
        self.requests: list[dict[str, Any]] = []

    def post(self, envelope: dict[str, Any]) -> tuple[int, Any]:
        self.requests.append(envelope)
        return self.answers.pop(0) if self.answers else (200, reply("ok"))


def reply(
    text: str,
    *,
    end: bool | None = False,
    attributes: dict[str, Any] | None = None,
    reprompt: str | None = None,
    card: dict[str, Any] | None = None,
) -> dict[str, Any]:
    response: dict[str, Any] = {"outputSpeech": {"type": "SSML", "ssml": f"<speak>{text}</speak>"}}
    if reprompt:
        response["reprompt"] = {
            "outputSpeech": {"type": "SSML", "ssml": f"<speak>{reprompt}</speak>"}
        }
    if card:
        response["card"] = card
    if end is not None:
        response["shouldEndSession"] = end
    body: dict[str, Any] = {"version": "1.0", "response": response}
    if attributes is not None:
        body["sessionAttributes"] = attributes
    return body


def conversation(transport: FakeTransport, matcher: UtteranceMatcher) -> Conversation:
    return Conversation(transport, EnvelopeFactory(SKILL_ID, "u1", "en-US"), matcher)


def test_session_attributes_carry_over(matcher: UtteranceMatcher) -> None:
    transport = FakeTransport(
        (200, reply("hi", attributes={"offer": "strategy"}, reprompt="well?")),
        (200, reply("here", attributes={"offer": "kid_time", "n": 2})),
        (200, reply("bye", end=True)),
        (200, reply("hello again")),
    )
    chat = conversation(transport, matcher)
    first = chat.say("open mama moments")
    second = chat.say("yes")
    third = chat.say("stop")
    fourth = chat.say("help")
    sent = transport.requests
    assert [r["session"]["new"] for r in sent] == [True, False, False, True]
    assert sent[0]["session"]["sessionId"] == sent[1]["session"]["sessionId"]
    assert sent[1]["session"]["sessionId"] == sent[2]["session"]["sessionId"]
    assert sent[3]["session"]["sessionId"] != sent[2]["session"]["sessionId"]
    assert sent[0]["session"]["attributes"] == {}
    assert sent[1]["session"]["attributes"] == {"offer": "strategy"}
    assert sent[2]["session"]["attributes"] == {"offer": "kid_time", "n": 2}
    assert sent[3]["session"]["attributes"] == {}
    assert first.intent == "LaunchRequest" and first.reprompt == "<speak>well?</speak>"
    assert first.reprompt_text == "well?"
    assert second.intent == "AMAZON.YesIntent" and second.reprompt is None
    assert third.ended and not first.ended and not second.ended
    assert fourth.text == "hello again" and not fourth.ended
    assert chat.turns == [first, second, third, fourth]


def test_missing_session_attributes_clear_them(matcher: UtteranceMatcher) -> None:
    transport = FakeTransport((200, reply("a", attributes={"x": 1})), (200, reply("b")))
    chat = conversation(transport, matcher)
    chat.say("open mama moments")
    chat.say("help")
    chat.say("help")
    assert [r["session"]["attributes"] for r in transport.requests] == [{}, {"x": 1}, {}]


def test_invocation_starts_a_new_session(matcher: UtteranceMatcher) -> None:
    transport = FakeTransport((200, reply("a", attributes={"x": 1})))
    chat = conversation(transport, matcher)
    chat.say("open mama moments")
    chat.say("ask mama moments to give me a tip")
    first, second = transport.requests
    assert second["session"]["new"] is True
    assert second["session"]["sessionId"] != first["session"]["sessionId"]
    assert second["session"]["attributes"] == {}


def test_turn_fields(matcher: UtteranceMatcher) -> None:
    card = {"type": "Simple", "title": "Kid time", "content": "20 minutes"}
    transport = FakeTransport(
        (200, reply("Kid time <break time='1s'/> starts &amp; now", end=True, card=card))
    )
    turn = conversation(transport, matcher).say("Start kid time for 20 minutes!")
    assert turn.utterance == "Start kid time for 20 minutes!"
    assert turn.intent == "StartKidTimeIntent"
    assert turn.slots["duration"]["value"] == "PT20M"
    assert turn.request is transport.requests[0]
    assert turn.speech == "<speak>Kid time <break time='1s'/> starts &amp; now</speak>"
    assert turn.text == "Kid time ... starts & now"
    assert turn.card == card and turn.card_title == "Kid time"
    assert turn.ended and turn.ok and turn.status == 200
    assert json.dumps(turn.to_json())


def test_plain_text_speech(matcher: UtteranceMatcher) -> None:
    body = {"version": "1.0", "response": {"outputSpeech": {"type": "PlainText", "text": "hi"}}}
    turn = conversation(FakeTransport((200, body)), matcher).say("help")
    assert turn.speech == turn.text == "hi"
    assert not turn.ended


@pytest.mark.parametrize(
    ("status", "body", "shown"),
    [
        (400, "bad signature", "HTTP 400: bad signature"),
        (500, {"error": "boom"}, 'HTTP 500: {"error": "boom"}'),
        (0, "no response from http://x: refused", "no response from http://x: refused"),
        (200, "<html>", "response is not a JSON object: <html>"),
    ],
)
def test_errors_are_reported_not_raised(
    matcher: UtteranceMatcher, status: int, body: Any, shown: str
) -> None:
    chat = conversation(FakeTransport((status, body), (200, reply("fine"))), matcher)
    turn = chat.say("open mama moments")
    assert turn.status == status
    assert turn.error == shown
    assert not turn.ok and turn.response is None and turn.speech is None
    assert turn.ended
    again = chat.say("help")
    assert again.request["session"]["new"] is True and again.ok


def test_end_sends_session_ended(matcher: UtteranceMatcher) -> None:
    transport = FakeTransport((200, reply("hi", attributes={"k": "v"})), (200, {"version": "1.0"}))
    chat = conversation(transport, matcher)
    assert chat.end() is None
    chat.say("open mama moments")
    turn = chat.end()
    assert turn is not None and turn.ended
    request = transport.requests[-1]
    assert request["request"]["type"] == "SessionEndedRequest"
    assert request["request"]["reason"] == "USER_INITIATED"
    assert request["session"]["attributes"] == {"k": "v"}
    assert request["session"]["sessionId"] == transport.requests[0]["session"]["sessionId"]
    assert not chat.in_session


def test_intend_and_launch(matcher: UtteranceMatcher) -> None:
    transport = FakeTransport()
    chat = conversation(transport, matcher)
    chat.launch()
    chat.intend("GetStrategyIntent", {"topic": "rest"})
    assert transport.requests[0]["request"]["type"] == "LaunchRequest"
    slot = transport.requests[1]["request"]["intent"]["slots"]["topic"]
    assert slot["resolutions"]["resolutionsPerAuthority"][0]["values"][0]["value"]["id"] == (
        "self-care"
    )


def test_empty_text_is_a_fallback(matcher: UtteranceMatcher) -> None:
    transport = FakeTransport()
    turn = conversation(transport, matcher).say("")
    assert turn.intent == "AMAZON.FallbackIntent"


def test_replay_against_fake(matcher: UtteranceMatcher) -> None:
    transport = FakeTransport(
        (200, reply("Welcome to the skill", reprompt="well?")),
        (200, reply("Bye", end=True)),
    )
    data = {
        "turns": [
            {"say": "open mama moments", "expect": {"intent": "LaunchRequest", "reprompt": True}},
            {
                "say": "stop",
                "expect": {
                    "intent": "AMAZON.StopIntent",
                    "ended": False,
                    "speech_contains": ["Bye", "Ciao"],
                },
            },
        ]
    }
    result = run_replay(data, conversation(transport, matcher))
    assert not result.ok
    assert len(result.mismatches) == 2
    assert "ended expected False, got True" in result.mismatches[0]
    assert "['Ciao']" in result.mismatches[1]
    diff = result.diff()
    assert '-    "ended": false' in diff and '+    "ended": true' in diff


def test_replay_reports_http_errors(matcher: UtteranceMatcher) -> None:
    data = {"turns": [{"say": "help", "expect": {"intent": "AMAZON.HelpIntent"}}]}
    result = run_replay(data, conversation(FakeTransport((400, "nope")), matcher))
    assert result.mismatches == ["turn 1 ('help'): status expected 200, got 400 [HTTP 400: nope]"]


def test_replay_from_turns_round_trips(matcher: UtteranceMatcher) -> None:
    transport = FakeTransport((200, reply("hi", reprompt="well?")), (200, reply("bye", end=True)))
    chat = conversation(transport, matcher)
    turns = [chat.say("start kid time for ten minutes"), chat.say("stop")]
    recorded = replay_from_turns(turns, "en-US")
    assert recorded == {
        "locale": "en-US",
        "turns": [
            {
                "say": "start kid time for ten minutes",
                "expect": {
                    "intent": "StartKidTimeIntent",
                    "slots": {"duration": "PT10M"},
                    "ended": False,
                    "reprompt": True,
                },
            },
            {
                "say": "stop",
                "expect": {"intent": "AMAZON.StopIntent", "ended": True, "reprompt": False},
            },
        ],
    }
    transport2 = FakeTransport((200, reply("hi", reprompt="well?")), (200, reply("bye", end=True)))
    assert run_replay(recorded, conversation(transport2, matcher)).ok


# --------------------------------------------------------------------------------------------
# End to end through the real app
# --------------------------------------------------------------------------------------------


@pytest.fixture
def app(tmp_path: Path) -> Any:
    from skill.app import create_app
    from skill.config import Config

    return create_app(Config(data_dir=tmp_path / "data", verify_signatures=False))


def app_conversation(app: Any, locale: str = "en-US", user: str = "u-e2e") -> Conversation:
    factory = EnvelopeFactory(SKILL_ID, user, locale)
    return Conversation(AppTransport(app), factory, UtteranceMatcher(load_model(locale)))


def test_end_to_end_kid_time(app: Any) -> None:
    chat = app_conversation(app)
    launch = chat.say("open mama moments")
    assert launch.ok and launch.intent == "LaunchRequest"
    assert not launch.ended and launch.reprompt is not None
    assert "Welcome to Mama Moments" in (launch.text or "")

    start = chat.say("start kid time for 20 minutes")
    assert start.ok and start.intent == "StartKidTimeIntent"
    assert start.request["session"]["new"] is False
    assert start.request["session"]["attributes"] == launch.session_attributes
    assert start.request["request"]["intent"]["slots"]["duration"]["value"] == "PT20M"
    assert "20 minutes" in (start.text or "")
    assert start.card_title == "Kid time"

    done = chat.say("we're done")
    assert done.ok and done.intent == "EndKidTimeIntent"
    if start.ended:
        assert done.request["session"]["new"] is True

    stop = chat.say("stop")
    assert stop.ok and stop.intent == "AMAZON.StopIntent" and stop.ended
    assert all(t.speech and t.speech.startswith("<speak>") for t in chat.turns)


def test_end_to_end_every_intent_answers(app: Any) -> None:
    chat = app_conversation(app)
    for text in [
        "open mama moments",
        "how did i do this week",
        "tell me about boundaries",
        "tell me about knitting",
        "next",
        "read me the letter",
        "say my mantra",
        "help",
        "what's the weather",
        "repeat",
        "start over",
        "go home",
        "forget me",
        "no",
        "cancel",
        "start kid time for a while",
        "yes",
        "no",
    ]:
        turn = chat.say(text)
        assert turn.ok, (text, turn.error)
        assert turn.text, text
    assert chat.end() is None or chat.turns[-1].ok


@pytest.mark.parametrize("locale", LOCALES)
def test_end_to_end_locales(app: Any, locale: str) -> None:
    chat = app_conversation(app, locale)
    turn = chat.say("open mama moments")
    assert turn.ok and turn.text
    assert turn.request["request"]["locale"] == locale
    assert chat.say("stop").ended


@pytest.mark.parametrize("dialog", DIALOGS, ids=lambda p: p.stem)
def test_replay_dialogs(tmp_path: Path, dialog: Path) -> None:
    from skill.app import create_app
    from skill.config import Config

    data = load_replay(dialog)
    app = create_app(Config(data_dir=tmp_path / "data", verify_signatures=False))
    result = run_replay(data, app_conversation(app, str(data.get("locale", "en-US")), "u-replay"))
    assert result.ok, "\n".join(result.mismatches) + "\n" + result.diff()


def test_there_are_dialogs() -> None:
    assert len(DIALOGS) >= 5
    for path in DIALOGS:
        data = load_replay(path)
        assert data["locale"] in LOCALES
        for step in data["turns"]:
            assert set(step) <= {"say", "expect"}


@pytest.fixture
def server(app: Any) -> Iterator[str]:
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}/alexa"
    finally:
        httpd.shutdown()
        thread.join(5)


def test_http_transport(server: str) -> None:
    factory = EnvelopeFactory(SKILL_ID, "u-http", "en-US")
    chat = Conversation(HttpTransport(server, 5), factory, UtteranceMatcher(load_model("en-US")))
    launch = chat.say("open mama moments")
    assert launch.ok and "Welcome" in (launch.text or "")
    assert chat.say("give me a tip about rest").card_title
    assert chat.say("stop").ended


def test_http_transport_errors(server: str) -> None:
    status, body = HttpTransport(server, 5).post({"not": "an envelope"})
    assert status == 400
    status, body = HttpTransport("http://127.0.0.1:9/alexa", 1).post({})
    assert status == 0 and "no response" in body


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("MAMA_SKILL_ID", "MAMA_VERIFY_SIGNATURES", "MAMA_VERIFY_TIMESTAMPS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MAMA_DATA_DIR", str(tmp_path / "cli-data"))
    return tmp_path


def test_simulate_command(cli_env: Path) -> None:
    record = cli_env / "recorded.json"
    result = CliRunner().invoke(
        simulator.simulate_command,
        ["open mama moments", "start kid time for 20 minutes", "--record", str(record)],
    )
    assert result.exit_code == 0, result.output
    assert "you> open mama moments" in result.output
    assert "[LaunchRequest]" in result.output
    assert "[StartKidTimeIntent duration=PT20M]" in result.output
    assert "alexa> Welcome to Mama Moments" in result.output
    assert "card: Kid time" in result.output
    recorded = json.loads(record.read_text())
    assert [t["expect"]["intent"] for t in recorded["turns"]] == [
        "LaunchRequest",
        "StartKidTimeIntent",
    ]
    replayed = CliRunner().invoke(simulator.replay_command, [str(record)])
    assert replayed.exit_code == 0, replayed.output
    assert "2 turns OK" in replayed.output


def test_simulate_json(cli_env: Path) -> None:
    result = CliRunner().invoke(simulator.simulate_command, ["--json", "ask mama moments for help"])
    assert result.exit_code == 0, result.output
    start = result.output.index("[")
    turns = json.loads(result.output[start:])
    assert turns[0]["intent"] == "AMAZON.HelpIntent"
    assert turns[0]["request"]["request"]["type"] == "IntentRequest"


def test_simulate_against_url(server: str) -> None:
    result = CliRunner().invoke(simulator.simulate_command, ["--url", server, "help", "stop"])
    assert result.exit_code == 0, result.output
    assert "(session ended)" in result.output


def test_simulate_reports_http_failure() -> None:
    result = CliRunner().invoke(
        simulator.simulate_command, ["--url", "http://127.0.0.1:9/alexa", "help"]
    )
    assert result.exit_code == 1
    assert "error> no response from http://127.0.0.1:9/alexa" in result.output


def test_simulate_unknown_locale(cli_env: Path) -> None:
    result = CliRunner().invoke(simulator.simulate_command, ["--locale", "xx-XX", "help"])
    assert result.exit_code != 0
    assert "no interaction model for xx-XX" in result.output


def test_replay_command_mismatch(cli_env: Path) -> None:
    bad = cli_env / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "locale": "en-US",
                "turns": [{"say": "open mama moments", "expect": {"intent": "HelpIntent"}}],
            }
        )
    )
    result = CliRunner().invoke(simulator.replay_command, [str(bad)])
    assert result.exit_code == 1
    assert "1 mismatch" in result.output
    assert '-    "intent": "HelpIntent"' in result.output
    assert '+    "intent": "LaunchRequest"' in result.output


def test_chat_command(cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spoken: list[tuple[str, str]] = []
    monkeypatch.setattr(
        simulator.commands, "_speaker", lambda: lambda s, loc: spoken.append((s, loc))
    )
    result = CliRunner().invoke(
        simulator.chat_command,
        ["--speak", "--locale", "en-GB"],
        input="open mama moments\n\nhelp\nquit\nnever reached\n",
    )
    assert result.exit_code == 0, result.output
    assert "[LaunchRequest]" in result.output and "[AMAZON.HelpIntent]" in result.output
    assert "never reached" not in result.output
    assert len(spoken) == 2 and all(loc == "en-GB" for _, loc in spoken)
    assert spoken[0][0].startswith("<speak>")


def test_chat_without_voice_ends_at_eof(cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(simulator.commands, "_speaker", lambda: None)
    result = CliRunner().invoke(simulator.chat_command, ["--speak"], input="help\n")
    assert result.exit_code == 0, result.output
    assert "offline voice unavailable" in result.output
    assert "[AMAZON.HelpIntent]" in result.output


def test_commands_are_exported() -> None:
    assert [c.name for c in simulator.COMMANDS] == ["simulate", "chat", "replay"]


def test_simulate_sends_the_configured_skill_id(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAMA_SKILL_ID", SKILL_ID)
    result = CliRunner().invoke(simulator.simulate_command, ["--json", "help"])
    assert result.exit_code == 0, result.output
    turns = json.loads(result.output[result.output.index("[") :])
    assert turns[0]["request"]["session"]["application"]["applicationId"] == SKILL_ID
    wrong = CliRunner().invoke(
        simulator.simulate_command, ["--skill-id", "amzn1.ask.skill.other", "help"]
    )
    assert wrong.exit_code == 1
    assert "error> HTTP 4" in wrong.output


def test_hint_for_unsigned_requests(tmp_path: Path) -> None:
    from skill.app import create_app
    from skill.config import Config

    signed_app = create_app(Config(data_dir=tmp_path / "signed"))
    httpd = make_server("127.0.0.1", 0, signed_app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{httpd.server_port}/alexa"
        result = CliRunner().invoke(simulator.simulate_command, ["--url", url, "help"])
    finally:
        httpd.shutdown()
        thread.join(5)
    assert result.exit_code == 1
    assert "error> HTTP 400" in result.output
    assert "MAMA_VERIFY_SIGNATURES=0" in result.output
