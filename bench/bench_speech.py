"""Benchmark the offline speaker: real-time factor of a ~2,300-character letter, and a cache hit.

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
from speech.offline import OfflineSpeaker, ssml_to_segments, wav_duration

PARAGRAPHS = [
    "Hello, you. Yes, you, with the cold cup of tea and the list that never ends.",
    "Before anything else, hear this: wanting to do good work and wanting to be with your "
    "children are not rival loves. Both are part of who you are, and neither cancels the other. "
    "The guilt that follows you from the desk to the kitchen is loud, but it is not wise.",
    "Look back at this week. You read a story even though you were tired. You noticed a "
    "worried face and asked about it. You showed up to a call prepared and kind. None of that "
    "was small, even if it felt ordinary while it was happening.",
    "Some days will tip one way. A deadline will win, or a fever will. Let the scales move. "
    "Balance is something you find across a month, not something you must prove every hour, "
    "and nobody who loves you is keeping score.",
    "Here is a practice for the next few days. Choose one stretch of time, even a short one, "
    "and put the phone somewhere else. Sit on the floor, follow their lead, and let the game "
    "be as silly as they want. When the stretch ends, notice how it felt, and let that be "
    "enough for today.",
    "When the familiar voice tells you that you are falling short, answer it the way you "
    "would answer a friend who said the same thing about herself. Gently, honestly, and with "
    "a reminder of everything she is already doing.",
    "You do not have to earn rest. You do not have to be perfect to be a good parent. You "
    "only have to keep coming back, again and again, with as much love as you have that day.",
    "A word about the evenings, since they are often the hardest part. Dinner can be simple. "
    "Bath time can be skipped. The laundry can wait for the weekend. What matters is that, "
    "somewhere between the last email and the first yawn, your child feels that you are "
    "really there, listening, and glad to be.",
    "And a word about asking for help. Needing a partner, a grandparent, a neighbour or a "
    "sitter is not a sign that you cannot cope. It is how families have always managed. Say "
    "yes when someone offers, and offer back when you can. That is how a village is built.",
    "Finally, be as patient with yourself as you are with the people you love. You are "
    "learning a job nobody trained you for, while doing another one at the same time.",
    "Always in your corner, the part of you that already knows you are enough.",
]


def letter_ssml() -> str:
    body = '<break time="800ms"/>'.join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return f'<speak><prosody rate="90%">{body}</prosody></speak>'


def main() -> None:
    ssml = letter_ssml()
    text_chars = len(" ".join(PARAGRAPHS))
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
