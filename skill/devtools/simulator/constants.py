"""Names and ids the simulator shares: request types, default ids, the JSON alias."""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]

LAUNCH_REQUEST = "LaunchRequest"
FALLBACK_INTENT = "AMAZON.FallbackIntent"
DEFAULT_SKILL_ID = "amzn1.ask.skill.00000000-0000-4000-8000-000000000000"
DEFAULT_USER_ID = "amzn1.ask.account.SIMULATOR-LOCAL-USER"
DEFAULT_DEVICE_ID = "amzn1.ask.device.SIMULATOR-LOCAL-DEVICE"
API_ENDPOINT = "https://api.amazonalexa.com"
