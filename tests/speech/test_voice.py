"""The calm offline voice (issue 11): the letter's pace and pauses measured on the rendered WAV,
loudness the same for every piece, and the pronunciation lexicon offline and on Alexa."""

from __future__ import annotations

import json
import math
import re
import statistics
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest

from speech import compose, lexicon, loudness, offline, ritual, ssml
from speech.catalog import Catalog, load_catalogs
from speech.lexicon import Lexicon, LexiconError, load_lexicon, parse_lexicon
from speech.offline import OfflineSpeaker
from speech.wav import find_pauses, read_wav

CATALOGS = load_catalogs()
ALL = list(CATALOGS)
RATE = 22050


@pytest.fixture(scope="module")
def speaker(tmp_path_factory: pytest.TempPathFactory) -> OfflineSpeaker:
    return OfflineSpeaker(tmp_path_factory.mktemp("voice-cache"))


# --- the letter, measured on the audio ------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_letter_is_slow_with_real_pauses(speaker: OfflineSpeaker, catalog: Catalog) -> None:
    document = ssml.speak(compose.letter_ssml(catalog))
    frames, rate = read_wav(speaker.render(document, catalog.offline_voice))
    pauses = find_pauses(frames, rate)
    words = len(ssml.to_plain_text(document).split())
    wpm = 60 * words / pauses.spoken_seconds
    assert 130 <= wpm <= 140, wpm
    # The letter's structure says how many pauses of each kind there must be; the audio's
    # longest pauses must be that many paragraph gaps (~2 s), then that many sentence gaps.
    parts = compose.letter_parts(catalog)
    paragraph_gaps = len(parts)  # the intro, then each paragraph
    sentence_gaps = sum(len(compose.sentences(p)) - 1 for p in parts)
    longest = sorted(pauses.gaps, reverse=True)
    assert all(1.8 <= gap <= 2.3 for gap in longest[:paragraph_gaps]), longest[:paragraph_gaps]
    between_sentences = longest[paragraph_gaps : paragraph_gaps + sentence_gaps]
    assert min(between_sentences) >= 0.7, between_sentences
    assert statistics.median(between_sentences) < 1.2


@pytest.mark.slow
def test_read_along_still_reads_a_line_then_waits(speaker: OfflineSpeaker) -> None:
    catalog = CATALOGS.default
    step = compose.read_along_ssml(catalog, 0)
    frames, rate = read_wav(speaker.render(ssml.speak(step), catalog.offline_voice))
    lines = compose.sentences(compose.read_along_steps(catalog)[0])
    pauses = sorted(find_pauses(frames, rate).gaps, reverse=True)
    # One long pause to repeat each line (all but the last, which ends the audio).
    wanted = [compose.repeat_pause_ms(line) / 1000 for line in lines[:-1]]
    assert len(pauses) >= len(wanted)
    for got, want in zip(pauses, sorted(wanted, reverse=True), strict=False):
        assert want - 0.05 <= got <= want + 0.6, (got, want)


def test_letter_prosody_is_a_rate_alexa_accepts() -> None:
    # Alexa: x-slow, slow, medium, fast, x-fast, or a percentage of at least 20 %.
    labels = {"x-slow", "slow", "medium", "fast", "x-fast"}
    for catalog in ALL:
        documents = [
            *compose.speakable(catalog).values(),
            *(ssml.speak(compose.read_along_ssml(catalog, i)) for i in range(2)),
        ]
        for document in documents:
            for element in ET.fromstring(document).iter("prosody"):
                rate = element.attrib["rate"]
                match = re.fullmatch(r"(\d+)%", rate)
                assert rate in labels or (match and 20 <= int(match.group(1)) <= 200), rate
    assert int(compose.LETTER_RATE.rstrip("%")) < 100  # and it does slow the letter down


def test_rates_are_heard_words_per_minute() -> None:
    # espeak-ng says about 1.18 times the rate it is given, so it is asked for less.
    assert offline.espeak_rate(165) == round(165 / offline.ESPEAK_SPEED_FACTOR)
    assert offline.espeak_rate(10) == offline.ESPEAK_MIN_RATE
    assert offline.espeak_rate(10_000) == offline.ESPEAK_MAX_RATE


# --- loudness -------------------------------------------------------------------------------


@pytest.mark.slow
def test_every_piece_has_one_loudness_and_headroom(speaker: OfflineSpeaker) -> None:
    measured = {}
    for catalog in ALL:
        documents = compose.speakable(catalog)
        documents["ritual"] = ssml.speak(ritual.offline_ssml(catalog))
        for name, document in documents.items():
            frames, rate = read_wav(speaker.render(document, catalog.offline_voice))
            measured[f"{catalog.locale} {name}"] = loudness.measure_pcm16(frames, rate)
    for key, m in measured.items():
        assert m["peak_dbfs"] <= loudness.PEAK_CEILING_DBFS, (key, m)
        assert abs(m["lufs"] - loudness.TARGET_LUFS) <= 1.0, (key, m)


def test_our_loudness_agrees_with_pyloudnorm(speaker: OfflineSpeaker) -> None:
    catalog = CATALOGS.default
    frames, rate = read_wav(
        speaker.render(ssml.speak(compose.mantra_ssml(catalog)), catalog.offline_voice)
    )
    samples = loudness.pcm16_to_float(frames).astype(np.float64)
    reference = pyloudnorm.Meter(rate).integrated_loudness(samples)
    assert loudness.integrated_loudness(samples, rate) == pytest.approx(reference, abs=0.05)
    quieter = samples * 0.25  # -12 dB
    assert loudness.integrated_loudness(quieter, rate) == pytest.approx(reference - 12.04, abs=0.05)


def _tone(seconds: float, amplitude: float, hz: float = 440.0) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    return amplitude * np.sin(2 * math.pi * hz * t)


def test_normalize_brings_quiet_and_loud_audio_to_the_target() -> None:
    for amplitude in (0.02, 0.3, 0.99):
        pcm = loudness.float_to_pcm16(np.concatenate([_tone(2, amplitude), np.zeros(RATE)]))
        out = loudness.measure_pcm16(loudness.normalize_pcm16(pcm, RATE), RATE)
        assert out["lufs"] == pytest.approx(loudness.TARGET_LUFS, abs=0.1), amplitude
        assert out["peak_dbfs"] <= loudness.PEAK_CEILING_DBFS


def test_normalize_limits_rare_peaks_without_lowering_the_piece() -> None:
    # Quiet speech-like tone with a few sharp clicks: gain alone would push the clicks past
    # full scale; the limiter bends them under the ceiling and the loudness stays on target.
    signal = _tone(3, 0.07)
    signal[RATE // 2 :: RATE // 2] = 0.8
    gained_peak = 0.8 * 10 ** (
        (loudness.TARGET_LUFS - loudness.integrated_loudness(signal, RATE)) / 20
    )
    assert gained_peak > 1.0  # gain alone would clip
    out_pcm = loudness.normalize_pcm16(loudness.float_to_pcm16(signal), RATE)
    out = loudness.measure_pcm16(out_pcm, RATE)
    assert out["peak_dbfs"] <= loudness.PEAK_CEILING_DBFS
    assert out["lufs"] == pytest.approx(loudness.TARGET_LUFS, abs=0.2)


def test_silence_is_left_alone() -> None:
    silence = b"\x00\x00" * RATE
    assert loudness.normalize_pcm16(silence, RATE) == silence
    assert loudness.measure_pcm16(silence, RATE)["lufs"] == -math.inf


def test_a_meter_fed_in_pieces_measures_what_the_whole_measures() -> None:
    # Pieces of every awkward length (one sample, odd, across the 100 ms steps and the meter's
    # chunks), with silences between, as a render feeds them.
    rng = np.random.default_rng(7)
    sound = np.concatenate([_tone(1.3, 0.2), np.zeros(RATE // 3), _tone(4.1, 0.05, 180.0)])
    pcm = loudness.float_to_pcm16(sound + rng.normal(0, 0.01, len(sound)))
    whole = loudness.integrated_loudness(np.frombuffer(pcm, "<i2"), RATE, scale=1 / 32768)
    cuts = sorted(rng.choice(len(pcm) // 2, size=40, replace=False) * 2)
    meter = loudness.LoudnessMeter.for_pcm16(RATE)
    for start, end in zip([0, *cuts], [*cuts, len(pcm)], strict=True):
        meter.feed_pcm16(pcm[start:end])
    assert meter.loudness() == whole  # the same figure to the last bit, not nearly
    assert meter.loudness() == whole  # asking twice changes nothing
    meter.feed_pcm16(pcm)  # and it goes on from where it was
    assert meter.loudness() == loudness.integrated_loudness(
        np.frombuffer(pcm + pcm, "<i2"), RATE, scale=1 / 32768
    )


def test_a_short_or_empty_clip_is_measured_as_one_padded_block() -> None:
    click = loudness.float_to_pcm16(_tone(0.05, 0.5))
    meter = loudness.LoudnessMeter.for_pcm16(RATE)
    assert meter.loudness() == -math.inf
    meter.feed_pcm16(click)
    padded = np.frombuffer(click + b"\x00\x00" * round(0.35 * RATE), "<i2")
    assert meter.loudness() == pytest.approx(
        loudness.integrated_loudness(padded, RATE, scale=1 / 32768), abs=1e-9
    )
    assert math.isfinite(meter.loudness())


# --- finding pauses in audio ---------------------------------------------------------------


def test_find_pauses_measures_silences_between_sounds() -> None:
    def pcm(*parts: tuple[str, float]) -> bytes:
        chunks = [
            _tone(s, 0.5) if kind == "tone" else np.zeros(round(s * RATE)) for kind, s in parts
        ]
        return loudness.float_to_pcm16(np.concatenate(chunks))

    frames = pcm(("quiet", 0.5), ("tone", 1), ("quiet", 0.8), ("tone", 0.5), ("quiet", 2))
    frames += pcm(("tone", 0.3), ("quiet", 0.1), ("tone", 0.3), ("quiet", 1))
    pauses = find_pauses(frames, RATE)
    # Leading and trailing silence are not pauses; 100 ms is too short to be one.
    assert [round(g, 1) for g in pauses.gaps] == [0.8, 2.0]
    assert pauses.spoken_seconds == pytest.approx(1 + 0.8 + 0.5 + 2 + 0.3 + 0.1 + 0.3, abs=0.02)
    assert pauses.voiced_seconds == pytest.approx(2.2, abs=0.03)


# --- pronunciation lexicon -----------------------------------------------------------------


def test_offline_respelling_keeps_case_and_only_touches_the_phrase() -> None:
    lex = load_lexicon("en-US")
    assert lex.for_offline("Close the laptop, mom.") == "Cloze the laptop, mom."
    assert lex.for_offline("now close  the LAPTOP") == "now cloze  the LAPTOP"
    # The adjective elsewhere, and "read" in the present tense, are left as they are.
    assert lex.for_offline("Stay close to the kids.") == "Stay close to the kids."
    assert lex.for_offline("You read every word of it.") == "You red every word of it."
    assert lex.for_offline("I read to them.") == "I read to them."
    assert lex.for_offline("When your laptop lives in the kitchen") == (
        "When your laptop livs in the kitchen"
    )


def test_alexa_markup_wraps_the_word_in_text_only_and_is_idempotent() -> None:
    lex = load_lexicon("en-GB")
    document = ssml.speak(
        ssml.join(ssml.sentence("Now close the laptop."), ssml.pause(800), "You read every word.")
    )
    marked = lex.for_alexa(document)
    assert '<w role="amazon:VB">close</w> the laptop' in marked
    assert 'You <w role="amazon:VBD">read</w> every word' in marked
    assert lex.for_alexa(marked) == marked
    ET.fromstring(marked)  # still well-formed
    assert ssml.to_plain_text(marked) == ssml.to_plain_text(document)
    # Attributes and tags never change, even when they contain the phrase.
    tag = '<audio src="https://x/close the laptop.mp3"/>'
    assert lex.for_alexa(tag) == tag


def test_alexa_markup_said_again_comes_from_a_bounded_cache() -> None:
    lex = parse_lexicon(
        {
            "locale": "en-US",
            "entries": [
                {"phrase": "close the laptop", "word": "close", "alexa": {"role": "amazon:VB"}}
            ],
        },
        "test",
    )
    first = lex.for_alexa("Now close the laptop.")
    assert first == 'Now <w role="amazon:VB">close</w> the laptop.'
    assert lex.for_alexa("Now close the laptop.") is first  # the same object: not marked again
    assert lex.for_alexa("Hello.") == "Hello."
    for i in range(lexicon._MARKED_CACHE_SIZE * 2):
        assert lex.for_alexa(f"Close the laptop, {i}.").endswith(f"the laptop, {i}.")
    assert len(lex._alexa_marked) <= lexicon._MARKED_CACHE_SIZE
    assert lex.for_alexa("Now close the laptop.") == first  # marked again after a clear, the same


def test_alexa_phoneme_markup_from_data() -> None:
    lex = parse_lexicon(
        {
            "locale": "en-US",
            "entries": [{"phrase": "lives in", "word": "lives", "alexa": {"ipa": "lɪvz"}}],
        },
        "test",
    )
    assert lex.for_alexa("It lives in the kitchen.") == (
        'It <phoneme alphabet="ipa" ph="lɪvz">lives</phoneme> in the kitchen.'
    )
    assert lex.for_offline("It lives in the kitchen.") == "It lives in the kitchen."


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "expected an object"),
        ({"locale": "en-US", "entries": {}}, "must be a list"),
        ({"locale": "en-US", "entries": [{"phrase": "a b"}]}, "needs a 'phrase', a 'word'"),
        (
            {"locale": "en-US", "entries": [{"phrase": "a b", "word": "c", "offline": "x"}]},
            "is not a word",
        ),
        (
            {"locale": "en-US", "entries": [{"phrase": "a b", "word": "a", "offline": " "}]},
            "non-empty",
        ),
        (
            {
                "locale": "en-US",
                "entries": [{"phrase": "a b", "word": "a", "alexa": {"role": "VB"}}],
            },
            "Alexa has no",
        ),
        ({"locale": "en-US", "entries": [{"phrase": "a b", "word": "a"}]}, "fixes nothing"),
    ],
)
def test_bad_lexicon_files_are_refused_clearly(data: object, message: str) -> None:
    with pytest.raises(LexiconError, match=message):
        parse_lexicon(data, "lexicon.json")


def test_every_content_locale_has_a_lexicon_whose_phrases_it_uses() -> None:
    # A lexicon entry for a phrase the content no longer says would be dead data.
    for catalog in ALL:
        lex = load_lexicon(catalog.locale)
        assert lex.locale == catalog.locale and lex.entries
        content = json.dumps(
            json.loads(
                (Path(compose.__file__).parent / "content" / f"{catalog.locale}.json").read_text()
            ),
            ensure_ascii=False,
        )
        for entry in lex.entries:
            assert entry.pattern.search(content), (catalog.locale, entry.phrase)
    for alias in ("en-AU", "en-CA", "gmw/en-us", "en-gb"):
        assert load_lexicon(alias).entries
    assert load_lexicon("de-DE") == Lexicon("de-DE")


def test_lexicon_files_are_in_the_shipped_folder() -> None:
    names = {p.stem for p in lexicon.default_lexicon_dir().glob("*.json")}
    assert {c.locale for c in ALL} <= names


@pytest.mark.slow
def test_offline_engine_gets_the_respelling(
    speaker: OfflineSpeaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    said: list[str] = []
    real = offline._synthesize

    def spy(eng: object, text: str, voice_id: str, rate_wpm: int) -> bytes:
        said.append(text)
        return real(eng, text, voice_id, rate_wpm)  # type: ignore[arg-type]

    monkeypatch.setattr(offline, "_synthesize", spy)
    speaker.render("<speak>Now close the laptop.</speak>", "en-US")
    speaker.render("<speak>Now close the laptop.</speak>", "de-DE")  # no lexicon for German
    assert said == ["Now cloze the laptop.", "Now close the laptop."]


def test_the_lexicon_is_part_of_the_cache_key() -> None:
    # Same SSML and voice, different lexicon (en-US's vs none) → different audio, different key.
    assert offline.cache_key("x", "en-us", 165, "en-US") != offline.cache_key(
        "x", "en-us", 165, "de-DE"
    )
