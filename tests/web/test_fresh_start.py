"""Issue 19 through the HTTP endpoint: a damaged record never locks a parent out.

For every kind of damage found by hand: the first answer is the normal one, led by one kind
sentence about the fresh start; the second is normal; the evidence is in ``corrupt/``; nothing
outside the data folder is opened; other users are unaffected.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from skill.storage import TinyDBPersistenceAdapter
from skill.storage.records import make_tables
from speech.catalog import load_catalogs
from tests import envelopes as E
from tests.conftest import Skill

US = load_catalogs().for_locale("en-US")
OTHER = "amzn1.ask.account.SOMEONE-ELSE"
GOOD = make_tables({"visits": 2}, 2)


def _record(**changes: Any) -> bytes:
    tables = json.loads(json.dumps(GOOD))
    tables["user"]["1"].update(changes)
    return json.dumps(tables).encode()


def _file(content: bytes) -> Callable[[Path, Path], None]:
    def damage(path: Path, outside: Path) -> None:
        path.write_bytes(content)

    return damage


def _symlink(path: Path, outside: Path) -> None:
    path.unlink()
    path.symlink_to(outside)


def _directory(path: Path, outside: Path) -> None:
    path.unlink()
    (path / "nested").mkdir(parents=True)


DAMAGE: dict[str, Callable[[Path, Path], None]] = {
    "truncated JSON": _file(json.dumps(GOOD).encode()[:25]),
    "empty file": _file(b""),
    "not UTF-8": _file(b'{"user": {"1": "\xff\xfe"}}'),
    "deep nesting": _file(b"[" * 200_000 + b"]" * 200_000),
    "top-level list": _file(b"[1, 2]"),
    "revision as a string": _file(_record(revision="2")),
    "attributes as a list": _file(_record(attributes=[1, 2])),
    "symlink": _symlink,
    "directory": _directory,
    "kid_time as a string": _file(_record(attributes={"visits": 2, "kid_time": "oops"})),
    "kid_time as a list": _file(_record(attributes={"visits": 2, "kid_time": [1, 2]})),
}

#: The first-visit greetings, as plain text.
NEW = {US.text("greeting.new", variant=i) for i in range(len(US.pool("greeting.new")))}


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_damaged_record_starts_fresh_once_and_never_locks_her_out(
    make_skill: Callable[..., Skill], tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    skill = make_skill()
    store = TinyDBPersistenceAdapter(skill.data_dir)
    assert skill.post(E.launch(now=skill.clock())).text in NEW
    assert skill.post(E.launch(now=skill.clock(), user_id=OTHER)).status == 200
    other_before = store.path_for(OTHER).read_bytes()
    outside = tmp_path / "outside.txt"
    outside.write_text("root:x:0:0:not the skill's\n")
    outside_before = (outside.read_bytes(), outside.stat().st_mtime_ns)
    DAMAGE[kind](store.path_for(E.USER_ID), outside)

    opened: list[str] = []
    real_open = os.open

    def watching_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        name = os.fsdecode(path)
        if os.path.isabs(name) and not name.startswith(str(skill.data_dir)):
            opened.append(name)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", watching_open)
    first = skill.post(E.launch(now=skill.clock()))
    second = skill.post(E.launch(now=skill.clock()))
    monkeypatch.undo()

    assert first.status == 200
    notice, _, greeting = (first.text or "").partition(f"{US.text('notice.fresh_start')} ")
    assert notice == "" and greeting in NEW
    assert first.reprompt is not None and not first.ended
    assert second.status == 200 and second.text not in NEW and not second.ended
    assert store.load(E.USER_ID)["visits"] == 2, "both launches were saved on the fresh record"
    [evidence] = store.quarantine.entries()
    assert evidence.user_file == store.path_for(E.USER_ID).name
    assert evidence.path.is_dir() or not evidence.path.is_symlink()
    assert opened == [], "nothing outside the data folder was opened"
    assert (outside.read_bytes(), outside.stat().st_mtime_ns) == outside_before
    assert all(
        b"not the skill's" not in p.read_bytes() for p in skill.data_dir.rglob("*") if p.is_file()
    )
    assert store.path_for(OTHER).read_bytes() == other_before
    again = skill.post(E.launch(now=skill.clock(), user_id=OTHER))
    assert again.text not in NEW and not again.ended


def test_a_request_that_never_loads_the_record_says_nothing(
    make_skill: Callable[..., Skill],
) -> None:
    skill = make_skill()
    skill.post(E.launch(now=skill.clock()))
    path = TinyDBPersistenceAdapter(skill.data_dir).path_for(E.USER_ID)
    path.write_bytes(b"{")
    help_reply = skill.post(E.intent("AMAZON.HelpIntent", now=skill.clock()))
    assert US.text("notice.fresh_start") not in help_reply.text
    launch = skill.post(E.launch(now=skill.clock()))
    assert launch.text.startswith(US.text("notice.fresh_start"))


def test_a_newer_record_is_left_untouched_and_apologised_for(
    make_skill: Callable[..., Skill],
) -> None:
    skill = make_skill()
    skill.post(E.launch(now=skill.clock()))
    path = TinyDBPersistenceAdapter(skill.data_dir).path_for(E.USER_ID)
    content = _record(schema_version=99)
    path.write_bytes(content)
    for _ in range(2):
        reply = skill.post(E.launch(now=skill.clock()))
        assert reply.status == 200 and reply.text == US.text("error.apology")
    assert path.read_bytes() == content
    assert list((skill.data_dir / "corrupt").iterdir()) == []
