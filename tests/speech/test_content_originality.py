"""The spoken content is our own writing, and the locales stay in step with each other.

The content was written from the ideas of a blog post (the "seed"). None of its wording may be
reused: no run of seven consecutive words from the seed may appear in any string of any content
file, after both sides are normalised (lowercase, punctuation stripped, spaces collapsed).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
CONTENT_DIR = REPO / "speech" / "content"
SEED = REPO.parent / "shared" / "seed" / "000_291a51652990c1c3.txt"
RUN = 7

CONTENT_FILES = sorted(CONTENT_DIR.glob("*.json"))


def normalise(text: str) -> str:
    """Lowercase, drop apostrophes (so "don't" is "dont"), other punctuation to spaces."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'").replace("'", "")
    text = re.sub(r"[^\w\s]|_", " ", text)
    return " ".join(text.split())


def runs(text: str, n: int = RUN) -> set[str]:
    """Every run of ``n`` consecutive words in normalised text."""
    words = normalise(text).split()
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


def strings(value: Any) -> Iterator[str]:
    """Every string value in a JSON document, recursively (keys are not content)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def load(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path.name}: must hold a JSON object"
    return data


@pytest.fixture(scope="module")
def seed_runs() -> set[str]:
    if not SEED.is_file():
        pytest.skip(f"seed text not found at {SEED}; originality cannot be checked here")
    return runs(SEED.read_text(encoding="utf-8"))


def test_content_files_exist() -> None:
    names = {p.name for p in CONTENT_FILES}
    assert {"en-US.json", "en-GB.json"} <= names


def test_normalise_and_runs_catch_copied_text(seed_runs: set[str]) -> None:
    # A sentence lifted from the seed, with straight quotes and changed punctuation, is caught.
    copied = "Sometimes takeout pizza and extra snuggles on the couch are exactly what's needed"
    assert runs(copied) & seed_runs
    assert normalise("It's  a Highlight-Reel!") == "its a highlight reel"


@pytest.mark.parametrize("path", CONTENT_FILES, ids=lambda p: p.name)
def test_no_seven_word_run_from_the_seed(path: Path, seed_runs: set[str]) -> None:
    copied = {}
    for text in strings(load(path)):
        overlap = runs(text) & seed_runs
        if overlap:
            copied[text[:60]] = sorted(overlap)
    assert not copied, f"{path.name} reuses wording from the seed: {copied}"


@pytest.mark.parametrize("path", CONTENT_FILES, ids=lambda p: p.name)
def test_plain_ascii_for_ssml_and_espeak(path: Path) -> None:
    odd = {ch for text in strings(load(path)) for ch in text if ord(ch) > 127}
    assert not odd, f"{path.name}: use plain ASCII (no curly quotes or dashes): {sorted(odd)}"


def shape(value: Any, where: str = "$") -> Any:
    """The structure of a document: keys, ids and kinds, but not the wording."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key in ("id", "kind"):
                out[key] = item
            else:
                out[key] = shape(item, f"{where}.{key}")
        return out
    if isinstance(value, list):
        if all(isinstance(v, str) for v in value):
            return "list of text"
        return [shape(v, f"{where}[{i}]") for i, v in enumerate(value)]
    return type(value).__name__


@pytest.mark.parametrize("locale", ["en-GB", "en-IN"])
def test_every_locale_has_the_structure_of_us(locale: str) -> None:
    us = load(CONTENT_DIR / "en-US.json")
    other = load(CONTENT_DIR / f"{locale}.json")
    assert [s["id"] for s in us["strategies"]] == [s["id"] for s in other["strategies"]]
    assert [s["kind"] for s in us["strategies"]] == [s["kind"] for s in other["strategies"]]
    shape_us, shape_other = shape(us), shape(other)
    shape_us.pop("also_for", None)
    shape_other.pop("also_for", None)
    assert shape_us == shape_other
    assert len(us["letter"]["paragraphs"]) == len(other["letter"]["paragraphs"])
    assert len(us["activities"]) == len(other["activities"])
    assert len(us["affirmations"]) == len(other["affirmations"])


def test_strategy_ids_in_order() -> None:
    us = load(CONTENT_DIR / "en-US.json")
    assert [s["id"] for s in us["strategies"]] == [
        "good-enough",
        "boundaries",
        "kid-time",
        "delegate",
        "forgive-yourself",
        "support",
        "your-value",
        "self-care",
        "be-present",
        "imperfection",
    ]


def words_matching(path: Path, pattern: str) -> list[str]:
    found = []
    for text in strings(load(path)):
        found += re.findall(pattern, text, flags=re.IGNORECASE)
    return found


def test_us_says_mom_never_mum() -> None:
    path = CONTENT_DIR / "en-US.json"
    assert load(path)["parent_word"] == "mom"
    assert not words_matching(path, r"\bmum(?:s|my|mies)?\b")


def test_gb_says_mum_never_mom() -> None:
    path = CONTENT_DIR / "en-GB.json"
    assert load(path)["parent_word"] == "mum"
    assert not words_matching(path, r"\bmom(?:s|my|mies)?\b")


def test_in_says_mom_never_mum() -> None:
    path = CONTENT_DIR / "en-IN.json"
    assert load(path)["parent_word"] == "mom"
    assert not words_matching(path, r"\bmum(?:s|my|mies)?\b")


#: American spellings and words that would sound foreign in British and Indian English, and the
#: other way round.
AMERICAN = (
    r"\b(?:color\w*|favorite\w*|apologiz\w*|realiz\w*|organiz\w*|airplanes?|cookies"
    r"|sidewalk|couch|vacation)\b"
)
BRITISH = (
    r"\b(?:colour\w*|favourite\w*|apologis\w*|realis\w*|organis\w*|aeroplanes?|biscuits?"
    r"|pavement|sofa|nappy|school run|practise\w*)\b"
)


@pytest.mark.parametrize("locale", ["en-GB", "en-IN"])
def test_british_spelling(locale: str) -> None:
    path = CONTENT_DIR / f"{locale}.json"
    found = [
        w for w in words_matching(path, AMERICAN) if w.lower() != "vacation" or locale == "en-GB"
    ]
    assert not found, f"{locale}: {found}"


def test_us_spelling() -> None:
    assert not words_matching(CONTENT_DIR / "en-US.json", BRITISH)


def test_gb_and_in_use_their_own_words() -> None:
    gb = " ".join(strings(load(CONTENT_DIR / "en-GB.json")))
    india = " ".join(strings(load(CONTENT_DIR / "en-IN.json")))
    assert "school holidays" in gb and "nursery" in gb and "childminder" in gb and "sofa" in gb
    assert "soft toys" in india and "chai" in india and "Annual Day" in india
