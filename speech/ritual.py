"""The workday shutdown ritual, composed from content keys (pure): one slow breath, one thing
that went well, the laptop closed, then an offer of kid time. At most a minute when spoken."""

from __future__ import annotations

from speech import compose, ssml
from speech.catalog import Catalog

#: Quiet while she closes the laptop.
LAPTOP_PAUSE_MS = 2000
#: Offline there is no answer to wait for: a moment to think of the good thing instead.
THINK_PAUSE_MS = 4000


def opening_ssml(catalog: Catalog) -> str:
    """The first turn: why we pause, one guided breath, then the question of the good thing."""
    return ssml.join(
        catalog.say("ritual.intro"), compose.breath_ssml(catalog), catalog.say("ritual.ask")
    )


def closing_ssml(catalog: Catalog, acknowledgement: str) -> str:
    """The second turn: the answer acknowledged, the laptop closed, kid time offered."""
    return ssml.join(
        acknowledgement,
        catalog.say("ritual.laptop"),
        ssml.pause(LAPTOP_PAUSE_MS),
        catalog.say("ritual.offer_kid_time"),
    )


def offline_ssml(catalog: Catalog) -> str:
    """The whole ritual for the offline voice, which cannot listen: the question becomes a
    moment to think, and the offer a gentle send-off."""
    return ssml.join(
        catalog.say("ritual.intro"),
        compose.breath_ssml(catalog),
        catalog.say("ritual.think"),
        ssml.pause(THINK_PAUSE_MS),
        catalog.say("ritual.laptop"),
        ssml.pause(LAPTOP_PAUSE_MS),
        catalog.say("ritual.offline_close"),
    )
