"""WAV helpers for offline speech: trim the engine's padding, join speech and silences, write
atomically, and find the pauses in a rendered file (for the bench and the tests).

All audio here is mono 16-bit little-endian PCM, espeak-ng's native format.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: Samples quieter than this (16-bit) count as silence, when trimming and when finding pauses.
SILENCE_THRESHOLD = 64
# Keep a little of the fade at each edge so word onsets and endings are never clipped.
_TRIM_MARGIN_MS = 20
#: espeak-ng's output: mono, 16-bit.
CHANNELS = 1
SAMPLE_WIDTH = 2


def trim(frames: bytes, rate: int) -> bytes:
    """Drop the engine's own leading/trailing silence, keeping a short margin.

    espeak-ng pads every utterance (about 0.3 s at the end); trimming it means every pause in the
    output is one we chose, so ``<break time="2s"/>`` really adds two seconds.
    """
    import numpy as np

    samples = np.frombuffer(frames, dtype="<i2")
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > SILENCE_THRESHOLD)
    if not len(loud):
        return frames
    margin = rate * _TRIM_MARGIN_MS // 1000
    start = max(0, int(loud[0]) - margin)
    end = min(len(samples), int(loud[-1]) + 1 + margin)
    return frames[start * SAMPLE_WIDTH : end * SAMPLE_WIDTH]


def silence_frames(ms: int, rate: int) -> bytes:
    """``ms`` of digital silence."""
    return b"\x00" * SAMPLE_WIDTH * (rate * ms // 1000)


def write_wav(target: Path, frames: bytes, rate: int) -> None:
    """Write mono 16-bit PCM as a WAV file."""
    with wave.open(str(target), "wb") as out:
        out.setnchannels(CHANNELS)
        out.setsampwidth(SAMPLE_WIDTH)
        out.setframerate(rate)
        out.writeframes(frames)


def read_wav(path: Path) -> tuple[bytes, int]:
    """(PCM frames, sample rate) of a mono 16-bit WAV file."""
    with wave.open(str(path), "rb") as wav:
        if wav.getnchannels() != CHANNELS or wav.getsampwidth() != SAMPLE_WIDTH:
            raise ValueError(f"{path}: not mono 16-bit PCM")
        return wav.readframes(wav.getnframes()), wav.getframerate()


def wav_duration(path: Path) -> float:
    """Length of a WAV file in seconds."""
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / wav.getframerate()


@contextlib.contextmanager
def atomic_target(final: Path) -> Iterator[Path]:
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


# --- measuring what was rendered ---------------------------------------------------------------

#: A quiet run at least this long is a pause; shorter ones are stops inside words.
MIN_PAUSE_MS = 150


@dataclass(frozen=True)
class Pauses:
    """Where a rendered piece is silent: ``gaps`` are the pauses between its first and last
    sound (seconds, in order); ``spoken_seconds`` runs from the first sound to the last."""

    gaps: tuple[float, ...]
    spoken_seconds: float

    @property
    def voiced_seconds(self) -> float:
        """Time with sound: the spoken span less its pauses."""
        return self.spoken_seconds - sum(self.gaps)


def find_pauses(frames: bytes, rate: int, min_pause_ms: int = MIN_PAUSE_MS) -> Pauses:
    """The pauses in mono 16-bit PCM, found from the samples alone.

    Quiet is measured in 10 ms windows (a window is quiet when no sample in it passes
    :data:`SILENCE_THRESHOLD`), so a zero crossing inside a vowel never counts as a pause.
    """
    import numpy as np

    samples = np.abs(np.frombuffer(frames, dtype="<i2").astype(np.int32))
    window = max(1, rate // 100)
    count = len(samples) // window
    if count == 0:
        return Pauses((), 0.0)
    loud = samples[: count * window].reshape(count, window).max(axis=1) > SILENCE_THRESHOLD
    voiced = np.flatnonzero(loud)
    if not len(voiced):
        return Pauses((), 0.0)
    first, last = int(voiced[0]), int(voiced[-1])
    gaps: list[float] = []
    run = 0
    for is_loud in loud[first : last + 1]:
        if is_loud:
            if run * 10 >= min_pause_ms:
                gaps.append(run * window / rate)
            run = 0
        else:
            run += 1
    return Pauses(tuple(gaps), (last + 1 - first) * window / rate)
