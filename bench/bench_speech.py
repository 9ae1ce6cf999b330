"""Benchmark the offline speaker: real-time factor of the default locale's letter, and a cache hit.

Run from the repository root:  .venv/bin/python bench/bench_speech.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from speech import offline
from speech.catalog import load_catalogs
from speech.compose import letter_text, speakable
from speech.offline import OfflineSpeaker, ssml_to_segments, wav_duration


def main() -> None:
    # The shipped letter, exactly as the skill and `mama-moments say letter` speak it.
    catalog = load_catalogs().default
    ssml = speakable(catalog)["letter"]
    text_chars = len(letter_text(catalog))
    segments = ssml_to_segments(ssml)
    print(
        f"letter: {text_chars} characters of text ({len(ssml)} of SSML), {len(segments)} segments"
    )

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)

        # First render in this process: loads espeak-ng and pyttsx3, then renders.
        speaker = OfflineSpeaker(root / "first")
        started = time.perf_counter()
        path = speaker.render(ssml)
        first = time.perf_counter() - started
        audio = wav_duration(path)
        load = offline._engine.load_seconds if offline._engine else float("nan")
        print(f"audio length:                 {audio:7.2f} s")
        print(f"engine load (first use):      {load * 1000:7.1f} ms")
        print(
            f"first render incl. load:      {first * 1000:7.1f} ms  RTF {first / audio:.4f}"
            f"  ({audio / first:.0f}x real time)"
        )

        # Cold renders (empty cache each time) with the engine already loaded.
        times = []
        for i in range(7):
            cold = OfflineSpeaker(root / f"cold{i}")
            started = time.perf_counter()
            cold.render(ssml)
            times.append(time.perf_counter() - started)
        median = statistics.median(times)
        print(
            f"cold render, warm engine:     {median * 1000:7.1f} ms  RTF {median / audio:.4f}"
            f"  (median of {len(times)}, min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f})"
        )

        # Cached repeats: must not touch the engine.
        calls_before = speaker.engine_calls
        hits = []
        for _ in range(200):
            started = time.perf_counter()
            again = speaker.render(ssml)
            hits.append(time.perf_counter() - started)
        assert again == path and speaker.engine_calls == calls_before
        print(
            f"cached repeat:                {statistics.median(hits) * 1e6:7.1f} µs"
            f"  (median of {len(hits)}, engine calls added: {speaker.engine_calls - calls_before})"
        )


if __name__ == "__main__":
    main()
