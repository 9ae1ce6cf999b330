"""The typed user record: parsed once, repaired where the meaning is clear, bounded in size."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from skill.domain.user import (
    MAX_HEARD,
    MAX_RECORD_BYTES,
    MAX_SESSIONS,
    MAX_TEXT,
    ActiveKidTime,
    AffirmationHeard,
    DamagedRecord,
    Focus,
    KidTime,
    KidTimeSession,
    UserRecord,
    normalise,
)
from tests.clock import START

# The example in docs/ARCHITECTURE.md ("Persistent attributes"), with real times.
DOCUMENTED: dict[str, Any] = {
    "visits": 3,
    "last_visit": "2026-11-25T03:00:00+00:00",
    "kid_time": {
        "active": {"started_at": "2026-11-25T03:00:00+00:00", "planned_minutes": 15},
        "sessions": [
            {"started_at": "2026-11-24T03:00:00+00:00", "minutes": 14, "planned_minutes": 15}
        ],
    },
    "strategies_heard": ["good-enough", "boundaries"],
    "guilt_trigger": "mistakes",
    "focus": {
        "strategy": "forgive-yourself",
        "chosen_at": "2026-11-24T03:00:00+00:00",
        "checked": False,
    },
    "given_name": "Ana",
}


def test_documented_record_parses_to_typed_fields_and_round_trips() -> None:
    record = UserRecord.from_attributes(DOCUMENTED)
    started = datetime(2026, 11, 25, 3, tzinfo=UTC)
    assert record.visits == 3
    assert record.last_visit == started
    assert record.kid_time.active == ActiveKidTime(started, 15)
    assert record.kid_time.sessions == (KidTimeSession(started - timedelta(days=1), 14, 15),)
    assert record.strategies_heard == ("good-enough", "boundaries")
    assert record.focus == Focus("forgive-yourself", started - timedelta(days=1), False)
    assert (record.guilt_trigger, record.given_name) == ("mistakes", "Ana")
    assert record.to_attributes() == DOCUMENTED
    assert UserRecord.from_attributes(record.to_attributes()) == record


def test_new_user_is_an_empty_record_both_ways() -> None:
    assert UserRecord.from_attributes({}) == UserRecord()
    assert UserRecord().to_attributes() == {}


def test_unknown_keys_are_kept_and_store_keys_ignored() -> None:
    attributes = {"visits": 1, "from_a_newer_build": {"x": [1, 2]}, "_revision": 4}
    record = UserRecord.from_attributes(attributes)
    assert record.extra == {"from_a_newer_build": {"x": [1, 2]}}
    assert record.to_attributes() == {"visits": 1, "from_a_newer_build": {"x": [1, 2]}}


def test_new_conversation_fields_round_trip() -> None:
    attributes = {
        "last_greeting": "welcome.returning",
        "affirmations_heard": [["2026-11-24", 2], ["2026-11-25", 0]],
        "timers_asked_at": START.isoformat(),
    }
    record = UserRecord.from_attributes(attributes)
    assert record.affirmations_heard == (
        AffirmationHeard(date(2026, 11, 24), 2),
        AffirmationHeard(date(2026, 11, 25), 0),
    )
    assert record.last_greeting == "welcome.returning"
    assert record.to_attributes() == attributes


@pytest.mark.parametrize(
    ("stored", "field", "expected"),
    [
        ({"visits": "3"}, "visits", 3),
        ({"visits": 4.0}, "visits", 4),
        ({"visits": -2}, "visits", 0),
        ({"visits": None}, "visits", 0),
        ({"strategies_heard": None}, "strategies_heard", ()),
        ({"strategies_heard": ["a", "b", "a"]}, "strategies_heard", ("a", "b")),
        ({"kid_time": None}, "kid_time", KidTime()),
        ({"kid_time": {}}, "kid_time", KidTime()),
        ({"kid_time": {"active": None, "sessions": None}}, "kid_time", KidTime()),
        (
            {"last_visit": "2026-11-25T03:00:00"},
            "last_visit",
            datetime(2026, 11, 25, 3, tzinfo=UTC),
        ),
        ({"given_name": ""}, "given_name", None),
        ({"given_name": "x" * (MAX_TEXT + 1)}, "given_name", None),
        (
            {"focus": {"strategy": "s", "chosen_at": "2026-11-25T03:00:00+00:00", "checked": 1}},
            "focus",
            Focus("s", datetime(2026, 11, 25, 3, tzinfo=UTC), True),
        ),
    ],
)
def test_clear_meanings_are_repaired(stored: dict[str, Any], field: str, expected: object) -> None:
    assert getattr(UserRecord.from_attributes(stored), field) == expected


@pytest.mark.parametrize(
    ("stored", "where"),
    [
        ({"kid_time": "oops"}, "kid_time"),
        ({"kid_time": [1, 2]}, "kid_time"),
        ({"kid_time": {"active": "yes"}}, "kid_time.active"),
        ({"kid_time": {"active": {"planned_minutes": 15}}}, "kid_time.active.started_at"),
        ({"kid_time": {"sessions": {"a": 1}}}, "kid_time.sessions"),
        ({"kid_time": {"sessions": [3]}}, "kid_time.sessions"),
        ({"kid_time": {"sessions": [{"started_at": "soon"}]}}, "kid_time.sessions.started_at"),
        ({"visits": "many"}, "visits"),
        ({"visits": True}, "visits"),
        ({"visits": [1]}, "visits"),
        ({"last_visit": 12}, "last_visit"),
        ({"last_visit": "yesterday"}, "last_visit"),
        ({"strategies_heard": "good-enough"}, "strategies_heard"),
        ({"strategies_heard": [1]}, "strategies_heard"),
        ({"guilt_trigger": {"id": 1}}, "guilt_trigger"),
        ({"focus": "forgive-yourself"}, "focus"),
        ({"focus": {"chosen_at": "2026-11-25T03:00:00+00:00"}}, "focus.strategy"),
        ({"focus": {"strategy": "s", "chosen_at": "2026-11-25", "checked": "maybe"}}, "focus"),
        ({"affirmations_heard": [["not a day", 1]]}, "affirmations_heard"),
        ({"affirmations_heard": [[1, 2, 3]]}, "affirmations_heard"),
    ],
)
def test_damage_without_one_meaning_raises(stored: dict[str, Any], where: str) -> None:
    with pytest.raises(DamagedRecord) as info:
        UserRecord.from_attributes(stored)
    assert info.value.reason.startswith(where)


def test_attributes_that_are_not_an_object_are_damaged() -> None:
    with pytest.raises(DamagedRecord, match="not an object"):
        UserRecord.from_attributes([1, 2])  # type: ignore[arg-type]


def test_sessions_are_capped_to_the_newest() -> None:
    sessions = [
        {
            "started_at": (START + timedelta(hours=i)).isoformat(),
            "minutes": i,
            "planned_minutes": 15,
        }
        for i in range(MAX_SESSIONS + 30)
    ]
    kept = normalise({"kid_time": {"active": None, "sessions": sessions}})["kid_time"]["sessions"]
    assert len(kept) == MAX_SESSIONS
    assert kept == sessions[-MAX_SESSIONS:]


def test_the_largest_record_this_code_writes_stays_under_the_stated_bound() -> None:
    long_id = "x" * MAX_TEXT
    moment = START.replace(microsecond=123456)
    record = UserRecord(
        visits=10**12,
        last_visit=moment,
        kid_time=KidTime(
            ActiveKidTime(moment, 60, timer_id=long_id),
            tuple(KidTimeSession(moment, 120, 60) for _ in range(MAX_SESSIONS)),
        ),
        strategies_heard=tuple(f"{i}{long_id}"[:MAX_TEXT] for i in range(12)),
        guilt_trigger=long_id,
        focus=Focus(long_id, moment, True),
        given_name=long_id,
        timers_asked_at=moment,
        last_greeting=long_id,
        affirmations_heard=tuple(AffirmationHeard(moment.date(), 99) for _ in range(MAX_HEARD)),
    )
    size = len(json.dumps(record.to_attributes(), separators=(",", ":")).encode())
    assert size < MAX_RECORD_BYTES, size


def test_write_into_replaces_her_fields_and_keeps_the_store_keys() -> None:
    state: dict[str, Any] = {"_revision": 7, "visits": 1, "gone": True, "_fresh_start": "x"}
    record = replace(UserRecord.from_attributes(state), visits=2, extra={})
    record.write_into(state)
    assert state == {"_revision": 7, "_fresh_start": "x", "visits": 2}
