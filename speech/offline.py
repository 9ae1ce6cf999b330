"""Offline speech: SSML → WAV with the espeak-ng from the ``espeakng-loader`` wheel.

Three layers, so each can be tested on its own:

* :func:`~speech.segments.ssml_to_segments` (in :mod:`speech.segments`) — pure: SSML → a list of
  :class:`Speech` (text at a rate in heard words per minute) and :class:`Silence` (milliseconds).
* the engine layer (here) — loads espeak-ng lazily, in synchronous mode through pyttsx3's ctypes
  bindings, under one process-wide lock, and turns one text segment into PCM.
* :class:`OfflineSpeaker` (here) — respells words from the locale's lexicon
  (:mod:`speech.lexicon`), joins speech and silences, brings the whole to one loudness
  (:mod:`speech.loudness`) and writes one WAV, cached on disk by content.

The public names of :mod:`speech.segments` and :mod:`speech.wav` are re-exported, so
``from speech.offline import ssml_to_segments, wav_duration`` keeps working.

No system espeak-ng is needed (or used): the wheel's library is preloaded before pyttsx3 looks for
``libespeak-ng.so.1``, and ``ESPEAK_DATA_PATH`` always points at the wheel's data.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from speech.lexicon import Lexicon, load_lexicon
from speech.loudness import PEAK_CEILING_DBFS, TARGET_LUFS, LoudnessMeter, normalize_pcm16
from speech.segments import (
    BREAK_STRENGTH_MS,
    MAX_BREAK_MS,
    MAX_RATE_WPM,
    MIN_RATE_WPM,
    PARAGRAPH_PAUSE_MS,
    RATE_LABELS,
    Segment,
    Silence,
    Speech,
    SpeechError,
    clamp_rate,
    parse_break,
    parse_rate,
    ssml_to_segments,
)
from speech.wav import atomic_target, silence_frames, trim, wav_duration, write_wav

__all__ = [
    "BREAK_STRENGTH_MS",
    "CACHE_VERSION",
    "MAX_BREAK_MS",
    "MAX_RATE_WPM",
    "MIN_RATE_WPM",
    "PARAGRAPH_PAUSE_MS",
    "RATE_LABELS",
    "OfflineSpeaker",
    "Segment",
    "Silence",
    "Speech",
    "SpeechError",
    "cache_key",
    "clamp_rate",
    "parse_break",
    "parse_rate",
    "pick_voice",
    "ssml_to_segments",
    "voice_for_locale",
    "wav_duration",
]

log = logging.getLogger(__name__)

#: Bump when anything that changes the rendered audio changes (parsing, pauses, trimming).
CACHE_VERSION = "offline-2"


# ---------------------------------------------------------------------------------------------
# Engine (espeak-ng from the wheel, through pyttsx3's ctypes bindings), one per process
# ---------------------------------------------------------------------------------------------

# espeak-ng is a process-wide singleton with global parameters (voice, rate) and one callback,
# so every use of it — loading, parameter changes, synthesis — goes through this lock.
_ENGINE_LOCK = threading.RLock()

#: espeak-ng speaks faster than the rate it is given: measured on the letter, 1.16x at 100 wpm
#: to 1.20x at 170 (its own pauses included). Rates in this package are the real, heard words per
#: minute; the engine divides by this before it asks espeak-ng.
ESPEAK_SPEED_FACTOR = 1.18
#: espeak-ng's accepted range for its (nominal) rate parameter.
ESPEAK_MIN_RATE = 80
ESPEAK_MAX_RATE = 450
#: The default pace of offline speech in heard words per minute: close to Alexa's (~155-165).
DEFAULT_RATE_WPM = 165

# speak_lib.h: espeak_Initialize option that keeps the library from calling exit() on a data
# error (it then returns an error code instead), and the UTF-8 text flag for espeak_Synth.
_INITIALIZE_DONT_EXIT = 0x8000
_CHARS_UTF8 = 1
# Length of the sound buffers espeak-ng hands the callback, in ms (fewer, larger calls).
_BUFFER_MS = 500


def espeak_rate(rate_wpm: float) -> int:
    """Pure: the espeak-ng rate parameter that gives ``rate_wpm`` heard words per minute."""
    return max(ESPEAK_MIN_RATE, min(ESPEAK_MAX_RATE, round(rate_wpm / ESPEAK_SPEED_FACTOR)))


@dataclass
class _Engine:
    espeak: Any  # pyttsx3.drivers._espeak (ctypes bindings of speak_lib.h)
    sample_rate: int
    voices: list[tuple[str, tuple[str, ...]]]  # (voice id, languages)
    load_seconds: float
    callback: Any = None  # keeps the ctypes callback alive while espeak-ng holds it
    chunks: list[bytes] = field(default_factory=list)
    voice: str | None = None
    rate: int | None = None


_engine: _Engine | None = None
_release_registered = False


def _release_engine() -> None:
    """At exit: unhook our callback while every module is still intact, so espeak-ng never calls
    into a half torn-down interpreter."""
    global _engine
    # A daemon thread stuck mid-render must not hang the exit: then leave it to teardown.
    if not _ENGINE_LOCK.acquire(timeout=5):
        return
    try:
        if _engine is not None:
            with contextlib.suppress(Exception):
                _engine.espeak.cSetSynthCallback(None)
        _engine = None
    finally:
        _ENGINE_LOCK.release()


def _load_engine() -> _Engine:
    """Load espeak-ng from the wheel in synchronous mode; later calls return the same engine.

    Synchronous mode (``AUDIO_OUTPUT_SYNCHRONOUS``): ``espeak_Synth`` returns only when the text
    is fully synthesised, having handed every sound buffer to our callback on this thread. So
    there is nothing to poll and nothing to wait for, unlike pyttsx3's ``runAndWait`` (which
    polls every 10 ms and, in its asynchronous retrieval mode, can return before the file is
    written). pyttsx3's engine and driver are not started at all; only its ctypes bindings are
    used.
    """
    global _engine, _release_registered
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

            from pyttsx3.drivers import _espeak
        except (ImportError, OSError, RuntimeError) as exc:
            raise SpeechError(f"offline speech engine unavailable: {exc}") from exc
        if getattr(_espeak.dll, "_handle", None) != ours._handle:
            log.warning("pyttsx3 loaded a different libespeak-ng than %s", library_path)
        sample_rate = _espeak.Initialize(
            _espeak.AUDIO_OUTPUT_SYNCHRONOUS, _BUFFER_MS, None, _INITIALIZE_DONT_EXIT
        )
        if sample_rate <= 0:
            raise SpeechError("could not start espeak-ng")
        voices = [
            (v.identifier.decode("utf-8", "replace").lower(), tuple(_voice_languages(v.languages)))
            for v in _espeak.ListVoices(None)
        ]
        engine = _Engine(
            espeak=_espeak,
            sample_rate=sample_rate,
            voices=voices,
            load_seconds=0.0,
        )

        def collect(wav: Any, count: int, _events: Any) -> int:
            if wav and count > 0:
                engine.chunks.append(ctypes.string_at(wav, count * 2))
            return 0  # 0: go on synthesising

        engine.callback = _espeak.t_espeak_callback(collect)
        _espeak.cSetSynthCallback(engine.callback)
        engine.load_seconds = time.perf_counter() - started
        _engine = engine
        log.debug("espeak-ng loaded in %.3f s, %d voices", engine.load_seconds, len(voices))
        if not _release_registered:
            atexit.register(_release_engine)
            _release_registered = True
        return engine


def _voice_languages(raw: bytes | None) -> list[str]:
    """A voice's language, as pyttsx3 reads it: the field starts with a priority byte, and ctypes
    stops the string at the first NUL, so this is the voice's main language."""
    return [raw[1:].decode("utf-8", "replace")] if raw else []


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


def _synthesize(eng: _Engine, text: str, voice_id: str, rate_wpm: int) -> bytes:
    """One text segment → 16-bit PCM; the caller holds :data:`_ENGINE_LOCK`.

    In synchronous mode ``espeak_Synth`` returns when the audio is complete, so this runs at the
    speed of synthesis: no polling, no files, no waiting on another thread.
    """
    espeak = eng.espeak
    if eng.voice != voice_id:
        if espeak.SetVoiceByName(voice_id.encode("utf-8")) != espeak.EE_OK:
            raise SpeechError(f"espeak-ng rejected voice {voice_id!r}")
        eng.voice = voice_id
    nominal = espeak_rate(rate_wpm)
    if eng.rate != nominal:
        if espeak.SetParameter(espeak.RATE, nominal, 0) != espeak.EE_OK:
            raise SpeechError(f"espeak-ng rejected rate {nominal}")
        eng.rate = nominal
    eng.chunks.clear()
    encoded = text.encode("utf-8")
    status = espeak.cSynth(encoded, len(encoded) + 1, 0, espeak.POS_CHARACTER, 0, _CHARS_UTF8)
    frames = b"".join(eng.chunks)
    eng.chunks.clear()
    if status != espeak.EE_OK or not frames:
        raise SpeechError(f"espeak-ng produced no audio for segment {text[:40]!r}")
    return frames


# ---------------------------------------------------------------------------------------------
# Public speaker
# ---------------------------------------------------------------------------------------------


def cache_key(ssml: str, voice: str, rate_wpm: int, locale: str | None = None) -> str:
    """sha256 over everything that decides the audio, plus :data:`CACHE_VERSION`: the SSML, the
    voice, the rate, the offline lexicon that applies and the loudness target."""
    lexicon = load_lexicon(locale or voice)
    material = json.dumps(
        [
            CACHE_VERSION,
            ssml,
            voice.strip().lower(),
            int(rate_wpm),
            lexicon.fingerprint,
            TARGET_LUFS,
            PEAK_CEILING_DBFS,
        ],
        ensure_ascii=False,
    )
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


class OfflineSpeaker:
    """Renders SSML to cached WAV files with espeak-ng, and plays them where there is a speaker.

    Every render is one WAV: the speech segments (respelled by the locale's lexicon), the pauses
    as real silence, and the whole brought to one loudness (:mod:`speech.loudness`).
    """

    def __init__(self, cache_dir: Path, *, base_rate_wpm: int = DEFAULT_RATE_WPM) -> None:
        self.cache_dir = Path(cache_dir)
        #: Heard words per minute of speech at ``rate="100%"``.
        self.base_rate_wpm = clamp_rate(base_rate_wpm)
        #: Text segments sent to the engine by this speaker (a cache hit adds none).
        self.engine_calls = 0
        #: Renders answered from the disk cache.
        self.cache_hits = 0

    def cache_path(self, ssml: str, voice: str = "en-us", locale: str | None = None) -> Path:
        """Where the WAV for this SSML and voice is (or will be) cached."""
        return self.cache_dir / f"{cache_key(ssml, voice, self.base_rate_wpm, locale)}.wav"

    def render(self, ssml: str, voice: str = "en-us", *, locale: str | None = None) -> Path:
        """SSML → path of a WAV file (cached; a repeat never touches the engine).

        ``voice`` is a locale (``en-GB``) or an espeak-ng voice id (``gmw/en-us``); ``locale``
        picks the pronunciation lexicon (by default the one that serves ``voice``).
        Raises :class:`SpeechError` for invalid SSML, an unknown voice or engine failure.
        """
        final = self.cache_path(ssml, voice, locale)
        if _is_complete(final):
            self.cache_hits += 1
            return final
        segments = ssml_to_segments(ssml, self.base_rate_wpm)
        if not segments:
            raise SpeechError("nothing to say: the SSML has no text and no pauses")
        lexicon = load_lexicon(locale or voice)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        frames, rate, loudness = self._render_segments(segments, voice, lexicon)
        with atomic_target(final) as target:
            write_wav(target, normalize_pcm16(frames, rate, loudness=loudness), rate)
        return final

    def _render_segments(
        self, segments: Sequence[Segment], voice: str, lexicon: Lexicon
    ) -> tuple[bytes, int, float]:
        """Each Speech segment → PCM (edges trimmed), silences as zeros, joined in order; with
        the sample rate and the loudness of the whole.

        A second thread measures each piece while espeak-ng makes the next (both release the
        GIL), so the loudness costs almost no wall time on a machine with two cores.
        """
        pieces: list[bytes] = []
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="loudness") as measuring:
            fed: list[Future[None]] = []
            with _ENGINE_LOCK:
                eng = _load_engine()
                voice_id = pick_voice(voice, eng.voices)
                rate = eng.sample_rate
                meter = LoudnessMeter.for_pcm16(rate)
                # espeak-ng's callback, voice and rate are process-wide: anything else in the
                # process that drives the library (pyttsx3's own driver, a benchmark) may have
                # changed them.
                eng.espeak.cSetSynthCallback(eng.callback)
                eng.voice = eng.rate = None
                for segment in segments:
                    if isinstance(segment, Silence):
                        piece = silence_frames(segment.ms, rate)
                    else:
                        text = lexicon.for_offline(segment.text)
                        piece = trim(_synthesize(eng, text, voice_id, segment.rate_wpm), rate)
                        self.engine_calls += 1
                    pieces.append(piece)
                    fed.append(measuring.submit(meter.feed_pcm16, piece))
            for done in fed:
                done.result()  # one worker takes the pieces in order; this re-raises its errors
        return b"".join(pieces), rate, meter.loudness()

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
