"""``mama-moments debug``: our Lambda handler on a real Echo, through ASK's local debugging.

Alexa sends each request for the skill's **development** stage over a websocket to this machine
(ASK's ``connectCustomDebugEndpoint``), ``ask-sdk-local-debug`` hands it to
``skill/lambda_handler.py``'s ``handler`` and sends the answer back. It needs the ``debug`` extra
(``pip install 'mama-moments[debug]'``) and a Login with Amazon token with the scope
``alexa::ask:skills:debug``, from ``ask util generate-lwa-tokens --scopes alexa::ask:skills:debug``.
Amazon closes the connection after one hour; run the command again for another hour.

The debugger logs every request and response at INFO, user ids included. The filter here
replaces those two lines by the request type and intent, so no user id reaches a log.
"""

from __future__ import annotations

import importlib.util
import json
import logging
from pathlib import Path
from typing import Any

import click

#: The debugger's regions (its ``--region``), each served by its own Alexa endpoint.
REGIONS: tuple[str, ...] = ("NA", "EU", "FE")
#: The scope the access token needs (``ask util generate-lwa-tokens --scopes ...``).
DEBUG_SCOPE = "alexa::ask:skills:debug"
HANDLER_MODULE = "skill.lambda_handler"
HANDLER_NAME = "handler"
#: The logger ask-sdk-local-debug prints whole request and response envelopes to.
_PROTOCOL_LOGGER = "ask_sdk_local_debug.client.autobahn_client_protocol"

logger = logging.getLogger(__name__)


def handler_file() -> Path:
    """The file of our Lambda handler (the debugger loads it by path, not by import)."""
    spec = importlib.util.find_spec(HANDLER_MODULE)
    if spec is None or spec.origin is None:
        raise click.ClickException(f"cannot find {HANDLER_MODULE}")
    return Path(spec.origin)


def debugger_args(
    access_token: str,
    skill_id: str,
    *,
    region: str = "NA",
    skill_file: Path | None = None,
    skill_handler: str = HANDLER_NAME,
) -> list[str]:
    """The command line ask-sdk-local-debug's ``LocalDebuggerInvoker`` expects."""
    return [
        "--accessToken",
        access_token,
        "--skillId",
        skill_id,
        "--skillHandler",
        skill_handler,
        "--skillFilePath",
        str(skill_file or handler_file()),
        "--region",
        region,
    ]


def describe_debug_request(payload: str) -> str:
    """``IntentRequest StartKidTimeIntent`` for a debugger message; never ids or slot values."""
    try:
        message = json.loads(payload)
        envelope = json.loads(message["requestPayload"])
        request = envelope["request"]
        kind = str(request["type"])
    except (ValueError, KeyError, TypeError):
        return "an unreadable request"
    intent = request.get("intent") if isinstance(request, dict) else None
    name = intent.get("name") if isinstance(intent, dict) else None
    return f"{kind} {name}" if isinstance(name, str) else kind


class RedactEnvelopes(logging.Filter):
    """Rewrites the debugger's "Skill request/response" lines, which carry user ids."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        if message.startswith("Skill request"):
            body = message.split("\n", 1)[1] if "\n" in message else ""
            record.msg, record.args = "Skill request: %s", (describe_debug_request(body),)
        elif message.startswith("Skill response"):
            body = message.split("\n", 1)[1] if "\n" in message else ""
            record.msg, record.args = "Skill response: %s", (_response_kind(body),)
        return True


def _response_kind(payload: str) -> str:
    try:
        kind = json.loads(payload).get("type")
    except (ValueError, AttributeError):
        return "sent"
    return str(kind) if kind else "sent"


def install_redaction() -> RedactEnvelopes:
    """Add the filter to the debugger's protocol logger (once); return it."""
    target = logging.getLogger(_PROTOCOL_LOGGER)
    for existing in target.filters:
        if isinstance(existing, RedactEnvelopes):
            return existing
    redact = RedactEnvelopes()
    target.addFilter(redact)
    return redact


def local_debugger(args: list[str]) -> Any:
    """ask-sdk-local-debug's invoker for ``args`` (it builds, but does not open, the socket)."""
    try:
        from ask_sdk_local_debug.exception import LocalDebugSdkException
        from ask_sdk_local_debug.local_debugger_invoker import LocalDebuggerInvoker
    except ImportError:
        raise click.ClickException(
            "the debugger is not installed: pip install 'mama-moments[debug]'"
        ) from None
    install_redaction()
    try:
        return LocalDebuggerInvoker(args)
    except LocalDebugSdkException as exc:
        raise click.ClickException(str(exc)) from None


@click.command("debug")
@click.option(
    "--access-token",
    "--accessToken",
    "access_token",
    envvar="ASK_ACCESS_TOKEN",
    required=True,
    help=f"LWA access token with scope {DEBUG_SCOPE} (or ASK_ACCESS_TOKEN).",
)
@click.option(
    "--skill-id",
    "--skillId",
    "skill_id",
    envvar="MAMA_SKILL_ID",
    required=True,
    help="The skill's id, amzn1.ask.skill.… (or MAMA_SKILL_ID).",
)
@click.option(
    "--region",
    type=click.Choice(REGIONS),
    default="NA",
    show_default=True,
    help="Your developer account's region: NA, EU or FE.",
)
@click.option(
    "--skill-file-path",
    "--skillFilePath",
    "skill_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="File with the handler (default: skill/lambda_handler.py).",
)
@click.option(
    "--skill-handler",
    "--skillHandler",
    "skill_handler",
    default=HANDLER_NAME,
    show_default=True,
    help="Name of the handler function in that file.",
)
def debug_command(
    access_token: str,
    skill_id: str,
    region: str,
    skill_file: Path | None,
    skill_handler: str,
) -> None:
    """Answer a real device's requests from this machine (development stage, one hour)."""
    if not skill_id.startswith("amzn1.ask.skill."):
        raise click.BadParameter("must look like amzn1.ask.skill.…", param_hint="--skill-id")
    args = debugger_args(
        access_token, skill_id, region=region, skill_file=skill_file, skill_handler=skill_handler
    )
    invoker = local_debugger(args)
    click.echo(
        f"debugging {skill_id} (development stage, region {region}) with "
        f"{args[args.index('--skillFilePath') + 1]}:{skill_handler}; Amazon ends the session "
        "after one hour. Ctrl-C stops."
    )
    invoker.invoke()
