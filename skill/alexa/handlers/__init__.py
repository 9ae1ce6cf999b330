"""Handlers by feature. Each module declares its handlers in :data:`skill.alexa.registry.REGISTRY`
as it is imported; :func:`load_all` imports every module here, so no list names them."""

from __future__ import annotations

import importlib
import pkgutil


def load_all() -> None:
    """Import every handler module (each registers its handlers once)."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
