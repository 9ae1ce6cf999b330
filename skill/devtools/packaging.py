"""``mama-moments package``: an ASK CLI skill package for deploying the skill to Alexa.

Writes ``OUT/skill-package/skill.json`` (the manifest) and
``OUT/skill-package/interactionModels/custom/<locale>.json`` (byte-identical copies of
``interaction_models/<locale>.json``, the single source of truth). The store texts (name,
summary, description, keywords, example requests) come from ``interaction_models/publishing.json``
so they can be edited without touching code.

It also writes ``OUT/ask-resources.json`` so that ``cd OUT && ask deploy`` works (ASK CLI v2's
project file, ``askcliResourcesVersion`` 2020-03-31). With ``--lambda-arn`` it adds the ``code``
section, ``OUT/lambda/`` (our three packages and a ``requirements.txt`` made from our own
installed metadata, for the CLI's python-pip build flow) and the ``@ask-cli/lambda-deployer``
pointed at that existing function. ``OUT/.ask/`` is never touched: ASK CLI keeps the skill id in
``.ask/ask-states.json``, and without it the next deploy would create a second skill.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import re
import shutil
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

from skill.alexa.handlers.reminders import REMINDERS_SCOPE
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
#: letter may greet the parent by her profile's first name; reminders end the workday.
PERMISSIONS: tuple[str, ...] = (TIMERS_SCOPE, GIVEN_NAME_SCOPE, REMINDERS_SCOPE)
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


#: ASK CLI v2's project file, read by ``ask deploy`` from the folder it runs in.
ASK_RESOURCES_FILE = "ask-resources.json"
ASK_RESOURCES_VERSION = "2020-03-31"
#: The profile ``ask deploy`` uses unless ``--profile`` or ASK_DEFAULT_PROFILE says otherwise.
ASK_PROFILE = "default"
SKILL_PACKAGE_SRC = "./skill-package"
#: The Lambda code folder (``code.default.src``), beside skill-package/.
LAMBDA_CODE_DIR = "lambda"
LAMBDA_DEPLOYER = "@ask-cli/lambda-deployer"
LAMBDA_HANDLER = "skill.lambda_handler.handler"
LAMBDA_RUNTIME = "python3.12"
#: Our packages the Lambda needs, copied as they are installed (data files included).
CODE_PACKAGES: tuple[str, ...] = ("skill", "speech", "interaction_models")
#: The distribution whose metadata lists what the code needs, and the extra Lambda uses.
DISTRIBUTION = "mama-moments"
LAMBDA_EXTRA = "dynamodb"
#: Dependencies the Lambda handler never imports, left out of its requirements.txt so the zip
#: stays far below Lambda's 50 MB upload limit: the web server and HTTPS signature checks
#: (gunicorn, flask, cryptography), the offline voice and its loudness (pyttsx3, espeakng-loader,
#: numpy, pyloudnorm with scipy: over 100 MB together) and the developer tools (click, tqdm,
#: rapidfuzz). A test runs the handler with all of them blocked.
NOT_ON_LAMBDA: frozenset[str] = frozenset(
    {
        "click",
        "cryptography",
        "espeakng-loader",
        "flask",
        "gunicorn",
        "numpy",
        "pyloudnorm",
        "pyttsx3",
        "rapidfuzz",
        "tqdm",
    }
)
_REQUIREMENT = re.compile(
    r"^(?P<spec>[^;]+?)\s*(?:;\s*(?P<marker>.*?))?\s*$",
)
_EXTRA_MARKER = re.compile(r"""^extra\s*==\s*['"](?P<extra>[\w.-]+)['"]$""")
_REQUIREMENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")


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


def lambda_region(arn: str) -> str:
    """The AWS region of a Lambda ARN (``arn:aws:lambda:REGION:...``)."""
    return arn.split(":")[3]


def ask_resources(
    lambda_arn: str | None = None, existing: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """``ask-resources.json``: the skill package, and with ``lambda_arn`` the code and deployer.

    Other profiles of an ``existing`` file are kept; the default profile is ours. The skill id is
    not here: ASK CLI writes it to ``.ask/ask-states.json`` on the first deploy.
    """
    profile: dict[str, Any] = {"skillMetadata": {"src": SKILL_PACKAGE_SRC}}
    if lambda_arn is not None:
        profile["code"] = {"default": {"src": f"./{LAMBDA_CODE_DIR}"}}
        profile["skillInfrastructure"] = {
            "type": LAMBDA_DEPLOYER,
            "userConfig": {
                "runtime": LAMBDA_RUNTIME,
                "handler": LAMBDA_HANDLER,
                "awsRegion": lambda_region(lambda_arn),
                # Update this existing function rather than create a new one.
                "sourceLambda": {"arn": lambda_arn},
            },
        }
    profiles = dict((existing or {}).get("profiles") or {})
    profiles[ASK_PROFILE] = profile
    return {"askcliResourcesVersion": ASK_RESOURCES_VERSION, "profiles": profiles}


def _existing_resources(path: Path) -> dict[str, Any] | None:
    """A previous ``ask-resources.json``, so that its other profiles survive; None if absent."""
    if not path.exists():
        return None
    try:
        data: object = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise PackageError(f"{path} is not readable JSON ({exc}); fix or remove it") from None
    if not isinstance(data, dict) or not isinstance(data.get("profiles", {}), dict):
        raise PackageError(f"{path} is not an ask-resources file (no 'profiles' object)")
    return data


def lambda_requirements(
    requires: Sequence[str] | None = None, *, extra: str = LAMBDA_EXTRA
) -> list[str]:
    """The requirement lines the Lambda needs, from our distribution's metadata.

    Core dependencies keep their environment markers (pip evaluates them); those of ``extra``
    lose the ``extra == ...`` marker; other extras and :data:`NOT_ON_LAMBDA` are left out.
    """
    if requires is None:
        try:
            requires = importlib.metadata.requires(DISTRIBUTION) or []
        except importlib.metadata.PackageNotFoundError:
            raise PackageError(f"{DISTRIBUTION} is not installed; run pip install .") from None
    lines: list[str] = []
    for raw in requires:
        m = _REQUIREMENT.match(raw)
        name = _REQUIREMENT_NAME.match(raw.strip())
        if not m or not name:
            raise PackageError(f"cannot read the requirement {raw!r} in our metadata")
        if _normalise(name.group(0)) in NOT_ON_LAMBDA:
            continue
        spec, marker = m.group("spec").strip(), m.group("marker")
        wanted = _EXTRA_MARKER.match(marker.strip()) if marker else None
        if wanted is not None:
            if wanted.group("extra") == extra:
                lines.append(spec)
        elif marker and "extra" in marker:
            raise PackageError(f"cannot tell which extra {raw!r} belongs to")
        else:
            lines.append(raw.strip())
    return lines


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _package_folder(name: str) -> Path:
    """Where an importable package of ours lives on disk (repository or site-packages)."""
    spec = importlib.util.find_spec(name)
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        raise PackageError(f"cannot find the {name!r} package to copy into the Lambda code")
    return Path(locations[0])


def write_lambda_code(out: Path, requires: Sequence[str] | None = None) -> Path:
    """Write ``out/lambda``: our packages and ``requirements.txt``; return the folder.

    Only the folders this function writes are replaced, so nothing else under ``out`` (above
    all ``out/.ask``) is removed.
    """
    code = out / LAMBDA_CODE_DIR
    code.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache")
    for name in CODE_PACKAGES:
        source, target = _package_folder(name), code / name
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(source, target, ignore=ignore)
    lines = lambda_requirements(requires)
    header = (
        f"# Written by mama-moments package from the {DISTRIBUTION} metadata (extra "
        f"{LAMBDA_EXTRA!r}).\n# ask deploy installs these with pip into the Lambda zip.\n"
    )
    (code / "requirements.txt").write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
    return code


def write_ask_resources(out: Path, lambda_arn: str | None = None) -> Path:
    """Write (or update the default profile of) ``out/ask-resources.json``; return its path."""
    path = out / ASK_RESOURCES_FILE
    data = ask_resources(lambda_arn, _existing_resources(path))
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


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
    """Write an ASK CLI project to OUT: skill-package/, ask-resources.json (and lambda/)."""
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
        resources_file = write_ask_resources(out, lambda_arn)
        code = write_lambda_code(out) if lambda_arn is not None else None
    except PackageError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"skill package written to {package}")
    click.echo(f"ASK CLI project file written to {resources_file}")
    if code is not None:
        click.echo(f"Lambda code (handler {LAMBDA_HANDLER}) written to {code}")
    if privacy_url is None:
        click.echo("note: add --privacy-url before submitting the skill for certification")
    click.echo(f"deploy with: cd {out} && ask deploy")
