"""``mama-moments package``: the ASK CLI skill package it writes, and the arguments it refuses."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from skill.alexa.handlers.services import GIVEN_NAME_SCOPE, TIMERS_SCOPE
from skill.cli import main
from skill.devtools.packaging import (
    LOCALE_COUNTRIES,
    PackageError,
    build_manifest,
    example_phrases,
    https_endpoint,
    load_publishing,
    package_command,
)
from skill.devtools.simulator import load_model

MODELS_DIR = Path(__file__).resolve().parents[2] / "interaction_models"
LOCALES = ["en-US", "en-GB", "en-AU", "en-CA", "en-IN"]
ENDPOINT = "https://skill.example.org/alexa"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:mama-moments"


def package(tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["package", "--out", str(tmp_path / "out"), *args])


def manifest(tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "out" / "skill-package" / "skill.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))["manifest"]
    return data


@pytest.fixture
def https_manifest(tmp_path: Path) -> dict[str, Any]:
    result = package(tmp_path, "--endpoint", ENDPOINT)
    assert result.exit_code == 0, result.output
    return manifest(tmp_path)


def test_manifest_structure(https_manifest: dict[str, Any]) -> None:
    m = https_manifest
    assert m["manifestVersion"] == "1.0"
    info = m["publishingInformation"]
    assert info["isAvailableWorldwide"] is False
    assert sorted(info["distributionCountries"]) == ["AU", "CA", "GB", "IN", "US"]
    assert info["category"] == "HEALTH_AND_FITNESS"
    assert info["testingInstructions"].strip()
    privacy = m["privacyAndCompliance"]
    assert privacy["allowsPurchases"] is False
    assert privacy["usesPersonalInfo"] is True, "the parent's first name is personal information"
    assert privacy["isChildDirected"] is False
    assert privacy["isExportCompliant"] is True
    assert privacy["containsAds"] is False
    assert sorted(privacy["locales"]) == sorted(LOCALES)
    assert all("privacyPolicyUrl" not in v for v in privacy["locales"].values())
    interfaces = {i["type"] for i in m["apis"]["custom"]["interfaces"]}
    assert interfaces == {"ALEXA_PRESENTATION_APL", "CAN_FULFILL_INTENT_REQUEST"}
    assert m["permissions"] == [{"name": TIMERS_SCOPE}, {"name": GIVEN_NAME_SCOPE}]


def test_privacy_url_goes_into_every_locale(tmp_path: Path) -> None:
    url = "https://example.com/privacy"
    result = CliRunner().invoke(
        package_command,
        [
            "--out",
            str(tmp_path),
            "--endpoint",
            "https://skill.example.com/alexa",
            "--privacy-url",
            url,
        ],
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "skill-package" / "skill.json").read_text())
    locales = manifest["manifest"]["privacyAndCompliance"]["locales"]
    assert {v["privacyPolicyUrl"] for v in locales.values()} == {url}
    assert "--privacy-url" not in result.output


def test_plain_http_privacy_url_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        package_command,
        [
            "--out",
            str(tmp_path),
            "--endpoint",
            "https://skill.example.com/alexa",
            "--privacy-url",
            "http://x",
        ],
    )
    assert result.exit_code == 2 and "https" in result.output


def test_every_locale_has_publishing_information(https_manifest: dict[str, Any]) -> None:
    locales = https_manifest["publishingInformation"]["locales"]
    assert sorted(locales) == sorted(LOCALES)
    for locale, info in locales.items():
        assert info["name"] == "Mama Moments"
        # Alexa's limits for the store page.
        assert 0 < len(info["summary"]) <= 160, locale
        assert 0 < len(info["description"]) <= 4000, locale
        assert 0 < len(info["keywords"]) <= 30, locale
        assert len(info["examplePhrases"]) == 3, locale


@pytest.mark.parametrize("locale", LOCALES)
def test_mom_or_mum_by_locale(https_manifest: dict[str, Any], locale: str) -> None:
    info = https_manifest["publishingInformation"]["locales"][locale]
    text = " ".join([info["summary"], info["description"], *info["keywords"]]).lower()
    word, other = ("mom", "mum") if locale in ("en-US", "en-CA") else ("mum", "mom")
    assert re.search(rf"\b{word}s?\b", text) and not re.search(rf"\b{other}s?\b", text)


@pytest.mark.parametrize("locale", LOCALES)
def test_example_phrases_are_sample_utterances(https_manifest: dict[str, Any], locale: str) -> None:
    model = load_model(locale, MODELS_DIR)
    samples = {s for intent in model.intents for s in intent.samples}
    first, *others = https_manifest["publishingInformation"]["locales"][locale]["examplePhrases"]
    assert first == f"Alexa, open {model.invocation_name}"
    prefix = f"Alexa, ask {model.invocation_name} to "
    for phrase in others:
        assert phrase.startswith(prefix)
        assert phrase.removeprefix(prefix) in samples


def test_https_endpoint_and_skill_events(https_manifest: dict[str, Any]) -> None:
    endpoint = {"uri": ENDPOINT, "sslCertificateType": "Wildcard"}
    assert https_manifest["apis"]["custom"]["endpoint"] == endpoint
    events = https_manifest["events"]
    assert events["endpoint"] == endpoint
    assert {"eventName": "SKILL_DISABLED"} in events["subscriptions"]


def test_lambda_endpoint(tmp_path: Path) -> None:
    result = package(tmp_path, "--lambda-arn", ARN)
    assert result.exit_code == 0, result.output
    m = manifest(tmp_path)
    assert m["apis"]["custom"]["endpoint"] == {"uri": ARN}
    assert m["events"]["endpoint"] == {"uri": ARN}
    assert {"eventName": "SKILL_DISABLED"} in m["events"]["subscriptions"]


def test_trusted_certificate_and_name(tmp_path: Path) -> None:
    result = package(
        tmp_path, "--endpoint", ENDPOINT, "--certificate", "Trusted", "--name", "Mum Moments"
    )
    assert result.exit_code == 0, result.output
    m = manifest(tmp_path)
    assert m["apis"]["custom"]["endpoint"]["sslCertificateType"] == "Trusted"
    assert {i["name"] for i in m["publishingInformation"]["locales"].values()} == {"Mum Moments"}


def test_interaction_models_are_copied_byte_identical(tmp_path: Path) -> None:
    assert package(tmp_path, "--endpoint", ENDPOINT).exit_code == 0
    custom = tmp_path / "out" / "skill-package" / "interactionModels" / "custom"
    assert sorted(p.name for p in custom.iterdir()) == sorted(f"{loc}.json" for loc in LOCALES)
    for locale in LOCALES:
        assert (custom / f"{locale}.json").read_bytes() == (
            MODELS_DIR / f"{locale}.json"
        ).read_bytes()


def test_packaging_twice_into_one_folder_is_fine(tmp_path: Path) -> None:
    assert package(tmp_path, "--endpoint", ENDPOINT).exit_code == 0
    assert package(tmp_path, "--lambda-arn", ARN).exit_code == 0
    assert manifest(tmp_path)["apis"]["custom"]["endpoint"] == {"uri": ARN}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "exactly one of --endpoint or --lambda-arn"),
        (["--endpoint", ENDPOINT, "--lambda-arn", ARN], "exactly one"),
        (["--endpoint", "http://skill.example.org/alexa"], "https://"),
        (["--endpoint", "skill.example.org/alexa"], "https://"),
        (["--endpoint", "https://skill.example.org:8443/alexa"], "port 443"),
        (["--endpoint", "https://me:pw@skill.example.org/alexa"], "user name"),
        (["--lambda-arn", "mama-moments"], "arn:aws:lambda"),
        (["--lambda-arn", "arn:aws:s3:::bucket"], "arn:aws:lambda"),
        (["--endpoint", ENDPOINT, "--name", "  "], "--name"),
        (["--endpoint", ENDPOINT, "--certificate", "SelfSigned"], "--certificate"),
    ],
)
def test_bad_arguments_are_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    result = package(tmp_path, *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not (tmp_path / "out").exists(), "nothing is written on a usage error"


def test_out_is_required() -> None:
    result = CliRunner().invoke(main, ["package", "--endpoint", ENDPOINT])
    assert result.exit_code == 2 and "--out" in result.output


def test_permissions_are_a_parameter() -> None:
    publishing = load_publishing()
    models = {loc: load_model(loc, MODELS_DIR) for loc in LOCALE_COUNTRIES}
    m = build_manifest(
        https_endpoint(ENDPOINT),
        models,
        publishing,
        permissions=["alexa::alerts:timers:skill:readwrite"],
    )
    assert m["manifest"]["permissions"] == [{"name": "alexa::alerts:timers:skill:readwrite"}]


def test_an_example_that_is_not_a_sample_is_refused() -> None:
    model = load_model("en-US", MODELS_DIR)
    with pytest.raises(PackageError, match="not a sample utterance"):
        example_phrases(model, ["start kid time", "make me a sandwich"])
