"""Pure strategy selection: one at a time, never repeating until every one was heard."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Pick:
    """The chosen strategy and the heard-list to store afterwards."""

    strategy_id: str
    heard: tuple[str, ...]
    #: True when every strategy had been heard and the rotation started again.
    restarted: bool = False


def next_strategy(
    all_ids: Sequence[str],
    heard: Sequence[object],
    requested: str | None = None,
    prefer: Sequence[str] = (),
) -> Pick:
    """Pick the next strategy.

    An asked-for topic is honoured even if heard before (the parent chose it); otherwise the
    first unheard one, looking first at ``prefer`` (the ones that help with the parent's guilt
    trigger) and then in content order. Ids no longer in the content are forgotten, so an edited
    content file never blocks the rotation.
    """
    if not all_ids:
        raise ValueError("there are no strategies to choose from")
    known = list(dict.fromkeys(h for h in heard if isinstance(h, str) and h in all_ids))
    if requested is not None and requested in all_ids:
        return Pick(requested, (*(h for h in known if h != requested), requested))
    order = [*(p for p in prefer if p in all_ids), *all_ids]
    unheard = [i for i in dict.fromkeys(order) if i not in known]
    if not unheard:
        first = order[0]
        return Pick(first, (first,), restarted=True)
    return Pick(unheard[0], (*known, unheard[0]))


def match_topic(all_ids: Sequence[str], resolved_id: str | None, spoken: str | None) -> str | None:
    """The strategy id a topic slot points at: Alexa's entity resolution first, then the words.

    Spoken words match an id when they are the id with spaces (``good enough`` → ``good-enough``),
    which keeps typed input and older interaction models working.
    """
    if resolved_id in all_ids:
        return resolved_id
    if spoken:
        candidate = "-".join(spoken.lower().split())
        if candidate in all_ids:
            return candidate
    return None
