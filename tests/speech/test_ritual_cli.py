"""``mama-moments ritual``: the workday shutdown ritual with the offline voice, under a minute."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from skill.cli import main
from speech.catalog import load_catalogs
from speech.offline import OfflineSpeaker, wav_duration
from speech.ritual import LAPTOP_PAUSE_MS, THINK_PAUSE_MS, offline_ssml

CATALOGS = load_catalogs()


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MAMA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("MAMA_SPEECH_CACHE_DIR", raising=False)
    monkeypatch.delenv("MAMA_DEFAULT_LOCALE", raising=False)
    return tmp_path / "data"


@pytest.mark.parametrize("locale", ["en-US", "en-GB"])
def test_ritual_renders_under_a_minute(tmp_path: Path, locale: str) -> None:
    out = tmp_path / f"ritual-{locale}.wav"
    result = CliRunner().invoke(main, ["ritual", "--locale", locale, "--out", str(out)])
    assert result.exit_code == 0, result.output
    seconds = wav_duration(out)
    # Words, the breath (10 s) and two pauses: more than the silences alone, under a minute.
    assert (10_000 + THINK_PAUSE_MS + LAPTOP_PAUSE_MS) / 1000 < seconds <= 60, seconds
    assert f"({seconds:.1f} s)" in result.output


def test_ritual_without_a_device_says_where_the_wav_is(monkeypatch: pytest.MonkeyPatch) -> None:
    played: list[Path] = []

    def no_device(self: OfflineSpeaker, wav: Path) -> bool:
        played.append(wav)
        return False

    monkeypatch.setattr(OfflineSpeaker, "play", no_device)
    result = CliRunner().invoke(main, ["ritual"])
    assert result.exit_code == 0, result.output
    assert len(played) == 1 and str(played[0]) in result.output
    assert played[0].read_bytes()[:4] == b"RIFF"


def test_ritual_refuses_a_locale_without_content() -> None:
    result = CliRunner().invoke(main, ["ritual", "--locale", "fr-FR"])
    assert result.exit_code == 2 and "no content for 'fr-FR'" in result.output


def test_the_offline_ritual_is_the_content_of_the_locale() -> None:
    gb = offline_ssml(CATALOGS.for_locale("en-GB"))
    assert "little ones" in gb and gb != offline_ssml(CATALOGS.for_locale("en-US"))
