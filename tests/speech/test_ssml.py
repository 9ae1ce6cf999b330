"""Unit tests for the SSML helpers in :mod:`speech.ssml`."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from speech import ssml
from speech.ssml import (
    MAX_BREAK_MS,
    escape,
    join,
    paragraph,
    paragraphs,
    pause,
    prosody,
    sentence,
    speak,
    to_plain_text,
)


def parse(document: str) -> ET.Element:
    return ET.fromstring(document)


# --- escape -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("&", "&amp;"),
        ("<", "&lt;"),
        (">", "&gt;"),
        ('"', "&quot;"),
        ("'", "&apos;"),
        ("Tom & Jerry's <show>", "Tom &amp; Jerry&apos;s &lt;show&gt;"),
        ("&amp;", "&amp;amp;"),  # already-escaped text is escaped again: plain text in, once
        ("plain words", "plain words"),
        ("", ""),
    ],
)
def test_escape(text: str, expected: str) -> None:
    assert escape(text) == expected


def test_escape_neutralises_markup() -> None:
    hostile = '<audio src="https://example.com/x.mp3"/></speak><speak>'
    root = parse(speak(escape(hostile)))
    assert len(root) == 0  # no child elements were injected
    assert root.text == hostile


def _xml_invalid(c: str) -> bool:
    """Characters XML 1.0 cannot hold at all (so SSML cannot either)."""
    return (ord(c) < 0x20 and c not in "\t\n\r") or c in "\ufffe\uffff"


@pytest.mark.parametrize("text", ["a\x00b", "a\x01b", "a\x07b", "a\x1bb", "a\ufffeb", "a\uffffb"])
def test_escape_drops_characters_xml_cannot_hold(text: str) -> None:
    assert escape(text) == "ab"
    assert parse(speak(escape(text))).text == "ab"


def test_escape_keeps_tabs_and_newlines() -> None:
    assert escape("a\tb\nc\rd") == "a\tb\nc\rd"


@given(st.text())
def test_escape_property_round_trips_through_xml(text: str) -> None:
    escaped = escape(text)
    assert "<" not in escaped and ">" not in escaped
    assert '"' not in escaped and "'" not in escaped
    root = parse(f"<speak>{escaped}</speak>")  # always well-formed
    assert len(root) == 0
    # XML normalises carriage returns; separator controls become spaces, other invalid
    # characters are dropped, and valid characters come back as they went in.
    expected = "".join(
        " " if c in "\x0b\x0c\x1c\x1d\x1e\x1f" else c
        for c in text
        if c in "\x0b\x0c\x1c\x1d\x1e\x1f" or not _xml_invalid(c)
    )
    expected = expected.replace("\r\n", "\n").replace("\r", "\n")
    assert (root.text or "") == expected


# --- pause ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ms", "expected"),
    [
        (0, 0),
        (1, 1),
        (800, 800),
        (MAX_BREAK_MS, MAX_BREAK_MS),
        (MAX_BREAK_MS + 1, MAX_BREAK_MS),
        (60_000, MAX_BREAK_MS),
        (-1, 0),
        (-5000, 0),
        (750.9, 750),
    ],
)
def test_pause_clamps(ms: int, expected: int) -> None:
    assert pause(ms) == f'<break time="{expected}ms"/>'


def test_max_break_is_ten_seconds() -> None:
    assert MAX_BREAK_MS == 10_000


@given(st.integers(-(10**9), 10**9))
def test_pause_property(ms: int) -> None:
    element = parse(pause(ms))
    assert element.tag == "break"
    value = element.attrib["time"]
    assert value.endswith("ms")
    assert 0 <= int(value[:-2]) <= MAX_BREAK_MS
    if 0 <= ms <= MAX_BREAK_MS:
        assert int(value[:-2]) == ms


# --- wrappers ---------------------------------------------------------------------------------


def test_sentence_and_paragraph_wrap() -> None:
    assert sentence("Hi.") == "<s>Hi.</s>"
    assert paragraph("Hi.") == "<p>Hi.</p>"


def test_paragraphs_without_gap() -> None:
    assert paragraphs(["a", "b", "c"]) == "<p>a</p><p>b</p><p>c</p>"


def test_paragraphs_with_gap_only_between() -> None:
    gap = pause(800)
    assert paragraphs(["a", "b", "c"], 800) == f"<p>a</p>{gap}<p>b</p>{gap}<p>c</p>"
    assert paragraphs(["only"], 800) == "<p>only</p>"
    assert paragraphs([], 800) == ""


@pytest.mark.parametrize("gap", [0, -100])
def test_paragraphs_non_positive_gap_adds_no_break(gap: int) -> None:
    assert "<break" not in paragraphs(["a", "b"], gap)


def test_paragraphs_gap_is_clamped() -> None:
    assert paragraphs(["a", "b"], 99_999) == f"<p>a</p>{pause(MAX_BREAK_MS)}<p>b</p>"


def test_paragraphs_accepts_a_generator() -> None:
    assert paragraphs(x for x in ["a", "b"]) == "<p>a</p><p>b</p>"


def test_prosody_wraps_and_escapes_its_rate() -> None:
    assert prosody("Slow.", "90%") == '<prosody rate="90%">Slow.</prosody>'
    hostile = prosody("x", '90%" volume="x-loud')
    element = parse(hostile)
    assert element.attrib == {"rate": '90%" volume="x-loud'}
    assert "<" not in prosody("x", "<fast>")[len('<prosody rate="') : -len(">x</prosody>")]


def test_speak() -> None:
    assert speak("Hello.") == "<speak>Hello.</speak>"
    assert parse(speak(join("a", pause(10), "b"))).tag == "speak"


def test_join_skips_empty_fragments() -> None:
    assert join("a", "", "b", "", "") == "a b"
    assert join() == ""
    assert join("", "") == ""
    assert join("only") == "only"


def test_join_keeps_whitespace_fragments() -> None:
    # Only empty strings are skipped; callers pass fragments, not free text.
    assert join("a", " ", "b") == "a   b"


def test_limits() -> None:
    assert ssml.MAX_SPEECH_CHARS == 8_000


# --- to_plain_text ----------------------------------------------------------------------------


def test_plain_text_of_simple_speech() -> None:
    assert to_plain_text(speak("Hello there.")) == "Hello there."


def test_plain_text_paragraphs_become_blank_lines() -> None:
    assert to_plain_text(speak(paragraphs(["One.", "Two.", "Three."]))) == "One.\n\nTwo.\n\nThree."


def test_plain_text_text_around_paragraphs() -> None:
    text = to_plain_text(speak(join("Intro.", paragraph("Body."), "Outro.")))
    assert text == "Intro.\n\nBody.\n\nOutro."


def test_plain_text_inner_breaks_become_ellipses() -> None:
    assert to_plain_text(speak(join("Breathe in.", pause(1500), "Breathe out."))) == (
        "Breathe in. ... Breathe out."
    )
    assert to_plain_text(speak(f"a{pause(5)}b")) == "a ... b"


def test_plain_text_runs_of_breaks_become_one_ellipsis() -> None:
    assert to_plain_text(speak(join("a", pause(1), pause(2), "  ", pause(3), "b"))) == "a ... b"


def test_plain_text_breaks_at_paragraph_edges_are_dropped() -> None:
    document = speak(
        join(pause(500), "Intro.", pause(800), paragraphs(["One.", "Two."], 800), pause(300))
    )
    assert to_plain_text(document) == "Intro.\n\nOne.\n\nTwo."
    assert to_plain_text(speak(paragraph(join(pause(100), "Inside.", pause(100))))) == "Inside."


def test_plain_text_breaks_with_other_spellings() -> None:
    assert to_plain_text('<speak>a<break time="1s" />b<break strength="strong"/>c</speak>') == (
        "a ... b ... c"
    )


def test_plain_text_unescapes_entities() -> None:
    text = 'Tom & Jerry\'s "show" <live>'
    assert to_plain_text(speak(escape(text))) == text


def test_plain_text_does_not_unescape_twice() -> None:
    assert to_plain_text(speak(escape("&lt;b&gt; &amp;"))) == "&lt;b&gt; &amp;"


def test_plain_text_strips_nested_tags() -> None:
    document = speak(
        paragraph(
            join(
                sentence(prosody(escape("Slow <em>"), "90%")),
                '<emphasis level="strong"><say-as interpret-as="digits">42</say-as></emphasis>',
                '<audio src="https://example.com/a.mp3"/>',
            )
        )
    )
    assert to_plain_text(document) == "Slow <em> 42"


def test_plain_text_collapses_whitespace() -> None:
    assert to_plain_text("<speak>  a \t b\n c  </speak>") == "a b c"


def test_plain_text_of_empty_documents() -> None:
    assert to_plain_text("") == ""
    assert to_plain_text(speak("")) == ""
    assert to_plain_text(speak(join(pause(100), paragraph(""), pause(100)))) == ""


def test_plain_text_blank_lines_in_text_are_not_paragraph_breaks() -> None:
    # Only <p> makes a paragraph; literal blank lines are whitespace, as in speech.
    assert to_plain_text(speak(join("A.", pause(1500), "B\n\nC."))) == "A. ... B C."


def test_plain_text_short_pause_after_a_full_stop_is_just_the_full_stop() -> None:
    # The letter pauses after every sentence; its transcript and card read as normal prose.
    letter_like = paragraph(join(sentence("One."), pause(800), sentence("Two?"), pause(1000)))
    assert to_plain_text(speak(join(letter_like, "Three."))) == "One. Two?\n\nThree."
    # Longer pauses, and pauses inside a sentence, still show.
    assert to_plain_text(speak(join("One.", pause(1001), "Two."))) == "One. ... Two."
    assert to_plain_text(speak(join("One", pause(800), "two."))) == "One ... two."
    assert to_plain_text(speak(join("She said &quot;yes.&quot;", pause(500), "Then"))) == (
        'She said "yes." Then'
    )


def test_plain_text_drops_control_characters_in_its_input() -> None:
    assert to_plain_text("<speak>a\x00b\x01c</speak>") == "abc"


# --- the round-trip property ------------------------------------------------------------------

#: Whitespace characters that XML 1.0 cannot hold (vertical tab, form feed, FS/GS/RS/US).
_INVALID_WHITESPACE = "".join(
    chr(i) for i in range(0x20) if _xml_invalid(chr(i)) and chr(i).isspace()
)


def _expected_plain(text: str) -> str:
    """The brief's property, " ".join(text.split()), after dropping the characters SSML cannot
    hold that are not whitespace (a bell or NUL has nothing to say; a form feed still separates)."""
    kept = "".join(c for c in text if not (_xml_invalid(c) and not c.isspace()))
    return " ".join(kept.split())


@given(st.text().filter(lambda t: not any(c in _INVALID_WHITESPACE for c in t)))
@example('Tom & Jerry\'s "show" <live> &amp; &#65; &lt;')
@example("  spaced\tout\r\n text ")
@example("a\n\nb")
@example("a \n \n b\r\n\r\nc")
@example("a\x00b\x01c")
@example("...")
@example("\x85\xa0\u2028 nbsp and friends \u3000")
def test_round_trip_property(text: str) -> None:
    assert to_plain_text(speak(escape(text))) == _expected_plain(text)


@given(st.text())
@example("page\x0cbreak")
@example("a\x0bb")
@example("a\x1cb")
def test_round_trip_property_for_any_text(text: str) -> None:
    assert to_plain_text(speak(escape(text))) == _expected_plain(text)
