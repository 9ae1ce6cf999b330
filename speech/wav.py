"""WAV helpers for offline speech: trim the engine's padding, join segments, write atomically."""

from __future__ import annotations

import array
import contextlib
import os
import sys
import tempfile
import wave
from collections.abc import Iterator, Sequence
from pathlib import Path

from speech.segments import Silence, SpeechError

# Samples quieter than this (16-bit) count as silence when trimming the engine's own padding.
_TRIM_THRESHOLD = 64
# Keep a little of the fade at each edge so word onsets and endings are never clipped.
_TRIM_MARGIN_MS = 20
# Used only when a document has no speech at all (just breaks): espeak-ng's native format.
_DEFAULT_WAV_FORMAT = (1, 2, 22050)  # channels, bytes per sample, frames per second


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


def join_wavs(parts: Sequence[Path | Silence], target: Path) -> None:
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
