"""``mama-moments package``: an ASK CLI skill package for deploying the skill to Alexa.

Writes ``OUT/skill-package/skill.json`` (the manifest) and
``OUT/skill-package/interactionModels/custom/<locale>.json`` (byte-identical copies of
``interaction_models/<locale>.json``, the single source of truth). The store texts (name,
summary, description, keywords, example requests) come from ``interaction_models/publishing.json``
so they can be edited without touching code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

from skill.alexa.handlers.services import GIVEN_NAME_SCOPE, TIMERS_SCOPE
from skill.devtools.simulator import InteractionModel, ModelError, default_models_dir, parse_model

#: Locales the skill is published in, with the country each one is distributed to.
LOCALE_COUNTRIES: Mapping[str, str] = {
    "en-US": "US",
    "en-GB": "GB",
    "en-AU": "AU",
    "en-CA": "CA",
    "en-IN": "IN",
}
#: Skill permissions the manifest asks for: kid time sets an Alexa timer when allowed, and the
#: letter may greet the parent by her profile's first name.
PERMISSIONS: tuple[str, ...] = (TIMERS_SCOPE, GIVEN_NAME_SCOPE)
#: Interfaces the skill uses: APL screens for the letter and the countdown, and CanFulfill.
INTERFACES: tuple[str, ...] = ("ALEXA_PRESENTATION_APL", "CAN_FULFILL_INTENT_REQUEST")
#: Skill events Alexa sends us; SKILL_DISABLED lets the skill delete a user's data.
EVENT_SUBSCRIPTIONS: tuple[str, ...] = ("SKILL_DISABLED",)
#: HTTPS certificate kinds Alexa accepts without an uploaded certificate.
CERTIFICATE_TYPES = ("Wildcard", "Trusted")
PUBLISHING_FILE = "publishing.json"
MANIFEST_VERSION = "1.0"

_LAMBDA_ARN = re.compile(
    r"^arn:aws[a-z-]*:lambda:[a-z]{2}(-[a-z]+)+-\d:\d{12}:function:[A-Za-z0-9_-]{1,64}"
    r"(:[A-Za-z0-9_$-]+)?$"
)


class PackageError(Exception):
    """The package cannot be built; the message says what to fix."""


def _models_file(name: str) -> bytes:
    """Raw bytes of a file in ``interaction_models`` (the repository's, else the installed one)."""
    folder = default_models_dir()
    if folder is not None and (folder / name).is_file():
        return (folder / name).read_bytes()
    try:
        return resources.files("interaction_models").joinpath(name).read_bytes()
    except (ModuleNotFoundError, TypeError, FileNotFoundError, NotADirectoryError):
        # An editable install can expose the package as a namespace that resources rejects.
        raise PackageError(f"missing interaction_models/{name}") from None


def load_publishing() -> dict[str, Any]:
    """The store texts from ``interaction_models/publishing.json``, checked for every locale."""
    try:
        data: object = json.loads(_models_file(PUBLISHING_FILE))
    except ValueError as exc:
        raise PackageError(f"interaction_models/{PUBLISHING_FILE}: invalid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise PackageError(f"interaction_models/{PUBLISHING_FILE} must be a JSON object")
    locales = data.get("locales")
    if not isinstance(locales, dict):
        raise PackageError(f"interaction_models/{PUBLISHING_FILE} has no 'locales' object")
    for key in ("category", "testing_instructions"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise PackageError(f"interaction_models/{PUBLISHING_FILE} needs a {key!r} string")
    for locale in LOCALE_COUNTRIES:
        entry = locales.get(locale)
        where = f"interaction_models/{PUBLISHING_FILE}: {locale}"
        if not isinstance(entry, dict):
            raise PackageError(f"{where} is missing")
        for key in ("name", "summary", "description"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise PackageError(f"{where} needs a non-empty {key!r}")
        for key in ("keywords", "examples"):
            items = entry.get(key)
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise PackageError(f"{where}: {key!r} must be a list of strings")
    return data


def example_phrases(model: InteractionModel, examples: Sequence[str]) -> list[str]:
    """Alexa's example phrases: the open phrase, then "ask ... to <sample>" for each example.

    Certification rejects example phrases that are not sample utterances, so each example must
    appear word for word (without slots) among the model's samples.
    """
    samples = {s for intent in model.intents for s in intent.samples}
    phrases = [f"Alexa, open {model.invocation_name}"]
    for example in examples:
        if example not in samples:
            raise PackageError(
                f"{model.locale}: example {example!r} is not a sample utterance of the model"
            )
        phrases.append(f"Alexa, ask {model.invocation_name} to {example}")
    if len(phrases) != 3:
        raise PackageError(f"{model.locale}: need exactly two examples (Alexa shows three phrases)")
    return phrases


def https_endpoint(url: str, certificate: str = "Wildcard") -> dict[str, str]:
    """The manifest endpoint for a web service; Alexa only calls https on port 443."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise PackageError(f"--endpoint must be an https:// URL; got {url!r}")
    if parts.username or parts.password:
        raise PackageError("--endpoint must not contain a user name or password")
    if parts.port not in (None, 443):
        raise PackageError("--endpoint must use port 443: Alexa calls no other port")
    if certificate not in CERTIFICATE_TYPES:
        raise PackageError(f"certificate type must be one of {', '.join(CERTIFICATE_TYPES)}")
    return {"uri": url, "sslCertificateType": certificate}


def lambda_endpoint(arn: str) -> dict[str, str]:
    """The manifest endpoint for an AWS Lambda function (handler skill.lambda_handler.handler)."""
    if not _LAMBDA_ARN.match(arn):
        raise PackageError(
            f"--lambda-arn must look like arn:aws:lambda:REGION:ACCOUNT:function:NAME; got {arn!r}"
        )
    return {"uri": arn}


def build_manifest(
    endpoint: Mapping[str, str],
    models: Mapping[str, InteractionModel],
    publishing: Mapping[str, Any],
    *,
    name: str | None = None,
    permissions: Sequence[str] = PERMISSIONS,
    privacy_url: str | None = None,
) -> dict[str, Any]:
    """The ``skill.json`` document for these models, store texts and endpoint."""
    locales: dict[str, Any] = {}
    for locale in LOCALE_COUNTRIES:
        texts = publishing["locales"][locale]
        locales[locale] = {
            "name": name or texts["name"],
            "summary": texts["summary"],
            "description": texts["description"],
            "examplePhrases": example_phrases(models[locale], texts["examples"]),
            "keywords": list(texts["keywords"]),
        }
    return {
        "manifest": {
            "manifestVersion": MANIFEST_VERSION,
            "publishingInformation": {
                "locales": locales,
                "isAvailableWorldwide": False,
                "distributionCountries": list(LOCALE_COUNTRIES.values()),
                "category": publishing["category"],
                "testingInstructions": publishing["testing_instructions"],
            },
            "privacyAndCompliance": {
                "allowsPurchases": False,
                # The parent may tell the skill her first name ("call me ..."), for the letter.
                "usesPersonalInfo": True,
                # For parents, not children: it stores no child's name or identifier.
                "isChildDirected": False,
                "isExportCompliant": True,
                "containsAds": False,
                # Certification needs a privacy policy URL because of usesPersonalInfo.
                "locales": {
                    locale: {"privacyPolicyUrl": privacy_url} if privacy_url else {}
                    for locale in LOCALE_COUNTRIES
                },
            },
            "apis": {
                "custom": {
                    "endpoint": dict(endpoint),
                    "interfaces": [{"type": interface} for interface in INTERFACES],
                }
            },
            "events": {
                "endpoint": dict(endpoint),
                "subscriptions": [{"eventName": event} for event in EVENT_SUBSCRIPTIONS],
            },
            "permissions": [{"name": permission} for permission in permissions],
        }
    }


def write_package(
    out: Path,
    endpoint: Mapping[str, str],
    *,
    name: str | None = None,
    permissions: Sequence[str] = PERMISSIONS,
    privacy_url: str | None = None,
) -> Path:
    """Write the skill package under ``out/skill-package`` and return that folder."""
    publishing = load_publishing()
    raw_models: dict[str, bytes] = {}
    models: dict[str, InteractionModel] = {}
    for locale in LOCALE_COUNTRIES:
        raw = _models_file(f"{locale}.json")
        try:
            models[locale] = parse_model(json.loads(raw), locale)
        except (ValueError, ModelError) as exc:
            raise PackageError(f"interaction_models/{locale}.json: {exc}") from None
        raw_models[locale] = raw
    manifest = build_manifest(
        endpoint, models, publishing, name=name, permissions=permissions, privacy_url=privacy_url
    )

    package = out / "skill-package"
    custom = package / "interactionModels" / "custom"
    custom.mkdir(parents=True, exist_ok=True)
    (package / "skill.json").write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    for locale, raw in raw_models.items():
        # Copied byte for byte: what Alexa gets is exactly what the local matcher tests.
        (custom / f"{locale}.json").write_bytes(raw)
    return package


@click.command()
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write skill-package/ into (created if missing).",
)
@click.option("--endpoint", help="HTTPS URL of POST /alexa on your server.")
@click.option("--lambda-arn", help="ARN of the AWS Lambda function running the skill.")
@click.option(
    "--certificate",
    type=click.Choice(CERTIFICATE_TYPES),
    default="Wildcard",
    show_default=True,
    help="With --endpoint: how the server's certificate matches its domain.",
)
@click.option("--name", help="Skill name shown in the Alexa app (default: publishing.json).")
@click.option("--privacy-url", help="HTTPS URL of your privacy policy (needed to certify).")
def package_command(
    out: Path,
    endpoint: str | None,
    lambda_arn: str | None,
    certificate: str,
    name: str | None,
    privacy_url: str | None,
) -> None:
    """Write an ASK CLI skill package (skill.json and interaction models) to OUT."""
    if (endpoint is None) == (lambda_arn is None):
        raise click.UsageError("give exactly one of --endpoint or --lambda-arn")
    if name is not None and not name.strip():
        raise click.BadParameter("must not be empty", param_hint="--name")
    try:
        target = (
            https_endpoint(endpoint, certificate)
            if endpoint is not None
            else lambda_endpoint(str(lambda_arn))
        )
    except PackageError as exc:
        raise click.UsageError(str(exc)) from None
    if privacy_url is not None and not privacy_url.lower().startswith("https://"):
        raise click.BadParameter("must be an https URL", param_hint="--privacy-url")
    try:
        package = write_package(
            out, target, name=name.strip() if name else None, privacy_url=privacy_url
        )
    except PackageError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"skill package written to {package}")
    if privacy_url is None:
        click.echo("note: add --privacy-url before submitting the skill for certification")
