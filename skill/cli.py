"""The ``mama-moments`` command line."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click

from skill.config import STORES, Config, ConfigError
from skill.devtools.debug import debug_command
from skill.devtools.packaging import package_command
from skill.devtools.simulator import chat_command, replay_command, simulate_command
from skill.devtools.simulator.nlu_eval import nlu_eval_command, nlu_export_command
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
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    help="Worker processes (default: MAMA_WORKERS, or two per CPU).",
)
def run(host: str, port: int, data_dir: Path | None, dev: bool, workers: int | None) -> None:
    """Serve the skill on HOST:PORT (POST /alexa): gunicorn with gevent workers, or with --dev
    Flask's development server."""
    from ask_sdk_core.exceptions import PersistenceException

    from speech.catalog import ContentError, load_catalogs

    changes: dict[str, object] = {"data_dir": data_dir}
    if dev:
        changes.update(verify_signatures=False, dev_console=True)
    config = _config(**changes)
    try:
        load_catalogs(default_locale=config.default_locale)
    except ContentError as exc:
        raise click.ClickException(str(exc)) from None
    _check_store_before_serving(config)
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    click.echo(f"Mama Moments listening on http://{address}/alexa")
    if not dev:
        _exec_production_server(address, config, workers)
    from skill.app import create_app, extensions_for
    from skill.web.logs import configure_logging

    configure_logging(config.log_format)
    try:
        # --dev (or MAMA_DEV_CONSOLE) plugs the web console in as an extension.
        app = create_app(config, extensions=extensions_for(config))
    except (ConfigError, ContentError, PersistenceException) as exc:
        # A bad setting, content file or data folder is a clear message, not a traceback.
        raise click.ClickException(str(exc)) from None
    app.run(host=host, port=port, threaded=True)


def _check_store_before_serving(config: Config) -> None:
    """A store that is no store (a damaged marker, a newer layout) stops here with its reason;
    one that only cannot be written yet is served degraded, with a warning."""
    if config.store != "tinydb":
        return
    from skill.storage import TinyDBPersistenceAdapter

    state = TinyDBPersistenceAdapter(config.data_dir).readiness()
    if state.problem == "not writable":
        click.echo(f"warning: {state.detail}; serving reads only until it is writable", err=True)
    elif not state.ready:
        raise click.ClickException(state.detail)


def _exec_production_server(address: str, config: Config, workers: int | None) -> None:
    """Replace this process with gunicorn (skill.web.gunicorn_conf), so signals reach it."""
    argv = [sys.executable, "-m", "gunicorn", "-c", "python:skill.web.gunicorn_conf"]
    argv += ["--bind", address]
    if workers is not None:
        argv += ["--workers", str(workers)]
    env = {**os.environ, "MAMA_DATA_DIR": str(config.data_dir)}
    sys.stdout.flush()
    os.execve(sys.executable, argv, env)


@main.command("check-store")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    help="Overrides MAMA_DATA_DIR; must exist (check-store never creates it).",
)
@click.option(
    "--repair",
    is_flag=True,
    help="Give every damaged file the fresh start a request would: evidence kept, new record.",
)
def check_store(data_dir: Path | None, repair: bool) -> None:
    """List damaged user files and what corrupt/ holds (exit 1 if any damage is left)."""
    from tqdm import tqdm  # type: ignore[import-untyped]  # no stubs installed

    from skill.storage import StoreError, TinyDBPersistenceAdapter

    config = _config(data_dir=data_dir)
    if config.store != "tinydb":
        raise click.ClickException(
            f"check-store reads the TinyDB store; MAMA_STORE is {config.store}"
        )
    if not config.data_dir.is_dir():
        raise click.ClickException(f"no store folder at {config.data_dir}")
    admin = TinyDBPersistenceAdapter(config.data_dir).admin
    try:
        if repair:
            done = admin.repair(lambda work: tqdm(list(work), desc="repairing", unit="file"))
            click.echo(f"{done.replaced} file(s) replaced by a fresh record, {done.failed} failed")
        problems = admin.scan()
        kept = admin.store.quarantine.entries()
    except (StoreError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    for problem in problems:
        click.echo(f"unreadable: {problem.path} ({problem.reason})")
    for entry in kept:
        size = "folder" if entry.size is None else f"{entry.size} bytes"
        when = f"{entry.when:%Y-%m-%d %H:%M:%S} UTC"
        click.echo(f"quarantined: {entry.path.name} at {when} ({entry.why}, {size})")
    click.echo(f"{len(problems)} unreadable file(s), {len(kept)} quarantined, in {config.data_dir}")
    sys.exit(1 if problems else 0)


@main.command("migrate-store")
@click.option("--from", "source", type=click.Choice(STORES), required=True, help="Copy from.")
@click.option("--to", "destination", type=click.Choice(STORES), required=True, help="Copy to.")
@click.option("--data-dir", type=click.Path(path_type=Path), help="Overrides MAMA_DATA_DIR.")
@click.option("--table", help="Overrides MAMA_DYNAMODB_TABLE.")
def migrate_store(source: str, destination: str, data_dir: Path | None, table: str | None) -> None:
    """Copy every user from one store to the other (TinyDB: MAMA_DATA_DIR; DynamoDB:
    MAMA_DYNAMODB_*). Safe to run again: it resumes, and users already copied are left alone.
    Exits 1 unless every source user is then in the destination."""
    from ask_sdk_core.exceptions import PersistenceException

    from skill.storage.migrate import migrate, side_for

    if source == destination:
        raise click.UsageError("--from and --to must name different stores")
    config = _config(data_dir=data_dir, dynamodb_table=table)
    try:
        reader = side_for(config, source, create=False)
        writer = side_for(config, destination, create=True)
        with click.progressbar(length=reader.count(), label=f"{source} -> {destination}") as bar:
            report = migrate(reader, writer, progress=bar.update)
    except (ConfigError, PersistenceException) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(report.summary())
    for key, reason in report.unreadable[:20]:
        click.echo(f"not copied: {key} ({reason})")
    if not report.verified:
        click.echo("migration NOT complete: see above, fix and run again", err=True)
        sys.exit(1)
    click.echo("verified: every source user is in the destination")


@main.command()
@click.option("--locale", default="en-US", show_default=True, help="Content locale (or alias).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Save the WAV here instead of playing it.",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Audio cache folder (default: MAMA_SPEECH_CACHE_DIR or <data dir>/speech-cache).",
)
def ritual(locale: str, out: Path | None, cache_dir: Path | None) -> None:
    """Speak the workday shutdown ritual (under a minute) with the offline voice."""
    import shutil

    from speech.catalog import ContentError, load_catalogs
    from speech.offline import OfflineSpeaker, SpeechError, wav_duration
    from speech.playback import report, serves_locale, speak
    from speech.ritual import offline_ssml
    from speech.settings import SpeechSettings

    settings = SpeechSettings.from_env()
    try:
        catalogs = load_catalogs(default_locale=settings.default_locale)
    except ContentError as exc:
        raise click.ClickException(str(exc)) from None
    catalog = catalogs.for_locale(locale)
    if not serves_locale(catalog, locale):
        choices = ", ".join(catalogs.locales)
        raise click.BadParameter(f"no content for {locale!r}; try {choices}", param_hint="--locale")
    speaker = OfflineSpeaker(cache_dir or settings.cache_dir)
    try:
        spoken = speak(
            offline_ssml(catalog),
            catalog.locale,
            speaker=speaker,
            voice=catalog.offline_voice,
            play=out is None,
        )
    except SpeechError as exc:
        raise click.ClickException(f"could not render the ritual: {exc}") from None
    if out is None:
        report(spoken, click.echo)
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(spoken.wav, out)
    except OSError as exc:
        raise click.ClickException(f"could not write {out}: {exc}") from None
    click.echo(f"Wrote {out} ({wav_duration(out):.1f} s)")


# Conversation tools live next to the matcher they drive.
main.add_command(simulate_command, "simulate")
main.add_command(chat_command, "chat")
main.add_command(replay_command, "replay")
main.add_command(nlu_eval_command, "nlu-eval")
main.add_command(nlu_export_command, "nlu-export")
main.add_command(say_command, "say")
main.add_command(render_command, "render")
main.add_command(package_command, "package")
main.add_command(debug_command, "debug")
