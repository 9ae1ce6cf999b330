"""Offline speech: SSML → WAV with pyttsx3 and the espeak-ng from the ``espeakng-loader`` wheel.

Three layers, so each can be tested on its own:

* :func:`ssml_to_segments` — pure: SSML → a list of :class:`Speech` (text at a rate in words per
  minute) and :class:`Silence` (milliseconds) that the engine can honour.
* the engine layer — loads espeak-ng lazily, under one process-wide lock, and renders one text
  segment to one WAV file with pyttsx3, working around pyttsx3's lost-file and lost-setting races.
* :class:`OfflineSpeaker` — joins segments and silences into one WAV, cached on disk by content.

No system espeak-ng is needed (or used): the wheel's library is preloaded before pyttsx3 looks for
``libespeak-ng.so.1``, and ``ESPEAK_DATA_PATH`` always points at the wheel's data.
"""

from __future__ import annotations

import array
import contextlib
import ctypes
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import wave
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as _xml_escape

log = logging.getLogger(__name__)

#: Bump when anything that changes the rendered audio changes (parsing, pauses, trimming).
CACHE_VERSION = "offline-1"
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

# Samples quieter than this (16-bit) count as silence when trimming the engine's own padding.
_TRIM_THRESHOLD = 64
# Keep a little of the fade at each edge so word onsets and endings are never clipped.
_TRIM_MARGIN_MS = 20
# Used only when a document has no speech at all (just breaks): espeak-ng's native format.
_DEFAULT_WAV_FORMAT = (1, 2, 22050)  # channels, bytes per sample, frames per second

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


# ---------------------------------------------------------------------------------------------
# SSML → segments (pure)
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# Engine (pyttsx3 + espeak-ng from the wheel), one per process
# ---------------------------------------------------------------------------------------------

# espeak-ng is a process-wide singleton with global parameters (voice, rate) and one callback,
# so every use of it — loading, property changes, synthesis — goes through this lock.
_ENGINE_LOCK = threading.RLock()


@dataclass
class _Engine:
    engine: Any  # pyttsx3.Engine
    espeak: Any  # pyttsx3.drivers._espeak (ctypes bindings)
    driver_cls: Any  # pyttsx3.drivers.espeak.EspeakDriver
    voices: list[tuple[str, tuple[str, ...]]]  # (voice id, languages)
    load_seconds: float


_engine: _Engine | None = None


def _quiet_print(*args: object, **_kwargs: object) -> None:
    """Stands in for ``print`` inside pyttsx3's espeak driver ("Audio saved to ...")."""
    log.debug("pyttsx3: %s", " ".join(str(a) for a in args))


def _load_engine() -> _Engine:
    """Load espeak-ng from the wheel and start pyttsx3 once; later calls return the same engine."""
    global _engine
    with _ENGINE_LOCK:
        if _engine is not None:
            return _engine
        started = time.perf_counter()
        try:
            import espeakng_loader

            # Without this the library looks for data in its build prefix and calls exit(1).
            os.environ["ESPEAK_DATA_PATH"] = espeakng_loader.get_data_path()
            library_path = espeakng_loader.get_library_path()
            # pyttsx3 does cdll.LoadLibrary("libespeak-ng.so.1"). The wheel's library has exactly
            # that SONAME, and the dynamic loader matches a bare name against the SONAMEs of
            # libraries already loaded, so after this preload pyttsx3 gets our copy, never a
            # system one (and needs none).
            ours = ctypes.CDLL(library_path, mode=ctypes.RTLD_GLOBAL)

            import pyttsx3
            from pyttsx3.drivers import _espeak
            from pyttsx3.drivers import espeak as espeak_driver
        except (ImportError, OSError, RuntimeError) as exc:
            raise SpeechError(f"offline speech engine unavailable: {exc}") from exc
        if getattr(_espeak.dll, "_handle", None) != ours._handle:
            log.warning("pyttsx3 loaded a different libespeak-ng than %s", library_path)
        # The driver prints "Audio saved to ..." from espeak's thread on every save. Shadowing
        # print in that one module silences it without swapping the process-wide sys.stdout
        # (which would also swallow other threads' output while a render runs).
        espeak_driver.print = _quiet_print
        try:
            engine = pyttsx3.init("espeak")
        except RuntimeError as exc:
            raise SpeechError(f"could not start espeak-ng: {exc}") from exc
        voices = [
            (str(v.id), tuple(str(lang) for lang in v.languages))
            for v in engine.getProperty("voices")
        ]
        _engine = _Engine(
            engine=engine,
            espeak=_espeak,
            driver_cls=espeak_driver.EspeakDriver,
            voices=voices,
            load_seconds=time.perf_counter() - started,
        )
        log.debug("espeak-ng loaded in %.3f s, %d voices", _engine.load_seconds, len(voices))
        return _engine


# Locales espeak-ng has no voice for, mapped to the nearest accent it has.
_LOCALE_FALLBACKS = {
    "en-au": "en-gb",
    "en-nz": "en-gb",
    "en-in": "en-gb",
    "en-ie": "en-gb",
    "en-za": "en-gb",
    "en-ca": "en-us",
    "en": "en-us",
}


def pick_voice(locale: str, voices: Sequence[tuple[str, Sequence[str]]]) -> str:
    """Pure: the best voice id among ``voices`` ((id, languages) pairs) for a locale or voice id.

    Accepts a voice id (``gmw/en-US``), a locale (``en-GB``, ``en_gb``) or a language (``en``).
    Order: exact id, exact language, known fallback (en-AU → en-GB, en-CA → en-US ...), then any
    voice of the same language. Raises :class:`SpeechError` when nothing fits.
    """
    wanted = locale.strip().lower().replace("_", "-")
    if not wanted:
        raise SpeechError("empty voice/locale")
    ids = {vid.lower(): vid for vid, _ in voices}
    if wanted in ids:
        return ids[wanted]
    candidates = [wanted]
    if wanted in _LOCALE_FALLBACKS:
        candidates.append(_LOCALE_FALLBACKS[wanted])
    language = wanted.split("-", 1)[0]
    candidates += [language, _LOCALE_FALLBACKS.get(language, language)]
    # Declared languages first, for every candidate, so "en" finds en-US via the fallback before
    # it finds the voice whose id happens to be "gmw/en" (which is British).
    for candidate in candidates:
        for vid, languages in voices:
            if candidate in (lang.lower() for lang in languages):
                return vid
    for candidate in candidates:
        for vid, _ in voices:
            if vid.lower().rsplit("/", 1)[-1] == candidate:
                return vid
    for vid, languages in voices:
        if any(lang.lower().startswith(language + "-") for lang in languages):
            return vid
    raise SpeechError(f"no espeak-ng voice for {locale!r}")


def voice_for_locale(locale: str) -> str:
    """The espeak-ng voice id for a locale such as ``en-US`` or ``en-GB`` (loads the engine)."""
    return pick_voice(locale, _load_engine().voices)


def _synthesize(eng: _Engine, text: str, voice_id: str, rate_wpm: int, path: Path) -> None:
    """Render one text segment to ``path``; caller holds :data:`_ENGINE_LOCK`."""
    # Set properties on the driver directly instead of engine.setProperty: pyttsx3 queues those,
    # and runAndWait()'s stop() calls espeak_Cancel() if espeak is still busy applying them,
    # which silently dropped the new rate in about a third of renders when measured here.
    # Synchronize() afterwards makes sure espeak is idle before synthesis is queued.
    try:
        eng.driver_cls.setProperty("voice", voice_id)
        eng.driver_cls.setProperty("rate", rate_wpm)
    except ValueError as exc:
        raise SpeechError(f"espeak-ng rejected voice {voice_id!r} or rate {rate_wpm}") from exc
    eng.espeak.Synchronize()
    eng.engine.save_to_file(text, str(path))
    eng.engine.runAndWait()
    # runAndWait() can return once synthesis is merely *queued* (always on the first call after
    # init, when pyttsx3's own queue ends the loop early); the file is written from espeak's
    # thread when synthesis finishes. Wait for that, then make sure it really happened.
    eng.espeak.Synchronize()
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        size = 0
    if size <= 44:  # 44 bytes = a WAV header with no audio
        raise SpeechError(f"espeak-ng produced no audio for segment {text[:40]!r}")


# ---------------------------------------------------------------------------------------------
# WAV helpers
# ---------------------------------------------------------------------------------------------


def _trim(frames: bytes, channels: int, width: int, rate: int) -> bytes:
    """Drop the engine's own leading/trailing silence, keeping a short margin.

    espeak-ng pads every utterance (about 0.3 s at the end); trimming it means every pause in the
    output is one we chose, so ``<break time="2s"/>`` really adds two seconds.
    """
    if width != 2 or not frames:
        return frames
    samples = array.array("h")
    samples.frombytes(frames)
    if sys.byteorder == "big":
        samples.byteswap()  # WAV is little-endian
    first = next((i for i, s in enumerate(samples) if abs(s) > _TRIM_THRESHOLD), None)
    if first is None:
        return frames
    last = next(i for i in range(len(samples) - 1, -1, -1) if abs(samples[i]) > _TRIM_THRESHOLD)
    margin = rate * _TRIM_MARGIN_MS // 1000
    start = max(0, first // channels - margin)
    end = min(len(samples) // channels, last // channels + 1 + margin)
    frame_bytes = channels * width
    return frames[start * frame_bytes : end * frame_bytes]


def _silence_bytes(ms: int, channels: int, width: int, rate: int) -> bytes:
    """``ms`` of digital silence in the given format (8-bit WAV is unsigned, centred on 128)."""
    frames = rate * ms // 1000
    zero = b"\x80" if width == 1 else b"\x00" * width
    return zero * channels * frames


def wav_duration(path: Path) -> float:
    """Length of a WAV file in seconds."""
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / wav.getframerate()


@contextlib.contextmanager
def _atomic_target(final: Path) -> Iterator[Path]:
    """A temp path next to ``final`` that replaces it only if the block succeeds.

    Concurrent renders of one key each write their own temp file; os.replace is atomic, so a
    reader sees either no file or a complete one, never half of one.
    """
    fd, name = tempfile.mkstemp(prefix=f".{final.stem}.", suffix=".tmp", dir=final.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        # mkstemp creates 0600; cache entries are ordinary files other local tools may read.
        os.chmod(tmp, 0o644)
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------
# Public speaker
# ---------------------------------------------------------------------------------------------


def cache_key(ssml: str, voice: str, rate_wpm: int) -> str:
    """sha256 over everything that decides the audio, plus :data:`CACHE_VERSION`."""
    material = json.dumps(
        [CACHE_VERSION, ssml, voice.strip().lower(), int(rate_wpm)], ensure_ascii=False
    )
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


class OfflineSpeaker:
    """Renders SSML to cached WAV files with espeak-ng, and plays them where there is a speaker."""

    def __init__(self, cache_dir: Path, *, base_rate_wpm: int = 170) -> None:
        self.cache_dir = Path(cache_dir)
        self.base_rate_wpm = clamp_rate(base_rate_wpm)
        #: Text segments sent to the engine by this speaker (a cache hit adds none).
        self.engine_calls = 0
        #: Renders answered from the disk cache.
        self.cache_hits = 0

    def cache_path(self, ssml: str, voice: str = "en-us") -> Path:
        """Where the WAV for this SSML and voice is (or will be) cached."""
        return self.cache_dir / f"{cache_key(ssml, voice, self.base_rate_wpm)}.wav"

    def render(self, ssml: str, voice: str = "en-us") -> Path:
        """SSML → path of a WAV file (cached; a repeat never touches the engine).

        ``voice`` is a locale (``en-GB``) or an espeak-ng voice id (``gmw/en-us``).
        Raises :class:`SpeechError` for invalid SSML, an unknown voice or engine failure.
        """
        final = self.cache_path(ssml, voice)
        if _is_complete(final):
            self.cache_hits += 1
            return final
        segments = ssml_to_segments(ssml, self.base_rate_wpm)
        if not segments:
            raise SpeechError("nothing to say: the SSML has no text and no pauses")
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".render-", dir=self.cache_dir) as tmp:
            parts = self._render_segments(segments, voice, Path(tmp))
            with _atomic_target(final) as target:
                _join(parts, target)
        return final

    def _render_segments(
        self, segments: Sequence[Segment], voice: str, tmp: Path
    ) -> list[Path | Silence]:
        """Each Speech segment → its own WAV in ``tmp``; silences pass through."""
        parts: list[Path | Silence] = []
        with _ENGINE_LOCK:
            eng = _load_engine()
            voice_id = pick_voice(voice, eng.voices)
            for index, segment in enumerate(segments):
                if isinstance(segment, Silence):
                    parts.append(segment)
                    continue
                path = tmp / f"{index:04d}.wav"
                _synthesize(eng, segment.text, voice_id, segment.rate_wpm, path)
                self.engine_calls += 1
                parts.append(path)
        return parts

    def play(self, wav: Path) -> bool:
        """Play a WAV file; True only if a player ran to completion on a working audio device.

        Returns False (quickly, without raising) when there is no player or no sound device, and
        gives up after the clip's length plus a few seconds so a stuck player cannot hang us.
        """
        wav = Path(wav)
        if not wav.is_file():
            raise FileNotFoundError(wav)
        if os.name == "nt":
            return _play_windows(wav)
        command = _player_command(wav)
        if command is None:
            log.info("no audio output available; WAV left at %s", wav)
            return False
        try:
            timeout = wav_duration(wav) + 5.0
        except (wave.Error, EOFError, OSError):
            return False
        try:
            result = subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=timeout,
                check=False,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            log.info("audio playback failed (%s); WAV left at %s", exc, wav)
            return False
        return result.returncode == 0


def _is_complete(path: Path) -> bool:
    """A cache entry exists (entries only ever appear complete, via os.replace)."""
    try:
        return path.stat().st_size > 44
    except OSError:
        return False


def _join(parts: Sequence[Path | Silence], target: Path) -> None:
    """Concatenate segment WAVs (edges trimmed) and generated silences into ``target``."""
    wav_format: tuple[int, int, int] | None = None
    chunks: list[bytes | Silence] = []
    for part in parts:
        if isinstance(part, Silence):
            chunks.append(part)
            continue
        with wave.open(str(part), "rb") as segment:
            this_format = (segment.getnchannels(), segment.getsampwidth(), segment.getframerate())
            frames = segment.readframes(segment.getnframes())
        if wav_format is None:
            wav_format = this_format
        elif this_format != wav_format:
            raise SpeechError(f"segment format {this_format} differs from {wav_format}")
        chunks.append(_trim(frames, *this_format))
    channels, width, rate = wav_format or _DEFAULT_WAV_FORMAT
    with wave.open(str(target), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate)
        for chunk in chunks:
            if isinstance(chunk, Silence):
                out.writeframes(_silence_bytes(chunk.ms, channels, width, rate))
            else:
                out.writeframes(chunk)


def _player_command(wav: Path) -> list[str] | None:
    """A command that plays ``wav`` on a real device, or None when there is none to use."""
    if sys.platform == "darwin":
        player = shutil.which("afplay")
        return [player, str(wav)] if player else None
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    sound_server = bool(os.environ.get("PULSE_SERVER")) or any(
        runtime and Path(runtime, name).exists() for name in ("pulse/native", "pipewire-0")
    )
    if sound_server:
        for name in ("pw-play", "paplay"):
            player = shutil.which(name)
            if player:
                return [player, str(wav)]
    # ALSA directly: without a PCM device node aplay can only fail, so do not even start it.
    has_card = any(Path("/dev/snd").glob("pcmC*D*p")) if Path("/dev/snd").is_dir() else False
    aplay = shutil.which("aplay")
    if aplay and (has_card or sound_server):
        return [aplay, "-q", str(wav)]
    return None


def _play_windows(wav: Path) -> bool:
    """Synchronous playback through winsound (Windows only)."""
    if sys.platform != "win32":
        return False
    try:
        import winsound

        winsound.PlaySound(str(wav), winsound.SND_FILENAME)
    except (ImportError, RuntimeError, OSError):
        return False
    return True
