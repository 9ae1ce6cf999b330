"""Say SSML out loud with the offline voice, or leave a WAV behind when there is no speaker.

This is the layer the command line and the simulator's ``chat --speak`` use: pick the voice for a
locale, render through :class:`~speech.offline.OfflineSpeaker` (cached on disk) and play the file
when an audio device works. Playback is best effort by design: a machine without a sound card
still gets the WAV, never an error.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from speech.catalog import Catalog, Catalogs, load_catalogs
from speech.offline import OfflineSpeaker, SpeechError, voice_for_locale, wav_duration
from speech.settings import SpeechSettings

#: Where :func:`report` writes its line (``print`` by default, ``click.echo`` in the CLI).
Echo = Callable[[str], None]


@dataclass(frozen=True)
class Spoken:
    """The result of one :func:`speak` call."""

    wav: Path
    played: bool


def default_cache_dir() -> Path:
    """The configured audio cache: ``MAMA_SPEECH_CACHE_DIR`` or ``<MAMA_DATA_DIR>/speech-cache``."""
    return SpeechSettings.from_env().cache_dir


@functools.lru_cache(maxsize=1)
def _shipped_catalogs() -> Catalogs:
    # Reading and cross-checking every content file on each spoken chat turn would be wasteful.
    return load_catalogs()


def serves_locale(catalog: Catalog, locale: str) -> bool:
    """True when the catalog really is for ``locale`` (its own locale or one of its aliases)."""
    wanted = locale.strip().lower()
    return wanted == catalog.locale.lower() or wanted in (a.lower() for a in catalog.also_for)


def voice_for(locale: str, catalogs: Catalogs | None = None) -> str:
    """The offline voice for a locale.

    A locale with content (or an alias of one, like en-AU → en-GB) uses that content's chosen
    ``offline_voice``, so the accent matches the words. Any other locale asks espeak-ng for its
    nearest voice; if it has none, the default content's voice is used, because the skill answers
    such locales with the default content anyway.
    """
    catalogs = catalogs or _shipped_catalogs()
    catalog = catalogs.for_locale(locale)
    if serves_locale(catalog, locale):
        return catalog.offline_voice
    try:
        return voice_for_locale(locale)
    except SpeechError:
        return catalogs.default.offline_voice


def speak(
    ssml: str,
    locale: str,
    cache_dir: Path | None = None,
    *,
    speaker: OfflineSpeaker | None = None,
    voice: str | None = None,
    play: bool = True,
) -> Spoken:
    """Render ``ssml`` for ``locale`` and play it when a device works.

    ``speaker`` (or a new one over ``cache_dir``, else :func:`default_cache_dir`) does the
    rendering; ``voice`` overrides the locale's voice. Raises :class:`SpeechError` only when the
    audio cannot be produced; having nowhere to play it is not an error (``played`` is False).
    """
    if speaker is None:
        speaker = OfflineSpeaker(cache_dir if cache_dir is not None else default_cache_dir())
    wav = speaker.render(ssml, voice or voice_for(locale), locale=locale)
    played = speaker.play(wav) if play else False
    return Spoken(wav, played)


def speak_text(ssml: str, locale: str, cache_dir: Path | None = None) -> Path:
    """Speak SSML (or plain text) in the locale's voice when possible; the WAV's path either way."""
    return speak(ssml, locale, cache_dir).wav


def report(spoken: Spoken, echo: Echo = print, *, shown_path: Path | None = None) -> None:
    """One line telling the user what happened: played, or where the audio was left."""
    if spoken.played:
        echo(f"Played {wav_duration(spoken.wav):.1f} s of speech.")
    else:
        echo(f"No audio device; the speech is at {shown_path or spoken.wav}")


def speak_or_report(
    ssml: str,
    locale: str,
    cache_dir: Path | None = None,
    *,
    echo: Echo = print,
    speaker: OfflineSpeaker | None = None,
    voice: str | None = None,
) -> Spoken:
    """:func:`speak`, then :func:`report` the outcome through ``echo``."""
    spoken = speak(ssml, locale, cache_dir, speaker=speaker, voice=voice)
    report(spoken, echo)
    return spoken
