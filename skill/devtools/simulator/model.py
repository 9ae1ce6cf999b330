"""Interaction models: ``interaction_models/<locale>.json`` read into small frozen dataclasses."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

_LOCALE = re.compile(r"^[a-z]{2}-[A-Z]{2}$")


class ModelError(ValueError):
    """An interaction model file is missing or does not have the expected shape."""


@dataclass(frozen=True)
class SlotDef:
    """One slot declared on an intent."""

    name: str
    type: str


@dataclass(frozen=True)
class IntentDef:
    """One intent with its slots and sample utterances."""

    name: str
    slots: tuple[SlotDef, ...] = ()
    samples: tuple[str, ...] = ()

    def slot(self, name: str) -> SlotDef | None:
        """The declared slot called ``name``, if any."""
        return next((s for s in self.slots if s.name == name), None)


@dataclass(frozen=True)
class TypeValue:
    """One value of a custom slot type: its id, canonical name and synonyms."""

    id: str
    name: str
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True)
class SlotTypeDef:
    """A custom slot type."""

    name: str
    values: tuple[TypeValue, ...]


@dataclass(frozen=True)
class InteractionModel:
    """The language model of one locale."""

    locale: str
    invocation_name: str
    intents: tuple[IntentDef, ...]
    types: Mapping[str, SlotTypeDef]
    raw: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)

    def intent(self, name: str) -> IntentDef | None:
        """The intent called ``name``, if the model declares it."""
        return next((i for i in self.intents if i.name == name), None)

    @property
    def intent_names(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.intents)


def default_models_dir() -> Path | None:
    """The repository's ``interaction_models`` folder when it exists on disk."""
    path = Path(__file__).resolve().parents[3] / "interaction_models"
    return path if path.is_dir() else None


def _read_model_text(locale: str, models_dir: Path | None) -> str:
    name = f"{locale}.json"
    if models_dir is not None:
        path = Path(models_dir) / name
        if not path.is_file():
            raise ModelError(f"no interaction model for {locale} in {models_dir}")
        return path.read_text(encoding="utf-8")
    try:
        resource = resources.files("interaction_models").joinpath(name)
        if resource.is_file():
            return resource.read_text(encoding="utf-8")
    except (ModuleNotFoundError, TypeError, FileNotFoundError, NotADirectoryError):
        pass
    fallback = Path(__file__).resolve().parents[3] / "interaction_models" / name
    if not fallback.is_file():
        raise ModelError(f"no interaction model for {locale}")
    return fallback.read_text(encoding="utf-8")


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ModelError(f"{where} must be an object")
    return value


def _list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise ModelError(f"{where} must be a list")
    return value


def _str(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ModelError(f"{where} must be a non-empty string")
    return value


def parse_model(data: object, locale: str) -> InteractionModel:
    """Check and convert the JSON of an ASK CLI interaction model file."""
    root = _mapping(data, locale)
    language = _mapping(
        _mapping(root.get("interactionModel"), f"{locale}: interactionModel").get("languageModel"),
        f"{locale}: languageModel",
    )
    invocation = _str(language.get("invocationName"), f"{locale}: invocationName")
    intents: list[IntentDef] = []
    for n, item in enumerate(_list(language.get("intents"), f"{locale}: intents")):
        where = f"{locale}: intents[{n}]"
        intent = _mapping(item, where)
        slots = tuple(
            SlotDef(
                _str(_mapping(s, f"{where}.slots").get("name"), f"{where}.slots.name"),
                _str(_mapping(s, f"{where}.slots").get("type"), f"{where}.slots.type"),
            )
            for s in _list(intent.get("slots", []), f"{where}.slots")
        )
        samples = tuple(
            _str(s, f"{where}.samples")
            for s in _list(intent.get("samples", []), f"{where}.samples")
        )
        intents.append(IntentDef(_str(intent.get("name"), f"{where}.name"), slots, samples))
    types: dict[str, SlotTypeDef] = {}
    for n, item in enumerate(_list(language.get("types", []), f"{locale}: types")):
        where = f"{locale}: types[{n}]"
        type_ = _mapping(item, where)
        values = []
        for m, raw_value in enumerate(_list(type_.get("values"), f"{where}.values")):
            value = _mapping(raw_value, f"{where}.values[{m}]")
            name = _mapping(value.get("name"), f"{where}.values[{m}].name")
            synonyms = tuple(
                _str(s, f"{where}.values[{m}].synonyms")
                for s in _list(name.get("synonyms", []), f"{where}.values[{m}].synonyms")
            )
            value_name = _str(name.get("value"), f"{where}.values[{m}].name.value")
            value_id = value.get("id") or value_name
            values.append(
                TypeValue(_str(value_id, f"{where}.values[{m}].id"), value_name, synonyms)
            )
        type_name = _str(type_.get("name"), f"{where}.name")
        types[type_name] = SlotTypeDef(type_name, tuple(values))
    return InteractionModel(locale, invocation, tuple(intents), types, root)


def load_model(locale: str, models_dir: Path | None = None) -> InteractionModel:
    """Load ``<models_dir>/<locale>.json`` (default: the packaged ``interaction_models``)."""
    if not _LOCALE.match(locale):
        raise ModelError(f"not a locale: {locale!r}")
    text = _read_model_text(locale, models_dir)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelError(f"{locale}: invalid JSON: {exc}") from None
    return parse_model(data, locale)


def available_locales(models_dir: Path | None = None) -> list[str]:
    """Locales that have a model file in ``models_dir`` (default: the repository folder)."""
    folder = models_dir or default_models_dir()
    if folder is None:
        return []
    return sorted(p.stem for p in Path(folder).glob("*.json") if _LOCALE.match(p.stem))
