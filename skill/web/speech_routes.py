"""``GET /speech/<key>.wav``: the skill's long content as audio, for devices without Alexa.

``key`` is one of :func:`speech.compose.speakable`'s names (``letter``, ``mantra``, ``kid-time``,
``strategy-<id>``) and ``?locale=`` picks the content (unknown → the default locale, like the
skill). Audio is rendered on the first request and then served from the speaker's disk cache, so
the app starts fast and only content someone asks for is ever rendered.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import Blueprint, Response, request, send_file

from skill.web.errors import error_response
from speech.catalog import Catalog, Catalogs
from speech.compose import speakable

if TYPE_CHECKING:
    from speech.offline import OfflineSpeaker

#: Clients may reuse audio this long before revalidating; the ETag makes revalidation cheap, and
#: the URL does not change when the content is edited, so this is kept short-ish.
MAX_AGE_SECONDS = 3600
#: How much of an unknown name a 404 repeats back: enough to spot a typo, never a page of it.
ECHOED_NAME_CHARS = 40


def speech_blueprint(
    catalogs: Catalogs,
    speaker_for: Callable[[], OfflineSpeaker],
    *,
    max_age: int = MAX_AGE_SECONDS,
) -> Blueprint:
    """A blueprint serving rendered speech from ``speaker_for()`` (called on the first request)
    for the content in ``catalogs``."""
    blueprint = Blueprint("speech", __name__)
    documents: dict[str, dict[str, str]] = {}
    documents_lock = threading.Lock()

    def documents_for(catalog: Catalog) -> dict[str, str]:
        # speakable() is pure and cheap, but there is no need to rebuild it on every request.
        with documents_lock:
            if catalog.locale not in documents:
                documents[catalog.locale] = speakable(catalog)
            return documents[catalog.locale]

    @blueprint.get("/speech/<key>.wav")
    def speech_audio(key: str) -> Response | tuple[Response, int]:
        catalog = catalogs.for_locale(request.args.get("locale"))
        document = documents_for(catalog).get(key)
        if document is None:
            # The key only ever selects a document by name; it never becomes part of a path.
            shown = key if len(key) <= ECHOED_NAME_CHARS else f"{key[:ECHOED_NAME_CHARS]}…"
            return error_response(404, "not_found", f"no speech named {shown!r}")
        # The offline speaker (pyttsx3, ctypes) loads on the first /speech request, not at start-up.
        from speech.offline import SpeechError, cache_key

        speaker = speaker_for()
        try:
            wav = speaker.render(document, catalog.offline_voice)
        except SpeechError as exc:
            return error_response(503, "speech_unavailable", f"offline speech failed: {exc}")
        return send_file(
            wav,
            mimetype="audio/wav",
            # The cache key hashes everything that decides the audio: exactly what an ETag is.
            etag=cache_key(document, catalog.offline_voice, speaker.base_rate_wpm),
            conditional=True,
            max_age=max_age,
            download_name=f"{key}-{catalog.locale}.wav",
        )

    return blueprint
