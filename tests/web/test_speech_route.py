"""``GET /speech/<key>.wav`` (skill/web/speech_routes.py) via the real app and espeak-ng."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from skill.app import create_app
from skill.config import Config
from speech.offline import OfflineSpeaker, SpeechError


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return create_app(Config(data_dir=tmp_path / "data", verify_signatures=False))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def speaker(app: Flask) -> OfflineSpeaker:
    found = app.extensions["mama_moments"]["speaker_for"]()
    assert isinstance(found, OfflineSpeaker)
    return found


def duration(body: bytes) -> float:
    with wave.open(io.BytesIO(body), "rb") as wav:
        return wav.getnframes() / wav.getframerate()


def test_start_up_renders_nothing(app: Flask, speaker: OfflineSpeaker, tmp_path: Path) -> None:
    assert speaker.engine_calls == 0
    assert speaker.cache_dir == tmp_path / "data" / "speech-cache"
    assert not speaker.cache_dir.exists() or not any(speaker.cache_dir.iterdir())


def test_mantra_is_served_as_wav(client: FlaskClient) -> None:
    response = client.get("/speech/mantra.wav")
    assert response.status_code == 200
    assert response.mimetype == "audio/wav"
    body = response.get_data()
    assert body[:4] == b"RIFF" and body[8:12] == b"WAVE"
    assert 3.0 < duration(body) < 60.0
    assert response.headers["ETag"]
    assert response.cache_control.public
    assert response.cache_control.max_age and response.cache_control.max_age > 0


def test_second_request_comes_from_the_cache(client: FlaskClient, speaker: OfflineSpeaker) -> None:
    first = client.get("/speech/mantra.wav")
    calls = speaker.engine_calls
    assert calls > 0
    second = client.get("/speech/mantra.wav")
    assert second.status_code == 200
    assert speaker.engine_calls == calls
    assert speaker.cache_hits >= 1
    assert second.get_data() == first.get_data()
    assert second.headers["ETag"] == first.headers["ETag"]


def test_etag_revalidation_answers_304(client: FlaskClient, speaker: OfflineSpeaker) -> None:
    etag = client.get("/speech/kid-time.wav").headers["ETag"]
    calls = speaker.engine_calls
    again = client.get("/speech/kid-time.wav", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert speaker.engine_calls == calls
    stale = client.get("/speech/kid-time.wav", headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200


def test_range_requests_work_for_audio_players(client: FlaskClient) -> None:
    partial = client.get("/speech/mantra.wav", headers={"Range": "bytes=0-3"})
    assert partial.status_code == 206
    assert partial.get_data() == b"RIFF"


@pytest.mark.parametrize("key", ["poem", "strategy-no-such-id", "strategy-", "LETTER"])
def test_unknown_key_is_404_json(client: FlaskClient, speaker: OfflineSpeaker, key: str) -> None:
    response = client.get(f"/speech/{key}.wav")
    assert response.status_code == 404
    body = response.get_json()
    assert body["error"] == "not_found"
    assert key in body["message"]
    assert speaker.engine_calls == 0


@pytest.mark.parametrize(
    "path",
    [
        "/speech/..%2f..%2fetc%2fpasswd.wav",
        "/speech/../../etc/passwd.wav",
        "/speech/%2e%2e%2fmantra.wav",
        "/speech/..%5cmantra.wav",
        "/speech/mantra%00.wav",
        "/speech/mantra.wav%2f..%2f..%2fetc%2fpasswd",
    ],
)
def test_path_traversal_is_404(client: FlaskClient, speaker: OfflineSpeaker, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.is_json
    assert response.get_json()["error"] == "not_found"
    assert b"root:" not in response.get_data()
    assert speaker.engine_calls == 0


def test_locale_picks_the_content_and_voice(client: FlaskClient) -> None:
    us = client.get("/speech/kid-time.wav?locale=en-US")
    gb = client.get("/speech/kid-time.wav?locale=en-GB")
    assert us.status_code == gb.status_code == 200
    assert us.headers["ETag"] != gb.headers["ETag"]
    assert us.get_data() != gb.get_data()
    # An alias gets its content's audio; an unknown locale gets the default's, like the skill.
    assert client.get("/speech/kid-time.wav?locale=en-AU").headers["ETag"] == gb.headers["ETag"]
    assert client.get("/speech/kid-time.wav?locale=xx-XX").headers["ETag"] == us.headers["ETag"]
    assert client.get("/speech/kid-time.wav").headers["ETag"] == us.headers["ETag"]


def test_engine_failure_is_503_json(
    client: FlaskClient, speaker: OfflineSpeaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(ssml: str, voice: str = "en-us") -> Path:
        raise SpeechError("espeak-ng is not available")

    monkeypatch.setattr(speaker, "render", broken)
    response = client.get("/speech/mantra.wav")
    assert response.status_code == 503
    assert response.get_json() == {
        "error": "speech_unavailable",
        "message": "offline speech failed: espeak-ng is not available",
    }
