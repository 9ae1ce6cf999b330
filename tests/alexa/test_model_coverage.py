"""The interaction models and the handlers agree: every model intent is handled and every
handled intent is in every model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skill.alexa.builder import HANDLED_INTENTS

MODELS = sorted((Path(__file__).resolve().parents[2] / "interaction_models").glob("*-*.json"))


def test_there_are_models() -> None:
    assert {p.stem for p in MODELS} >= {"en-US", "en-GB", "en-AU", "en-CA", "en-IN"}


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_model_intents_match_the_handlers(path: Path) -> None:
    model = json.loads(path.read_text())["interactionModel"]["languageModel"]
    intents = {intent["name"] for intent in model["intents"]}
    assert intents - HANDLED_INTENTS == set(), "intents without a handler"
    assert HANDLED_INTENTS - intents == set(), "handlers without an intent in the model"


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_dialog_model_names_real_intents_and_slots(path: Path) -> None:
    model = json.loads(path.read_text())["interactionModel"]
    slots = {
        (intent["name"], slot["name"])
        for intent in model["languageModel"]["intents"]
        for slot in intent.get("slots", [])
    }
    prompt_ids = {prompt["id"] for prompt in model.get("prompts", [])}
    for intent in model.get("dialog", {}).get("intents", []):
        for slot in intent["slots"]:
            assert (intent["name"], slot["name"]) in slots
            for prompt in slot.get("prompts", {}).values():
                assert prompt in prompt_ids
