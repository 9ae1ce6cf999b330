"""Bespoken's virtual-alexa (a real third-party Alexa client) against `mama-moments run --dev`.

The script lives in tests/e2e/virtual_alexa.mjs; it skips locally without `npm ci --prefix
tests/e2e` and fails in CI (CI=true) instead.
"""

from __future__ import annotations

import pytest

from tests.e2e.runner import require, run_script

pytestmark = pytest.mark.slow


def test_virtual_alexa_conversation() -> None:
    node = require(packages=("virtual-alexa",))
    output = run_script(node, "virtual_alexa.mjs")
    # The script exits non-zero on the first failed check; make sure it got through all of them.
    for step in (
        "launch: a welcome",
        "kid time started",
        '"another one" gives a different strategy',
        "the letter is read",
        "we're done",
        "stop ends the session",
    ):
        assert f"ok - {step}" in output, output
