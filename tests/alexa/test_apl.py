"""APL screens: the letter and the kid-time countdown, only on devices that can show them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from skill.alexa import visuals
from speech.catalog import load_catalogs
from tests import envelopes as E
from tests.conftest import Reply, Skill

CATALOGS = load_catalogs()
US = CATALOGS.for_locale("en-US")
GB = CATALOGS.for_locale("en-GB")
APL_DIR = Path(visuals.__file__).with_name("apl")
RENDER = "Alexa.Presentation.APL.RenderDocument"


def renders(reply: Reply) -> list[dict[str, Any]]:
    return [d for d in reply.response.get("directives") or [] if d["type"] == RENDER]


def post(skill: Skill, name: str, slots: Any = None, *, apl: bool = True, **kw: Any) -> Reply:
    body = E.intent(name, slots, now=skill.clock(), **kw)
    return skill.post(E.with_system(body, apl=apl))


def walk(node: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair in a JSON tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


# --- the documents ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["letter", "kid_time"])
def test_document_is_apl_with_a_main_template(name: str) -> None:
    document = json.loads((APL_DIR / f"{name}.json").read_text(encoding="utf-8"))
    assert document == visuals.document(name)
    assert document["type"] == "APL" and re.fullmatch(r"\d{4}\.\d", document["version"])
    assert document["mainTemplate"]["parameters"] == ["payload"]
    assert document["mainTemplate"]["items"]


@pytest.mark.parametrize("name", ["letter", "kid_time"])
def test_documents_hold_no_words_only_data_bindings(name: str) -> None:
    texts = [value for key, value in walk(visuals.document(name)) if key == "text"]
    assert texts, "a screen with nothing on it"
    for text in texts:
        assert isinstance(text, str) and text.startswith("${") and text.endswith("}"), text


def test_letter_document_scrolls() -> None:
    kinds = [value for key, value in walk(visuals.document("letter")) if key == "type"]
    assert "ScrollView" in kinds and "Text" in kinds


def test_kid_time_countdown_runs_from_elapsed_time() -> None:
    texts = [value for key, value in walk(visuals.document("kid_time")) if key == "text"]
    countdown = next(t for t in texts if "elapsedTime" in t)
    assert "payload.kidTime.durationMs" in countdown and "Time.format" in countdown
    kinds = {value for key, value in walk(visuals.document("kid_time")) if key == "type"}
    assert "Text" in kinds
    assert not any(key in {"onMount", "commands"} for key, _ in walk(visuals.document("kid_time")))


# --- kid time --------------------------------------------------------------------------------


@pytest.mark.parametrize(("locale", "catalog"), [("en-US", US), ("en-GB", GB)])
def test_kid_time_shows_a_countdown_on_a_screen(skill: Skill, locale: str, catalog: Any) -> None:
    reply = post(skill, "StartKidTimeIntent", {"duration": "PT20M"}, locale=locale)
    (render,) = renders(reply)
    assert render["token"] == visuals.KID_TIME_TOKEN
    assert render["document"] == visuals.document("kid_time")
    data = render["datasources"]["kidTime"]
    assert data["title"] == catalog.text("kidtime.card_title")
    assert data["countdownLabel"] == catalog.text("apl.countdown_label")
    assert reply.card is not None and data["details"] == reply.card["content"]
    assert data["minutes"] == 20 and data["durationMs"] == 20 * 60 * 1000
    assert reply.status == 200 and reply.ended


def test_every_payload_field_the_documents_use_is_in_the_datasources(skill: Skill) -> None:
    kid_time = renders(post(skill, "StartKidTimeIntent"))[0]
    letter = renders(post(skill, "ReadLetterIntent"))[0]
    for render in (kid_time, letter):
        used = set(re.findall(r"payload\.(\w+)\.(\w+)", json.dumps(render["document"])))
        for group, name in used:
            assert name in render["datasources"][group], f"{group}.{name}"


def test_no_screen_no_document(skill: Skill) -> None:
    for name in ("StartKidTimeIntent", "ReadLetterIntent"):
        reply = post(skill, name, apl=False)
        assert reply.status == 200 and not renders(reply)


def test_only_letter_and_kid_time_get_screens(skill: Skill) -> None:
    for name in ("GetStrategyIntent", "HearMantraIntent", "AMAZON.HelpIntent"):
        assert not renders(post(skill, name))


def test_already_running_kid_time_shows_no_new_countdown(skill: Skill) -> None:
    post(skill, "StartKidTimeIntent")
    skill.clock.advance(minutes=3)
    assert not renders(post(skill, "StartKidTimeIntent"))


# --- the letter --------------------------------------------------------------------------------


@pytest.mark.parametrize(("locale", "catalog"), [("en-US", US), ("en-GB", GB)])
def test_letter_on_a_screen_matches_its_card(skill: Skill, locale: str, catalog: Any) -> None:
    reply = post(skill, "ReadLetterIntent", locale=locale)
    (render,) = renders(reply)
    assert render["token"] == visuals.LETTER_TOKEN
    assert render["document"] == visuals.document("letter")
    letter = render["datasources"]["letter"]
    assert reply.card is not None
    assert letter["title"] == reply.card["title"] == catalog.letter.title
    assert "\n\n".join(letter["paragraphs"]) == reply.card["content"].strip()
    for paragraph in catalog.letter.paragraphs:
        assert paragraph in letter["paragraphs"]
    assert not reply.ended, "the letter still offers a strategy"


def test_letter_screen_is_added_once_even_when_read_again(skill: Skill) -> None:
    first = post(skill, "ReadLetterIntent")
    again = post(skill, "ReadLetterIntent", new=False, attributes=first.attributes)
    assert len(renders(again)) == 1
