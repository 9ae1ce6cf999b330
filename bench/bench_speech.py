"""Benchmark the offline voice: how every rendered piece sounds, and how fast the letter renders.

Run from the repository root:  .venv/bin/python bench/bench_speech.py  (or `make bench-speech`)

1. Every piece the skill can speak offline (`mama-moments render`'s pieces and the workday
   ritual), in every content locale, measured on the rendered WAV alone: words per minute over
   the spoken span (first sound to last, pauses included) and while sounding, the median pause
   between sentences and between paragraphs, the peak and the integrated loudness.
   Goals for the letter: 130-140 wpm, sentence gaps >= 0.7 s, paragraph gaps ~2 s; for every
   piece: peak <= -1 dBFS and loudness within +-1 dB of the target.
2. The letter's render time: wall against CPU time (goal <= 1.15x: no idle polling), and against
   the anchor, espeak-ng speaking the same text in one call straight through the wheel's library
   (ctypes, synchronous mode, written to a WAV), in this process (goal <= 1.3x).
"""

from __future__ import annotations

import ctypes
import math
import statistics
import sys
import tempfile
import time
import wave
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from speech import offline, ritual, ssml
from speech.catalog import Catalog, load_catalogs
from speech.compose import LETTER_RATE, sentences, speakable
from speech.loudness import PEAK_CEILING_DBFS, TARGET_LUFS, measure_pcm16
from speech.offline import OfflineSpeaker, espeak_rate, ssml_to_segments, wav_duration
from speech.segments import Speech, parse_rate
from speech.wav import find_pauses, read_wav

LETTER_WPM = (130.0, 140.0)
SENTENCE_GAP_MIN = 0.7
WARM_RUNS = 7


def pieces(catalog: Catalog) -> dict[str, str]:
    """Every offline document for a catalog, by name."""
    documents = speakable(catalog)
    documents["ritual"] = ssml.speak(ritual.offline_ssml(catalog))
    return documents


def boundaries(document: str) -> tuple[int, int, int]:
    """(words, sentence boundaries, paragraph boundaries) of a document's plain text.

    Only used to know how many of the measured pauses to count as which: the pauses themselves
    are found in the audio. The longest ``paragraphs`` pauses are the paragraph gaps, the next
    ``sentences`` the sentence gaps; had the render lost its pauses, those would be the short
    stops at commas and the medians would show it.
    """
    blocks = [b for b in ssml.to_plain_text(document).split("\n\n") if b.strip()]
    words = sum(len(b.replace("...", " ").split()) for b in blocks)
    sentence_gaps = sum(max(0, len(sentences(b.replace("...", ". "))) - 1) for b in blocks)
    return words, sentence_gaps, max(0, len(blocks) - 1)


def median_or_nan(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def measure(path: Path, document: str) -> dict[str, float]:
    frames, rate = read_wav(path)
    pauses = find_pauses(frames, rate)
    words, sentence_count, paragraph_count = boundaries(document)
    longest = sorted(pauses.gaps, reverse=True)
    paragraph_gaps = longest[:paragraph_count]
    sentence_gaps = longest[paragraph_count : paragraph_count + sentence_count]
    loudness = measure_pcm16(frames, rate)
    return {
        "seconds": len(frames) / 2 / rate,
        "wpm": 60 * words / pauses.spoken_seconds,
        "voiced_wpm": 60 * words / pauses.voiced_seconds,
        "sentence_gap": median_or_nan(sentence_gaps),
        "paragraph_gap": median_or_nan(paragraph_gaps),
        "peak": loudness["peak_dbfs"],
        "lufs": loudness["lufs"],
    }


def report_pieces(root: Path) -> dict[str, dict[str, float]]:
    print(
        f"{'piece':<28} {'audio s':>8} {'wpm':>6} {'voiced':>7} {'sent. gap':>9} "
        f"{'para. gap':>9} {'peak dBFS':>9} {'LUFS':>7}"
    )
    results: dict[str, dict[str, float]] = {}
    speaker = OfflineSpeaker(root / "pieces")
    for catalog in load_catalogs():
        for name, document in pieces(catalog).items():
            path = speaker.render(document, catalog.offline_voice, locale=catalog.locale)
            m = measure(path, document)
            results[f"{catalog.locale} {name}"] = m
            print(
                f"{catalog.locale + ' ' + name:<28} {m['seconds']:8.1f} {m['wpm']:6.1f} "
                f"{m['voiced_wpm']:7.1f} {m['sentence_gap']:8.2f}s {m['paragraph_gap']:8.2f}s "
                f"{m['peak']:9.2f} {m['lufs']:7.2f}"
            )
    letters = {k: v for k, v in results.items() if k.endswith(" letter")}
    low, high = LETTER_WPM
    print()
    for key, m in letters.items():
        verdict = (
            "ok"
            if low <= m["wpm"] <= high
            and m["sentence_gap"] >= SENTENCE_GAP_MIN
            and 1.7 <= m["paragraph_gap"] <= 2.5
            else "MISSED"
        )
        print(
            f"{key}: {m['wpm']:.1f} wpm (goal {low:.0f}-{high:.0f}), sentence gap "
            f"{m['sentence_gap']:.2f} s (goal >= {SENTENCE_GAP_MIN}), paragraph gap "
            f"{m['paragraph_gap']:.2f} s (goal ~2): {verdict}"
        )
    peaks = max(m["peak"] for m in results.values())
    spread = max(abs(m["lufs"] - TARGET_LUFS) for m in results.values())
    print(
        f"all {len(results)} pieces: highest peak {peaks:.2f} dBFS (goal <= {PEAK_CEILING_DBFS}), "
        f"furthest from {TARGET_LUFS} LUFS by {spread:.2f} dB (goal <= 1): "
        f"{'ok' if peaks <= PEAK_CEILING_DBFS and spread <= 1 else 'MISSED'}"
    )
    return results


class DirectEspeak:
    """The anchor: espeak-ng from the wheel, driven directly with ctypes in synchronous mode."""

    def __init__(self) -> None:
        import espeakng_loader

        self.lib = ctypes.CDLL(espeakng_loader.get_library_path(), mode=ctypes.RTLD_GLOBAL)
        self.rate = self.lib.espeak_Initialize(2, 500, None, 0x8000)  # SYNCHRONOUS, DONT_EXIT
        self.chunks: list[bytes] = []
        callback_type = ctypes.CFUNCTYPE(
            ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
        )

        def collect(wav: ctypes._Pointer[ctypes.c_short], count: int, _events: object) -> int:
            if count > 0:
                self.chunks.append(ctypes.string_at(wav, count * 2))
            return 0

        self.callback = callback_type(collect)

    def say_to_wav(self, text: str, voice: str, rate: int, target: Path) -> None:
        self.lib.espeak_SetSynthCallback(self.callback)
        self.lib.espeak_SetVoiceByName(voice.encode())
        self.lib.espeak_SetParameter(1, rate, 0)  # espeakRATE
        self.chunks.clear()
        data = text.encode("utf-8")
        self.lib.espeak_Synth(data, len(data) + 1, 0, 1, 0, 1, None, None)  # POS_CHARACTER, UTF8
        with wave.open(str(target), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(self.rate)
            out.writeframes(b"".join(self.chunks))


def report_speed(root: Path) -> None:
    catalog = load_catalogs().default
    document = speakable(catalog)["letter"]
    segments = ssml_to_segments(document, offline.DEFAULT_RATE_WPM)
    speech_segments = [s for s in segments if isinstance(s, Speech)]
    print(
        f"\nletter ({catalog.locale}): {len(document)} characters of SSML, "
        f"{len(speech_segments)} speech segments, {len(segments) - len(speech_segments)} pauses"
    )
    voice = offline.pick_voice(catalog.offline_voice, offline._load_engine().voices)
    OfflineSpeaker(root / "warmup").render(document, catalog.offline_voice)  # imports, engine

    # The anchor says the letter's words (and its intro) at the letter's own espeak-ng rate.
    base = offline.DEFAULT_RATE_WPM
    nominal = espeak_rate(parse_rate(LETTER_RATE, base, base))
    text = " ".join(s.text for s in speech_segments)
    direct = DirectEspeak()

    # Interleaved, so a busy machine slows both alike.
    walls: dict[str, list[float]] = {"ours": [], "anchor": []}
    cpus: dict[str, list[float]] = {"ours": [], "anchor": []}

    def anchor(i: int) -> None:
        direct.say_to_wav(text, voice, nominal, root / f"direct{i}.wav")

    def ours(i: int) -> None:
        OfflineSpeaker(root / f"cold{i}").render(document, catalog.offline_voice)

    for i in range(WARM_RUNS):
        for name, run in (("anchor", anchor), ("ours", ours)):
            wall, cpu = time.perf_counter(), time.process_time()
            run(i)
            walls[name].append(time.perf_counter() - wall)
            cpus[name].append(time.process_time() - cpu)
    wall, cpu = statistics.median(walls["ours"]), statistics.median(cpus["ours"])
    anchor_wall, anchor_cpu = statistics.median(walls["anchor"]), statistics.median(cpus["anchor"])
    audio = wav_duration(OfflineSpeaker(root / "cold0").render(document, catalog.offline_voice))
    anchor_audio = wav_duration(root / "direct0.wav")
    print(f"{'':34} {'wall ms':>8} {'CPU ms':>8} {'audio s':>8}")
    anchor_row = f"{anchor_wall * 1e3:8.1f} {anchor_cpu * 1e3:8.1f} {anchor_audio:8.1f}"
    print(f"{'espeak-ng direct (anchor)':34} {anchor_row}")
    print(f"{'OfflineSpeaker.render, warm':34} {wall * 1e3:8.1f} {cpu * 1e3:8.1f} {audio:8.1f}")
    print(f"warm render wall / CPU:            {wall / cpu:.3f}x  (goal <= 1.15x)")
    print(f"render / espeak-ng direct (wall):  {wall / anchor_wall:.3f}x  (goal <= 1.3x)")

    speaker = OfflineSpeaker(root / "cold0")
    hits = []
    for _ in range(200):
        started = time.perf_counter()
        speaker.render(document, catalog.offline_voice)
        hits.append(time.perf_counter() - started)
    print(
        f"cached repeat: {statistics.median(hits) * 1e6:.1f} µs (median of {len(hits)}, "
        f"engine calls: {speaker.engine_calls})"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        first = OfflineSpeaker(root / "first")
        first.render("<speak>Hello.</speak>")
        load = offline._engine.load_seconds if offline._engine else math.nan
        print(
            f"first render in this process: {(time.perf_counter() - started) * 1e3:.0f} ms "
            f"(espeak-ng load {load * 1e3:.1f} ms; numpy, scipy and pyloudnorm imports)\n"
        )
        report_pieces(root)
        report_speed(root)


if __name__ == "__main__":
    main()
