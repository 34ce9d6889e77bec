"""The perceptual space: its eight named axes, what each means per medium, and shared helpers."""
from __future__ import annotations

import bisect
from fractions import Fraction

import numpy as np

AXES = ("energy", "pace", "brightness", "warmth", "texture", "valence", "density", "onset")
SPACE = "perceptual"
NEUTRAL = 0.5
IDX = {name: i for i, name in enumerate(AXES)}

AXIS_DOCS = {
    "energy": "arousal/intensity. Audio: loudness (RMS dBFS). Video: amount of motion (mean optical-flow speed). "
              "Image: saturation and contrast. Loudness<->brightness/size (Stevens & Marks 1965; Marks 1987); "
              "loud, energetic music <-> saturated colour (Whiteford et al. 2018).",
    "pace": "speed of events. Audio: onset rate. Video: speed of what moves plus the rate of visual events. "
            "Tempo <-> speed of visual motion (Spence 2011).",
    "brightness": "Audio: spectral centroid (the acoustic correlate of 'bright' timbre: Grey 1977; McAdams et al. "
                  "1995). Video/image: mean luma. Pitch/brightness <-> lightness (Marks 1974, 1987).",
    "warmth": "Audio: low-mid share of the spectrum (100-800 Hz vs 1.5-8 kHz). Video/image: red-versus-blue balance "
              "(colour temperature).",
    "texture": "roughness. Audio: spectral flatness (noise-like = rough). Video/image: edge density (mean gradient). "
               "Rough, noisy sounds <-> jagged, high-contrast textures (Ramachandran & Hubbard 2001; Spence 2011).",
    "valence": "pleasantness. Audio: major vs minor mode (Krumhansl-Kessler key profiles) with brightness and pace. "
               "Video/image: lightness, saturation and yellowness (light/yellow judged positive, dark/blue-grey "
               "negative: Palmer et al. 2013).",
    "density": "how much happens at once. Audio: share of spectral bands within 30 dB of the loudest. Video: share "
               "of the picture in motion. Image: share of pixels on edges.",
    "onset": "event strength. Audio: spectral flux. Video: sudden change (cuts, impacts: frame-difference flux and "
             "jumps in motion). Rhythmic onsets <-> visual events (Spence 2011).",
}

_EPS = 1e-10


def _moving_average(x: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average along time (axis 0), same length as ``x``, edges held."""
    from scipy.ndimage import uniform_filter1d

    return uniform_filter1d(np.asarray(x, dtype=np.float64), size=max(1, int(window)), axis=0, mode="nearest")


def _sat(x, scale):
    """Map a non-negative quantity to [0, 1): 1 - exp(-x / scale)."""
    return 1.0 - np.exp(-np.maximum(x, 0.0) / scale)


def pick_events(onset: np.ndarray, times, min_gap_s: float, threshold: float = 0.3):
    """Local maxima of an onset curve above ``threshold`` and above its local mean, at least ``min_gap_s`` apart."""
    if len(onset) < 3:
        return (), ()
    local = _moving_average(onset, 9)
    peaks = [i for i in range(len(onset))
             if onset[i] >= threshold and onset[i] > local[i] + 0.05
             and onset[i] >= onset[max(i - 1, 0)] and onset[i] >= onset[min(i + 1, len(onset) - 1)]]
    events, strengths = [], []
    taken, order = [], []  # accepted times as sorted floats and their index in events (a long file has thousands)
    for i in sorted(peaks, key=lambda i: -onset[i]):
        t = times[i]
        k = bisect.bisect_left(taken, float(t))
        near = [events[order[j]] for j in (k - 1, k) if 0 <= j < len(taken)]  # the neighbours decide
        if all(abs(float(t - e)) >= min_gap_s for e in near):
            taken.insert(k, float(t))
            order.insert(k, len(events))
            events.append(t)
            strengths.append(float(onset[i]))
    order = np.argsort([float(e) for e in events])
    return tuple(Fraction(events[i]) for i in order), tuple(strengths[i] for i in order)


def pool(track: np.ndarray) -> np.ndarray:
    """The pooled vector: mean of each axis, except onset, which is the mean of its top decile (event strength)."""
    v = track.mean(axis=0)
    on = np.sort(track[:, IDX["onset"]])
    v[IDX["onset"]] = on[int(len(on) * 0.9):].mean()
    return v
