"""Tests for the offline speaker (speech/offline.py).

Parsing tests are pure. Everything else renders real audio with the espeak-ng from the
``espeakng-loader`` wheel (no engine mocks) and measures the WAV it produced.
"""

from __future__ import annotations

import array
import math
import os
import subprocess
import sys
import textwrap
import threading
import time
import wave
from pathlib import Path

import pytest

from speech import offline
from speech.offline import (
    MAX_BREAK_MS,
    PARAGRAPH_PAUSE_MS,
    OfflineSpeaker,
    Silence,
    Speech,
    SpeechError,
    cache_key,
    pick_voice,
    ssml_to_segments,
    voice_for_locale,
    wav_duration,
)

REPO = Path(__file__).resolve().parents[2]
BASE = 170

SENTENCE = "Take a slow breath, put the phone in a drawer, and give your child ten whole minutes."

# About 2,300 characters, written for these tests, paced like the skill's letter.
LETTER_PARAGRAPHS = [
    "Dear you, the one reading this between a meeting and a meltdown.",
    "You are allowed to be a parent who works. The hours you give your job are not hours stolen "
    "from your children; they are part of how you look after all of them, and of yourself too. "
    "Guilt tells you a story in which every choice is a failure. It is not a fair storyteller.",
    "Think about today. Somewhere in it there was a moment of real attention: a question you "
    "answered properly, a hug that lasted a little longer, a joke at breakfast. Those moments "
    "count. Children remember being seen far more than they remember how many hours you were "
    "in the next room.",
    "You will not get every day right. Some days the laptop wins, the dinner is toast, and "
    "bedtime is late. That is not proof that you are failing. It is proof that you are a "
    "person doing two demanding things at once, with love, and without a manual.",
    "So here is what I want you to practise. When you close the laptop, close it completely. "
    "Give your children fifteen unplugged minutes that belong only to them. When you are at "
    "work, let yourself work without apologising. And when you slip, forgive yourself as "
    "quickly as you would forgive a friend.",
    "You are not behind. You are not too much and not too little. You are exactly the parent "
    "your family knows and trusts, and you are doing better than the voice in your head admits.",
    "With all my heart, and no conditions at all, keep going. Rest when you can. Ask for help "
    "before you need it. And tonight, before you sleep, name one thing you did well today.",
    "One more thing about the evenings. The house does not need to be perfect before you can "
    "sit on the floor and build a tower of blocks. The emails will still be there in half an "
    "hour, and they will not remember that you made them wait. Your children will remember "
    "that you laughed when the tower fell down, and that you built it again with them.",
    "And about the mornings: a calm ten minutes beats a frantic hour. Pack the bags the night "
    "before, keep breakfast simple, and say one kind sentence to each child before the door "
    "closes. That is enough. Nobody is grading you, and if they were, you would pass. Some "
    "mornings will still go sideways, and that is fine too: start again at lunch.",
    "With love, from someone who has stood exactly where you are standing.",
]


def letter_ssml() -> str:
    body = '<break time="800ms"/>'.join(f"<p>{p}</p>" for p in LETTER_PARAGRAPHS)
    return f'<speak><prosody rate="90%">{body}</prosody></speak>'


# --------------------------------------------------------------------------------------------
# WAV measurement helpers
# --------------------------------------------------------------------------------------------


def read_samples(path: Path) -> tuple[array.array[int], int]:
    with wave.open(str(path), "rb") as wav:
        assert wav.getnchannels() == 1
        assert wav.getsampwidth() == 2
        rate = wav.getframerate()
        samples = array.array("h")
        samples.frombytes(wav.readframes(wav.getnframes()))
    if sys.byteorder == "big":
        samples.byteswap()
    return samples, rate


def rms(samples: array.array[int]) -> float:
    if not samples:
        return 0.0
    return math.sqrt(sum(s * s for s in samples) / len(samples))


def silent_runs(
    path: Path, window_ms: int = 10, threshold: float = 100.0
) -> list[tuple[float, float]]:
    """(start, end) seconds of every run of windows whose RMS is below ``threshold``."""
    samples, rate = read_samples(path)
    step = rate * window_ms // 1000
    runs: list[tuple[float, float]] = []
    start: int | None = None
    for i in range(0, len(samples), step):
        quiet = rms(samples[i : i + step]) < threshold
        if quiet and start is None:
            start = i
        elif not quiet and start is not None:
            runs.append((start / rate, i / rate))
            start = None
    if start is not None:
        runs.append((start / rate, len(samples) / rate))
    return runs


def expected_seconds(text: str, wpm: float) -> float:
    return len(text.split()) / wpm * 60


@pytest.fixture
def speaker(tmp_path: Path) -> OfflineSpeaker:
    return OfflineSpeaker(tmp_path / "cache", base_rate_wpm=BASE)


# --------------------------------------------------------------------------------------------
# SSML → segments (pure)
# --------------------------------------------------------------------------------------------


def test_paragraphs_and_break_inside_prosody() -> None:
    ssml = (
        '<speak><prosody rate="90%"><p>Para one.</p><break time="800ms"/>'
        "<p>Para two.</p></prosody></speak>"
    )
    assert ssml_to_segments(ssml, BASE) == [
        Speech("Para one.", 153),
        Silence(PARAGRAPH_PAUSE_MS + 800),
        Speech("Para two.", 153),
    ]


def test_paragraph_pause_only_between_speech() -> None:
    segments = ssml_to_segments("<speak><p>One.</p><p>Two.</p><p>Three.</p></speak>", BASE)
    assert segments == [
        Speech("One.", BASE),
        Silence(PARAGRAPH_PAUSE_MS),
        Speech("Two.", BASE),
        Silence(PARAGRAPH_PAUSE_MS),
        Speech("Three.", BASE),
    ]


def test_leading_and_trailing_breaks_are_kept_as_asked() -> None:
    segments = ssml_to_segments('<speak><break time="1s"/><p>Hi.</p><break time="2s"/></speak>')
    assert segments == [Silence(1000), Speech("Hi.", BASE), Silence(2000)]


@pytest.mark.parametrize(
    ("attrs", "ms"),
    [
        ('time="800ms"', 800),
        ('time="2s"', 2000),
        ('time="1.5s"', 1500),
        ('time=" 250 MS "', 250),
        ('time="30s"', MAX_BREAK_MS),
        ('time="0ms"', 0),
        ('strength="strong"', 450),
        ('strength="x-strong"', PARAGRAPH_PAUSE_MS),
        ('strength="weak"', 200),
        ('strength="none"', 0),
        ("", 300),
        ('time="soon"', 300),
        ('time="soon" strength="weak"', 200),
        ('time="700ms" strength="none"', 700),
    ],
)
def test_break_lengths(attrs: str, ms: int) -> None:
    segments = ssml_to_segments(f"<speak>Before <break {attrs}/> after.</speak>")
    if ms == 0:
        assert segments == [Speech("Before after.", BASE)]
    else:
        assert segments == [Speech("Before", BASE), Silence(ms), Speech("after.", BASE)]


def test_break_between_words_without_spaces_still_separates_them() -> None:
    assert ssml_to_segments('<speak>One<break time="1s"/>two</speak>') == [
        Speech("One", BASE),
        Silence(1000),
        Speech("two", BASE),
    ]


def test_prosody_nesting_labels_percentages_and_restore() -> None:
    ssml = (
        '<speak>Normal <prosody rate="slow">slow <prosody rate="200%">double</prosody> '
        'slow again <prosody rate="+50%">a bit faster</prosody></prosody> normal '
        '<prosody rate="x-slow">crawl</prosody> <prosody rate="fast">quick</prosody> '
        '<prosody rate="nonsense">same</prosody></speak>'
    )
    assert ssml_to_segments(ssml, 200) == [
        Speech("Normal", 200),
        Speech("slow", 160),
        Speech("double", 400),
        Speech("slow again", 160),
        Speech("a bit faster", 240),
        Speech("normal", 200),
        Speech("crawl", 120),
        Speech("quick", 250),
        Speech("same", 200),
    ]


def test_rates_are_clamped_to_the_engine_range() -> None:
    ssml = '<speak><prosody rate="10%">tiny</prosody> <prosody rate="900%">huge</prosody></speak>'
    assert ssml_to_segments(ssml, BASE) == [
        Speech("tiny", offline.MIN_RATE_WPM),
        Speech("huge", offline.MAX_RATE_WPM),
    ]


def test_entities_are_unescaped() -> None:
    ssml = "<speak>Tom &amp; Jerry say &quot;hi&quot; &lt;3 &#8212; &apos;ok&apos;</speak>"
    assert ssml_to_segments(ssml) == [Speech("Tom & Jerry say \"hi\" <3 \u2014 'ok'", BASE)]


def test_amazon_tags_without_namespace_declaration() -> None:
    ssml = (
        '<speak><amazon:domain name="long-form"><amazon:emotion name="disappointed" '
        'intensity="medium">It is <emphasis level="strong">fine</emphasis>.</amazon:emotion>'
        '</amazon:domain> <amazon:effect name="whispered">Really.</amazon:effect></speak>'
    )
    assert ssml_to_segments(ssml) == [Speech("It is fine. Really.", BASE)]


def test_amazon_tags_with_declaration_and_xml_prolog() -> None:
    ssml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<speak xmlns:amazon="https://amazon.com/ssml"><amazon:domain name="conversational">'
        "Hello.</amazon:domain></speak>"
    )
    assert ssml_to_segments(ssml) == [Speech("Hello.", BASE)]


def test_sentences_get_a_boundary_even_without_punctuation() -> None:
    ssml = "<speak>Listen<s>First thing</s><s>Second thing!</s>last</speak>"
    assert ssml_to_segments(ssml) == [Speech("Listen. First thing. Second thing! last", BASE)]


def test_other_tags_keep_text_sub_uses_alias_audio_is_skipped() -> None:
    ssml = (
        '<speak><say-as interpret-as="interjection">wow</say-as>, '
        '<sub alias="World Wide Web">WWW</sub> <phoneme alphabet="ipa" ph="x">tomato</phoneme>'
        '<audio src="https://example.com/a.mp3"/> <lang xml:lang="en-GB">done</lang>'
        '<mark name="m"/>.</speak>'
    )
    assert ssml_to_segments(ssml) == [Speech("wow, World Wide Web tomato done.", BASE)]


def test_whitespace_is_collapsed_and_punctuation_only_text_is_dropped() -> None:
    ssml = '<speak>\n   Hello\n\n   there   <break time="1s"/> ... </speak>'
    assert ssml_to_segments(ssml) == [Speech("Hello there", BASE), Silence(1000)]


def test_plain_text_is_accepted_even_with_a_bare_ampersand() -> None:
    assert ssml_to_segments("Tom & Jerry") == [Speech("Tom & Jerry", BASE)]
    assert ssml_to_segments("Tom &amp; Jerry") == [Speech("Tom & Jerry", BASE)]


@pytest.mark.parametrize("bad", ["<speak>unclosed", "<speak><p>x</speak>", "<speak>a < b</speak>"])
def test_invalid_ssml_raises_speech_error(bad: str) -> None:
    with pytest.raises(SpeechError, match="invalid SSML"):
        ssml_to_segments(bad)


def test_doctype_is_rejected() -> None:
    # A DTD could define entity bombs; SSML never needs one.
    with pytest.raises(SpeechError):
        ssml_to_segments('<!DOCTYPE speak [<!ENTITY a "aaaa">]><speak>&a;</speak>')


def test_cache_key_covers_ssml_voice_rate() -> None:
    key = cache_key("<speak>Hi</speak>", "en-us", 170)
    assert key == cache_key("<speak>Hi</speak>", "EN-US ", 170)
    assert len(key) == 64
    others = {
        cache_key("<speak>Hi!</speak>", "en-us", 170),
        cache_key("<speak>Hi</speak>", "en-gb", 170),
        cache_key("<speak>Hi</speak>", "en-us", 171),
    }
    assert key not in others
    assert len(others) == 3


VOICES = [
    ("gmw/en-029", ("en-029",)),
    ("gmw/en", ("en-gb",)),
    ("gmw/en-gb-scotland", ("en-gb-scotland",)),
    ("gmw/en-us", ("en-us",)),
    ("gmw/de", ("de",)),
]


@pytest.mark.parametrize(
    ("locale", "voice"),
    [
        ("en-US", "gmw/en-us"),
        ("en_us", "gmw/en-us"),
        ("en-GB", "gmw/en"),
        ("en-AU", "gmw/en"),
        ("en-IN", "gmw/en"),
        ("en-CA", "gmw/en-us"),
        ("en", "gmw/en-us"),
        ("en-ZZ", "gmw/en-us"),
        ("de-DE", "gmw/de"),
        ("GMW/EN-GB-SCOTLAND", "gmw/en-gb-scotland"),
    ],
)
def test_pick_voice(locale: str, voice: str) -> None:
    assert pick_voice(locale, VOICES) == voice


def test_pick_voice_unknown_language() -> None:
    with pytest.raises(SpeechError):
        pick_voice("xx-YY", VOICES)


# --------------------------------------------------------------------------------------------
# Real engine
# --------------------------------------------------------------------------------------------


def test_import_does_not_load_the_engine() -> None:
    code = (
        "import sys, speech.offline; "
        "print('pyttsx3' in sys.modules, 'espeakng_loader' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "False"]


def test_sentence_renders_to_plausible_audible_wav(
    speaker: OfflineSpeaker, capfd: pytest.CaptureFixture[str]
) -> None:
    path = speaker.render(f"<speak>{SENTENCE}</speak>")
    assert path.parent == speaker.cache_dir and path.suffix == ".wav"
    samples, rate = read_samples(path)
    duration = len(samples) / rate
    expected = expected_seconds(SENTENCE, BASE)
    assert 0.5 * expected <= duration <= 2 * expected, (duration, expected)
    assert rms(samples) > 1000  # speech, not silence (full scale is 32767)
    # The driver's "Audio saved to ..." must not leak, from any thread.
    out, err = capfd.readouterr()
    assert "Audio saved" not in out + err


def test_engine_comes_from_the_wheel(speaker: OfflineSpeaker) -> None:
    import espeakng_loader

    speaker.render("<speak>Check.</speak>")
    assert os.environ["ESPEAK_DATA_PATH"] == espeakng_loader.get_data_path()
    maps = Path("/proc/self/maps").read_text()
    loaded = {line.split()[-1] for line in maps.splitlines() if "libespeak" in line}
    assert loaded and all(p.startswith(str(Path(espeakng_loader.__file__).parent)) for p in loaded)


def test_two_second_break_is_real_silence_in_the_right_place(speaker: OfflineSpeaker) -> None:
    without = speaker.render("<speak>The kettle is on. The children are playing.</speak>")
    with_break = speaker.render(
        '<speak>The kettle is on. <break time="2s"/> The children are playing.</speak>'
    )
    # The break replaces espeak-ng's own pause between the sentences (about 0.4 s at this pace).
    extra = wav_duration(with_break) - wav_duration(without)
    assert 1.5 <= extra <= 2.4, extra
    duration = wav_duration(with_break)
    longest = max(silent_runs(with_break), key=lambda run: run[1] - run[0])
    assert longest[1] - longest[0] >= 1.8, longest
    # Speech on both sides: "The kettle is on." is about a second, so is the second sentence.
    assert 0.5 <= longest[0] <= duration / 2, (longest, duration)
    assert longest[1] <= duration - 0.5, (longest, duration)
    # No other pause comes close.
    others = [r for r in silent_runs(with_break) if r != longest]
    assert all(end - start < 1.0 for start, end in others)


def test_slower_prosody_is_longer_and_faster_is_shorter(speaker: OfflineSpeaker) -> None:
    normal = wav_duration(speaker.render(f"<speak>{SENTENCE}</speak>"))
    slow = wav_duration(
        speaker.render(f'<speak><prosody rate="x-slow">{SENTENCE}</prosody></speak>')
    )
    fast = wav_duration(speaker.render(f'<speak><prosody rate="150%">{SENTENCE}</prosody></speak>'))
    assert slow > 1.3 * normal, (slow, normal)
    assert fast < 0.85 * normal, (fast, normal)


def test_base_rate_changes_the_length(tmp_path: Path) -> None:
    slow = OfflineSpeaker(tmp_path, base_rate_wpm=120).render(SENTENCE)
    fast = OfflineSpeaker(tmp_path, base_rate_wpm=240).render(SENTENCE)
    assert slow != fast
    assert wav_duration(slow) > 1.5 * wav_duration(fast)


def test_long_letter_renders_with_plausible_length(speaker: OfflineSpeaker) -> None:
    ssml = letter_ssml()
    text = " ".join(LETTER_PARAGRAPHS)
    assert 2100 <= len(text) <= 2500
    path = speaker.render(ssml)
    samples, rate = read_samples(path)
    duration = len(samples) / rate
    pauses = (len(LETTER_PARAGRAPHS) - 1) * (PARAGRAPH_PAUSE_MS + 800) / 1000
    expected = expected_seconds(text, BASE * 0.9) + pauses
    assert 0.5 * expected <= duration <= 2 * expected, (duration, expected)
    assert rms(samples) > 1000
    # One engine call per paragraph, every one of them present: the lost-file bug would show
    # up as a SpeechError or as missing paragraphs (too few long pauses).
    assert speaker.engine_calls == len(LETTER_PARAGRAPHS)
    long_pauses = [r for r in silent_runs(path) if r[1] - r[0] >= 1.2]
    assert len(long_pauses) == len(LETTER_PARAGRAPHS) - 1


def test_cache_hit_returns_same_file_without_the_engine(tmp_path: Path) -> None:
    first = OfflineSpeaker(tmp_path)
    ssml = f"<speak><p>{SENTENCE}</p><p>Again.</p></speak>"
    path = first.render(ssml)
    assert first.engine_calls == 2 and first.cache_hits == 0
    stat = path.stat()
    assert first.render(ssml) == path
    assert first.engine_calls == 2 and first.cache_hits == 1
    # Another speaker (think: another process) on the same directory hits the same entry.
    second = OfflineSpeaker(tmp_path)
    assert second.render(ssml) == path
    assert second.engine_calls == 0 and second.cache_hits == 1
    assert path.stat().st_mtime_ns == stat.st_mtime_ns
    # A different voice is a different entry.
    assert second.render(ssml, voice="en-GB") != path
    assert second.engine_calls == 2
    # Nothing but finished entries is left behind.
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".wav", ".wav"]


def test_voice_for_locale_maps_to_real_voices(speaker: OfflineSpeaker) -> None:
    british = voice_for_locale("en-GB")
    assert british == "gmw/en"  # espeak-ng's "English (Great Britain)"
    assert voice_for_locale("en-US") == "gmw/en-us"
    assert voice_for_locale("en-AU") == british
    assert voice_for_locale("en-IN") == british
    assert voice_for_locale("en-CA") == "gmw/en-us"
    with pytest.raises(SpeechError):
        voice_for_locale("xx-YY")
    # The voices really differ: same text, different audio.
    us = speaker.render("<speak>Tomato, water, dance.</speak>", voice="en-US")
    gb = speaker.render("<speak>Tomato, water, dance.</speak>", voice="en-GB")
    assert us.read_bytes() != gb.read_bytes()


def test_unknown_voice_raises(speaker: OfflineSpeaker) -> None:
    with pytest.raises(SpeechError):
        speaker.render("<speak>Hi.</speak>", voice="klingon")


def test_breaks_only_render_silence_and_empty_input_raises(speaker: OfflineSpeaker) -> None:
    path = speaker.render('<speak><break time="1500ms"/></speak>')
    samples, rate = read_samples(path)
    assert len(samples) == rate * 3 // 2
    assert max(abs(s) for s in samples) == 0
    with pytest.raises(SpeechError):
        speaker.render("<speak>  </speak>")


def test_concurrent_threads_get_their_own_correct_audio(tmp_path: Path) -> None:
    texts = [f"<speak>Number {n}. {SENTENCE}</speak>" for n in ("one", "two", "three", "four")]
    reference = {t: wav_duration(OfflineSpeaker(tmp_path / "ref").render(t)) for t in texts}
    results: dict[str, float] = {}
    errors: list[BaseException] = []

    def work(ssml: str) -> None:
        try:
            results[ssml] = wav_duration(OfflineSpeaker(tmp_path / "threads").render(ssml))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in texts * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    for ssml, duration in results.items():
        assert duration == pytest.approx(reference[ssml], rel=0.02)


@pytest.mark.slow
def test_concurrent_processes_render_one_key_safely(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from speech.offline import OfflineSpeaker, wav_duration
        path = OfflineSpeaker(Path(sys.argv[1])).render({letter_ssml()!r})
        print(path, wav_duration(path))
        """
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(tmp_path)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    lines = {out.strip() for out, _ in outputs}
    assert len({line.split()[0] for line in lines}) == 1
    path = Path(next(iter(lines)).split()[0])
    assert wav_duration(path) > 60
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def _machine_has_audio() -> bool:
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    return (
        Path("/dev/snd").exists()
        or bool(os.environ.get("PULSE_SERVER"))
        or bool(runtime and Path(runtime, "pulse/native").exists())
    )


@pytest.mark.skipif(_machine_has_audio(), reason="this machine has a sound device")
def test_play_without_audio_device_returns_false_quickly(speaker: OfflineSpeaker) -> None:
    path = speaker.render("<speak>Hello.</speak>")
    started = time.perf_counter()
    assert speaker.play(path) is False
    assert time.perf_counter() - started < 2.0


def test_play_missing_file_raises(speaker: OfflineSpeaker, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        speaker.play(tmp_path / "nope.wav")


@pytest.mark.skipif(_machine_has_audio(), reason="this machine has a sound device")
def test_play_does_not_start_aplay_without_a_card(
    speaker: OfflineSpeaker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An aplay that would "succeed": play() must still say False, because there is no card.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    marker = tmp_path / "aplay-ran"
    fake = bin_dir / "aplay"
    fake.write_text(f"#!/bin/sh\ntouch {marker}\nexit 0\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    path = speaker.render("<speak>Hello.</speak>")
    assert speaker.play(path) is False
    assert not marker.exists()


def test_rate_changes_are_never_lost(tmp_path: Path) -> None:
    # pyttsx3's queued setProperty + stop()/Cancel() race dropped the new rate in about a third
    # of renders before the fix; alternate rates and check every render got its own.
    durations: dict[int, list[float]] = {100: [], 300: []}
    for i in range(12):
        rate = 100 if i % 2 else 300
        speaker = OfflineSpeaker(tmp_path / str(i), base_rate_wpm=rate)
        durations[rate].append(wav_duration(speaker.render(SENTENCE)))
    for values in durations.values():
        assert max(values) <= min(values) * 1.02, values
    assert min(durations[100]) > 2 * max(durations[300])


def test_one_long_segment_is_not_lost_on_a_fresh_engine(tmp_path: Path) -> None:
    # On the first call after pyttsx3.init() its queue makes runAndWait() return as soon as
    # synthesis is queued (pyttsx3 issues #149, #259); without the Synchronize() wait this
    # first render of a long text raised "produced no audio". It needs a fresh process.
    text = " ".join(LETTER_PARAGRAPHS * 2)
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from speech.offline import OfflineSpeaker, wav_duration
        speaker = OfflineSpeaker(Path(sys.argv[1]), base_rate_wpm={BASE})
        path = speaker.render({text!r})
        print(speaker.engine_calls, wav_duration(path))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    calls, duration = out.stdout.split()
    assert calls == "1"
    expected = expected_seconds(text, BASE)
    assert 0.5 * expected <= float(duration) <= 2 * expected, (duration, expected)
