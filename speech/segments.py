"""SSML → segments, the pure layer of offline speech.

:func:`ssml_to_segments` turns SSML (or plain text) into a list of :class:`Speech` (text at a rate
in words per minute) and :class:`Silence` (milliseconds) that the engine can honour. Nothing here
loads the engine or touches the disk.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from xml.sax.saxutils import escape as _xml_escape

#: Silence between paragraphs (``<p>``), on top of any explicit ``<break>`` between them.
PARAGRAPH_PAUSE_MS = 600
#: Alexa rejects longer breaks; we cap rather than reject so offline playback never fails on it.
MAX_BREAK_MS = 10_000
#: ``<break strength=...>`` without a ``time``; ``none``/``x-weak`` mean "no pause" in Alexa's docs.
BREAK_STRENGTH_MS = {
    "none": 0,
    "x-weak": 0,
    "weak": 200,
    "medium": 300,
    "strong": 450,
    "x-strong": PARAGRAPH_PAUSE_MS,
}
#: ``<prosody rate=...>`` labels as multipliers of the base rate.
RATE_LABELS = {
    "x-slow": 0.6,
    "slow": 0.8,
    "medium": 1.0,
    "default": 1.0,
    "fast": 1.25,
    "x-fast": 1.5,
}
#: espeak-ng's usable speed range in words per minute.
MIN_RATE_WPM = 80
MAX_RATE_WPM = 450

_AMAZON_NS = "http://amazon.com/ssml/2017"
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_BREAK_TIME = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s)\s*$", re.IGNORECASE)
_PERCENT = re.compile(r"^\s*([+-]?)(\d+(?:\.\d+)?)\s*%\s*$")
_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*$")
_SPACES = re.compile(r"\s+")
_WORDLIKE = re.compile(r"\w")
_SENTENCE_END = re.compile(r"[.!?;:…]['\"”’)]*$")


class SpeechError(RuntimeError):
    """Offline speech could not be produced (bad SSML, engine failure, lost output)."""


@dataclass(frozen=True)
class Speech:
    """Text the engine should say, at ``rate_wpm`` words per minute."""

    text: str
    rate_wpm: int


@dataclass(frozen=True)
class Silence:
    """Real silence of ``ms`` milliseconds."""

    ms: int


Segment = Speech | Silence


def clamp_rate(wpm: float) -> int:
    """A rate the engine accepts (espeak-ng ignores or distorts values outside its range)."""
    return max(MIN_RATE_WPM, min(MAX_RATE_WPM, round(wpm)))


def parse_rate(value: str | None, current_wpm: float, base_wpm: int) -> float:
    """``<prosody rate>`` → words per minute.

    Labels and plain percentages multiply the *base* rate, as SSML 1.1 specifies (so a nested
    ``rate="90%"`` is 90 % of normal, not of its parent); signed percentages (``+10%``) change the
    *current* rate. Anything unreadable keeps the current rate rather than failing the render.
    """
    if value is None:
        return current_wpm
    text = value.strip().lower()
    if text in RATE_LABELS:
        return base_wpm * RATE_LABELS[text]
    match = _PERCENT.match(text)
    if match:
        sign, number = match.group(1), float(match.group(2))
        if sign == "+":
            return current_wpm * (1 + number / 100)
        if sign == "-":
            return current_wpm * max(0.0, 1 - number / 100)
        return base_wpm * number / 100
    match = _NUMBER.match(text)
    if match:
        return base_wpm * float(match.group(1))
    return current_wpm


def parse_break(time_attr: str | None, strength: str | None) -> int:
    """``<break>`` → milliseconds of silence, capped at :data:`MAX_BREAK_MS`.

    ``time`` wins over ``strength``; with neither (or an unreadable one) the pause is "medium".
    """
    if time_attr is not None:
        match = _BREAK_TIME.match(time_attr)
        if match:
            amount = float(match.group(1))
            ms = amount if match.group(2).lower() == "ms" else amount * 1000
            return max(0, min(MAX_BREAK_MS, round(ms)))
    key = (strength or "medium").strip().lower()
    return BREAK_STRENGTH_MS.get(key, BREAK_STRENGTH_MS["medium"])


class _SegmentBuilder:
    """Collects text and pauses while the SSML tree is walked, merging where it can."""

    def __init__(self) -> None:
        self.segments: list[Segment] = []
        self._parts: list[str] = []
        self._rate: int | None = None
        self._spoken = False  # any speech emitted yet: paragraph pauses only go *between* speech
        self._paragraph_pending = False
        self._gap_has_paragraph = False  # one paragraph pause per gap, however many <p> edges

    def text(self, text: str, rate_wpm: int) -> None:
        if not text:
            return
        if not text.strip():
            # Whitespace between tags (say, between two <prosody> runs) separates words but
            # must not start a segment of its own or split one.
            if self._parts:
                self._parts.append(" ")
            return
        if self._parts and rate_wpm != self._rate:
            self._flush()
        self._parts.append(text)
        self._rate = rate_wpm

    def silence(self, ms: int) -> None:
        if ms <= 0:
            return
        # A pending paragraph pause is added only when more speech follows (see _flush), so a
        # trailing break after the last paragraph stays exactly as long as the author asked.
        self._flush()
        self._add_silence(ms)

    def paragraph_boundary(self) -> None:
        self._flush()
        self._paragraph_pending = True

    def sentence_boundary(self) -> None:
        # <s> promises a sentence break before and after; without closing punctuation espeak
        # would run the sentences together, so add a full stop where the author left none.
        current = "".join(self._parts).rstrip()
        if current and _WORDLIKE.search(current) and not _SENTENCE_END.search(current):
            self._parts = [current, "."]
        if self._parts:
            self._parts.append(" ")

    def finish(self) -> list[Segment]:
        self._flush()
        return self.segments

    def _flush(self) -> None:
        text = _SPACES.sub(" ", "".join(self._parts)).strip()
        rate = self._rate
        self._parts = []
        self._rate = None
        if not text or rate is None or not _WORDLIKE.search(text):
            return
        self._emit_pending_paragraph()
        last = self.segments[-1] if self.segments else None
        if isinstance(last, Speech) and last.rate_wpm == rate:
            self.segments[-1] = Speech(f"{last.text} {text}", rate)
        else:
            self.segments.append(Speech(text, rate))
        self._spoken = True
        self._gap_has_paragraph = False

    def _emit_pending_paragraph(self) -> None:
        if self._paragraph_pending and self._spoken and not self._gap_has_paragraph:
            self._add_silence(PARAGRAPH_PAUSE_MS)
            self._gap_has_paragraph = True
        self._paragraph_pending = False

    def _add_silence(self, ms: int) -> None:
        last = self.segments[-1] if self.segments else None
        if isinstance(last, Silence):
            self.segments[-1] = Silence(last.ms + ms)
        else:
            self.segments.append(Silence(ms))


def _local_name(tag: object) -> str:
    """Tag without namespace (``{ns}domain`` → ``domain``); comments and PIs have no name."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].lower()


def _walk(element: ET.Element, rate: float, base_wpm: int, out: _SegmentBuilder) -> None:
    """Depth-first walk: text, then children (each followed by its tail)."""
    name = _local_name(element.tag)
    if name in ("audio", "mark") or not name:
        return  # nothing to say offline; the element's tail is handled by the caller
    if name == "break":
        out.silence(parse_break(element.get("time"), element.get("strength")))
        return
    if name == "sub":
        # <sub alias="..."> is spoken as the alias, not as the written text.
        alias = element.get("alias")
        out.text(alias if alias is not None else "".join(element.itertext()), clamp_rate(rate))
        return
    if name == "prosody":
        rate = parse_rate(element.get("rate"), rate, base_wpm)
    if name == "p":
        out.paragraph_boundary()
    elif name == "s":
        out.sentence_boundary()
    out.text(element.text or "", clamp_rate(rate))
    for child in element:
        _walk(child, rate, base_wpm, out)
        out.text(child.tail or "", clamp_rate(rate))
    if name == "p":
        out.paragraph_boundary()
    elif name == "s":
        out.sentence_boundary()


def _parse_xml(ssml: str) -> ET.Element:
    """Parse SSML (or plain text) inside a wrapper that declares the ``amazon:`` prefix.

    Alexa accepts ``<amazon:domain>`` and friends without an ``xmlns:amazon`` declaration, which a
    strict XML parser rejects; declaring it on a wrapper element makes both forms parse.
    """
    body = _XML_DECLARATION.sub("", ssml, count=1)

    def parse(text: str) -> ET.Element:
        return ET.fromstring(f'<mm-root xmlns:amazon="{_AMAZON_NS}">{text}</mm-root>')

    try:
        return parse(body)
    except ET.ParseError as exc:
        if "<" not in body:
            # Plain text with a bare "&" is still speakable: escape it and try once more.
            return parse(_xml_escape(body))
        raise SpeechError(f"invalid SSML: {exc}") from exc


def ssml_to_segments(ssml: str, base_rate_wpm: int = 170) -> list[Segment]:
    """SSML (or plain text) → speech segments and silences the engine can honour.

    Paragraph boundaries add :data:`PARAGRAPH_PAUSE_MS` between speech; ``<break>`` adds its own
    silence (added to a paragraph pause, not merged into it); ``<prosody rate>`` sets the words
    per minute; other tags (``s``, ``emphasis``, ``say-as``, ``amazon:*`` ...) keep only their
    text. Adjacent speech at one rate is merged into one segment, adjacent silences are summed.
    """
    root = _parse_xml(ssml)
    out = _SegmentBuilder()
    _walk(root, float(base_rate_wpm), base_rate_wpm, out)
    return out.finish()
