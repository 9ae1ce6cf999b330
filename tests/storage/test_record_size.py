"""The stated bound: a user file written by this code stays under 16 KB, however often used."""

from __future__ import annotations

from collections.abc import Callable

from skill.domain.user import MAX_RECORD_BYTES, MAX_SESSIONS
from skill.storage import TinyDBPersistenceAdapter
from tests import envelopes as E
from tests.conftest import Skill


def test_many_kid_time_stretches_keep_the_file_under_the_bound(
    make_skill: Callable[..., Skill],
) -> None:
    skill = make_skill(signed=False)
    path = TinyDBPersistenceAdapter(skill.data_dir).path_for(E.USER_ID)
    for _ in range(MAX_SESSIONS + 40):
        start = E.intent("StartKidTimeIntent", {"duration": "PT15M"}, now=skill.clock())
        assert skill.post(start).status == 200
        skill.clock.advance(minutes=5)  # many stretches a day: the 60-day window keeps them all
        assert skill.post(E.intent("EndKidTimeIntent", now=skill.clock())).status == 200
    stored = TinyDBPersistenceAdapter(skill.data_dir).load(E.USER_ID)
    assert len(stored["kid_time"]["sessions"]) == MAX_SESSIONS
    assert path.stat().st_size < MAX_RECORD_BYTES
