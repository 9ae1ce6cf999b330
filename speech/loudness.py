"""Loudness of rendered speech (ITU-R BS.1770 / EBU R 128), and normalising it.

Every rendered piece is brought to one integrated loudness, :data:`TARGET_LUFS`, with its peak at
or below :data:`PEAK_CEILING_DBFS`, so the letter, a strategy and a breath sound equally loud.

The K-weighting filters are pyloudnorm's (its ``IIRfilter`` stages with the BS.1770 constants).
The gating is the same algorithm as ``pyloudnorm.Meter.integrated_loudness``, but vectorised:
pyloudnorm loops over the 400 ms blocks in Python, which took ~80 ms on the letter, as long as
espeak-ng takes to say it; with cumulative sums it is a few milliseconds. A test checks that both
agree on real renders.

numpy, scipy and pyloudnorm are imported on first use, so importing :mod:`speech` stays cheap.
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

#: Integrated loudness every piece is brought to (espeak-ng's own level is about -20 to -22).
TARGET_LUFS = -20.0
#: No sample louder than this after normalising (1 dB of headroom for lossy encoders and DACs).
PEAK_CEILING_DBFS = -1.0
#: BS.1770: 400 ms blocks, 75 % overlap, an absolute gate at -70 LUFS, a relative gate -10 LU.
BLOCK_SECONDS = 0.4
BLOCK_STEP = 0.25
ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
_FULL_SCALE = 32768.0
# Above this level the soft limiter starts bending peaks down towards the ceiling.
_LIMITER_KNEE_DB = 2.0


@functools.lru_cache(maxsize=8)
def _k_weighting_sos(rate: int) -> NDArray[np.float64]:
    """The two K-weighting stages as second-order sections, exactly as pyloudnorm's Meter sets
    them up for "K-weighting" (its ``IIRfilter`` designs them for any sample rate)."""
    import numpy as np
    from pyloudnorm.iirfilter import IIRfilter

    shelf = IIRfilter(4.0, 1 / math.sqrt(2), 1500.0, rate, "high_shelf")
    high_pass = IIRfilter(0.0, 0.5, 38.0, rate, "high_pass")
    sections = [np.concatenate([stage.b, stage.a]) for stage in (shelf, high_pass)]
    return np.array(sections, dtype=np.float64)


#: A signal at half the sample rate this small (about -240 dBFS, far below the -70 LUFS gate) keeps
#: the filters' state out of subnormal numbers: decaying through the pauses' digital silence into
#: them made the filter ~6x slower (236 ms against 41 ms on the letter).
_ANTI_SUBNORMAL = 1e-12
#: Steps (100 ms each) filtered at a time: an even number, so every chunk has an even length and
#: the alternating anti-subnormal signal stays in phase; small enough to stay in the CPU's cache
#: instead of touching ~100 MB of fresh temporaries for the letter.
_CHUNK_STEPS = 20


def _step_samples(rate: int) -> int:
    """Samples in one 100 ms step (a quarter of a 400 ms block)."""
    return round(BLOCK_SECONDS * BLOCK_STEP * rate)


class LoudnessMeter:
    """Gated integrated loudness (LUFS) of mono audio fed a piece at a time.

    The figure is the same as measuring the pieces joined, to the last bit: the filters keep
    their state from piece to piece, and samples short of a whole 100 ms step wait for the next
    piece. So a renderer can measure each piece while it makes the next one.
    """

    def __init__(self, rate: int, *, scale: float = 1.0) -> None:
        """``scale`` brings the samples fed to full scale 1.0 (``1 / 32768`` for 16-bit PCM)."""
        import numpy as np
        from scipy.signal import sosfilt_zi

        self.rate = rate
        self.scale = scale
        self._sos = _k_weighting_sos(rate)
        self._state = sosfilt_zi(self._sos) * 0.0  # the filters at rest
        self._step = _step_samples(rate)
        self._chunk = np.empty(_CHUNK_STEPS * self._step, dtype=np.float64)
        self._filled = 0
        self._energies: list[NDArray[Any]] = []

    @classmethod
    def for_pcm16(cls, rate: int) -> LoudnessMeter:
        """A meter for little-endian 16-bit PCM, fed with :meth:`feed_pcm16`."""
        return cls(rate, scale=1 / _FULL_SCALE)

    def feed_pcm16(self, frames: bytes) -> None:
        """The next piece, as 16-bit PCM (the meter must come from :meth:`for_pcm16`)."""
        import numpy as np

        self.feed(np.frombuffer(frames, dtype="<i2"))

    def feed(self, samples: NDArray[Any]) -> None:
        """The next piece of audio."""
        chunk, taken = self._chunk, 0
        while taken < len(samples):
            count = min(len(chunk) - self._filled, len(samples) - taken)
            view = chunk[self._filled : self._filled + count]
            view[:] = samples[taken : taken + count]
            if self.scale != 1.0:
                view *= self.scale
            self._filled += count
            taken += count
            if self._filled == len(chunk):
                self._state, energies = self._filter(chunk, self._state)
                self._energies.append(energies)
                self._filled = 0

    def _filter(self, view: NDArray[Any], state: NDArray[Any]) -> tuple[NDArray[Any], NDArray[Any]]:
        """K-weight whole steps that start at an even sample: (the filters' state after them,
        each step's energy)."""
        import numpy as np
        from scipy.signal import sosfilt

        view[::2] += _ANTI_SUBNORMAL
        view[1::2] -= _ANTI_SUBNORMAL
        weighted, state = sosfilt(self._sos, view, zi=state)
        return state, np.square(weighted).reshape(-1, self._step).sum(axis=1)

    def loudness(self) -> float:
        """The loudness of everything fed so far; ``-inf`` for silence.

        A clip shorter than one block is measured as if padded with silence to one block
        (BS.1770 needs at least one 400 ms block). Feeding more afterwards goes on from where
        the last piece ended.
        """
        import numpy as np

        per_block = round(1 / BLOCK_STEP)
        whole = sum(len(energies) for energies in self._energies)
        count = max(-(-self._filled // self._step), per_block - whole)
        tail = self._chunk[: count * self._step].copy()
        tail[self._filled :] = 0.0
        energies = list(self._energies)
        if count:
            energies.append(self._filter(tail, self._state)[1])
        return _gated_loudness(np.concatenate(energies), self._step * per_block, per_block)


def _gated_loudness(step_energy: NDArray[Any], block_samples: int, per_block: int) -> float:
    """BS.1770 gating over 400 ms blocks made of ``per_block`` consecutive step energies."""
    import numpy as np

    window = np.lib.stride_tricks.sliding_window_view(step_energy, per_block)
    mean_square = window.sum(axis=1) / block_samples
    with np.errstate(divide="ignore"):
        block_lufs = -0.691 + 10 * np.log10(mean_square)
    above_absolute = mean_square[block_lufs >= ABSOLUTE_GATE_LUFS]
    if not len(above_absolute):
        return -math.inf
    relative_gate = -0.691 + 10 * math.log10(float(above_absolute.mean())) + RELATIVE_GATE_LU
    gated = mean_square[(block_lufs > relative_gate) & (block_lufs >= ABSOLUTE_GATE_LUFS)]
    if not len(gated):
        return -math.inf
    return -0.691 + 10 * math.log10(float(gated.mean()))


def integrated_loudness(samples: NDArray[Any], rate: int, *, scale: float = 1.0) -> float:
    """Gated integrated loudness in LUFS of mono ``samples`` (floats, full scale 1.0; or any
    numbers that ``scale`` brings to that, such as 16-bit PCM with ``scale=1 / 32768``).

    Returns ``-inf`` for silence; see :meth:`LoudnessMeter.loudness`.
    """
    meter = LoudnessMeter(rate, scale=scale)
    meter.feed(samples)
    return meter.loudness()


def peak_dbfs(samples: NDArray[Any]) -> float:
    """The highest sample level in dBFS (``-inf`` for silence)."""
    import numpy as np

    peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def _soft_limit(samples: NDArray[Any], ceiling: float) -> NDArray[Any]:
    """Bend the few samples above the knee smoothly below ``ceiling`` (linear amplitude).

    Speech peaks are rare and short, so this changes the loudness by far less than 0.1 dB, but it
    guarantees the ceiling without lowering the whole piece.
    """
    import numpy as np

    knee = ceiling * 10 ** (-_LIMITER_KNEE_DB / 20)
    magnitude = np.abs(samples)
    over = magnitude > knee
    if not over.any():
        return samples
    span = ceiling - knee
    limited = samples.copy()
    bent = knee + span * np.tanh((magnitude[over] - knee) / span)
    limited[over] = np.sign(samples[over]) * bent
    return limited


def pcm16_to_float(frames: bytes) -> NDArray[np.float32]:
    """Little-endian 16-bit PCM → 32-bit floats with full scale 1.0 (plenty for 16-bit audio)."""
    import numpy as np

    samples: NDArray[np.float32] = np.frombuffer(frames, dtype="<i2").astype(np.float32)
    samples *= np.float32(1 / _FULL_SCALE)
    return samples


def float_to_pcm16(samples: NDArray[Any]) -> bytes:
    """Floats with full scale 1.0 → little-endian 16-bit PCM (rounded, clipped to range)."""
    data: bytes = _to_pcm16_array(samples).tobytes()
    return data


def _to_pcm16_array(samples: NDArray[Any]) -> NDArray[Any]:
    import numpy as np

    scaled = np.rint(samples * np.float32(_FULL_SCALE))
    np.clip(scaled, -32768, 32767, out=scaled)
    return scaled.astype("<i2")


def normalize_pcm16(
    frames: bytes,
    rate: int,
    target_lufs: float = TARGET_LUFS,
    ceiling_dbfs: float = PEAK_CEILING_DBFS,
    *,
    loudness: float | None = None,
) -> bytes:
    """Mono 16-bit PCM brought to ``target_lufs``, its peak at or below ``ceiling_dbfs``.

    ``loudness`` is the audio's own, when already measured (by a :class:`LoudnessMeter`).

    Silence (nothing above the absolute gate) is returned unchanged. Works through the audio a
    few seconds at a time: whole-piece float copies of the letter were ~60 ms of page faults.
    """
    import numpy as np

    pcm = np.frombuffer(frames, dtype="<i2")
    if loudness is None:
        loudness = integrated_loudness(pcm, rate, scale=1 / _FULL_SCALE)
    if not math.isfinite(loudness):
        return frames
    gain = np.float32(10 ** ((target_lufs - loudness) / 20) / _FULL_SCALE)
    # Rounding to 16 bits can add half a step; keep a hair under the ceiling.
    ceiling = 10 ** (ceiling_dbfs / 20) - 1 / _FULL_SCALE
    out = np.empty(len(pcm), dtype="<i2")
    chunk = _CHUNK_STEPS * _step_samples(rate)
    for first in range(0, len(pcm), chunk):
        samples = pcm[first : first + chunk].astype(np.float32) * gain
        out[first : first + chunk] = _to_pcm16_array(_soft_limit(samples, ceiling))
    data: bytes = out.tobytes()
    return data


def measure_pcm16(frames: bytes, rate: int) -> dict[str, Any]:
    """``{"lufs": ..., "peak_dbfs": ...}`` of mono 16-bit PCM."""
    samples = pcm16_to_float(frames)
    return {"lufs": integrated_loudness(samples, rate), "peak_dbfs": peak_dbfs(samples)}
