"""Pure SSML helpers: every function takes text or fragments and returns a new string.

Plain text from the content files goes through :func:`escape` exactly once; everything else here
combines already-safe fragments.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

#: Alexa rejects a <break> longer than ten seconds.
MAX_BREAK_MS = 10_000
#: Alexa's limit for outputSpeech text, in characters.
MAX_SPEECH_CHARS = 8_000

# Control characters are not allowed in XML 1.0; Alexa rejects SSML that holds them. The ones
# that separate words (vertical tab, form feed, file/group/record/unit separators) become spaces.
_XML_INVALID = "".join(map(chr, [*range(0x00, 0x09), *range(0x0E, 0x1C)])) + "\ufffe\uffff"
_XML_INVALID_SPACE = "\x0b\x0c\x1c\x1d\x1e\x1f"
#: One ``str.translate`` table for :func:`escape`: a single pass in C, where the regular
#: expressions and ``saxutils.escape`` took six (escaping is on every spoken line).
_ESCAPES: dict[int, str | None] = {
    **{ord(c): None for c in _XML_INVALID},
    **{ord(c): " " for c in _XML_INVALID_SPACE},
    ord("&"): "&amp;",
    ord("<"): "&lt;",
    ord(">"): "&gt;",
    ord('"'): "&quot;",
    ord("'"): "&apos;",
}
#: What :func:`to_plain_text` drops or spaces out: the control characters alone.
_CONTROLS: dict[int, str | None] = {k: v for k, v in _ESCAPES.items() if v is None or v == " "}


def escape(text: str) -> str:
    """Plain text → SSML-safe text (``&``, ``<``, ``>`` and quotes escaped, control characters
    dropped)."""
    return text.translate(_ESCAPES)


def pause(milliseconds: int) -> str:
    """A silence of the given length, clamped to what Alexa accepts."""
    ms = max(0, min(int(milliseconds), MAX_BREAK_MS))
    return f'<break time="{ms}ms"/>'


def sentence(fragment: str) -> str:
    """Wrap a fragment as one sentence."""
    return f"<s>{fragment}</s>"


def paragraph(fragment: str) -> str:
    """Wrap a fragment as a paragraph (Alexa adds a natural pause around it)."""
    return f"<p>{fragment}</p>"


def paragraphs(fragments: Iterable[str], gap_ms: int = 0) -> str:
    """Several paragraphs, optionally with an extra silence between them."""
    separator = pause(gap_ms) if gap_ms > 0 else ""
    return separator.join(paragraph(f) for f in fragments)


def prosody(fragment: str, rate: str) -> str:
    """Speak a fragment at another rate (for example ``"90%"``)."""
    return f'<prosody rate="{escape(rate)}">{fragment}</prosody>'


def join(*fragments: str) -> str:
    """Join fragments with single spaces, skipping empty ones."""
    return " ".join(f for f in fragments if f)


def speak(fragment: str) -> str:
    """A complete SSML document."""
    return f"<speak>{fragment}</speak>"


_BREAK = re.compile(r"<break\b[^>]*/>")
_PARAGRAPH = re.compile(r"</?p\b[^>]*>")
_TAG = re.compile(r"<[^>]+>")
_TAG_SPLIT = re.compile(r"(<[^>]+>)")
# Markers for pauses and paragraph edges while tags are stripped; control characters can never
# come from escaped text, so they cannot collide with content.
_PAUSE_MARK = "\x00"
_PARAGRAPH_MARK = "\x01"
_PAUSE_RUN = re.compile(r"\s*(?:\x00\s*)+")


#: A pause up to this long right after a full stop (the letter's pause between sentences) is
#: already shown by the full stop, so plain text shows no ``...`` for it.
SENTENCE_PAUSE_MAX_MS = 1000
_SENTENCE_END = re.compile(r"[.!?…]['\"”’)]*$")
_BREAK_MS = re.compile(r'\btime="(\d+)ms"')


def _breaks_marked(text: str) -> str:
    """Every ``<break>`` as a pause mark, except short ones right after a sentence's end."""
    out: list[str] = []
    last_text = ""
    for piece in _TAG_SPLIT.split(text):
        if _BREAK.fullmatch(piece):
            time = _BREAK_MS.search(piece)
            after_sentence = bool(_SENTENCE_END.search(html.unescape(last_text)))
            short = time is not None and int(time.group(1)) <= SENTENCE_PAUSE_MAX_MS
            out.append(" " if after_sentence and short else f" {_PAUSE_MARK} ")
            continue
        if not piece.startswith("<") and piece.strip():
            last_text = piece.rstrip()
        out.append(piece)
    return "".join(out)


def to_plain_text(ssml_text: str) -> str:
    """SSML → readable text: paragraphs become blank lines, other pauses become ``...``.

    Used for cards, the simulator and logs, so a reader still sees where the voice pauses (a
    short pause after a full stop is shown by the full stop).
    """
    text = _breaks_marked(ssml_text.translate(_CONTROLS))
    text = _PARAGRAPH.sub(_PARAGRAPH_MARK, text)
    text = html.unescape(_TAG.sub("", text))
    paragraphs_out = []
    for block in text.split(_PARAGRAPH_MARK):
        # A pause at a paragraph's edge is already said by the blank line.
        block = " ".join(block.split()).strip(_PAUSE_MARK + " ")
        if block:
            paragraphs_out.append(_PAUSE_RUN.sub(" ... ", block))
    return "\n\n".join(paragraphs_out)
