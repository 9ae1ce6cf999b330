"""Unit tests for strategy rotation and topic matching in :mod:`skill.domain.strategies`."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skill.domain.strategies import Pick, match_topic, next_strategy
from speech.catalog import load_catalogs

IDS = ("good-enough", "boundaries", "kid-time", "delegate")

ids_lists = st.lists(
    st.text(alphabet="abcdefghij-", min_size=1, max_size=8), min_size=1, max_size=12, unique=True
)


def run(
    all_ids: tuple[str, ...] | list[str], times: int, heard: tuple[str, ...] = ()
) -> list[Pick]:
    """Call next_strategy repeatedly, storing the heard list as the skill does."""
    picks = []
    for _ in range(times):
        pick = next_strategy(all_ids, list(heard))
        picks.append(pick)
        heard = pick.heard
    return picks


# --- next_strategy ----------------------------------------------------------------------------


def test_first_pick_is_the_first_strategy_in_content_order() -> None:
    assert next_strategy(IDS, []) == Pick(IDS[0], (IDS[0],), restarted=False)


def test_picks_follow_content_order_without_repeating() -> None:
    picks = run(IDS, len(IDS))
    assert [p.strategy_id for p in picks] == list(IDS)
    assert [p.heard for p in picks] == [IDS[: i + 1] for i in range(len(IDS))]
    assert not any(p.restarted for p in picks)


def test_after_all_heard_the_rotation_restarts() -> None:
    pick = next_strategy(IDS, list(IDS))
    assert pick == Pick(IDS[0], (IDS[0],), restarted=True)
    # ...and carries on from there.
    assert next_strategy(IDS, list(pick.heard)) == Pick(IDS[1], (IDS[0], IDS[1]))


def test_heard_order_does_not_matter_for_what_is_unheard() -> None:
    pick = next_strategy(IDS, [IDS[2], IDS[0]])
    assert pick.strategy_id == IDS[1]
    assert pick.heard == (IDS[2], IDS[0], IDS[1])


def test_requested_topic_is_honoured_when_unheard() -> None:
    pick = next_strategy(IDS, [IDS[0]], requested=IDS[2])
    assert pick == Pick(IDS[2], (IDS[0], IDS[2]))


def test_requested_topic_is_honoured_even_if_heard() -> None:
    pick = next_strategy(IDS, [IDS[0], IDS[1]], requested=IDS[0])
    assert pick.strategy_id == IDS[0]
    assert not pick.restarted
    # It moves to the end of the heard list and is not duplicated.
    assert pick.heard == (IDS[1], IDS[0])


def test_requested_topic_when_everything_was_heard_does_not_restart() -> None:
    pick = next_strategy(IDS, list(IDS), requested=IDS[1])
    assert pick.strategy_id == IDS[1]
    assert not pick.restarted
    assert sorted(pick.heard) == sorted(IDS)
    assert pick.heard[-1] == IDS[1]
    # The next unrequested pick finds nothing unheard and restarts.
    assert next_strategy(IDS, list(pick.heard)).restarted


def test_unknown_requested_topic_is_ignored() -> None:
    assert next_strategy(IDS, [IDS[0]], requested="astrology") == next_strategy(IDS, [IDS[0]])
    assert next_strategy(IDS, [], requested="") == next_strategy(IDS, [])


def test_unknown_ids_in_history_are_forgotten() -> None:
    pick = next_strategy(IDS, ["removed-strategy", IDS[0], "another-old-one"])
    assert pick.strategy_id == IDS[1]
    assert pick.heard == (IDS[0], IDS[1])


def test_history_of_only_unknown_ids_does_not_block_the_rotation() -> None:
    pick = next_strategy(IDS, ["old-1", "old-2", "old-3", "old-4", "old-5"])
    assert pick == Pick(IDS[0], (IDS[0],))


def test_duplicates_in_history_are_collapsed() -> None:
    pick = next_strategy(IDS, [IDS[1], IDS[1], IDS[0], IDS[1]])
    assert pick.strategy_id == IDS[2]
    assert pick.heard == (IDS[1], IDS[0], IDS[2])


def test_non_string_junk_in_history_is_ignored() -> None:
    pick = next_strategy(IDS, [None, 3, 2.5, True, b"good-enough", IDS[0]])
    assert pick.strategy_id == IDS[1]
    assert pick.heard == (IDS[0], IDS[1])


@pytest.mark.parametrize("junk", [["good-enough"], {"id": "good-enough"}, {"good-enough"}])
def test_unhashable_junk_in_history_is_ignored(junk: object) -> None:
    pick = next_strategy(IDS, [junk, IDS[0]])
    assert pick.heard == (IDS[0], IDS[1])


def test_case_matters_for_history_ids() -> None:
    pick = next_strategy(IDS, [IDS[0].upper()])
    assert pick.strategy_id == IDS[0]


@pytest.mark.parametrize("empty", [(), []])
def test_no_strategies_raises(empty: tuple[str, ...] | list[str]) -> None:
    with pytest.raises(ValueError, match="no strategies"):
        next_strategy(empty, [])
    with pytest.raises(ValueError):
        next_strategy(empty, ["a"], requested="a")


def test_single_strategy_restarts_every_second_time() -> None:
    picks = run(("only",), 4)
    assert [p.strategy_id for p in picks] == ["only"] * 4
    assert [p.restarted for p in picks] == [False, True, True, True]


def test_history_input_is_not_changed() -> None:
    heard = [IDS[0], "old"]
    next_strategy(IDS, heard)
    assert heard == [IDS[0], "old"]


def test_rotation_over_the_shipped_strategies() -> None:
    for catalog in load_catalogs():
        ids = catalog.strategy_ids
        picks = run(ids, len(ids) + 1)
        assert [p.strategy_id for p in picks[:-1]] == list(ids)
        assert picks[-1].restarted and picks[-1].strategy_id == ids[0]


@given(ids_lists)
def test_property_a_full_round_is_a_permutation_then_restarts(ids: list[str]) -> None:
    picks = run(ids, len(ids) + 1)
    first_round = [p.strategy_id for p in picks[: len(ids)]]
    assert sorted(first_round) == sorted(ids)
    assert len(set(first_round)) == len(ids)
    assert not any(p.restarted for p in picks[: len(ids)])
    assert picks[-1].restarted
    assert picks[-1].strategy_id in ids


@given(ids_lists, st.data())
def test_property_never_repeats_before_all_heard(ids: list[str], data: st.DataObject) -> None:
    heard = data.draw(st.lists(st.sampled_from(ids), unique=True, max_size=len(ids) - 1))
    junk = data.draw(
        st.lists(st.one_of(st.none(), st.integers(), st.text(alphabet="XYZ", max_size=3)))
    )
    pick = next_strategy(ids, [*junk, *heard])
    assert pick.strategy_id not in heard
    assert not pick.restarted
    assert pick.heard == (*heard, pick.strategy_id)
    assert set(pick.heard) <= set(ids)


@given(ids_lists, st.data())
def test_property_requested_topic_always_wins(ids: list[str], data: st.DataObject) -> None:
    heard = data.draw(st.lists(st.sampled_from(ids), max_size=3 * len(ids)))
    requested = data.draw(st.sampled_from(ids))
    pick = next_strategy(ids, heard, requested)
    assert pick.strategy_id == requested
    assert pick.heard[-1] == requested
    assert len(pick.heard) == len(set(pick.heard))
    assert set(pick.heard) == {*heard, requested}


# --- match_topic ------------------------------------------------------------------------------


def test_resolved_id_wins_over_spoken_words() -> None:
    assert match_topic(IDS, "delegate", "good enough") == "delegate"


def test_unknown_resolved_id_falls_back_to_the_words() -> None:
    assert match_topic(IDS, "not-a-strategy", "good enough") == "good-enough"
    assert match_topic(IDS, None, "good enough") == "good-enough"


@pytest.mark.parametrize(
    "spoken",
    [
        "good enough",
        "Good Enough",
        "GOOD ENOUGH",
        "  good   enough ",
        "good\tenough",
        "good-enough",
    ],
)
def test_spoken_words_match_the_id_with_spaces(spoken: str) -> None:
    assert match_topic(IDS, None, spoken) == "good-enough"


def test_single_word_topic() -> None:
    assert match_topic(IDS, None, "Boundaries") == "boundaries"


@pytest.mark.parametrize("spoken", [None, "", "   ", "astrology", "good", "enough good", "kidtime"])
def test_unknown_topic_is_none(spoken: str | None) -> None:
    assert match_topic(IDS, None, spoken) is None


def test_nothing_matches_without_strategies() -> None:
    assert match_topic((), "good-enough", "good enough") is None


def test_every_shipped_id_is_reachable_by_its_words() -> None:
    for catalog in load_catalogs():
        for strategy_id in catalog.strategy_ids:
            spoken = strategy_id.replace("-", " ").title()
            assert match_topic(catalog.strategy_ids, None, spoken) == strategy_id


@given(ids_lists, st.data())
def test_property_match_topic_only_returns_known_ids(ids: list[str], data: st.DataObject) -> None:
    resolved = data.draw(st.one_of(st.none(), st.sampled_from(ids), st.text(max_size=10)))
    spoken = data.draw(st.one_of(st.none(), st.text(max_size=20)))
    result = match_topic(ids, resolved, spoken)
    assert result is None or result in ids
    if resolved in ids:
        assert result == resolved
