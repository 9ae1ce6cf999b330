"""The ``simulate``, ``chat`` and ``replay`` click commands that ``skill/cli.py`` registers."""

from __future__ import annotations

import importlib
import json
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import click

from skill.devtools.simulator.constants import DEFAULT_SKILL_ID, DEFAULT_USER_ID
from skill.devtools.simulator.conversation import (
    AppTransport,
    Conversation,
    HttpTransport,
    Transport,
    Turn,
)
from skill.devtools.simulator.envelopes import EnvelopeFactory
from skill.devtools.simulator.matcher import SlotValue, UtteranceMatcher
from skill.devtools.simulator.model import ModelError, load_model
from skill.devtools.simulator.replay import (
    ReplayResult,
    compare_turns,
    load_replay,
    load_skill_io,
    replay_from_turns,
    run_replay,
    to_ask_replay,
)


@contextmanager
def _transport(
    url: str | None, skill_id: str | None = None, *, data_dir: Path | None = None
) -> Iterator[tuple[Transport, str]]:
    """The transport to use and the skill id to send (in-process unless ``url`` is given)."""
    if url:
        yield HttpTransport(url), skill_id or DEFAULT_SKILL_ID
        return
    from skill.config import Config, ConfigError
    from skill.web.app import create_app

    try:
        config = Config.from_env().with_changes(verify_signatures=False)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    if data_dir is not None:
        config = config.with_changes(data_dir=data_dir)
    yield AppTransport(create_app(config)), skill_id or config.skill_id or DEFAULT_SKILL_ID


def _hint(turns: Iterable[Turn], url: str | None) -> None:
    if url and any(t.status == 400 for t in turns):
        click.echo(
            "hint: the simulator sends unsigned requests; run the server with "
            "MAMA_VERIFY_SIGNATURES=0 (and pass --skill-id if it checks one).",
            err=True,
        )


def _conversation(
    transport: Transport, skill_id: str, locale: str, user: str | None
) -> Conversation:
    model = load_model(locale)
    factory = EnvelopeFactory(skill_id, user or DEFAULT_USER_ID, locale)
    return Conversation(transport, factory, UtteranceMatcher(model))


def format_slots(slots: Mapping[str, SlotValue]) -> str:
    parts = []
    for name, value in slots.items():
        shown = value["value"]
        if value["resolved_id"]:
            shown += f" → {value['resolved_id']}"
        elif not value["type"].startswith("AMAZON."):
            shown += " (no match)"
        parts.append(f"{name}={shown}")
    return " ".join(parts)


def format_turn(turn: Turn, *, show_utterance: bool = True) -> str:
    """A turn as the CLI prints it."""
    lines = []
    if turn.utterance and show_utterance:
        lines.append(f"you> {turn.utterance}")
    slots = format_slots(turn.slots)
    lines.append(f"     [{turn.intent}{' ' + slots if slots else ''}]")
    if turn.did_you_mean:
        options = ", ".join(f"{intent} ({score:.2f})" for intent, score in turn.did_you_mean)
        lines.append(f"     did you mean: {options}?")
    if turn.error:
        lines.append(f"error> {turn.error}")
    if turn.text:
        lines.append(f"alexa> {turn.text}")
    if turn.card_title:
        lines.append(f"     card: {turn.card_title}")
    if turn.ended:
        lines.append("     (session ended)")
    return "\n".join(lines)


_url_option = click.option("--url", default=None, help="Skill endpoint (default: in-process).")
_locale_option = click.option("--locale", default="en-US", show_default=True)
_skill_id_option = click.option(
    "--skill-id", envvar="MAMA_SKILL_ID", default=None, help="Application id to send."
)


@click.command("simulate")
@click.argument("utterances", nargs=-1, required=True)
@_url_option
@_locale_option
@_skill_id_option
@click.option("--user", default=None, help="Alexa user id to send.")
@click.option("--json", "as_json", is_flag=True, help="Print turns as JSON.")
@click.option(
    "--record",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the dialog as a replay file.",
)
def simulate_command(
    utterances: tuple[str, ...],
    url: str | None,
    locale: str,
    skill_id: str | None,
    user: str | None,
    as_json: bool,
    record: Path | None,
) -> None:
    """Say UTTERANCES to the skill, one turn each, and print what Alexa would say."""
    try:
        with _transport(url, skill_id) as (transport, sent_id):
            conversation = _conversation(transport, sent_id, locale, user)
            turns = [conversation.say(text) for text in utterances]
    except ModelError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps([t.to_json() for t in turns], indent=2, ensure_ascii=False))
    else:
        for turn in turns:
            click.echo(format_turn(turn))
    if record is not None:
        record.write_text(
            json.dumps(replay_from_turns(turns, locale), indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
        click.echo(f"recorded {len(turns)} turns to {record}", err=True)
    if any(not t.ok for t in turns):
        _hint(turns, url)
        sys.exit(1)


def _speaker() -> Callable[[str, str], None] | None:
    for module_name in ("speech.playback", "speech.offline", "speech"):
        try:
            module = importlib.import_module(module_name)
        except Exception:  # any import failure just means "no voice"
            continue
        speak = getattr(module, "speak_text", None)
        if callable(speak):
            return speak  # type: ignore[no-any-return]
    return None


@click.command("chat")
@_url_option
@_locale_option
@_skill_id_option
@click.option("--user", default=None, help="Alexa user id to send.")
@click.option("--speak", is_flag=True, help="Also speak answers with the offline voice.")
def chat_command(
    url: str | None, locale: str, skill_id: str | None, user: str | None, speak: bool
) -> None:
    """Talk to the skill: type what you would say; 'quit' or end of input leaves."""
    speaker = _speaker() if speak else None
    if speak and speaker is None:
        click.echo("(offline voice unavailable: speech.offline.speak_text could not be imported)")
    try:
        with _transport(url, skill_id) as (transport, sent_id):
            conversation = _conversation(transport, sent_id, locale, user)
            name = conversation.matcher.model.invocation_name
            click.echo(f"Talking to {name} ({locale}). Try 'open {name}'; 'quit' leaves.")
            while True:
                try:
                    line = input("you> ")
                except EOFError:
                    break
                if line.strip().lower() in {"quit", ":q"}:
                    break
                if not line.strip():
                    continue
                turn = conversation.say(line)
                click.echo(format_turn(turn, show_utterance=False))
                if speaker is not None and turn.speech:
                    try:
                        speaker(turn.speech, locale)
                    except Exception as exc:  # voice is best effort
                        click.echo(f"(could not speak: {exc})")
            conversation.end()
    except ModelError as exc:
        raise click.ClickException(str(exc)) from None


@click.command("replay")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_url_option
@_skill_id_option
@click.option("--user", default=None, help="Alexa user id (default: a fresh one).")
@click.option(
    "--export-ask",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write FILE as an 'ask dialog --replay' file (needs --skill-id) instead of running it.",
)
@click.option(
    "--against-skill-io",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Check FILE's expectations on an 'ask dialog --save-skill-io' capture instead.",
)
def replay_command(
    file: Path,
    url: str | None,
    skill_id: str | None,
    user: str | None,
    export_ask: Path | None,
    against_skill_io: Path | None,
) -> None:
    """Run a replay FILE and compare; exit code 1 with a diff on mismatch.

    FILE is one of our dialogs (tests/dialogs/) or an ASK CLI replay file (userInput list).
    """
    if export_ask is not None and against_skill_io is not None:
        raise click.UsageError("give --export-ask or --against-skill-io, not both")
    try:
        data = load_replay(file)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if export_ask is not None:
        if not skill_id:
            raise click.UsageError(
                "--export-ask needs the real skill's id: --skill-id amzn1.ask.skill.… "
                "(or MAMA_SKILL_ID); ask dialog reads it from the file"
            )
        try:
            exported = to_ask_replay(data, skill_id)
        except ValueError as exc:
            raise click.ClickException(f"{file}: {exc}") from None
        export_ask.write_text(json.dumps(exported, indent=2, ensure_ascii=False) + "\n", "utf-8")
        click.echo(f"wrote {export_ask}: ask dialog --replay {export_ask}")
        return
    if against_skill_io is not None:
        try:
            result = compare_turns(data, load_skill_io(against_skill_io))
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        _report(f"{file} against {against_skill_io}", result, None)
        return
    locale = str(data.get("locale") or "en-US")
    user_id = user or str(data.get("user") or f"amzn1.ask.account.REPLAY-{uuid.uuid4()}")
    with (
        tempfile.TemporaryDirectory(prefix="mama-replay-") as tmp,
        _transport(url, skill_id, data_dir=None if url else Path(tmp)) as (transport, sent_id),
    ):
        conversation = _conversation(transport, sent_id, locale, user_id)
        result = run_replay(data, conversation)
        conversation.end()
    _report(str(file), result, url)


def _report(what: str, result: ReplayResult, url: str | None) -> None:
    """Print a replay's outcome; exit 1 on any mismatch."""
    if result.ok:
        click.echo(f"{what}: {len(result.turns)} turns OK")
        return
    click.echo(f"{what}: {len(result.mismatches)} mismatch(es)")
    for line in result.mismatches:
        click.echo(f"  {line}")
    click.echo(result.diff())
    _hint(result.turns, url)
    sys.exit(1)


#: The commands ``skill/cli.py`` registers.
COMMANDS = (simulate_command, chat_command, replay_command)
