"""The ``mama-moments`` command line."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from skill.config import Config, ConfigError
from skill.devtools.packaging import package_command
from skill.devtools.simulator import chat_command, replay_command, simulate_command
from skill.devtools.simulator.nlu_eval import nlu_eval_command
from speech.cli import render_command, say_command


def _config(**changes: object) -> Config:
    try:
        config = Config.from_env()
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    return config.with_changes(**{k: v for k, v in changes.items() if v is not None})


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log debug details.")
def main(verbose: bool) -> None:
    """Mama Moments: an Alexa skill and offline voice companion for working parents."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--data-dir", type=click.Path(path_type=Path), help="Overrides MAMA_DATA_DIR.")
@click.option(
    "--dev",
    is_flag=True,
    help="Local development: no signature check (for simulators) and the web console on.",
)
def run(host: str, port: int, data_dir: Path | None, dev: bool) -> None:
    """Serve the skill on HOST:PORT (POST /alexa) with Flask's threaded server."""
    from ask_sdk_core.exceptions import PersistenceException

    from skill.app import create_app, extensions_for
    from speech.catalog import ContentError

    changes: dict[str, object] = {"data_dir": data_dir}
    if dev:
        changes.update(verify_signatures=False, dev_console=True)
    config = _config(**changes)
    try:
        # --dev (or MAMA_DEV_CONSOLE) plugs the web console in as an extension.
        app = create_app(config, extensions=extensions_for(config))
    except (ConfigError, ContentError, PersistenceException) as exc:
        # A bad setting, content file or data folder is a clear message, not a traceback.
        raise click.ClickException(str(exc)) from None
    click.echo(f"Mama Moments listening on http://{host}:{port}/alexa")
    app.run(host=host, port=port, threaded=True)


@main.command("check-store")
@click.option("--data-dir", type=click.Path(path_type=Path), help="Overrides MAMA_DATA_DIR.")
def check_store(data_dir: Path | None) -> None:
    """Read every stored user file and list the unreadable ones (exit 1 if any)."""
    from skill.store import StoreError, TinyDBPersistenceAdapter

    config = _config(data_dir=data_dir)
    if config.store != "tinydb":
        raise click.ClickException(
            f"check-store reads the TinyDB store; MAMA_STORE is {config.store}"
        )
    store = TinyDBPersistenceAdapter(config.data_dir)
    try:
        store.ensure_ready()
        bad = store.check()
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    for path in bad:
        click.echo(f"unreadable: {path}")
    click.echo(f"{len(bad)} unreadable file(s) in {config.data_dir}")
    sys.exit(1 if bad else 0)


# Conversation tools live next to the matcher they drive.
main.add_command(simulate_command, "simulate")
main.add_command(chat_command, "chat")
main.add_command(replay_command, "replay")
main.add_command(nlu_eval_command, "nlu-eval")
main.add_command(say_command, "say")
main.add_command(render_command, "render")
main.add_command(package_command, "package")
