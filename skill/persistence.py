"""Old import path of the store choice; the code lives in :mod:`skill.storage`."""

from skill.storage import adapter_from_config

__all__ = ["adapter_from_config"]
