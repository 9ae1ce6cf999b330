"""``mama-moments package`` as an ASK CLI v2 project: ask-resources.json, the Lambda code folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner, Result

from skill.cli import main
from skill.devtools.packaging import (
    CODE_PACKAGES,
    LAMBDA_HANDLER,
    NOT_ON_LAMBDA,
    PackageError,
    ask_resources,
    lambda_requirements,
)

SCHEMA = json.loads(
    (Path(__file__).parent / "data" / "ask-resources.schema.json").read_text(encoding="utf-8")
)
ENDPOINT = "https://skill.example.org/alexa"
ARN = "arn:aws:lambda:eu-west-1:123456789012:function:mama-moments"
#: Top-level modules of the distributions in NOT_ON_LAMBDA.
BLOCKED_MODULES = (
    "click",
    "cryptography",
    "espeakng_loader",
    "flask",
    "gunicorn",
    "numpy",
    "pyloudnorm",
    "pyttsx3",
    "scipy",
    "rapidfuzz",
    "tqdm",
)


def package(out: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["package", "--out", str(out), *args])


def resources(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "ask-resources.json").read_text(encoding="utf-8"))
    return data


def validate(data: object) -> None:
    jsonschema.validate(data, SCHEMA, cls=jsonschema.Draft202012Validator)


def test_the_schema_itself_is_valid_and_refuses_what_the_cli_would() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    good = ask_resources(ARN)
    validate(good)
    wrong_version = {**good, "askcliResourcesVersion": "2019-01-01"}
    no_src: dict[str, Any] = {"askcliResourcesVersion": "2020-03-31", "profiles": {"default": {}}}
    region_only = json.loads(json.dumps(good))
    region_only["profiles"]["default"]["code"] = {"EU": {"src": "./lambda"}}
    for bad in (wrong_version, no_src, region_only):
        with pytest.raises(jsonschema.ValidationError):
            validate(bad)


def test_endpoint_project_is_the_minimal_form(tmp_path: Path) -> None:
    out = tmp_path / "build"
    result = package(out, "--endpoint", ENDPOINT)
    assert result.exit_code == 0, result.output
    data = resources(out)
    validate(data)
    assert data == {
        "askcliResourcesVersion": "2020-03-31",
        "profiles": {"default": {"skillMetadata": {"src": "./skill-package"}}},
    }
    # The src it names is the folder that holds the manifest.
    assert (out / "skill-package" / "skill.json").is_file()
    assert not (out / "lambda").exists()
    assert f"cd {out} && ask deploy" in result.output


def test_lambda_project_has_code_and_the_lambda_deployer(tmp_path: Path) -> None:
    out = tmp_path / "build"
    result = package(out, "--lambda-arn", ARN)
    assert result.exit_code == 0, result.output
    data = resources(out)
    validate(data)
    profile = data["profiles"]["default"]
    assert profile["code"] == {"default": {"src": "./lambda"}}
    infra = profile["skillInfrastructure"]
    assert infra["type"] == "@ask-cli/lambda-deployer"
    assert infra["userConfig"]["handler"] == LAMBDA_HANDLER == "skill.lambda_handler.handler"
    assert infra["userConfig"]["awsRegion"] == "eu-west-1"
    assert infra["userConfig"]["sourceLambda"] == {"arn": ARN}
    # The manifest points at the same function.
    manifest = json.loads((out / "skill-package" / "skill.json").read_text(encoding="utf-8"))
    assert manifest["manifest"]["apis"]["custom"]["endpoint"] == {"uri": ARN}
    code = out / "lambda"
    assert (code / "requirements.txt").is_file(), "ASK CLI's python-pip flow looks for this"
    for name in CODE_PACKAGES:
        assert (code / name / "__init__.py").is_file()
    assert (code / "skill" / "lambda_handler.py").is_file()
    assert (code / "speech" / "content" / "en-US.json").is_file()
    assert not list(code.rglob("__pycache__"))


def test_requirements_come_from_our_metadata(tmp_path: Path) -> None:
    import importlib.metadata

    out = tmp_path / "build"
    assert package(out, "--lambda-arn", ARN).exit_code == 0
    lines = [
        line
        for line in (out / "lambda" / "requirements.txt").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    declared = importlib.metadata.requires("mama-moments") or []
    core = [r for r in declared if "extra ==" not in r]
    names = {line.split("<")[0].split(">")[0].split("=")[0].split(";")[0] for line in lines}
    # Every core dependency the Lambda needs is there with the version range we declare ...
    for requirement in core:
        name = requirement.split("<")[0].split(">")[0].split("=")[0]
        if name in NOT_ON_LAMBDA:
            assert name not in names
        else:
            assert requirement in lines
    # ... and the DynamoDB store, since a Lambda has no durable disk; no dev tools.
    assert any(line.startswith("ask-sdk-dynamodb-persistence-adapter") for line in lines)
    assert not names & {"pytest", "mypy", "ruff", "moto", "jsonschema", "ask-sdk-local-debug"}


def test_requirement_markers() -> None:
    lines = lambda_requirements(
        [
            "tinydb<5,>=4.8",
            'tomli>=2; python_version < "3.11"',
            "ask-sdk-dynamodb-persistence-adapter<2,>=1.19; extra == 'dynamodb'",
            "pytest>=8; extra == 'dev'",
            "flask<4,>=3.0",
        ]
    )
    assert lines == [
        "tinydb<5,>=4.8",
        'tomli>=2; python_version < "3.11"',
        "ask-sdk-dynamodb-persistence-adapter<2,>=1.19",
    ]
    with pytest.raises(PackageError, match="which extra"):
        lambda_requirements(["odd>=1; extra == 'dev' or extra == 'dynamodb'"])


def test_ask_states_survive_repackaging(tmp_path: Path) -> None:
    out = tmp_path / "build"
    assert package(out, "--lambda-arn", ARN).exit_code == 0
    states = out / ".ask" / "ask-states.json"
    states.parent.mkdir()
    states.write_text(
        '{"askcliStatesVersion": "2020-03-31", "profiles": {"default": '
        '{"skillId": "amzn1.ask.skill.kept"}}}',
        encoding="utf-8",
    )
    build_zip = out / ".ask" / "lambda" / "build.zip"
    build_zip.parent.mkdir()
    build_zip.write_bytes(b"PK")
    stale = out / "lambda" / "skill" / "removed_module.py"
    stale.write_text("", encoding="utf-8")
    for args in (["--lambda-arn", ARN], ["--endpoint", ENDPOINT], ["--lambda-arn", ARN]):
        result = package(out, *args)
        assert result.exit_code == 0, result.output
        assert "amzn1.ask.skill.kept" in states.read_text(encoding="utf-8")
        assert build_zip.read_bytes() == b"PK"
    assert not stale.exists(), "our copied packages are refreshed"


def test_other_profiles_are_kept_and_a_broken_file_is_not_overwritten(tmp_path: Path) -> None:
    out = tmp_path / "build"
    out.mkdir()
    mine = {"skillMetadata": {"src": "./elsewhere"}}
    (out / "ask-resources.json").write_text(
        json.dumps({"askcliResourcesVersion": "2020-03-31", "profiles": {"work": mine}}),
        encoding="utf-8",
    )
    assert package(out, "--endpoint", ENDPOINT).exit_code == 0
    data = resources(out)
    validate(data)
    assert data["profiles"]["work"] == mine
    assert data["profiles"]["default"] == {"skillMetadata": {"src": "./skill-package"}}

    (out / "ask-resources.json").write_text("{not json", encoding="utf-8")
    result = package(out, "--endpoint", ENDPOINT)
    assert result.exit_code == 1
    assert "ask-resources.json is not readable JSON" in result.output
    assert (out / "ask-resources.json").read_text(encoding="utf-8") == "{not json"


@pytest.mark.real_clock
def test_the_lambda_code_folder_answers_without_the_left_out_packages(tmp_path: Path) -> None:
    """Run the copied handler in a fresh interpreter with every NOT_ON_LAMBDA module blocked."""
    out = tmp_path / "build"
    assert package(out, "--lambda-arn", ARN).exit_code == 0
    script = textwrap.dedent(
        f"""
        import importlib.abc, json, sys, uuid
        from datetime import datetime, timezone

        BLOCKED = {BLOCKED_MODULES!r}

        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in BLOCKED:
                    raise ImportError(f"{{name}} is not on the Lambda")
                return None

        sys.meta_path.insert(0, Block())
        sys.path.insert(0, {str(out / "lambda")!r})
        import skill.lambda_handler as handler_module

        assert handler_module.__file__.startswith({str(out / "lambda")!r}), handler_module.__file__
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        app = {{"applicationId": "amzn1.ask.skill.test"}}
        user = {{"userId": "amzn1.ask.account.LAMBDA"}}
        event = {{
            "version": "1.0",
            "session": {{"new": True, "sessionId": "s", "application": app, "user": user,
                        "attributes": {{}}}},
            "context": {{"System": {{"application": app, "user": user,
                                     "device": {{"deviceId": "d", "supportedInterfaces": {{}}}},
                                     "apiEndpoint": "https://api.amazonalexa.com"}}}},
            "request": {{"type": "LaunchRequest", "requestId": str(uuid.uuid4()),
                         "timestamp": now, "locale": "en-US"}},
        }}
        answer = handler_module.handler(event, None)
        print(json.dumps(answer))
        """
    )
    env = {
        **os.environ,
        "MAMA_DATA_DIR": str(tmp_path / "data"),
        "MAMA_STORE": "tinydb",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("MAMA_SKILL_ID", None)
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert "Mama Moments" in answer["response"]["outputSpeech"]["ssml"]
    assert answer["response"]["shouldEndSession"] is False
