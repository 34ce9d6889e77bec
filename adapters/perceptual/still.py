"""Still media in the perceptual space: images (colour statistics) and text (the shipped lexicon)."""
from __future__ import annotations

import numpy as np

from xmedia.embedding import Embedding
from xmedia.media import Image, Text, downscale
from xmedia.routing import step

from .space import AXES, IDX, NEUTRAL, SPACE, _sat

_YELLOW_BY_HUE = None


def colour_stats(rgb: np.ndarray) -> dict[str, float]:
    """Lightness, saturation, warmth, yellowness, contrast and edge statistics of one RGB uint8 picture.

    OpenCV does the per-pixel work (this runs once per video frame, so it must cost well under a millisecond).
    """
    import cv2

    global _YELLOW_BY_HUE
    if _YELLOW_BY_HUE is None:  # closeness of each OpenCV hue (0..179, 2 deg steps) to yellow (60 deg)
        _YELLOW_BY_HUE = (np.cos(np.deg2rad(np.arange(180) * 2.0 - 60.0)) * 0.5 + 0.5).astype(np.float32)
    rgb = np.ascontiguousarray(rgb[:, :, :3])
    y = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    mean_rgb = cv2.mean(rgb)
    y_mean, y_std = cv2.meanStdDev(y)
    sat = hsv[:, :, 1].astype(np.float32) * (1 / 255.0)
    yellow = float((_YELLOW_BY_HUE[hsv[:, :, 0]] * sat).mean())
    gx = cv2.Sobel(y, cv2.CV_32F, 1, 0, ksize=3, scale=1 / 255.0)
    gy = cv2.Sobel(y, cv2.CV_32F, 0, 1, ksize=3, scale=1 / 255.0)
    grad = cv2.magnitude(gx, gy)
    return {
        "lightness": float(y_mean[0, 0]) / 255.0,
        "saturation": float(sat.mean()),
        "warmth": (mean_rgb[0] - mean_rgb[2]) / 255.0,
        "yellowness": yellow,
        "contrast": float(y_std[0, 0]) / 255.0,
        "gradient": float(grad.mean()),
        "edges": float(np.count_nonzero(grad > 0.5)) / grad.size,
    }


def _still_axes(c: dict[str, float]) -> dict[str, float]:
    """The axes a single picture defines (shared by images and video frames)."""
    return {
        "brightness": float(np.clip(c["lightness"], 0, 1)),
        "warmth": float(np.clip(0.5 + 1.5 * c["warmth"], 0, 1)),
        "texture": float(_sat(c["gradient"], 0.25)),
        "valence": float(np.clip(0.45 * c["lightness"] + 0.3 * c["saturation"] + 0.25 * 2 * c["yellowness"], 0, 1)),
    }


@step("image", "space:perceptual", name="perceptual-image", cost=0.3, kind="encoder",
      description="image -> the embedded perceptual space (energy, pace, brightness, warmth, texture, valence, density, onset)")
def encode_image(image: Image, max_side: int = 160) -> Embedding:
    rgb = image.rgb_uint8()
    if max(rgb.shape[:2]) > max_side:
        rgb = downscale(rgb, max_side)
    c = colour_stats(rgb)
    axes = _still_axes(c)
    axes.update(
        energy=float(np.clip(0.5 * c["saturation"] / 0.6 + 0.5 * c["contrast"] / 0.3, 0, 1)),
        pace=NEUTRAL,
        density=float(_sat(c["edges"], 0.15)),
        onset=0.0,
    )
    return Embedding(SPACE, np.array([axes[a] for a in AXES]), axes=AXES, source="image")


# ------------------------------------------------------------------------------------------------ text
LEXICON: dict[str, dict[str, float]] = {}


def perceptual_lexicon() -> dict[str, dict[str, float]]:
    """``{word: {axis: value}}`` from ``adapters/perceptual_lexicon.csv`` (read once): what ``encode_text``
    averages, and what the text writer (``adapters/text/poem.py``) opens its lines with."""
    if not LEXICON:
        import csv
        from importlib import resources

        with resources.files("xmedia.adapters").joinpath("perceptual_lexicon.csv").open() as fh:
            for row in csv.DictReader(line for line in fh if not line.startswith("#")):
                LEXICON[row["word"]] = {a: float(row[a]) for a in AXES if row.get(a, "").strip()}
    return LEXICON


@step("text", "space:perceptual", name="perceptual-text", cost=0.1, kind="encoder",
      description="text -> the embedded perceptual space (energy, pace, brightness, warmth, texture, valence, density, onset)")
def encode_text(text: Text) -> Embedding:
    """Average of the lexicon entries of the words found (neutral 0.5 for axes no word speaks to).

    'not'/'no' before a word mirrors that word's values around neutral.
    """
    import re

    words = re.findall(r"[a-z]+", text.text.lower())
    sums, counts = np.zeros(len(AXES)), np.zeros(len(AXES))
    lex = perceptual_lexicon()
    for i, w in enumerate(words):
        entry = lex.get(w) or lex.get(w.rstrip("s")) or lex.get(w.removesuffix("ly"))
        if not entry:
            continue
        negate = i > 0 and words[i - 1] in ("not", "no", "never", "without")
        for a, value in entry.items():
            sums[IDX[a]] += (1 - value) if negate else value
            counts[IDX[a]] += 1
    vector = np.where(counts > 0, (sums + NEUTRAL) / (counts + 1), NEUTRAL)  # one neutral pseudo-count
    return Embedding(SPACE, vector, axes=AXES, source="text")
