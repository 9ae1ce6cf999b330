"""Spoken times become AMAZON.TIME values in local conversations, as Alexa sends them."""

from __future__ import annotations

import pytest

from skill.devtools.simulator import UtteranceMatcher
from skill.devtools.simulator.model import load_model
from skill.devtools.simulator.times import spoken_time_to_iso


@pytest.mark.parametrize(
    ("spoken", "value"),
    [
        ("half past five", "05:30"),
        ("five thirty", "05:30"),
        ("five thirty pm", "17:30"),
        ("four", "04:00"),
        ("four o'clock", "04:00"),
        ("quarter to six", "05:45"),
        ("quarter past four p.m.", "16:15"),
        ("5:30", "05:30"),
        ("17:30", "17:30"),
        ("4 pm", "16:00"),
        ("twelve am", "00:00"),
        ("noon", "12:00"),
        ("in the evening", "EV"),
        ("the afternoon", "AF"),
    ],
)
def test_spoken_times(spoken: str, value: str) -> None:
    assert spoken_time_to_iso(spoken) == value


@pytest.mark.parametrize("spoken", ["banana", "", "five bananas", "quarter past lunch", "25:00"])
def test_not_times(spoken: str) -> None:
    assert spoken_time_to_iso(spoken) is None


def test_the_matcher_fills_a_time_slot_like_alexa() -> None:
    matcher = UtteranceMatcher(load_model("en-US"))
    match = matcher.match("remind me to stop work at half past five on weekdays")
    assert match is not None and match.intent == "SetWorkReminderIntent"
    assert match.slots["time"]["value"] == "05:30"
    assert match.slots["repeat"]["resolved_id"] == "weekdays"
    unclear = matcher.match("remind me about kid time at teatime")
    assert unclear is not None and unclear.slots["time"]["value"] == "?"


def test_a_one_shot_hands_over_what_follows_to() -> None:
    matcher = UtteranceMatcher(load_model("en-GB"))
    match = matcher.match("ask mama moments to remind me about kid time at four")
    assert match is not None and match.invoked
    assert match.intent == "SetKidTimeReminderIntent" and match.slots["time"]["value"] == "04:00"
    cancel = matcher.match("ask mama moments to cancel my work reminder")
    assert cancel is not None and cancel.intent == "CancelReminderIntent"
