"""Unit tests for content loading (:mod:`speech.catalog`) and composing (:mod:`speech.compose`).

Expectations are derived from the shipped content files, never copied from them.
"""

from __future__ import annotations

import copy
import json
import re
import string
import xml.etree.ElementTree as ET
from collections.abc import Callable
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
    return [k for k, v in catalog.messages.items() if not isinstance(v, str)]


def sample_params(template_names: set[str]) -> dict[str, object]:
    return {name: f"<{name}> & '{name}'" for name in template_names}


# --- loading the shipped content --------------------------------------------------------------


def test_shipped_content_has_the_expected_locales() -> None:
    assert set(SHIPPED) == {"en-US", "en-GB"}
    assert CATALOGS.locales == ("en-GB", "en-US")
    assert CATALOGS.default.locale == "en-US"
    assert sorted(c.locale for c in CATALOGS) == ["en-GB", "en-US"]


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
        ("en-IN", "en-GB"),
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
        templates = [value] if isinstance(value, str) else list(value.values())
        names = set().union(*(placeholders(t) for t in templates))
        for count in (1, 2):
            params = sample_params(names) | ({"count": count} if "count" in names else {})
            said = catalog.say(key, **params)
            assert said == ssml.escape(catalog.text(key, **params))
            root = ET.fromstring(ssml.speak(said))
            assert len(root) == 0  # no markup from content or parameters
            assert root.text == catalog.text(key, **params)


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
    for key, value in content["en-US"]["messages"].items():
        if isinstance(value, kind) and (
            not with_placeholder or (isinstance(value, str) and placeholders(value))
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
        ["One.", "Many."],
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
    for part in (letter.greeting, *letter.paragraphs, letter.closing, letter.signature):
        assert ssml.escape(part) in body
    root = ET.fromstring(ssml.speak(body))
    prosodies = root.findall("prosody")
    assert [p.attrib.get("rate") for p in prosodies] == [compose.LETTER_RATE]
    children = list(prosodies[0])
    spoken = [c for c in children if c.tag == "p"]
    assert [p.text for p in spoken] == [
        letter.greeting,
        *letter.paragraphs,
        f"{letter.closing} {letter.signature}",
    ]
    # Paragraphs and breaks alternate: p, break, p, break, ..., p.
    assert [c.tag for c in children] == ["p", "break"] * (len(spoken) - 1) + ["p"]
    gaps = {c.attrib["time"] for c in children if c.tag == "break"}
    assert gaps == {f"{compose.LETTER_PARAGRAPH_PAUSE_MS}ms"}
    # The intro comes first, before a pause.
    assert body.startswith(catalog.say("letter.intro"))
    assert root.find("break") is not None


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
    assert tricky in [p.text for p in root.iter("p")]


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_strategy_ssml(catalog: Catalog) -> None:
    for strategy in catalog.strategies:
        body = compose.strategy_ssml(catalog, strategy)
        assert ssml.escape(strategy.try_now) in body
        assert ssml.escape(strategy.title) in body
        assert body.startswith(catalog.say(f"strategy.intro_{strategy.kind}", title=strategy.title))
        root = ET.fromstring(ssml.speak(body))
        texts = [p.text for p in root.findall("p")]
        assert texts == [
            *strategy.paragraphs,
            catalog.text("strategy.try_now", try_now=strategy.try_now),
        ]
        assert strategy.try_now in ssml.to_plain_text(ssml.speak(body))


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
