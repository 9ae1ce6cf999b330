"""The typed user record: what the skill remembers about one parent, parsed once on load.

Pure (no ask-sdk, no I/O). :meth:`UserRecord.from_attributes` turns the stored attributes into
typed fields, repairing what has one clear meaning (``"3"`` for 3, a missing list for an empty
one, a time without a zone for UTC) and raising :class:`DamagedRecord` for anything else, such
as ``{"kid_time": "oops"}``. :meth:`UserRecord.to_attributes` gives the JSON form back; keys
this code does not know are kept as they are, so an older deployment never drops a newer
field. Keys starting with ``_`` belong to the store and are ignored here.

Size bound: at most :data:`MAX_SESSIONS` finished kid-time stretches are kept (the newest; the
kid-time rules also drop those older than 60 days), and every list is deduplicated and capped,
so a record written by this code stays under :data:`MAX_RECORD_BYTES`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, TypeVar

#: Version of the attribute layout below; bump it together with a storage migration.
SCHEMA_VERSION = 1
#: Finished kid-time stretches kept per user (the newest), whatever their age.
MAX_SESSIONS = 120
#: Strategy ids and affirmation entries kept per user (the content has a dozen of each).
MAX_HEARD = 100
#: Longest stored text value (a name, an id); longer ones are not a name the skill wrote.
MAX_TEXT = 100
#: What a record written by this code stays under, as compact UTF-8 JSON.
MAX_RECORD_BYTES = 16 * 1024

T = TypeVar("T")


class DamagedRecord(ValueError):
    """Stored attributes that cannot be read with one clear meaning; ``reason`` says where."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ActiveKidTime:
    """A kid-time stretch that is running."""

    started_at: datetime
    planned_minutes: int
    #: The Alexa timer set for it, if any (to cancel it when the stretch ends early).
    timer_id: str | None = None


@dataclass(frozen=True, slots=True)
class KidTimeSession:
    """A finished kid-time stretch."""

    started_at: datetime
    minutes: int
    planned_minutes: int


@dataclass(frozen=True)
class KidTime:
    """The running stretch, if any, and the finished ones (oldest first)."""

    active: ActiveKidTime | None = None
    sessions: tuple[KidTimeSession, ...] = ()


@dataclass(frozen=True)
class Focus:
    """The strategy she chose to try ("I'll try that one"), asked about once at a launch."""

    strategy: str
    chosen_at: datetime
    checked: bool = False


@dataclass(frozen=True)
class AffirmationHeard:
    """One affirmation she heard: on which day, and which one (its index in the content)."""

    day: date
    index: int


@dataclass(frozen=True)
class UserRecord:
    """Everything stored for one user. Frozen: change it with :func:`dataclasses.replace`."""

    visits: int = 0
    last_visit: datetime | None = None
    kid_time: KidTime = field(default_factory=KidTime)
    #: Strategy ids heard since the rotation last started over (no repeats until all heard).
    strategies_heard: tuple[str, ...] = ()
    guilt_trigger: str | None = None
    focus: Focus | None = None
    #: The name she asked to be called ("call me ..."); never a child's name.
    given_name: str | None = None
    #: When the skill last asked, by voice, for the timers permission.
    timers_asked_at: datetime | None = None
    #: The content key of the last greeting, so the next launch can vary it.
    last_greeting: str | None = None
    affirmations_heard: tuple[AffirmationHeard, ...] = ()
    #: Keys this code does not know, kept untouched (JSON values).
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_attributes(cls, attributes: Mapping[str, Any]) -> UserRecord:
        """Parse stored attributes once; raises :class:`DamagedRecord` when they are damaged."""
        if not isinstance(attributes, Mapping):
            raise DamagedRecord("attributes are not an object")
        a = {k: v for k, v in attributes.items() if not (isinstance(k, str) and k.startswith("_"))}
        # Keyword arguments are evaluated in order: ``extra`` (last) holds what the rest left.
        return cls(
            visits=_count(a.pop("visits", None), "visits"),
            last_visit=_moment(a.pop("last_visit", None), "last_visit"),
            kid_time=_kid_time(a.pop("kid_time", None)),
            strategies_heard=_ids(a.pop("strategies_heard", None), "strategies_heard"),
            guilt_trigger=_text(a.pop("guilt_trigger", None), "guilt_trigger"),
            focus=_optional(a.pop("focus", None), _focus, "focus"),
            given_name=_text(a.pop("given_name", None), "given_name"),
            timers_asked_at=_moment(a.pop("timers_asked_at", None), "timers_asked_at"),
            last_greeting=_text(a.pop("last_greeting", None), "last_greeting"),
            affirmations_heard=_affirmations(a.pop("affirmations_heard", None)),
            # What is left is not this code's to judge: kept as it is.
            extra={str(k): v for k, v in a.items()},
        )

    def to_attributes(self) -> dict[str, Any]:
        """The JSON form; fields at their default are left out, so a new user stores ``{}``."""
        out: dict[str, Any] = dict(self.extra)
        if self.visits:
            out["visits"] = self.visits
        if self.last_visit is not None:
            out["last_visit"] = self.last_visit.isoformat()
        if self.kid_time.active is not None or self.kid_time.sessions:
            out["kid_time"] = _kid_time_json(self.kid_time)
        if self.strategies_heard:
            out["strategies_heard"] = list(self.strategies_heard)
        for name in ("guilt_trigger", "given_name", "last_greeting"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.focus is not None:
            out["focus"] = {
                "strategy": self.focus.strategy,
                "chosen_at": self.focus.chosen_at.isoformat(),
                "checked": self.focus.checked,
            }
        if self.timers_asked_at is not None:
            out["timers_asked_at"] = self.timers_asked_at.isoformat()
        if self.affirmations_heard:
            out["affirmations_heard"] = [
                [a.day.isoformat(), a.index] for a in self.affirmations_heard[-MAX_HEARD:]
            ]
        return out

    def write_into(self, attributes: MutableMapping[str, Any]) -> None:
        """Make ``attributes`` (ask-sdk's persistent attributes) hold this record.

        Keys starting with ``_`` are the store's (the revision a save is checked against) and
        are kept; everything else is replaced. The way for handlers to hand a changed record
        back before ``save_persistent_attributes()``.
        """
        for key in [k for k in attributes if not (isinstance(k, str) and k.startswith("_"))]:
            del attributes[key]
        attributes.update(self.to_attributes())


def normalise(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """Parse and write back: repaired, pruned attributes (the store's default validator)."""
    return UserRecord.from_attributes(attributes).to_attributes()


# parsing helpers: each takes the stored value and the field's name (for the reason)


def _count(value: object, where: str) -> int:
    """A whole number of at least 0; ``"3"`` and ``3.0`` read as 3, a negative one as 0."""
    if type(value) is int:  # the common case first: records are parsed on every request
        return value if value >= 0 else 0
    if value is None:
        return 0
    if isinstance(value, bool):
        raise DamagedRecord(f"{where} is not a number")
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value) < 20:
        value = int(value.strip())
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        raise DamagedRecord(f"{where} is not a number")
    return max(0, value)


def _moment(value: object, where: str) -> datetime | None:
    """An ISO-8601 time; one without a zone is read as UTC (this code always writes one)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 64:
        raise DamagedRecord(f"{where} is not a time")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise DamagedRecord(f"{where} is not a time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@lru_cache(maxsize=4096)
def _iso(moment: datetime) -> str:
    # isoformat() of an aware time costs ~3 us, and the same few hundred times are written
    # back on every save of a record: remember them.
    return moment.isoformat()


def _required_moment(value: object, where: str) -> datetime:
    moment = _moment(value, where)
    if moment is None:
        raise DamagedRecord(f"{where} is missing")
    return moment


def _text(value: object, where: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise DamagedRecord(f"{where} is not text")
    # Too long to be anything this code wrote: forget it rather than the whole record.
    return value if len(value) <= MAX_TEXT else None


def _flag(value: object, where: str) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if value in (0, 1):
        return bool(value)
    raise DamagedRecord(f"{where} is not true or false")


def _optional(value: object, parse: Callable[[Mapping[str, Any]], T], where: str) -> T | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise DamagedRecord(f"{where} is not an object")
    return parse(value)


def _list(value: object, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise DamagedRecord(f"{where} is not a list")
    return list(value)


def _ids(value: object, where: str) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for item in _list(value, where):
        if not isinstance(item, str):
            raise DamagedRecord(f"{where} holds a value that is not text")
        if len(item) <= MAX_TEXT:
            seen.setdefault(item, None)
    return tuple(seen)[-MAX_HEARD:]


def _focus(value: Mapping[str, Any]) -> Focus:
    strategy = _text(value.get("strategy"), "focus.strategy")
    if strategy is None:
        raise DamagedRecord("focus.strategy is missing")
    return Focus(
        strategy,
        _required_moment(value.get("chosen_at"), "focus.chosen_at"),
        _flag(value.get("checked"), "focus.checked"),
    )


def _active(value: Mapping[str, Any]) -> ActiveKidTime:
    planned = _count(value.get("planned_minutes"), "kid_time.active.planned_minutes")
    return ActiveKidTime(
        _required_moment(value.get("started_at"), "kid_time.active.started_at"),
        planned,
        _text(value.get("timer_id"), "kid_time.active.timer_id"),
    )


def _session(value: object) -> KidTimeSession:
    if type(value) is not dict and not isinstance(value, Mapping):  # ABC checks are slow
        raise DamagedRecord("kid_time.sessions holds an entry that is not an object")
    return KidTimeSession(
        _required_moment(value.get("started_at"), "kid_time.sessions.started_at"),
        _count(value.get("minutes"), "kid_time.sessions.minutes"),
        _count(value.get("planned_minutes"), "kid_time.sessions.planned_minutes"),
    )


def _kid_time(value: object) -> KidTime:
    if value is None:
        return KidTime()
    if not isinstance(value, Mapping):
        raise DamagedRecord("kid_time is not an object")
    sessions = [_session(s) for s in _list(value.get("sessions"), "kid_time.sessions")]
    return KidTime(
        _optional(value.get("active"), _active, "kid_time.active"),
        tuple(sessions[-MAX_SESSIONS:]),
    )


def _kid_time_json(kid_time: KidTime) -> dict[str, Any]:
    active: dict[str, Any] | None = None
    if kid_time.active is not None:
        active = {
            "started_at": kid_time.active.started_at.isoformat(),
            "planned_minutes": kid_time.active.planned_minutes,
        }
        if kid_time.active.timer_id is not None:
            active["timer_id"] = kid_time.active.timer_id
    return {
        "active": active,
        "sessions": [
            {
                "started_at": _iso(s.started_at),
                "minutes": s.minutes,
                "planned_minutes": s.planned_minutes,
            }
            for s in kid_time.sessions[-MAX_SESSIONS:]
        ],
    }


def _affirmations(value: object) -> tuple[AffirmationHeard, ...]:
    heard = []
    for item in _list(value, "affirmations_heard"):
        if not isinstance(item, list | tuple) or len(item) != 2 or not isinstance(item[0], str):
            raise DamagedRecord("affirmations_heard holds an entry that is not [day, index]")
        try:
            day = date.fromisoformat(item[0])
        except ValueError:
            raise DamagedRecord("affirmations_heard holds a day that is not a date") from None
        heard.append(AffirmationHeard(day, _count(item[1], "affirmations_heard.index")))
    return tuple(heard[-MAX_HEARD:])
