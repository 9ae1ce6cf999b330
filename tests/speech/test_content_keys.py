"""No dead content: every message in a content file is one the code can say.

An owner edits ``speech/content/<locale>.json`` to change what the skill says; a message that no
handler uses any more would silently change nothing. Keys are found in the code as literals
(``turn.say("kidtime.started")``) or as the fixed start of a built key
(``f"kidtime.adjusted_{...}"``); a ``_named`` pool is the twin of its plain pool.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from speech.catalog import Catalog, load_catalogs

REPO = Path(__file__).resolve().parents[2]
CODE = "\n".join(
    path.read_text(encoding="utf-8")
    for folder in ("skill", "speech")
    for path in sorted((REPO / folder).rglob("*.py"))
)
LITERALS = set(re.findall(r"""["']([a-z_]+(?:\.[a-z_]+)*)["']""", CODE))
BUILT_PREFIXES = tuple(set(re.findall(r"""f["']([a-z_]+\.[a-z_.]*)\{""", CODE)))
CATALOGS = load_catalogs()


def is_used(key: str) -> bool:
    return any(
        name in LITERALS or name.startswith(BUILT_PREFIXES)
        for name in (key, key.removesuffix("_named"))
    )


def test_the_key_finder_sees_literals_and_built_keys() -> None:
    assert is_used("kidtime.started") and is_used("kidtime.adjusted_low")
    assert is_used("greeting.morning_named")
    assert not is_used("no_such.message_anywhere")


@pytest.mark.parametrize("catalog", list(CATALOGS), ids=lambda c: c.locale)
def test_every_message_is_said_somewhere(catalog: Catalog) -> None:
    assert [key for key in catalog.messages if not is_used(key)] == []
