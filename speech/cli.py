"""``mama-moments say`` and ``mama-moments render``: the skill's content with the offline voice.

Both commands render through :class:`~speech.offline.OfflineSpeaker`, so anything said once is
cached (``Config.audio_cache_dir`` unless ``--cache-dir`` is given) and a repeat is instant.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import click
from tqdm import tqdm  # type: ignore[import-untyped]  # no stubs installed; not ours to add

from speech.catalog import Catalog, Catalogs, ContentError, load_catalogs
from speech.compose import speakable
from speech.offline import OfflineSpeaker, SpeechError, wav_duration
from speech.playback import report, serves_locale, speak
from speech.settings import SpeechSettings

#: What ``say`` can say; each maps to one :func:`speech.compose.speakable` document.
SAY_KINDS = ("letter", "strategy", "mantra", "kid-time")
#: ``render --locale all`` renders every content locale.
ALL_LOCALES = "all"

_cache_dir_option = click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Audio cache folder (default: MAMA_SPEECH_CACHE_DIR or <data dir>/speech-cache).",
)


def _setup(cache_dir: Path | None) -> tuple[Catalogs, OfflineSpeaker]:
    """Content and a speaker over the configured (or given) cache."""
    settings = SpeechSettings.from_env()
    try:
        catalogs = load_catalogs(default_locale=settings.default_locale)
    except ContentError as exc:
        raise click.ClickException(str(exc)) from None
    return catalogs, OfflineSpeaker(cache_dir or settings.cache_dir)


def _catalog(catalogs: Catalogs, locale: str) -> Catalog:
    """The content for ``locale``; unlike the skill, the CLI refuses rather than falls back."""
    catalog = catalogs.for_locale(locale)
    if not serves_locale(catalog, locale):
        choices = ", ".join(catalogs.locales)
        raise click.BadParameter(f"no content for {locale!r}; try {choices}", param_hint="--locale")
    return catalog


def _document_name(catalog: Catalog, what: str, strategy_id: str | None) -> str:
    """The speakable() name for ``say WHAT [--strategy ID]``."""
    if what != "strategy":
        if strategy_id is not None:
            raise click.UsageError("--strategy only applies to 'say strategy'")
        return what
    if strategy_id is None:
        # Deterministic on purpose: the same command always says the same thing (and hits the
        # cache); the skill itself is what rotates through strategies.
        return f"strategy-{catalog.strategy_ids[0]}"
    if strategy_id not in catalog.strategy_ids:
        choices = ", ".join(catalog.strategy_ids)
        raise click.BadParameter(
            f"unknown strategy {strategy_id!r}; choose one of {choices}", param_hint="--strategy"
        )
    return f"strategy-{strategy_id}"


@click.command("say")
@click.argument("what", type=click.Choice(SAY_KINDS))
@click.option("--locale", default="en-US", show_default=True, help="Content locale (or alias).")
@click.option(
    "--strategy",
    "strategy_id",
    metavar="ID",
    help="Which strategy for 'say strategy' (default: the first one in the content file).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Save the WAV here instead of playing it.",
)
@_cache_dir_option
def say_command(
    what: str, locale: str, strategy_id: str | None, out: Path | None, cache_dir: Path | None
) -> None:
    """Say the letter, a strategy, the mantra or the kid-time start with the offline voice.

    Plays through the audio device when one works; otherwise prints where the WAV is.
    """
    catalogs, speaker = _setup(cache_dir)
    catalog = _catalog(catalogs, locale)
    name = _document_name(catalog, what, strategy_id)
    document = speakable(catalog)[name]
    try:
        # --out means "give me the file": playing a 2½-minute letter as well would only be in
        # the way, so it is rendered (cached) and copied, not played.
        spoken = speak(
            document, catalog.locale, speaker=speaker, voice=catalog.offline_voice, play=not out
        )
    except SpeechError as exc:
        raise click.ClickException(f"could not render {name}: {exc}") from None
    if out is None:
        report(spoken, click.echo)
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(spoken.wav, out)
    except OSError as exc:
        raise click.ClickException(f"could not write {out}: {exc}") from None
    click.echo(f"Wrote {out} ({wav_duration(out):.1f} s)")


@click.command("render")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write <locale>/<name>.wav into.",
)
@click.option(
    "--locale", default="en-US", show_default=True, help=f"Content locale, or '{ALL_LOCALES}'."
)
@_cache_dir_option
def render_command(out_dir: Path, locale: str, cache_dir: Path | None) -> None:
    """Render every spoken document (letter, mantra, kid time, strategies) to WAV files."""
    catalogs, speaker = _setup(cache_dir)
    if locale.strip().lower() == ALL_LOCALES:
        chosen = sorted(catalogs, key=lambda c: c.locale)
    else:
        chosen = [_catalog(catalogs, locale)]
    jobs = [(c, name, doc) for c in chosen for name, doc in speakable(c).items()]
    started = time.perf_counter()
    seconds = 0.0
    # tqdm writes to stderr, so stdout keeps only the summary line for scripts to read.
    for catalog, name, document in tqdm(jobs, desc="Rendering", unit="file", file=sys.stderr):
        target = out_dir / catalog.locale / f"{name}.wav"
        try:
            wav = speaker.render(document, catalog.offline_voice, locale=catalog.locale)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(wav, target)
        except SpeechError as exc:
            raise click.ClickException(f"could not render {catalog.locale} {name}: {exc}") from None
        except OSError as exc:
            raise click.ClickException(f"could not write {target}: {exc}") from None
        seconds += wav_duration(target)
    elapsed = time.perf_counter() - started
    locales = ", ".join(c.locale for c in chosen)
    click.echo(
        f"Rendered {len(jobs)} files ({locales}) to {out_dir}: "
        f"{seconds:.1f} s of audio in {elapsed:.1f} s"
    )
