"""``mama-moments say`` and ``mama-moments render`` (speech/cli.py), through the real CLI group.

Audio is really rendered with the wheel's espeak-ng. Playback is pinned with a stub so the
results do not depend on whether the machine running the tests has a sound card.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from skill.cli import main
from skill.devtools.simulator import _speaker
from speech.catalog import load_catalogs
from speech.compose import speakable
from speech.offline import OfflineSpeaker, voice_for_locale, wav_duration
from speech.playback import speak_text, voice_for

NO_DEVICE = re.compile(r"^No audio device; the speech is at (.+)$", re.MULTILINE)


@pytest.fixture
def plays(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """WAVs passed to OfflineSpeaker.play; by default there is no working device."""
    calls: list[Path] = []

    def no_device(self: OfflineSpeaker, wav: Path) -> bool:
        calls.append(wav)
        return False

    monkeypatch.setattr(OfflineSpeaker, "play", no_device)
    return calls


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep the default cache (under MAMA_DATA_DIR) inside the test's folder."""
    folder = tmp_path / "data"
    monkeypatch.setenv("MAMA_DATA_DIR", str(folder))
    monkeypatch.delenv("MAMA_SPEECH_CACHE_DIR", raising=False)
    monkeypatch.delenv("MAMA_DEFAULT_LOCALE", raising=False)
    return folder


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def assert_wav(path: Path, min_seconds: float) -> float:
    assert path.read_bytes()[:4] == b"RIFF"
    seconds = wav_duration(path)
    assert seconds > min_seconds, (path, seconds)
    return seconds


def test_say_without_device_writes_wav_and_prints_its_path(
    plays: list[Path], data_dir: Path
) -> None:
    result = run("say", "mantra")
    assert result.exit_code == 0, result.output
    match = NO_DEVICE.search(result.stdout)
    assert match, result.stdout
    wav = Path(match.group(1))
    # Config.from_env().audio_cache_dir is the default cache.
    assert wav.parent == data_dir / "speech-cache"
    assert plays == [wav]
    assert_wav(wav, min_seconds=3.0)


def test_say_on_this_machine_without_stubs_does_not_fail(tmp_path: Path) -> None:
    # No stub: whatever the real machine has (here: no sound card), say must exit 0.
    result = run("say", "kid-time", "--cache-dir", str(tmp_path / "cache"))
    assert result.exit_code == 0, result.output
    assert "Played" in result.stdout or NO_DEVICE.search(result.stdout)


def test_say_plays_when_a_device_works(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    played: list[Path] = []

    def device(self: OfflineSpeaker, wav: Path) -> bool:
        played.append(wav)
        return True

    monkeypatch.setattr(OfflineSpeaker, "play", device)
    result = run("say", "mantra", "--cache-dir", str(tmp_path / "cache"))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Played ")
    assert "No audio device" not in result.stdout
    assert len(played) == 1 and played[0].parent == tmp_path / "cache"


def test_cache_dir_option_wins_over_the_config(plays: list[Path], tmp_path: Path) -> None:
    result = run("say", "mantra", "--cache-dir", str(tmp_path / "elsewhere"))
    assert result.exit_code == 0, result.output
    match = NO_DEVICE.search(result.stdout)
    assert match and Path(match.group(1)).parent == tmp_path / "elsewhere"


def test_say_out_copies_the_wav_and_does_not_play(plays: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "new" / "folder" / "kid.wav"
    result = run("say", "kid-time", "--locale", "en-GB", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert str(out) in result.stdout
    assert plays == []
    assert_wav(out, min_seconds=3.0)


def test_say_strategy_defaults_to_the_first_strategy(plays: list[Path], tmp_path: Path) -> None:
    first, second = load_catalogs().for_locale("en-US").strategy_ids[:2]
    runs = {"default": [], "first": ["--strategy", first], "second": ["--strategy", second]}
    outputs = {}
    for name, extra in runs.items():
        out = tmp_path / f"{name}.wav"
        result = run("say", "strategy", "--out", str(out), *extra)
        assert result.exit_code == 0, result.output
        outputs[name] = out.read_bytes()
    assert outputs["default"] == outputs["first"]
    assert outputs["default"] != outputs["second"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["say", "strategy", "--strategy", "no-such-id"], "unknown strategy 'no-such-id'"),
        (["say", "letter", "--strategy", "boundaries"], "--strategy only applies"),
        (["say", "mantra", "--locale", "fr-FR"], "no content for 'fr-FR'"),
        (["say", "poem"], "Invalid value"),
        (["render", "--out", "x", "--locale", "xx"], "no content for 'xx'"),
    ],
)
def test_bad_arguments_are_clear_usage_errors(
    plays: list[Path], args: list[str], message: str
) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)
    assert plays == []


def test_render_writes_one_wav_per_speakable_document(tmp_path: Path) -> None:
    out = tmp_path / "audio"
    result = run("render", "--out", str(out), "--locale", "en-US")
    assert result.exit_code == 0, result.output

    names = set(speakable(load_catalogs().for_locale("en-US")))
    assert [p.name for p in out.iterdir()] == ["en-US"]
    written = {p.stem: p for p in (out / "en-US").iterdir()}
    assert set(written) == names
    total = sum(assert_wav(path, min_seconds=2.0) for path in written.values())
    assert wav_duration(written["letter"]) > 30.0

    summary = result.stdout.strip().splitlines()
    assert len(summary) == 1, result.stdout  # the progress bar goes to stderr
    assert f"Rendered {len(names)} files (en-US)" in summary[0]
    reported = float(re.search(r"([\d.]+) s of audio", summary[0]).group(1))  # type: ignore[union-attr]
    assert reported == pytest.approx(total, abs=0.1)
    assert "Rendering" in result.stderr


@pytest.mark.parametrize(
    ("locale", "voice"),
    [("en-US", "en-us"), ("en-gb", "en-gb"), ("en-AU", "en-gb"), ("en-CA", "en-us")],
)
def test_voice_for_uses_the_contents_offline_voice(locale: str, voice: str) -> None:
    assert voice_for(locale) == voice


def test_voice_for_other_locales_asks_espeak_then_falls_back() -> None:
    assert voice_for("de-DE") == voice_for_locale("de-DE")
    assert voice_for("zz-ZZ") == load_catalogs().default.offline_voice


def test_speak_text_returns_the_wav_and_is_what_chat_speak_uses(
    plays: list[Path], tmp_path: Path
) -> None:
    wav = speak_text("<speak>Time for a <break time='300ms'/> break.</speak>", "en-GB", tmp_path)
    assert wav.parent == tmp_path and plays == [wav]
    assert_wav(wav, min_seconds=0.5)
    # chat --speak finds it through the simulator's import.
    found: object = _speaker()
    assert found is speak_text
