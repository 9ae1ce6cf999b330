"""The web console in headless Chromium (tests/e2e/console.spec.mjs, playwright-core).

The script starts `mama-moments run --dev`, clicks an example, types an utterance, checks the
transcript and saves a screenshot; here the screenshot is checked to be a real, non-blank page.
Skips locally without chromium or `npm ci --prefix tests/e2e`; fails in CI (CI=true) instead.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from tests.e2e.runner import require, run_script

pytestmark = pytest.mark.slow

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def decode_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of raw pixel bytes) of an 8-bit RGB/RGBA, non-interlaced PNG.

    Enough for Chromium's screenshots; pure Python so the test needs no imaging library.
    """
    assert data.startswith(PNG_SIGNATURE), "not a PNG"
    pos, idat = len(PNG_SIGNATURE), bytearray()
    width = height = channels = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and color in (2, 6) and interlace == 0, "unexpected PNG format"
            channels = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    raw = zlib.decompress(bytes(idat))
    stride = width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                line[i] = (line[i] + _paeth(left, up, corner)) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, rows


def test_console_in_headless_chromium(tmp_path: Path) -> None:
    node = require(packages=("playwright-core",), chromium=True)
    screenshot = tmp_path / "console.png"
    output = run_script(node, "console.spec.mjs", str(screenshot))
    for step in (
        "launch answered",
        "transcript shows the matched intent",
        "transcript shows the kid-time speech",
        "typed markup did not run",
        "offline audio loaded",
        "no page errors",
    ):
        assert f"ok - {step}" in output, output

    assert screenshot.is_file(), output
    width, height, rows = decode_png(screenshot.read_bytes())
    assert width == 1280 and 600 <= height <= 10_000
    # Not blank: a rendered page has text, a coloured header and panels, so many colours, and
    # the header band differs from the body.
    colours = {row[x : x + 3] for row in rows[::4] for x in range(0, len(row), 12)}
    assert len(colours) > 50, f"only {len(colours)} colours: blank or broken render"
    assert rows[5][:3] != rows[height // 2][:3]
