"""A small client for the Alexa service APIs the skill uses: Timers, Reminders and device
Settings.

Alexa gives every request an ``apiEndpoint`` and a short-lived ``apiAccessToken``; calls go to that
endpoint with the token as a bearer. Every failure (network, timeout, a non-2xx answer, a body that
is not what the API documents) becomes :class:`AlexaApiError`, so callers need one ``except`` and a
kind fallback rather than a crash.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

if TYPE_CHECKING:
    import requests

logger = logging.getLogger(__name__)

#: Seconds for connect and for read: a skill has about eight seconds to answer in all.
DEFAULT_TIMEOUT = 3.0
#: The hosts Alexa names as a request's ``apiEndpoint``. The endpoint comes from the request, so
#: calling any other host would let a forged request point the skill (and its token) anywhere.
ALEXA_API_HOSTS = frozenset(
    {"api.amazonalexa.com", "api.eu.amazonalexa.com", "api.fe.amazonalexa.com"}
)
#: Hosts a local stand-in for the Alexa API may use (plain http is allowed only for these).
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class AlexaApiError(Exception):
    """An Alexa API call did not succeed; the message never carries user data."""


@dataclass(frozen=True)
class ApiAccess:
    """Where to call and with which token, taken from one request's ``context.System``."""

    endpoint: str
    token: str

    def url(self, path: str) -> str:
        return self.endpoint.rstrip("/") + path


@dataclass(frozen=True)
class TimerRequest:
    """What a new timer should be: its length, its label and what Alexa says when it ends."""

    minutes: int
    label: str
    locale: str
    announcement: str

    def body(self) -> dict[str, Any]:
        """The Timers API ``POST /v1/alerts/timers`` body for an announcing, visible timer."""
        return {
            "duration": f"PT{self.minutes}M",
            "timerLabel": self.label,
            "creationBehavior": {"displayExperience": {"visibility": "VISIBLE"}},
            "triggeringBehavior": {
                "operation": {
                    "type": "ANNOUNCE",
                    "textToAnnounce": [{"locale": self.locale, "text": self.announcement}],
                },
                "notificationConfig": {"playAudible": True},
            },
        }


@dataclass(frozen=True)
class ReminderRequest:
    """What a new reminder should be: when it first rings (wall clock of ``time_zone``), how it
    repeats (an RFC 5545 rule, or ``None``) and what Alexa says."""

    request_time: str
    scheduled_time: str
    time_zone: str
    locale: str
    announcement: str
    recurrence_rule: str | None = None

    def body(self) -> dict[str, Any]:
        """The Reminders API ``POST /v1/alerts/reminders`` body (an absolute trigger)."""
        trigger: dict[str, Any] = {
            "type": "SCHEDULED_ABSOLUTE",
            "scheduledTime": self.scheduled_time,
            "timeZoneId": self.time_zone,
        }
        if self.recurrence_rule is not None:
            trigger["recurrence"] = {
                "startDateTime": self.scheduled_time,
                "recurrenceRules": [self.recurrence_rule],
            }
        return {
            "requestTime": self.request_time,
            "trigger": trigger,
            "alertInfo": {
                "spokenInfo": {"content": [{"locale": self.locale, "text": self.announcement}]}
            },
            "pushNotification": {"status": "ENABLED"},
        }


@dataclass(frozen=True)
class Reminder:
    """One of the skill's reminders as the Reminders API lists it."""

    token: str
    status: str
    scheduled_time: str | None


class AlexaApi:
    """Timers and Settings calls over an injectable ``requests.Session``."""

    def __init__(
        self,
        session: requests.Session | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        allowed_hosts: frozenset[str] | None = None,
    ) -> None:
        """``allowed_hosts`` defaults to :data:`ALEXA_API_HOSTS`; an empty set disables calls."""
        self._session = session
        self.timeout = timeout
        self.allowed_hosts = ALEXA_API_HOSTS if allowed_hosts is None else allowed_hosts

    @property
    def session(self) -> requests.Session:
        """The HTTP session, made on the first call."""
        if self._session is None:
            # requests costs ~30 ms to import and most requests call no Alexa API: load it late.
            import requests

            self._session = requests.Session()
        return self._session

    def allows(self, endpoint: str) -> bool:
        """True when ``endpoint`` is an Alexa API host this client may call."""
        try:
            parts = urlsplit(endpoint)
            host = (parts.hostname or "").lower()
        except ValueError:
            return False
        if host not in self.allowed_hosts or parts.username or parts.password:
            return False
        return parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK_HOSTS)

    def create_timer(self, access: ApiAccess, timer: TimerRequest) -> str:
        """Create a timer and return its id."""
        body = self._call("POST", access, "/v1/alerts/timers", json=timer.body())
        timer_id = body.get("id") if isinstance(body, dict) else None
        if not isinstance(timer_id, str) or not timer_id:
            raise AlexaApiError("the Timers API answered without a timer id")
        return timer_id

    def cancel_timer(self, access: ApiAccess, timer_id: str) -> None:
        """Cancel a timer; one that is already gone (404) counts as cancelled."""
        self._call("DELETE", access, f"/v1/alerts/timers/{quote(timer_id, safe='')}", ok={404})

    def create_reminder(self, access: ApiAccess, reminder: ReminderRequest) -> str:
        """Create a reminder and return its ``alertToken``."""
        body = self._call("POST", access, "/v1/alerts/reminders", json=reminder.body())
        token = body.get("alertToken") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise AlexaApiError("the Reminders API answered without an alert token")
        return token

    def list_reminders(self, access: ApiAccess) -> list[Reminder]:
        """The reminders this skill has set for the user (any status)."""
        body = self._call("GET", access, "/v1/alerts/reminders")
        alerts = body.get("alerts") if isinstance(body, dict) else None
        if body is None:
            return []
        if not isinstance(alerts, list):
            raise AlexaApiError("the Reminders API answered without a list of alerts")
        reminders = []
        for alert in alerts:
            token = alert.get("alertToken") if isinstance(alert, dict) else None
            if not isinstance(token, str) or not token:
                continue  # one odd entry does not hide the others
            trigger = alert.get("trigger")
            scheduled = trigger.get("scheduledTime") if isinstance(trigger, dict) else None
            status = alert.get("status")
            reminders.append(
                Reminder(
                    token=token,
                    status=status if isinstance(status, str) else "ON",
                    scheduled_time=scheduled if isinstance(scheduled, str) else None,
                )
            )
        return reminders

    def delete_reminder(self, access: ApiAccess, token: str) -> None:
        """Delete a reminder; one that is already gone (404) counts as deleted."""
        path = f"/v1/alerts/reminders/{quote(token, safe='')}"
        self._call("DELETE", access, path, ok={404})

    def given_name(self, access: ApiAccess) -> str | None:
        """The account holder's first name from the Customer Profile API, or ``None`` when the
        skill has no permission for it (403) or the account has none (204/404)."""
        name = self._call(
            "GET", access, "/v2/accounts/~current/settings/Profile.givenName", ok={403, 404}
        )
        if name is not None and not isinstance(name, str):
            raise AlexaApiError("the Customer Profile API answered without a name")
        return name or None

    def time_zone(self, access: ApiAccess, device_id: str) -> str:
        """The device's time zone name, such as ``Europe/London``."""
        path = f"/v2/devices/{quote(device_id, safe='')}/settings/System.timeZone"
        zone = self._call("GET", access, path)
        if not isinstance(zone, str) or not zone:
            raise AlexaApiError("the Settings API answered without a time zone")
        return zone

    def _call(
        self,
        method: str,
        access: ApiAccess,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        ok: frozenset[int] | set[int] = frozenset(),
    ) -> Any:
        """One call; returns the decoded JSON body (``None`` when there is none)."""
        if not self.allows(access.endpoint):
            raise AlexaApiError(f"{method} refused: the request's apiEndpoint is not an Alexa host")
        headers = {"Authorization": f"Bearer {access.token}", "Accept": "application/json"}
        import requests  # loaded late, like ``session``: here for its exception types

        try:
            response = self.session.request(
                method, access.url(path), headers=headers, json=json, timeout=self.timeout
            )
        except requests.RequestException as exc:
            # The type name only: the exception text holds the URL, which holds the device id.
            raise AlexaApiError(f"{method} failed: {type(exc).__name__}") from None
        if response.status_code in ok:
            return None
        if not 200 <= response.status_code < 300:
            raise AlexaApiError(f"{method} answered HTTP {response.status_code}")
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise AlexaApiError(f"{method} answered with a body that is not JSON") from None
