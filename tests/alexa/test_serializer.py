"""AlexaSerializer reads timestamps as ask-sdk's DefaultSerializer does, without dateutil."""

from __future__ import annotations

import json
import re
from datetime import UTC, timedelta

import pytest
from ask_sdk_core.exceptions import SerializationException
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model import RequestEnvelope

from skill.alexa.serializer import AlexaSerializer
from tests.clock import START
from tests.envelopes import intent


def with_timestamp(stamp: str) -> str:
    body = intent("HelpIntent", now=START)
    body["request"]["timestamp"] = stamp
    return json.dumps(body)


@pytest.mark.parametrize(
    "stamp",
    [
        START.strftime("%Y-%m-%dT%H:%M:%SZ"),
        START.strftime("%Y-%m-%dT%H:%M:%S.123Z"),
        START.strftime("%Y-%m-%dT%H:%M:%S+05:30"),
        START.strftime("%Y-%m-%dT%H:%M:%S"),  # no zone: naive, as dateutil gives
        START.strftime("%Y-%m-%d %H:%M:%S -0800"),  # not ISO: dateutil still reads it
    ],
)
def test_timestamps_read_the_same_as_the_sdk_reads_them(stamp: str) -> None:
    ours = AlexaSerializer().deserialize(with_timestamp(stamp), RequestEnvelope)
    sdk = DefaultSerializer().deserialize(with_timestamp(stamp), RequestEnvelope)
    assert ours.request.timestamp == sdk.request.timestamp
    assert ours.request.timestamp.utcoffset() == sdk.request.timestamp.utcoffset()


def test_the_iso_path_gives_an_aware_utc_time() -> None:
    stamp = (START + timedelta(seconds=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    parsed = AlexaSerializer().deserialize(with_timestamp(stamp), RequestEnvelope)
    assert parsed.request.timestamp == START.astimezone(UTC) + timedelta(seconds=7)
    assert parsed.request.timestamp.tzinfo == UTC  # fromisoformat's, not dateutil's


def test_a_timestamp_that_is_no_date_is_still_the_sdk_error() -> None:
    with pytest.raises(SerializationException):
        AlexaSerializer().deserialize(with_timestamp("not a date"), RequestEnvelope)


def _rich_envelope() -> dict[str, object]:
    """A request with most of what a real device sends: screen, viewport, person, slots with
    resolutions, session attributes, and keys no model knows."""
    body = intent(
        "StrategyIntent",
        slots={
            "topic": {
                "name": "topic",
                "value": "boundaries",
                "confirmationStatus": "NONE",
                "source": "USER",
                "resolutions": {
                    "resolutionsPerAuthority": [
                        {
                            "authority": "amzn1.er-authority.echo-sdk.x.Topic",
                            "status": {"code": "ER_SUCCESS_MATCH"},
                            "values": [{"value": {"id": "boundaries", "name": "work hours"}}],
                        }
                    ]
                },
            }
        },
        now=START,
        attributes={"offer": "strategy", "heard": ["a", "b"], "nested": {"k": [1, 2.5, None]}},
    )
    request = body["request"]
    request["dialogState"] = "STARTED"
    request["intent"]["confirmationStatus"] = "NONE"
    request["futureField"] = {"anything": True}
    system = body["context"]["System"]
    system["device"]["supportedInterfaces"] = {
        "Alexa.Presentation.APL": {"runtime": {"maxVersion": "2023.3"}},
        "AudioPlayer": {},
    }
    system["person"] = {"personId": "amzn1.ask.person.X", "accessToken": "t"}
    system["unit"] = {"unitId": "amzn1.ask.unit.X"}
    body["context"]["Viewport"] = {
        "experiences": [{"arcMinuteWidth": 246, "arcMinuteHeight": 144, "canRotate": False}],
        "mode": "HUB",
        "shape": "RECTANGLE",
        "pixelWidth": 1024,
        "pixelHeight": 600,
        "dpi": 160,
        "currentPixelWidth": 1024,
        "currentPixelHeight": 600,
        "touch": ["SINGLE"],
        "keyboard": [],
        "video": {"codecs": ["H_264_42"]},
    }
    body["context"]["AudioPlayer"] = {"playerActivity": "IDLE"}
    return body


def _envelopes() -> list[dict[str, object]]:
    from tests import envelopes as E

    return [
        _rich_envelope(),
        E.launch(now=START),
        E.intent("AMAZON.HelpIntent", now=START, new=False),
        E.session_ended(now=START),
        E.skill_disabled("PERSISTED", now=START),
        E.connections_response("ACCEPTED", token="t", now=START),
        E.can_fulfill("StrategyIntent", now=START),
    ]


def _shape(obj: object) -> object:
    """The object tree with every node's type, so two trees compare type for type."""
    if isinstance(obj, list):
        return [_shape(item) for item in obj]
    if isinstance(obj, dict):
        return {key: _shape(value) for key, value in obj.items()}
    if hasattr(obj, "deserialized_types"):
        return (type(obj), {key: _shape(value) for key, value in vars(obj).items()})
    return (type(obj), obj)


@pytest.mark.parametrize("index", range(7))
def test_envelopes_deserialize_exactly_as_the_sdk_deserializes_them(index: int) -> None:
    body = _envelopes()[index]
    ours = AlexaSerializer()
    for _ in range(2):  # the second time from the tables kept by the first
        mine = ours.deserialize_object(json.loads(json.dumps(body)), RequestEnvelope)
        sdk = DefaultSerializer().deserialize(json.dumps(body), RequestEnvelope)
        assert _shape(mine) == _shape(sdk)
        assert DefaultSerializer().serialize(mine) == DefaultSerializer().serialize(sdk)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("request",), ["not", "an", "object"]),
        (("context", "System"), "a string"),
        (("request", "intent"), 7),
        (("request", "type"), "NoSuchRequestType"),
        (("request", "intent", "slots", "topic", "resolutions"), ["x"]),
    ],
)
def test_odd_payloads_fail_or_pass_as_they_do_in_the_sdk(
    path: tuple[str, ...], value: object
) -> None:
    body = _rich_envelope()
    node: dict[str, object] = body
    for key in path[:-1]:
        node = node[key]  # type: ignore[assignment]
    node[path[-1]] = value
    try:
        sdk = DefaultSerializer().deserialize(json.dumps(body), RequestEnvelope)
    except SerializationException as exc:
        with pytest.raises(SerializationException, match=re.escape(str(exc))):
            AlexaSerializer().deserialize(json.dumps(body), RequestEnvelope)
    else:
        mine = AlexaSerializer().deserialize(json.dumps(body), RequestEnvelope)
        assert _shape(mine) == _shape(sdk)
