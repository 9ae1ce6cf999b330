"""AlexaSerializer reads timestamps as ask-sdk's DefaultSerializer does, without dateutil."""

from __future__ import annotations

import json
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
