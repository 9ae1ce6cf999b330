"""The two settings the speech package needs, read from the same ``MAMA_*`` variables as the skill.

``speech`` imports nothing from ``skill``, so it reads these itself; ``skill.config`` uses
:func:`audio_cache_dir` too, so the cache folder rule lives in one place.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_LOCALE = "en-US"


def audio_cache_dir(data_dir: Path, speech_cache_dir: Path | None = None) -> Path:
    """``MAMA_SPEECH_CACHE_DIR`` when set, else ``<data dir>/speech-cache``."""
    return speech_cache_dir or data_dir / "speech-cache"


@dataclass(frozen=True)
class SpeechSettings:
    """Which content is the default and where rendered audio is cached."""

    default_locale: str = DEFAULT_LOCALE
    cache_dir: Path = Path("data") / "speech-cache"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SpeechSettings:
        env = os.environ if environ is None else environ
        cache = env.get("MAMA_SPEECH_CACHE_DIR")
        return cls(
            default_locale=env.get("MAMA_DEFAULT_LOCALE") or DEFAULT_LOCALE,
            cache_dir=audio_cache_dir(
                Path(env.get("MAMA_DATA_DIR") or "data"), Path(cache) if cache else None
            ),
        )
