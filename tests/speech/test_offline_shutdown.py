"""A process that used the offline voice exits without pyttsx3's "Exception ignored" noise.

pyttsx3's ``DriverProxy.__del__`` needs its module's ``contextlib``; if the engine is only freed
while the interpreter tears modules down, Python prints "Exception ignored in: <function
DriverProxy.__del__ ...> ... 'NoneType' object has no attribute 'suppress'". It did so at the end
of every full test run. :mod:`speech.offline` releases the engine from an ``atexit`` handler.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Running one Hypothesis property from a script *file* first keeps the script's globals (so the
# speaker and speech.offline) alive into module teardown, as the full suite does after
# tests/speech/test_catalog.py; without the atexit release this script printed the warning on
# every run.
SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    from hypothesis import given, strategies as st

    @given(st.text(max_size=5))
    def prop(value: str) -> None:
        assert isinstance(value, str)

    prop()

    from speech import offline

    speaker = offline.OfflineSpeaker(Path(sys.argv[1]))
    path = speaker.render("<speak>Hello there.</speak>")
    print(path)
    """
)


def test_exit_after_a_render_prints_no_ignored_exception(tmp_path: Path) -> None:
    script = tmp_path / "render_and_exit.py"
    script.write_text(SCRIPT, encoding="utf-8")
    cache = tmp_path / "cache"
    pythonpath = os.environ.get("PYTHONPATH", "")
    out = subprocess.run(
        [sys.executable, str(script), str(cache)],
        cwd=REPO,
        # A script's own folder, not the cwd, goes on sys.path: make the repo importable.
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), pythonpath]))},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    wav = Path(out.stdout.strip())
    assert wav.is_file() and wav.parent == cache and wav.stat().st_size > 44
    assert "Exception ignored" not in out.stderr, out.stderr
    assert "DriverProxy" not in out.stderr, out.stderr
