"""The numbers README.md and docs/training.md quote for the zoo's processes are the ones on the shipped cards.

Each quoted number is read back from the text and compared with the card (``zoo/<entry>/1/config.json``) at
the precision it is printed with, so re-training an entry without updating the docs fails here."""
import json
import re
from pathlib import Path

import pytest

import xmedia

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
TRAINING = (ROOT / "docs" / "training.md").read_text()
NUMBER = r"(-?[0-9]+(?:\.[0-9]+)?)"


def card(entry: str) -> dict:
    return json.loads((ROOT / "zoo" / entry / "1" / "config.json").read_text())["card"]


def same(quoted: str, value) -> bool:
    """``quoted`` is ``value`` rounded to the digits it is printed with."""
    decimals = len(quoted.split(".")[1]) if "." in quoted else 0
    return abs(float(quoted) - float(value)) <= 0.5 * 10 ** -decimals + 1e-9


def find(pattern: str, text: str, where: str) -> re.Match:
    m = re.search(pattern, text)
    assert m, f"{where} no longer says {pattern!r}: update this test with the docs"
    return m


AV = card("av-perceptual")
CV = {k.split("splits ", 1)[1]: v for k, v in AV["cross_validation"].items()}
SHIPPED = {k.removeprefix("held-out "): v for k, v in AV["metrics"].items()}


def test_readme_av_row_is_the_card():
    row = find(r"\| video <-> audio bridge[^\n]*", README, "README's measured table").group(0)
    m = find(rf"recall@1 {NUMBER} vs chance {NUMBER}; ([0-9]+/[0-9]+) top-1 hits pooled, binomial p = {NUMBER}", row,
             "README's av row")
    r1, chance, hits, p = m.groups()
    assert same(r1, CV["recall@1"]) and same(chance, CV["chance@1"]), (r1, chance, CV)
    assert hits == CV["top-1 hits"] and same(p, CV["p-value vs chance"]), (hits, p, CV)


@pytest.mark.parametrize("row, source, keys", [
    ("shipped split (seed 0)", SHIPPED, ("recall@1", "chance@1", "recall@5", "chance@5", "n")),
    ("mean over 10 block splits (seeds 0-9)", CV, ("recall@1", "chance@1", "recall@5", "chance@5", "n")),
    ("audio -> video, 10 splits", CV, ("recall@1_b2a", "chance@1", "recall@5_b2a", "chance@5")),
])
def test_training_md_av_table_is_the_card(row, source, keys):
    line = find(rf"\| {re.escape(row)} \|[^\n]*", TRAINING, "docs/training.md's av table").group(0)
    quoted = re.findall(NUMBER, line.split("|", 2)[2])
    assert len(quoted) >= len(keys), line
    for q, key in zip(quoted, keys):
        assert same(q, source[key]), f"docs/training.md '{row}': {key} {q} vs the card's {source[key]}"


def test_training_md_av_prose_is_the_card():
    hits, total = find(r"gets ([0-9]+) of\s+([0-9]+) top-1 hits", TRAINING, "docs/training.md").groups()
    assert f"{hits}/{total}" == CV["top-1 hits"]
    assert same(find(rf"binomial\s+test gives p = {NUMBER}", TRAINING, "docs/training.md").group(1),
                CV["p-value vs chance"])


def test_every_recall_quoted_is_on_the_card():
    values = [v for source in (CV, SHIPPED) for k, v in source.items() if k.startswith(("recall@", "chance@"))]
    for name, text in (("README.md", README), ("docs/training.md", TRAINING)):
        for metric, q in re.findall(rf"\b((?:recall|chance)@[15]) {NUMBER}", text):
            assert any(same(q, v) for v in values), f"{name} quotes {metric} {q}; the av-perceptual card has {values}"


def test_text_bridge_numbers_are_the_card():
    metrics = {k.removeprefix("held-out "): v for k, v in card("text-perceptual")["metrics"].items()}
    m = find(rf"on\s+([0-9]+) held-out words R\^2 is about {NUMBER} \(MSE {NUMBER} vs {NUMBER}", TRAINING,
             "docs/training.md's text-perceptual section")
    n, r2, mse, base = m.groups()
    assert int(n) == metrics["n"] and same(r2, metrics["r2"]), (n, r2, metrics)
    assert same(mse, metrics["mse"]) and same(base, metrics["baseline_mse"]), (mse, base, metrics)


def test_readme_visual_onsets_row_is_the_card():
    overall = card("visual-onsets")["metrics"]["cross-validated overall (46 clips), F@50 / F@100"]
    model, frame_diff, chance = (re.search(rf"{label} {NUMBER} / {NUMBER}", overall).groups()
                                 for label in ("model", "frame diff", "chance"))
    row = find(r"\| visual events vs the clip's real sound[^\n]*", README, "README's measured table").group(0)
    f100, f50 = find(rf"F@100 {NUMBER} \(F@50 {NUMBER}\)", row, "README's onsets row").groups()
    assert same(f100, model[1]) and same(f50, model[0]), (f100, f50, model)
    assert same(find(rf"frame difference {NUMBER}", row, "README's onsets row").group(1), frame_diff[1])
    assert same(find(rf"chance {NUMBER}", row, "README's onsets row").group(1), chance[1])


def test_the_zoo_listing_shown_is_the_zoo():
    shown = find(r"xmedia\.zoo\.list\(\)\s+# (\[[^\]]*\])", TRAINING, "docs/training.md's zoo example").group(1)
    assert re.findall(r"'([^']+)'", shown) == xmedia.zoo.list()
    words = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
    for name, text in (("README.md", README), ("docs/training.md", TRAINING)):
        for count in re.findall(r"\b(one|two|three|four|five|six|seven|eight|nine|[0-9]+) (?:zoo )?entries\b", text):
            assert words.get(count, count) in (len(xmedia.zoo.list()), str(len(xmedia.zoo.list()))), (name, count)


def test_process_is_named_the_base_of_every_family():
    assert "(the bridges today)" not in README
    assert "base of every learned" in README
