"""Annotation sets in the Alexa NLU Evaluation Tool's formats, and scoring the matcher on them.

CSV (the developer console's upload format): a header ``utterance,referenceTimestamp,intent``
followed by one ``slot[<name>]`` column per slot. JSON (the SMAPI annotation body)::

    {"data": [{"inputs": {"utterance": "..."},
               "expected": [{"intent": {"name": "...", "slots": {"topic": {"value": "..."}}}}]}]}

Expected slot values are what Alexa would send: the spoken words for custom slots, ISO-8601 for
``AMAZON.DURATION``.

``nlu-export`` writes every shipped set in both formats, checked against its locale's model
(an intent or slot the model lacks would make Amazon's evaluation fail), ready for
``ask smapi update-annotations-for-nlu-annotation-sets`` (``--content-type application/json``
or ``text/csv``) and then ``ask smapi create-nlu-evaluations``.
"""

from __future__ import annotations

import csv
import io
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from skill.devtools.simulator.constants import FALLBACK_INTENT
from skill.devtools.simulator.matcher import Match, UtteranceMatcher
from skill.devtools.simulator.model import InteractionModel
from skill.devtools.simulator.text import _key

_CSV_HEAD = ("utterance", "referenceTimestamp", "intent")
_SLOT_COLUMN = re.compile(r"^slot\[(\w+)\]$")


class AnnotationError(ValueError):
    """An annotation file that is not in either of the tool's formats."""


@dataclass(frozen=True)
class Annotation:
    """One utterance with the intent and slots it should give."""

    utterance: str
    intent: str
    slots: dict[str, str] = field(default_factory=dict)
    reference_timestamp: str = ""


def read_annotations(path: Path) -> list[Annotation]:
    """Read a ``.csv`` or ``.json`` annotation set (format chosen by content, not name)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise AnnotationError(f"{path}: {exc}") from None
    return parse_annotations(text, str(path))


def parse_annotations(text: str, where: str = "annotations") -> list[Annotation]:
    """Parse annotation text in the CSV or the JSON format."""
    if text.lstrip().startswith("{"):
        return _parse_json(text, where)
    return _parse_csv(text, where)


def _parse_csv(text: str, where: str) -> list[Annotation]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header or [h.strip() for h in header[:3]] != [
        "utterance",
        "referenceTimestamp",
        "intent",
    ]:
        raise AnnotationError(f"{where}: the header must start utterance,referenceTimestamp,intent")
    slot_names: list[str] = []
    for column in header[3:]:
        m = _SLOT_COLUMN.match(column.strip())
        if not m:
            raise AnnotationError(f"{where}: column {column!r} is not slot[<name>]")
        slot_names.append(m.group(1))
    annotations = []
    for line, row in enumerate(reader, start=2):
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) < 3 or not row[0].strip() or not row[2].strip():
            raise AnnotationError(f"{where}:{line}: needs an utterance and an intent")
        slots = {
            name: value.strip()
            for name, value in zip(slot_names, row[3:], strict=False)
            if value.strip()
        }
        annotations.append(Annotation(row[0].strip(), row[2].strip(), slots, row[1].strip()))
    return annotations


def _parse_json(text: str, where: str) -> list[Annotation]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AnnotationError(f"{where}: invalid JSON: {exc}") from None
    items = data.get("data") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise AnnotationError(f"{where}: expected an object with a 'data' list")
    annotations = []
    for n, item in enumerate(items):
        try:
            inputs = item["inputs"]
            utterance = inputs["utterance"]
            expected = item["expected"][0]["intent"]
            name = expected["name"]
            raw_slots = expected.get("slots") or {}
            slots = {k: str(v["value"]) for k, v in raw_slots.items()}
        except (KeyError, IndexError, TypeError, AttributeError):
            raise AnnotationError(
                f"{where}: data[{n}] lacks inputs.utterance or expected"
            ) from None
        if not isinstance(utterance, str) or not isinstance(name, str):
            raise AnnotationError(f"{where}: data[{n}]: utterance and intent must be strings")
        stamp = inputs.get("referenceTimestamp", "")
        annotations.append(
            Annotation(utterance, name, slots, stamp if isinstance(stamp, str) else "")
        )
    return annotations


def to_json(annotations: Iterable[Annotation]) -> dict[str, Any]:
    """The SMAPI body for ``update-annotations-for-nlu-annotation-sets``."""
    data = []
    for a in annotations:
        inputs: dict[str, str] = {"utterance": a.utterance}
        if a.reference_timestamp:
            inputs["referenceTimestamp"] = a.reference_timestamp
        intent: dict[str, Any] = {"name": a.intent}
        if a.slots:
            intent["slots"] = {k: {"value": v} for k, v in a.slots.items()}
        data.append({"inputs": inputs, "expected": [{"intent": intent}]})
    return {"data": data}


def to_csv(annotations: Sequence[Annotation]) -> str:
    """The developer console's CSV, one ``slot[<name>]`` column per slot that appears."""
    names = sorted({name for a in annotations for name in a.slots})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["utterance", "referenceTimestamp", "intent", *(f"slot[{n}]" for n in names)])
    for a in annotations:
        writer.writerow(
            [a.utterance, a.reference_timestamp, a.intent, *(a.slots.get(n, "") for n in names)]
        )
    return out.getvalue()


def not_in_model(annotations: Iterable[Annotation], model: InteractionModel) -> list[str]:
    """Intents and slots the annotations expect that ``model`` does not declare."""
    problems: list[str] = []
    for a in annotations:
        declared = model.intent(a.intent)
        if declared is None:
            problems.append(
                f"{a.utterance!r}: intent {a.intent} is not in the {model.locale} model"
            )
            continue
        for name in sorted(a.slots):
            if declared.slot(name) is None:
                problems.append(f"{a.utterance!r}: {a.intent} has no slot {name!r}")
    return problems


def export_set(annotations: Sequence[Annotation], out: Path, stem: str) -> tuple[Path, Path]:
    """Write ``<stem>.json`` (the SMAPI body) and ``<stem>.csv`` (the console's) under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    json_path, csv_path = out / f"{stem}.json", out / f"{stem}.csv"
    text = json.dumps(to_json(annotations), indent=2, ensure_ascii=False) + "\n"
    json_path.write_text(text, encoding="utf-8")
    csv_path.write_text(to_csv(annotations), encoding="utf-8")
    return json_path, csv_path


@dataclass
class Outcome:
    """What the matcher made of one annotation."""

    annotation: Annotation
    intent: str
    slots: dict[str, str]
    seconds: float
    intent_ok: bool
    slots_ok: bool


@dataclass
class Report:
    """Scores of one annotation set against one matcher."""

    outcomes: list[Outcome]

    @property
    def intent_accuracy(self) -> float:
        return _ratio(sum(o.intent_ok for o in self.outcomes), len(self.outcomes))

    @property
    def wrong_intent_rate(self) -> float:
        """Share sent to a wrong intent other than Fallback (the costly mistake)."""
        wrong = sum(not o.intent_ok and o.intent != FALLBACK_INTENT for o in self.outcomes)
        return _ratio(wrong, len(self.outcomes))

    @property
    def slot_accuracy(self) -> float:
        """Among annotations that expect slots: share whose every slot came out right."""
        with_slots = [o for o in self.outcomes if o.annotation.slots]
        return _ratio(sum(o.intent_ok and o.slots_ok for o in with_slots), len(with_slots))

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not (o.intent_ok and o.slots_ok)]

    def confusion(self) -> Counter[tuple[str, str]]:
        """(expected, got) → count, for the wrong answers only."""
        return Counter((o.annotation.intent, o.intent) for o in self.outcomes if not o.intent_ok)

    def percentile_ms(self, q: float) -> float:
        times = sorted(o.seconds for o in self.outcomes)
        if not times:
            return 0.0
        if len(times) == 1:
            return times[0] * 1000
        cuts = statistics.quantiles(times, n=100, method="inclusive")
        return cuts[max(0, min(98, round(q * 100) - 1))] * 1000

    def text(self, failures: bool = True) -> str:
        """The report as printed by ``nlu-eval``."""
        lines = [
            f"utterances:       {len(self.outcomes)}",
            f"intent accuracy:  {self.intent_accuracy:.1%}",
            f"wrong intent:     {self.wrong_intent_rate:.1%} (not counting Fallback)",
            f"slot accuracy:    {self.slot_accuracy:.1%}",
        ]
        confusion = self.confusion()
        if confusion:
            lines.append("confusion (expected -> got: count):")
            for (expected, got), count in confusion.most_common():
                lines.append(f"  {expected} -> {got}: {count}")
        if failures and self.failures:
            lines.append("failures:")
            for o in self.failures:
                want = _show(o.annotation.intent, o.annotation.slots)
                got = _show(o.intent, o.slots)
                lines.append(f"  {o.annotation.utterance!r}: expected {want}, got {got}")
        return "\n".join(lines)


def _show(intent: str, slots: dict[str, str]) -> str:
    if not slots:
        return intent
    return intent + " " + " ".join(f"{k}={v!r}" for k, v in sorted(slots.items()))


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 1.0


def _slot_words(match: Match) -> dict[str, str]:
    """The slot values as Alexa would send them (ISO for durations, words otherwise)."""
    return {name: slot["value"] for name, slot in match.slots.items()}


def _same_value(matcher: UtteranceMatcher, slot_type: str | None, want: str, got: str) -> bool:
    if _key(want) == _key(got):
        return True
    if slot_type and slot_type in matcher.model.types:
        a, b = matcher.resolve(slot_type, want), matcher.resolve(slot_type, got)
        return a is not None and b is not None and a.id == b.id
    return False


def evaluate(matcher: UtteranceMatcher, annotations: Iterable[Annotation]) -> Report:
    """Match every annotation and score intent and slots."""
    outcomes = []
    for a in annotations:
        start = time.perf_counter()
        match = matcher.match(a.utterance) or Match(FALLBACK_INTENT)
        seconds = time.perf_counter() - start
        got = _slot_words(match)
        intent_ok = match.intent == a.intent
        declared = matcher.model.intent(a.intent)
        slots_ok = set(got) == set(a.slots) and all(
            _same_value(
                matcher,
                (s.type if (s := declared.slot(name)) else None) if declared else None,
                want,
                got[name],
            )
            for name, want in a.slots.items()
        )
        outcomes.append(Outcome(a, match.intent, got, seconds, intent_ok, slots_ok))
    return Report(outcomes)


def annotations_dir() -> Path | None:
    """The repository's shipped held-out sets, when present on disk."""
    path = Path(__file__).resolve().parents[3] / "interaction_models" / "annotations"
    return path if path.is_dir() else None


def _locale_from_name(path: Path) -> str | None:
    """``annotations/en-GB.csv`` → ``en-GB`` (the shipped sets are named by locale)."""
    stem = path.name.split(".")[0]
    return stem if re.fullmatch(r"[a-z]{2}-[A-Z]{2}", stem) else None


@click.command("nlu-eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--locale", help="Model to evaluate (default: from the file name, else en-US).")
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1),
    default=None,
    help="Exit 1 when intent or slot accuracy is below this (0-1).",
)
@click.option(
    "--export-json",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write the set as the SMAPI annotation JSON (for ask smapi).",
)
@click.option(
    "--export-csv",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write the set as the developer console's CSV.",
)
@click.option("--quiet", is_flag=True, help="Scores only, no list of failures.")
def nlu_eval_command(
    file: Path,
    locale: str | None,
    threshold: float | None,
    export_json: Path | None,
    export_csv: Path | None,
    quiet: bool,
) -> None:
    """Score the offline matcher on an annotation set (Alexa NLU Evaluation Tool CSV or JSON)."""
    from skill.devtools.simulator.model import ModelError, load_model

    try:
        annotations = read_annotations(file)
    except AnnotationError as exc:
        raise click.ClickException(str(exc)) from None
    if not annotations:
        raise click.ClickException(f"{file}: no annotations")
    if export_json is not None:
        text = json.dumps(to_json(annotations), indent=2, ensure_ascii=False) + "\n"
        export_json.write_text(text, encoding="utf-8")
        click.echo(f"wrote {export_json} ({len(annotations)} annotations)")
    if export_csv is not None:
        export_csv.write_text(to_csv(annotations), encoding="utf-8")
        click.echo(f"wrote {export_csv} ({len(annotations)} annotations)")
    chosen = locale or _locale_from_name(file) or "en-US"
    try:
        matcher = UtteranceMatcher(load_model(chosen))
    except ModelError as exc:
        raise click.ClickException(str(exc)) from None
    report = evaluate(matcher, annotations)
    click.echo(f"{file} against the {chosen} model")
    click.echo(report.text(failures=not quiet))
    if threshold is not None:
        worst = min(report.intent_accuracy, report.slot_accuracy)
        if worst < threshold:
            click.echo(f"below the threshold {threshold:.0%}", err=True)
            sys.exit(1)


@click.command("nlu-export")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for <locale>.json and <locale>.csv (created if missing).",
)
@click.option(
    "--annotations",
    "source",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Folder of <locale>.csv sets (default: interaction_models/annotations).",
)
def nlu_export_command(out: Path, source: Path | None) -> None:
    """Write every held-out set in the Alexa NLU Evaluation Tool's JSON and CSV formats."""
    from skill.devtools.simulator.model import ModelError, load_model

    folder = source or annotations_dir()
    if folder is None:
        raise click.ClickException("no annotation sets found; pass --annotations FOLDER")
    sets = sorted(p for p in folder.iterdir() if p.suffix in (".csv", ".json"))
    sets = [p for p in sets if _locale_from_name(p)]
    if not sets:
        raise click.ClickException(f"{folder}: no <locale>.csv or <locale>.json sets")
    problems: list[str] = []
    ready: list[tuple[str, list[Annotation]]] = []
    for path in sets:
        locale = str(_locale_from_name(path))
        try:
            annotations = read_annotations(path)
            model = load_model(locale)
        except (AnnotationError, ModelError) as exc:
            raise click.ClickException(str(exc)) from None
        found = not_in_model(annotations, model)
        problems.extend(f"{path.name}: {p}" for p in found)
        ready.append((locale, annotations))
    if problems:
        raise click.ClickException("not exported:\n  " + "\n  ".join(problems))
    for locale, annotations in ready:
        json_path, csv_path = export_set(annotations, out, locale)
        click.echo(f"{locale}: {len(annotations)} annotations -> {json_path}, {csv_path}")
    click.echo(
        "upload one with: ask smapi update-annotations-for-nlu-annotation-sets -s SKILL_ID "
        "--annotation-id ANNOTATION_ID --content-type application/json "
        f"--update-nlu-annotation-set-annotations-request file:{out / 'en-US.json'}"
    )
