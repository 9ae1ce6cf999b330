"""The assembled service, for gunicorn (``'skill.app:create_app()'``) and ``mama-moments run``.

This is the composition root above every layer: the web factory
(:func:`skill.web.app.create_app`) plus the development extensions the settings ask for. The web
layer itself never imports the developer tools.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from skill.config import Config
from skill.web.app import Extension
from skill.web.app import create_app as create_web_app

__all__ = ["create_app", "extensions_for"]


def extensions_for(config: Config) -> list[Extension]:
    """The extensions ``config`` turns on: the web console when ``dev_console`` is set."""
    if not config.dev_console:
        return []
    # Imported only when asked for: a production worker never loads the developer tools.
    from skill.devtools.console import ConsoleExtension

    return [ConsoleExtension()]


def create_app(config: Config | None = None, **collaborators: Any) -> Flask:
    """:func:`skill.web.app.create_app` with the extensions from :func:`extensions_for`."""
    config = config or Config.from_env()
    collaborators.setdefault("extensions", extensions_for(config))
    return create_web_app(config, **collaborators)
