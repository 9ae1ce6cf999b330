"""``mama-moments nlu-export``: the held-out sets in the Alexa NLU Evaluation Tool's formats."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from skill.cli import main
from skill.devtools.simulator import load_model
from skill.devtools.simulator.nlu_eval import (
    Annotation,
    not_in_model,
    parse_annotations,
    read_annotations,
)

ANNOTATIONS = Path(__file__).resolve().parents[2] / "interaction_models" / "annotations"
LOCALES = ["en-AU", "en-CA", "en-GB", "en-IN", "en-US"]
SCHEMA = json.loads(
    (Path(__file__).parent / "data" / "nlu-annotations.schema.json").read_text(encoding="utf-8")
)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("nlu") / "export"
    result = CliRunner().invoke(main, ["nlu-export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "ask smapi update-annotations-for-nlu-annotation-sets" in result.output
    return out


@pytest.mark.parametrize("locale", LOCALES)
def test_json_is_the_smapi_body(exported: Path, locale: str) -> None:
    body = json.loads((exported / f"{locale}.json").read_text(encoding="utf-8"))
    jsonschema.validate(body, SCHEMA, cls=jsonschema.Draft202012Validator)
    source = read_annotations(ANNOTATIONS / f"{locale}.csv")
    assert [item["inputs"]["utterance"] for item in body["data"]] == [a.utterance for a in source]
    for item, annotation in zip(body["data"], source, strict=True):
        intent = item["expected"][0]["intent"]
        assert intent["name"] == annotation.intent
        slots = {name: slot["value"] for name, slot in intent.get("slots", {}).items()}
        assert slots == annotation.slots


@pytest.mark.parametrize("locale", LOCALES)
def test_csv_has_the_tools_header_and_the_same_annotations(exported: Path, locale: str) -> None:
    text = (exported / f"{locale}.csv").read_text(encoding="utf-8")
    header = next(csv.reader(io.StringIO(text)))
    assert header[:3] == ["utterance", "referenceTimestamp", "intent"]
    assert header[3:], "the shipped sets have slots"
    assert all(re.fullmatch(r"slot\[\w+\]", column) for column in header[3:])
    assert parse_annotations(text) == read_annotations(ANNOTATIONS / f"{locale}.csv")


def test_every_shipped_annotation_is_in_its_model() -> None:
    for locale in LOCALES:
        annotations = read_annotations(ANNOTATIONS / f"{locale}.csv")
        assert not_in_model(annotations, load_model(locale)) == [], locale


def test_unknown_intents_and_slots_are_named() -> None:
    model = load_model("en-US")
    problems = not_in_model(
        [
            Annotation("book a flight", "BookFlightIntent"),
            Annotation("a tip about naps", "GetStrategyIntent", {"topic": "naps", "when": "now"}),
            Annotation("a tip about naps", "GetStrategyIntent", {"topic": "naps"}),
        ],
        model,
    )
    assert problems == [
        "'book a flight': intent BookFlightIntent is not in the en-US model",
        "'a tip about naps': GetStrategyIntent has no slot 'when'",
    ]


def test_a_set_the_model_cannot_answer_is_not_exported(tmp_path: Path) -> None:
    source = tmp_path / "sets"
    source.mkdir()
    (source / "en-GB.csv").write_text(
        "utterance,referenceTimestamp,intent,slot[colour]\n"
        "paint it red,,PaintIntent,red\n"
        "help,,AMAZON.HelpIntent,\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["nlu-export", "--out", str(out), "--annotations", str(source)]
    )
    assert result.exit_code == 1
    assert (
        "en-GB.csv: 'paint it red': intent PaintIntent is not in the en-GB model" in result.output
    )
    assert not out.exists()


def test_a_folder_without_sets_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["nlu-export", "--out", str(tmp_path / "o"), "--annotations", str(tmp_path)]
    )
    assert result.exit_code == 1
    assert "no <locale>.csv or <locale>.json sets" in result.output
