"""Unit tests for content loading (:mod:`speech.catalog`) and composing (:mod:`speech.compose`).

Expectations are derived from the shipped content files, never copied from them.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import string
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from speech import compose, ssml
from speech.catalog import (
    PLURAL_FORMS,
    Catalog,
    Catalogs,
    ContentError,
    default_content_dir,
    load_catalogs,
    parse_catalog,
)
from tests.clock import START

Content = dict[str, dict[str, Any]]


def shipped_content() -> Content:
    """The shipped content files as plain data, by locale (file stem)."""
    folder = default_content_dir()
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(folder.glob("*.json"))
    }


SHIPPED = shipped_content()
CATALOGS = load_catalogs()
ALL = list(CATALOGS)


def write_content(folder: Path, content: Content) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for locale, data in content.items():
        (folder / f"{locale}.json").write_text(json.dumps(data), encoding="utf-8")
    return folder


def changed(tmp_path: Path, change: Callable[[Content], None]) -> Path:
    """A content folder holding the shipped files with one change applied."""
    content = copy.deepcopy(SHIPPED)
    change(content)
    return write_content(tmp_path / "content", content)


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def text_keys(catalog: Catalog) -> list[str]:
    return [k for k, v in catalog.messages.items() if isinstance(v, str)]


def plural_keys(catalog: Catalog) -> list[str]:
    return [k for k, v in catalog.messages.items() if isinstance(v, dict)]


def pool_keys(catalog: Catalog) -> list[str]:
    return [k for k, v in catalog.messages.items() if isinstance(v, list)]


def templates_of(value: object) -> list[str]:
    """Every template of a message: the text, each plural form or each line of a pool."""
    if isinstance(value, str):
        return [value]
    return list(value) if isinstance(value, list) else list(value.values())  # type: ignore[union-attr]


def sample_params(template_names: set[str]) -> dict[str, object]:
    return {name: f"<{name}> & '{name}'" for name in template_names}


# --- loading the shipped content --------------------------------------------------------------


def test_shipped_content_has_the_expected_locales() -> None:
    assert set(SHIPPED) == {"en-US", "en-GB", "en-IN"}
    assert CATALOGS.locales == ("en-GB", "en-IN", "en-US")
    assert CATALOGS.default.locale == "en-US"
    assert sorted(c.locale for c in CATALOGS) == ["en-GB", "en-IN", "en-US"]


def test_shipped_catalogs_match_their_files() -> None:
    for catalog in ALL:
        data = SHIPPED[catalog.locale]
        assert catalog.strategy_ids == tuple(s["id"] for s in data["strategies"])
        assert catalog.letter.paragraphs == tuple(data["letter"]["paragraphs"])
        assert catalog.mantra == data["mantra"]
        assert catalog.activities == tuple(data["activities"])
        assert set(catalog.messages) == set(data["messages"])
        assert catalog.also_for == tuple(data.get("also_for", ()))


def test_shipped_locales_agree_on_keys_and_strategies() -> None:
    us, gb = CATALOGS.for_locale("en-US"), CATALOGS.for_locale("en-GB")
    assert us is not gb
    assert set(us.messages) == set(gb.messages)
    assert us.strategy_ids == gb.strategy_ids
    assert {s.kind for s in us.strategies} <= {"strategy", "shift"}


def test_load_from_an_unchanged_copy(tmp_path: Path) -> None:
    catalogs = load_catalogs(changed(tmp_path, lambda content: None))
    assert catalogs.locales == CATALOGS.locales


def test_load_a_single_locale(tmp_path: Path) -> None:
    folder = write_content(tmp_path / "one", {"en-US": SHIPPED["en-US"]})
    catalogs = load_catalogs(folder)
    assert catalogs.locales == ("en-US",)
    assert catalogs.for_locale("en-GB") is catalogs.default


def test_non_json_files_are_ignored(tmp_path: Path) -> None:
    folder = changed(tmp_path, lambda content: None)
    (folder / "README.md").write_text("not content", encoding="utf-8")
    (folder / "en-US.json.bak").write_text("{", encoding="utf-8")
    assert load_catalogs(folder).locales == CATALOGS.locales


# --- locale fallback --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en-US", "en-US"),
        ("en-GB", "en-GB"),
        ("en-gb", "en-GB"),
        ("EN-US", "en-US"),
        ("en-AU", "en-GB"),
        ("en-IN", "en-IN"),
        ("en-CA", "en-US"),
        ("de-DE", "en-US"),
        ("", "en-US"),
        ("en", "en-US"),
        (None, "en-US"),
        (42, "en-US"),
        (["en-GB"], "en-US"),
    ],
)
def test_locale_fallback(locale: object, expected: str) -> None:
    assert CATALOGS.for_locale(locale).locale == expected


def test_aliases_follow_the_content_files() -> None:
    for locale, data in SHIPPED.items():
        for alias in data.get("also_for", []):
            assert CATALOGS.for_locale(alias).locale == locale


def test_default_locale_can_be_chosen() -> None:
    catalogs = load_catalogs(default_locale="en-GB")
    assert catalogs.default.locale == "en-GB"
    assert catalogs.for_locale("de-DE").locale == "en-GB"
    assert catalogs.for_locale("en-CA").locale == "en-US"


def test_a_real_locale_beats_another_files_alias(tmp_path: Path) -> None:
    def claim_us(content: Content) -> None:
        content["en-GB"]["also_for"] = [*content["en-GB"].get("also_for", []), "en-US", "en-NZ"]

    catalogs = load_catalogs(changed(tmp_path, claim_us))
    assert catalogs.for_locale("en-US").locale == "en-US"
    assert catalogs.for_locale("en-NZ").locale == "en-GB"


def test_catalogs_requires_the_default_locale() -> None:
    with pytest.raises(ContentError, match="default locale fr-FR"):
        Catalogs({c.locale: c for c in ALL}, "fr-FR")


# --- text, say and plurals --------------------------------------------------------------------


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_text_fills_placeholders(catalog: Catalog) -> None:
    for key in text_keys(catalog):
        template = catalog.messages[key]
        assert isinstance(template, str)
        params = {name: f"[{name.upper()}]" for name in placeholders(template)}
        expected = template
        for name, value in params.items():
            expected = expected.replace("{" + name + "}", value)
        assert catalog.text(key, **params) == expected
        assert "{" not in catalog.text(key, **params)


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_say_is_escaped_text_for_every_message(catalog: Catalog) -> None:
    for key, value in catalog.messages.items():
        templates = templates_of(value)
        names = set().union(*(placeholders(t) for t in templates))
        for count, variant in [(1, 0), (2, len(templates) - 1)]:
            params = sample_params(names) | ({"count": count} if "count" in names else {})
            said = catalog.say(key, variant=variant, **params)
            assert said == ssml.escape(catalog.text(key, variant=variant, **params))
            root = ET.fromstring(ssml.speak(said))
            assert len(root) == 0  # no markup from content or parameters
            assert root.text == catalog.text(key, variant=variant, **params)


def test_say_escapes_apostrophes_in_the_content() -> None:
    catalog = CATALOGS.default
    key = next(k for k in text_keys(catalog) if "'" in str(catalog.messages[k]))
    assert "'" not in catalog.say(key, **sample_params(placeholders(str(catalog.messages[key]))))
    assert "&apos;" in catalog.say(key, **sample_params(placeholders(str(catalog.messages[key]))))


def test_say_escapes_a_hostile_slot_value() -> None:
    slot = '<audio src="x"/> & co'
    for catalog in ALL:
        key = next(k for k in text_keys(catalog) if placeholders(str(catalog.messages[k])))
        name = sorted(placeholders(str(catalog.messages[key])))[0]
        params: dict[str, object] = {n: "x" for n in placeholders(str(catalog.messages[key]))}
        params[name] = slot
        said = catalog.say(key, **params)
        assert slot not in said
        assert ssml.escape(slot) in said
        assert "&lt;audio src=&quot;x&quot;/&gt; &amp; co" in said
        root = ET.fromstring(ssml.speak(said))
        assert root.find("audio") is None
        assert slot in (root.text or "")


@given(st.text(max_size=60))
def test_say_property_any_parameter_is_safe(value: str) -> None:
    catalog = CATALOGS.default
    key = "strategy.unknown_topic"
    assert key in catalog.messages
    assert catalog.say(key, topic=value) == ssml.escape(catalog.text(key, topic=value))
    assert ssml.to_plain_text(ssml.speak(catalog.say(key, topic=value))).count("<") == (
        catalog.text(key, topic=value).count("<")
    )


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_plural_selection_by_count(catalog: Catalog) -> None:
    keys = plural_keys(catalog)
    assert keys, "the shipped content has plural messages"
    for key in keys:
        forms = catalog.messages[key]
        assert not isinstance(forms, str)
        assert set(forms) == set(PLURAL_FORMS)
        names = placeholders(forms["one"]) | placeholders(forms["other"])
        extra = {n: f"[{n}]" for n in names - {"count"}}
        for count, form in [(1, "one"), (0, "other"), (2, "other"), (11, "other"), (21, "other")]:
            params = {"count": count, **extra}
            expected = forms[form].format_map({k: str(v) for k, v in params.items()})
            assert catalog.text(key, **params) == expected
            assert catalog.say(key, **params) == ssml.escape(expected)


def test_plural_count_must_equal_one_for_the_one_form() -> None:
    catalog = CATALOGS.default
    key = next(k for k in plural_keys(catalog) if placeholders(catalog.messages[k]["other"]))
    forms = catalog.messages[key]
    assert catalog.text(key, count=1.0) == forms["one"].format(count="1.0")
    assert catalog.text(key, count=-1) == forms["other"].format(count="-1")


def test_unknown_key_and_missing_placeholder_raise_key_error() -> None:
    catalog = CATALOGS.default
    with pytest.raises(KeyError):
        catalog.say("no.such.message")
    key = next(k for k in text_keys(catalog) if placeholders(str(catalog.messages[k])))
    with pytest.raises(KeyError):
        catalog.say(key)


def test_strategy_lookup() -> None:
    for catalog in ALL:
        for strategy_id in catalog.strategy_ids:
            assert catalog.strategy(strategy_id).id == strategy_id
        with pytest.raises(KeyError):
            catalog.strategy("no-such-strategy")


# --- validation errors ------------------------------------------------------------------------


def first_key(content: Content, *, kind: type, with_placeholder: bool = False) -> str:
    """The first message of a kind that no ``answers`` entry names (so removing it is only a
    missing message, not also an answer for an unknown one)."""
    answered = set(content["en-US"]["answers"])
    for key, value in content["en-US"]["messages"].items():
        if (
            key not in answered
            and isinstance(value, kind)
            and (not with_placeholder or (isinstance(value, str) and placeholders(value)))
        ):
            return key
    raise AssertionError("no such message in the shipped content")


def test_missing_message_key_in_one_locale(tmp_path: Path) -> None:
    key = first_key(SHIPPED, kind=str)
    folder = changed(tmp_path, lambda c: c["en-GB"]["messages"].pop(key))
    with pytest.raises(ContentError, match="message keys differ") as info:
        load_catalogs(folder)
    assert key in str(info.value)
    assert "en-GB" in str(info.value)


def test_extra_message_key_in_one_locale(tmp_path: Path) -> None:
    folder = changed(tmp_path, lambda c: c["en-GB"]["messages"].update({"only.here": "Hi."}))
    with pytest.raises(ContentError, match=r"message keys differ: only\.here"):
        load_catalogs(folder)


def test_different_placeholder_in_one_locale(tmp_path: Path) -> None:
    key = first_key(SHIPPED, kind=str, with_placeholder=True)
    name = sorted(placeholders(SHIPPED["en-US"]["messages"][key]))[0]

    def rename(content: Content) -> None:
        messages = content["en-GB"]["messages"]
        messages[key] = messages[key].replace("{" + name + "}", "{renamed_" + name + "}")

    with pytest.raises(ContentError, match="differs in form or placeholders") as info:
        load_catalogs(changed(tmp_path, rename))
    assert f"'{key}'" in str(info.value)


def test_text_in_one_locale_plural_in_another(tmp_path: Path) -> None:
    key = first_key(SHIPPED, kind=dict)

    def flatten(content: Content) -> None:
        content["en-GB"]["messages"][key] = content["en-GB"]["messages"][key]["other"]

    with pytest.raises(ContentError, match="differs in form or placeholders") as info:
        load_catalogs(changed(tmp_path, flatten))
    assert key in str(info.value)


@pytest.mark.parametrize(
    "bad_plural",
    [
        {"one": "One."},
        {"one": "One.", "other": "Many.", "few": "A few."},
        {"one": "One.", "many": "Many."},
        {"one": "One.", "other": ""},
        {"one": "One.", "other": 2},
        {},
        "   ",
        None,
    ],
)
def test_wrong_plural_shape(tmp_path: Path, bad_plural: object) -> None:
    key = first_key(SHIPPED, kind=dict)
    folder = changed(tmp_path, lambda c: c["en-GB"]["messages"].__setitem__(key, bad_plural))
    with pytest.raises(ContentError, match="a message must be non-empty text") as info:
        load_catalogs(folder)
    assert f"en-GB.json messages.{key}" in str(info.value)


def test_unknown_strategy_kind(tmp_path: Path) -> None:
    folder = changed(tmp_path, lambda c: c["en-US"]["strategies"][1].update(kind="tip"))
    with pytest.raises(ContentError, match="kind must be one of strategy, shift") as info:
        load_catalogs(folder)
    assert "en-US.json strategies[1]" in str(info.value)


def test_duplicate_strategy_id(tmp_path: Path) -> None:
    def duplicate(content: Content) -> None:
        strategies = content["en-GB"]["strategies"]
        strategies[2]["id"] = strategies[0]["id"]

    with pytest.raises(ContentError, match="strategy ids must be unique") as info:
        load_catalogs(changed(tmp_path, duplicate))
    assert "en-GB.json" in str(info.value)


def test_strategy_ids_differ_between_locales(tmp_path: Path) -> None:
    def rename(content: Content) -> None:
        gb = content["en-GB"]
        old = gb["strategies"][0]["id"]
        gb["strategies"][0]["id"] = "renamed"
        for trigger in gb["triggers"]:  # keep en-GB consistent in itself
            trigger["leans_to"] = ["renamed" if s == old else s for s in trigger["leans_to"]]

    with pytest.raises(ContentError, match="strategy ids or kinds differ"):
        load_catalogs(changed(tmp_path, rename))


def test_trigger_naming_an_unknown_strategy(tmp_path: Path) -> None:
    folder = changed(tmp_path, lambda c: c["en-GB"]["triggers"][0].update(leans_to=["nope"]))
    with pytest.raises(ContentError, match="unknown strategies: nope"):
        load_catalogs(folder)


def test_triggers_differ_between_locales(tmp_path: Path) -> None:
    folder = changed(tmp_path, lambda c: c["en-GB"]["triggers"].reverse())
    with pytest.raises(ContentError, match="guilt trigger ids or their strategies differ"):
        load_catalogs(folder)


def test_strategy_order_differs_between_locales(tmp_path: Path) -> None:
    folder = changed(tmp_path, lambda c: c["en-GB"]["strategies"].reverse())
    with pytest.raises(ContentError, match="strategy ids or kinds differ"):
        load_catalogs(folder)


def test_strategy_kind_differs_between_locales(tmp_path: Path) -> None:
    def flip(content: Content) -> None:
        first = content["en-GB"]["strategies"][0]
        first["kind"] = "shift" if first["kind"] == "strategy" else "strategy"

    with pytest.raises(ContentError, match="strategy ids or kinds differ"):
        load_catalogs(changed(tmp_path, flip))


def test_file_locale_not_matching_its_name(tmp_path: Path) -> None:
    folder = changed(tmp_path, lambda c: c["en-GB"].update(locale="en-AU"))
    with pytest.raises(
        ContentError, match=re.escape("en-GB.json: says locale 'en-AU', expected en-GB")
    ):
        load_catalogs(folder)


@pytest.mark.parametrize(
    "raw",
    [b"{", b"", b'{"locale": "en-GB",}', b"\xff\xfe not utf-8 \x80"],
    ids=["truncated", "empty", "trailing-comma", "not-utf8"],
)
def test_unreadable_json(tmp_path: Path, raw: bytes) -> None:
    folder = changed(tmp_path, lambda c: None)
    (folder / "en-GB.json").write_bytes(raw)
    with pytest.raises(ContentError, match=r"en-GB\.json: cannot be read as JSON"):
        load_catalogs(folder)


def test_json_that_is_not_an_object(tmp_path: Path) -> None:
    folder = changed(tmp_path, lambda c: None)
    (folder / "en-GB.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(
        ContentError, match=re.escape("en-GB.json: the file must hold a JSON object")
    ):
        load_catalogs(folder)


def test_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="no content files in") as info:
        load_catalogs(tmp_path)
    assert str(tmp_path) in str(info.value)


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="no content files"):
        load_catalogs(tmp_path / "nope")


def test_default_locale_without_a_file(tmp_path: Path) -> None:
    folder = write_content(tmp_path / "gb", {"en-GB": SHIPPED["en-GB"]})
    with pytest.raises(ContentError, match="no content for the default locale en-US"):
        load_catalogs(folder)


@pytest.mark.parametrize("key", ["mantra", "letter", "strategies", "messages", "activities"])
def test_missing_required_key(tmp_path: Path, key: str) -> None:
    folder = changed(tmp_path, lambda c: c["en-US"].pop(key))
    with pytest.raises(ContentError, match=re.escape(f"en-US.json: missing {key}")):
        load_catalogs(folder)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["letter"].update(paragraphs=[]), "letter paragraphs: must be a non-empty"),
        (lambda d: d["letter"].update(paragraphs=["ok", " "]), "every item must be non-empty"),
        (lambda d: d["letter"].pop("signature"), "letter: 'signature' must be non-empty text"),
        (lambda d: d.update(letter="Dear you"), "'letter' must be an object"),
        (lambda d: d.update(mantra=""), "'mantra' must be non-empty text"),
        (lambda d: d.update(activities=[]), "activities: must be a non-empty list"),
        (lambda d: d.update(messages={}), "'messages' must be a non-empty object"),
        (lambda d: d.update(strategies=[]), "'strategies' must be a non-empty list of objects"),
        (lambda d: d["strategies"][0].pop("try_now"), "'try_now' must be non-empty text"),
        (lambda d: d["strategies"][0].update(paragraphs="x"), "paragraphs: must be a non-empty"),
        (lambda d: d["causes"].append("text"), "'causes' must be a non-empty list of objects"),
        (lambda d: d["first_steps"][0].update(title=3), "first_steps[0]: 'title' must be"),
        (lambda d: d.update(also_for=["en-AU", 5]), "also_for: every item must be non-empty"),
    ],
)
def test_invalid_content_is_reported_where_it_is(
    change: Callable[[dict[str, Any]], None], message: str
) -> None:
    data = copy.deepcopy(SHIPPED["en-GB"])
    change(data)
    with pytest.raises(ContentError, match=r"^en-GB\.json") as info:
        parse_catalog(data, "en-GB.json")
    assert message in str(info.value)


def test_content_error_is_a_value_error() -> None:
    assert issubclass(ContentError, ValueError)


# --- compose ----------------------------------------------------------------------------------


def all_ssml(catalog: Catalog) -> dict[str, str]:
    """Every SSML document the compose module can make for a catalog."""
    documents = dict(compose.speakable(catalog))
    for minutes in (5, 15, 60):
        for i, activity in enumerate(catalog.activities):
            body = compose.kid_time_ssml(catalog, minutes, activity)
            documents[f"kid-time-{minutes}-{i}"] = ssml.speak(body)
    return documents


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_speakable_names_every_long_piece(catalog: Catalog) -> None:
    names = set(compose.speakable(catalog))
    assert names == {"letter", "letter-short", "mantra", "kid-time", "first-steps", "causes"} | {
        f"strategy-{i}" for i in catalog.strategy_ids
    }


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_every_document_is_well_formed_and_short_enough(catalog: Catalog) -> None:
    for name, document in all_ssml(catalog).items():
        try:
            root = ET.fromstring(document)
        except ET.ParseError as exc:  # pragma: no cover - the message says which one
            pytest.fail(f"{catalog.locale} {name}: {exc}")
        assert root.tag == "speak", name
        assert len(document) < ssml.MAX_SPEECH_CHARS, f"{catalog.locale} {name}: {len(document)}"
        assert ssml.to_plain_text(document).strip(), name


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_letter_ssml(catalog: Catalog) -> None:
    letter = catalog.letter
    body = compose.letter_ssml(catalog)
    root = ET.fromstring(ssml.speak(body))
    prosodies = root.findall("prosody")
    assert [p.attrib.get("rate") for p in prosodies] == [compose.LETTER_RATE]
    children = list(prosodies[0])
    spoken = [c for c in children if c.tag == "p"]
    expected = [letter.greeting, *letter.paragraphs, f"{letter.closing} {letter.signature}"]
    # Every paragraph is there, sentence by sentence, each sentence an <s>.
    assert [[s.text for s in p.findall("s")] for p in spoken] == [
        compose.sentences(text) for text in expected
    ]
    # Paragraphs and breaks alternate: p, break, p, break, ..., p.
    assert [c.tag for c in children] == ["p", "break"] * (len(spoken) - 1) + ["p"]
    gaps = {c.attrib["time"] for c in children if c.tag == "break"}
    assert gaps == {f"{compose.LETTER_PARAGRAPH_PAUSE_MS}ms"}
    # Inside a paragraph, sentences and sentence pauses alternate.
    for paragraph in spoken:
        tags = [c.tag for c in paragraph]
        assert tags == ["s", "break"] * (len(tags) // 2) + ["s"], tags
        assert {c.attrib["time"] for c in paragraph if c.tag == "break"} <= {
            f"{compose.LETTER_SENTENCE_PAUSE_MS}ms"
        }
    # The intro comes first, before a pause.
    assert body.startswith(catalog.say("letter.intro"))
    assert root.find("break") is not None


def test_letter_pauses_are_the_issue_pacing() -> None:
    # At least 0.7 s after every sentence; about 2 s between paragraphs (offline: the break plus
    # the paragraph's own pause), every break within Alexa's 10 s.
    from speech.segments import PARAGRAPH_PAUSE_MS

    assert compose.LETTER_SENTENCE_PAUSE_MS >= 700
    assert 1800 <= compose.LETTER_PARAGRAPH_PAUSE_MS + PARAGRAPH_PAUSE_MS <= 2200
    assert compose.LETTER_PARAGRAPH_PAUSE_MS <= ssml.MAX_BREAK_MS


def test_letter_greets_her_by_name_when_known() -> None:
    catalog = CATALOGS.for_locale("en-US")
    named = ET.fromstring(ssml.speak(compose.letter_ssml(catalog, "Ana")))
    first = named.find("prosody/p/s")
    assert first is not None and first.text == catalog.text("letter.greeting_named", name="Ana")
    plain = ET.fromstring(ssml.speak(compose.letter_ssml(catalog)))
    first = plain.find("prosody/p/s")
    assert first is not None and first.text == catalog.letter.greeting


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_letter_plain_text_and_card(catalog: Catalog) -> None:
    letter = catalog.letter
    plain = ssml.to_plain_text(ssml.speak(compose.letter_ssml(catalog)))
    blocks = plain.split("\n\n")
    assert blocks[-len(letter.paragraphs) - 1 : -1] == list(letter.paragraphs)
    card = compose.letter_text(catalog)
    assert card.split("\n\n") == [
        letter.greeting,
        *letter.paragraphs,
        f"{letter.closing}\n{letter.signature}",
    ]


def test_letter_with_markup_characters_is_escaped() -> None:
    data = copy.deepcopy(SHIPPED["en-US"])
    tricky = 'Love & kisses <3, "mum\'s" word > all'
    data["letter"]["paragraphs"][0] = tricky
    catalog = parse_catalog(data, "en-US.json")
    body = compose.letter_ssml(catalog)
    assert ssml.escape(tricky) in body
    root = ET.fromstring(ssml.speak(body))
    assert tricky in [s.text for s in root.iter("s")]


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_strategy_brief_leads_with_the_one_thing_to_try(catalog: Catalog) -> None:
    for strategy in catalog.strategies:
        body = compose.strategy_brief_ssml(catalog, strategy)
        intro = catalog.say(f"strategy.intro_{strategy.kind}", title=strategy.title)
        assert body.startswith(intro)
        rest = body[len(intro) :]
        # Title, then the step for today, then why; none of the long paragraphs.
        assert rest.index(ssml.escape(strategy.try_now)) < rest.index(ssml.escape(strategy.why))
        assert not any(ssml.escape(p) in body for p in strategy.paragraphs)
        assert compose.strategy_ssml(catalog, strategy) == body


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_strategy_brief_after_a_note_does_not_say_here_is_twice(catalog: Catalog) -> None:
    strategy = catalog.strategies[0]
    body = compose.strategy_brief_ssml(catalog, strategy, after_note=True)
    assert body.startswith(catalog.say("strategy.intro_after_note", title=strategy.title))
    assert catalog.say(f"strategy.intro_{strategy.kind}", title=strategy.title) not in body


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_strategy_full_ssml_has_every_paragraph(catalog: Catalog) -> None:
    for strategy in catalog.strategies:
        body = compose.strategy_full_ssml(catalog, strategy)
        assert body.startswith(catalog.say(f"strategy.intro_{strategy.kind}", title=strategy.title))
        root = ET.fromstring(ssml.speak(body))
        texts = [p.text for p in root.findall("p")]
        assert texts == [
            *strategy.paragraphs,
            catalog.text("strategy.try_now", try_now=strategy.try_now),
        ]


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_strategy_more_pages_through_the_paragraphs(catalog: Catalog) -> None:
    strategy = catalog.strategies[1]
    pages = [compose.strategy_more_ssml(catalog, strategy, i) for i in range(3)]
    assert compose.strategy_pages(strategy) == len(strategy.paragraphs) == 2
    assert ssml.escape(strategy.paragraphs[0]) in pages[0]
    assert pages[0].endswith(catalog.say("strategy.more_continue"))
    assert ssml.escape(strategy.paragraphs[1]) in pages[1]
    assert pages[1].endswith(catalog.say("strategy.offer_next"))
    assert pages[2] == pages[1], "a page past the end stays on the last one"


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_strategy_text(catalog: Catalog) -> None:
    for strategy in catalog.strategies:
        card = compose.strategy_text(catalog, strategy)
        blocks = card.split("\n\n")
        assert blocks[:-1] == list(strategy.paragraphs)
        assert strategy.try_now in blocks[-1]


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_mantra_ssml(catalog: Catalog) -> None:
    body = compose.mantra_ssml(catalog)
    root = ET.fromstring(ssml.speak(body))
    prosodies = root.findall("prosody")
    assert [p.text for p in prosodies] == [catalog.mantra, catalog.mantra]
    assert all(p.attrib["rate"] == compose.LETTER_RATE for p in prosodies)
    times = [b.attrib["time"] for b in root.findall("break")]
    assert f"{compose.MANTRA_PAUSE_MS}ms" in times
    assert body.index(catalog.say("mantra.intro")) < body.index(catalog.say("mantra.again"))


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_kid_time_ssml(catalog: Catalog) -> None:
    activity = catalog.activities[-1]
    body = compose.kid_time_ssml(catalog, 25, activity)
    assert catalog.say("kidtime.started", minutes=25) in body
    assert ssml.escape(activity) in body
    assert body.endswith(catalog.say("kidtime.how_to_end"))
    hostile = compose.kid_time_ssml(catalog, 25, '<audio src="x"/> & co')
    root = ET.fromstring(ssml.speak(hostile))
    assert len(root) == 0


# --- pools, brief topics, affirmations and answers in the content ---------------------------


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_pools_pick_a_line_by_variant(catalog: Catalog) -> None:
    keys = pool_keys(catalog)
    assert "greeting.new" in keys and "bad_day.comfort" in keys
    for key in keys:
        lines = catalog.pool(key)
        params = sample_params(set().union(*(placeholders(t) for t in lines)))
        said = [catalog.text(key, variant=i, **params) for i in range(len(lines))]
        assert len(set(said)) == len(lines), key
        # Out-of-range variants wrap round instead of failing mid-conversation.
        assert catalog.text(key, variant=len(lines), **params) == said[0]
        assert catalog.text(key, **params) == said[0]
    assert catalog.pool("help") == (catalog.messages["help"],)


def test_pool_shape_is_validated(tmp_path: Path) -> None:
    cases: list[tuple[object, str]] = [
        (["Hello.", "Hello."], "same line twice"),
        (["Hello {name}.", "Hello."], "same placeholders"),
        (["Hello.", " "], "every item must be non-empty"),
        ([], "must be a non-empty list"),
    ]
    for bad, message in cases:
        data = copy.deepcopy(SHIPPED["en-GB"])
        data["messages"]["greeting.new"] = bad
        with pytest.raises(ContentError, match=message):
            parse_catalog(data, "en-GB.json")


def test_pools_may_differ_in_size_between_locales(tmp_path: Path) -> None:
    def longer(content: Content) -> None:
        content["en-GB"]["messages"]["greeting.ask"].append("Anything I can do for you?")

    catalogs = load_catalogs(changed(tmp_path, longer))
    gb, us = catalogs.for_locale("en-GB"), catalogs.for_locale("en-US")
    assert len(gb.pool("greeting.ask")) == len(us.pool("greeting.ask")) + 1


def test_a_pool_in_one_locale_and_text_in_another_is_an_error(tmp_path: Path) -> None:
    def flatten(content: Content) -> None:
        content["en-GB"]["messages"]["greeting.ask"] = "What would you like?"

    with pytest.raises(ContentError, match=r"message 'greeting\.ask' differs"):
        load_catalogs(changed(tmp_path, flatten))


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_topics_have_a_brief_line_and_a_detail(catalog: Catalog) -> None:
    for topic in (*catalog.causes, *catalog.first_steps):
        assert len(topic.text.split()) < len(topic.detail.split()), topic.id
    for strategy in catalog.strategies:
        assert strategy.why not in strategy.paragraphs


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["causes"][0].pop("detail"), "causes[0]: 'detail' must be non-empty text"),
        (lambda d: d["strategies"][2].pop("why"), "strategies[2]: 'why' must be non-empty text"),
        (lambda d: d.update(affirmations=["Be kind."] * 40), "different affirmations"),
        (lambda d: d.update(affirmations=d["affirmations"][:5]), "at least 31"),
        (lambda d: d.update(answers=[]), "'answers' must be an object"),
        (lambda d: d["answers"].update({"no.such": ["yes"]}), "unknown messages: no.such"),
        (lambda d: d["answers"].update({"help": []}), "answers.help: must be a non-empty"),
        (lambda d: d.pop("affirmations"), "missing affirmations"),
    ],
)
def test_new_content_is_validated(change: Callable[[dict[str, Any]], None], message: str) -> None:
    data = copy.deepcopy(SHIPPED["en-US"])
    change(data)
    with pytest.raises(ContentError, match=r"^en-US\.json") as info:
        parse_catalog(data, "en-US.json")
    assert message in str(info.value)


def test_answers_must_cover_the_same_messages_in_every_locale(tmp_path: Path) -> None:
    folder = changed(tmp_path, lambda c: c["en-GB"]["answers"].pop("bad_day.offer"))
    with pytest.raises(ContentError, match="answers are declared for different messages"):
        load_catalogs(folder)


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_shipped_affirmations_and_answers_load(catalog: Catalog) -> None:
    data = SHIPPED[catalog.locale]
    assert catalog.affirmations == tuple(data["affirmations"])
    assert len(catalog.affirmations) >= AFFIRMATION_MINIMUM
    assert {k: list(v) for k, v in catalog.answers.items()} == data["answers"]


AFFIRMATION_MINIMUM = 31


# --- compose: brief causes and first steps ----------------------------------------------------


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_causes_brief_and_detail(catalog: Catalog) -> None:
    body = compose.causes_brief_ssml(catalog)
    assert body.startswith(catalog.say("causes.intro"))
    assert body.endswith(catalog.say("causes.outro"))
    for cause in catalog.causes:
        assert ssml.escape(cause.text) in body and ssml.escape(cause.detail) not in body
    pages = [compose.cause_detail_ssml(catalog, i) for i in range(len(catalog.causes))]
    for cause, page in zip(catalog.causes, pages, strict=True):
        assert ssml.escape(cause.detail) in page
    assert all(p.endswith(catalog.say("causes.offer_next")) for p in pages[:-1])
    assert pages[-1].endswith(catalog.say("menu.reprompt"))
    card = compose.causes_text(catalog)
    assert all(c.detail in card for c in catalog.causes)


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_first_steps_brief_and_detail(catalog: Catalog) -> None:
    body = compose.first_steps_brief_ssml(catalog)
    assert body.startswith(catalog.say("first_steps.intro"))
    steps = catalog.first_steps
    positions = [body.index(ssml.escape(s.text)) for s in steps]
    assert positions == sorted(positions)
    first = compose.first_step_detail_ssml(catalog, 0)
    assert ssml.escape(steps[0].detail) in first
    assert first.endswith(catalog.say("first_steps.offer_next"))
    card = compose.first_steps_text(catalog)
    assert [block.split(". ", 1)[0] for block in card.split("\n\n")] == [s.title for s in steps]


# --- compose: kid time and the week, kindly ---------------------------------------------------


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_kid_time_just_started_never_says_zero_minutes(catalog: Catalog) -> None:
    for minutes in (0, -1):
        assert "0" not in compose.kid_time_elapsed_text(catalog, minutes)
        assert "0" not in ssml.to_plain_text(compose.kid_time_running_ssml(catalog, minutes))
    assert compose.kid_time_elapsed_text(catalog, 1) == catalog.text("kidtime.elapsed", count=1)
    assert "12" in compose.kid_time_elapsed_text(catalog, 12)
    assert compose.kid_time_running_ssml(catalog, 7) == catalog.say(
        "kidtime.already_running", count=7
    )


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_week_summary_knows_about_running_kid_time(catalog: Catalog) -> None:
    none = compose.week_summary_ssml(catalog, 0, 0)
    running = compose.week_summary_ssml(catalog, 0, 0, running_minutes=3)
    assert none == catalog.say("summary.none")
    assert running == catalog.say("summary.none_running") and running != none
    busy = compose.week_summary_ssml(catalog, 5, 80, streak_days=3, running_minutes=2)
    assert catalog.say("summary.running_now") in busy
    assert catalog.say("summary.streak", count=3) in busy


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_a_short_week_hears_that_it_counts(catalog: Catalog) -> None:
    short_line = catalog.say("summary.short_week")
    for sessions in range(1, compose.SHORT_WEEK_SESSIONS + 1):
        assert short_line in compose.week_summary_ssml(catalog, sessions, 10 * sessions)
    assert short_line not in compose.week_summary_ssml(catalog, 4, 60)


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_summary_never_uses_pressure_words(catalog: Catalog) -> None:
    keys = [k for k in catalog.messages if k.startswith(("summary.", "kidtime.done"))]
    pressure = re.compile(r"\b(streak|keep it going|don't break|broke|missed|only)\b", re.I)
    for key in keys:
        for template in templates_of(catalog.messages[key]):
            assert not pressure.search(template), f"{catalog.locale} {key}: {template}"


# --- compose: variety --------------------------------------------------------------------------


class FixedRng:
    """A stand-in ``random.Random`` whose ``randrange`` answers from a script."""

    def __init__(self, *answers: int) -> None:
        self.answers = list(answers)

    def randrange(self, stop: int) -> int:
        answer = self.answers.pop(0)
        assert 0 <= answer < stop
        return answer


def test_pick_variant_never_repeats_the_last_line() -> None:
    import random

    rng = random.Random(7)
    pool = ["a", "b", "c", "d"]
    last: int | None = None
    picks = []
    for _ in range(200):
        pick = compose.pick_variant(pool, last, rng)
        assert pick != last and 0 <= pick < len(pool)
        picks.append(pick)
        last = pick
    assert set(picks) == {0, 1, 2, 3}


def test_pick_variant_edges() -> None:
    # The draw skips over the last index: drawing 1 after 1 gives 2.
    assert compose.pick_variant("abcd", 1, FixedRng(1)) == 2  # type: ignore[arg-type]
    assert compose.pick_variant("abcd", 1, FixedRng(0)) == 0  # type: ignore[arg-type]
    assert compose.pick_variant("abcd", 3, FixedRng(2)) == 2  # type: ignore[arg-type]
    assert compose.pick_variant(["only"], 0, FixedRng()) == 0  # type: ignore[arg-type]
    assert compose.pick_variant("abcd", 9, FixedRng(3)) == 3  # type: ignore[arg-type]
    assert compose.pick_variant("abcd", None, FixedRng(1)) == 1  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="empty pool"):
        compose.pick_variant([], None, FixedRng())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("hour", "expected"),
    [
        (0, "late_night"),
        (4, "late_night"),
        (5, "morning"),
        (11, "morning"),
        (12, "afternoon"),
        (16, "afternoon"),
        (17, "evening"),
        (21, "evening"),
        (22, "late_night"),
        (23, "late_night"),
    ],
)
def test_time_of_day(hour: int, expected: str) -> None:
    assert compose.time_of_day(hour) == expected


def test_greeting_key_priorities() -> None:
    key = compose.greeting_key
    assert key(is_new=True, hour=9, kid_time_running=True) == "greeting.new"
    assert key(is_new=False, hour=9, kid_time_running=True, has_focus=True) == (
        "greeting.kid_time_running"
    )
    assert key(is_new=False, hour=9, has_focus=True, days_away=60) == "greeting.focus"
    assert key(is_new=False, hour=9, days_away=compose.LONG_GAP_DAYS) == "greeting.long_gap"
    assert key(is_new=False, hour=9, days_away=compose.LONG_GAP_DAYS - 1) == "greeting.morning"
    assert key(is_new=False, hour=23) == "greeting.late_night"


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_greeting_uses_her_name_and_where_she_is(catalog: Catalog) -> None:
    named = compose.greeting_ssml(catalog, "greeting.evening", 1, ask_variant=2, name="Ana")
    assert "Ana" in named
    assert named.endswith(catalog.say("greeting.ask", variant=2))
    plain = compose.greeting_ssml(catalog, "greeting.evening", 1, ask_variant=2)
    assert plain.startswith(catalog.say("greeting.evening", variant=1))
    focus = compose.greeting_ssml(catalog, "greeting.focus", 0, focus_title="Clear work hours")
    assert "Clear work hours" in focus and focus.endswith("?")
    kid = compose.greeting_ssml(catalog, "greeting.kid_time_running", 2, kid_time_minutes=0)
    assert ssml.escape(catalog.text("kidtime.elapsed_just_started")) in kid
    new = compose.greeting_ssml(catalog, "greeting.new", 3)
    assert new == catalog.say("greeting.new", variant=3)
    hostile = compose.greeting_ssml(catalog, "greeting.morning", 0, name="<b>Ana</b>")
    assert "<b>" not in hostile


def test_five_launches_give_at_least_three_greetings() -> None:
    import random

    catalog = CATALOGS.default
    rng = random.Random(11)
    last: dict[str, int] = {}
    said = []
    for _ in range(5):
        key = compose.greeting_pool_key("greeting.morning", "Ana")
        opener = compose.pick_variant(catalog.pool(key), last.get(key), rng)
        ask = compose.pick_variant(catalog.pool("greeting.ask"), last.get("ask"), rng)
        last[key], last["ask"] = opener, ask
        said.append(
            compose.greeting_ssml(catalog, "greeting.morning", opener, ask_variant=ask, name="Ana")
        )
    assert all(a != b for a, b in itertools.pairwise(said))
    assert len(set(said)) >= 3


# --- compose: the daily affirmation ------------------------------------------------------------


def days(start: date, count: int) -> list[date]:
    return [start + timedelta(days=i) for i in range(count)]


def test_affirmation_never_repeats_within_thirty_days() -> None:
    count = len(CATALOGS.default.affirmations)
    history: list[tuple[date, int]] = []
    given_on: dict[date, int] = {}
    for today in days(START.date(), 120):
        index = compose.todays_affirmation(count, today, history, salt=5)
        given_on[today] = index
        stored = compose.remember_affirmation(history, today, index)
        history = compose.parse_affirmation_history(stored)
        assert len(history) <= compose.AFFIRMATION_NO_REPEAT_DAYS
    for day, index in given_on.items():
        window = [given_on[d] for d in days(day - timedelta(days=29), 29) if d in given_on]
        assert index not in window, f"{day}: repeated within 30 days"


def test_affirmation_is_stable_for_the_day_and_varies_by_user() -> None:
    today = START.date()
    first = compose.todays_affirmation(40, today, [])
    assert compose.todays_affirmation(40, today, [(today, first)]) == first
    assert compose.todays_affirmation(40, today, [(today, 99)]) != 99
    salted = {compose.todays_affirmation(40, today, [], salt=s) for s in range(10)}
    assert len(salted) > 1


def test_affirmation_when_every_one_was_recent_takes_the_oldest() -> None:
    today = START.date()
    history = [(today - timedelta(days=d), d - 1) for d in range(1, 4)]  # indexes 0, 1, 2
    assert compose.todays_affirmation(3, today, history) == 2
    with pytest.raises(ValueError, match="no affirmations"):
        compose.todays_affirmation(0, today, [])


def test_affirmation_history_tolerates_bad_stored_data() -> None:
    stored = [
        {"date": "2026-12-01", "index": 3},
        {"date": "yesterday", "index": 1},
        {"date": "2026-11-30", "index": "2"},
        {"date": "2026-11-29", "index": True},
        "junk",
        None,
    ]
    assert compose.parse_affirmation_history(stored) == [(date(2026, 12, 1), 3)]
    assert compose.parse_affirmation_history({"date": "2026-12-01"}) == []
    assert compose.parse_affirmation_history(None) == []


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_affirmation_ssml(catalog: Catalog) -> None:
    body = compose.affirmation_ssml(catalog, 4, intro_variant=1)
    assert body.startswith(catalog.say("affirmation.intro", variant=1))
    assert ssml.escape(catalog.affirmations[4]) in body
    ET.fromstring(ssml.speak(body))


# --- compose: comfort, bad days and fallbacks --------------------------------------------------


def break_times(body: str) -> list[int]:
    root = ET.fromstring(ssml.speak(body))
    return [int(b.attrib["time"].removesuffix("ms")) for b in root.iter("break")]


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_breath_is_real(catalog: Catalog) -> None:
    body = compose.breath_ssml(catalog)
    assert break_times(body) == [compose.BREATH_IN_MS, compose.BREATH_OUT_MS]
    assert 3500 <= compose.BREATH_IN_MS <= 5000 and 5000 <= compose.BREATH_OUT_MS <= 7000
    assert max(break_times(body)) <= ssml.MAX_BREAK_MS
    assert body.index(catalog.say("breath.in")) < body.index(catalog.say("breath.out"))


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_feeling_guilty_breathes_first_and_gives_no_homework(catalog: Catalog) -> None:
    body = compose.feeling_guilty_ssml(catalog)
    assert compose.breath_ssml(catalog) in body
    assert body.index(compose.breath_ssml(catalog)) < body.index(ssml.escape(catalog.mantra))
    assert not any(ssml.escape(s.try_now) in body for s in catalog.strategies)
    assert not any(ssml.escape(step.text) in body for step in catalog.first_steps)


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_bad_day_comforts_then_offers(catalog: Catalog) -> None:
    for variant in range(len(catalog.pool("bad_day.comfort"))):
        body = compose.bad_day_ssml(catalog, variant)
        assert body.startswith(catalog.say("bad_day.comfort", variant=variant))
        assert body.endswith(catalog.say("bad_day.offer"))
    breath = compose.bad_day_breath_ssml(catalog)
    assert compose.breath_ssml(catalog) in breath
    assert breath.endswith(catalog.say("bad_day.after_breath"))


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_fallback_escalates(catalog: Catalog) -> None:
    turns = [compose.fallback_ssml(catalog, attempt) for attempt in (1, 2, 3, 4)]
    speeches = [speech for speech, _ in turns]
    assert len(set(speeches[:3])) == 3
    assert turns[3] == turns[2]
    assert len(ssml.to_plain_text(speeches[1])) > len(ssml.to_plain_text(speeches[0]))
    assert turns[2][1] == catalog.say("fallback.third_reprompt")


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_progress_note_after_several_strategies(catalog: Catalog) -> None:
    every = compose.PROGRESS_AFTER_STRATEGIES
    assert compose.progress_note(catalog, every - 1) == ""
    assert compose.progress_note(catalog, every, 2) == catalog.say("progress.closing", variant=2)
    assert compose.progress_note(catalog, every + 1) == ""
    assert compose.progress_note(catalog, 2 * every) != ""
