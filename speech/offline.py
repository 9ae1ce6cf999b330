"""Offline speech: SSML → WAV with pyttsx3 and the espeak-ng from the ``espeakng-loader`` wheel.

Three layers, so each can be tested on its own:

* :func:`~speech.segments.ssml_to_segments` (in :mod:`speech.segments`) — pure: SSML → a list of
  :class:`Speech` (text at a rate in words per minute) and :class:`Silence` (milliseconds) that
  the engine can honour.
* the engine layer (here) — loads espeak-ng lazily, under one process-wide lock, and renders one
  text segment to one WAV file with pyttsx3, working around pyttsx3's lost-file and lost-setting
  races.
* :class:`OfflineSpeaker` (here) — joins segments and silences into one WAV (with the helpers in
  :mod:`speech.wav`), cached on disk by content.

The public names of :mod:`speech.segments` and :mod:`speech.wav` are re-exported, so
``from speech.offline import ssml_to_segments, wav_duration`` keeps working.

No system espeak-ng is needed (or used): the wheel's library is preloaded before pyttsx3 looks for
``libespeak-ng.so.1``, and ``ESPEAK_DATA_PATH`` always points at the wheel's data.
"""

from __future__ import annotations

import atexit
import ctypes
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
from speech.wav import atomic_target, join_wavs, wav_duration

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
CACHE_VERSION = "offline-1"


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
_release_registered = False


def _release_engine() -> None:
    """At exit: drop our engine while every module is still intact.

    pyttsx3's ``DriverProxy.__del__`` uses its module's global ``contextlib``. When the last
    reference (ours) is only dropped during interpreter teardown, that global may already be None
    and Python prints "Exception ignored in: DriverProxy.__del__ ... 'NoneType' object has no
    attribute 'suppress'". atexit handlers run before that teardown, so releasing the engine here
    lets ``__del__`` (which unhooks espeak's synth callback) run normally.
    """
    global _engine
    # A daemon thread stuck mid-render must not hang the exit: then leave it to teardown.
    if not _ENGINE_LOCK.acquire(timeout=5):
        return
    try:
        _engine = None
    finally:
        _ENGINE_LOCK.release()


def _quiet_print(*args: object, **_kwargs: object) -> None:
    """Stands in for ``print`` inside pyttsx3's espeak driver ("Audio saved to ...")."""
    log.debug("pyttsx3: %s", " ".join(str(a) for a in args))


def _load_engine() -> _Engine:
    """Load espeak-ng from the wheel and start pyttsx3 once; later calls return the same engine."""
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
        if not _release_registered:
            atexit.register(_release_engine)
            _release_registered = True
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
            with atomic_target(final) as target:
                join_wavs(parts, target)
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
