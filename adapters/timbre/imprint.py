"""Imprint mapping (numpy): a performance's pitch moved by octaves into a timbre's range, its loudness mapped.

``fit_performance(performance, stats)`` gives the (f0, loudness) frames the timbre model plays. Pitch moves by
whole octaves only (the melody stays the melody): by default the shift that brings the performance's median
voiced pitch nearest the model's median; frames still outside the model's trained range are folded by octaves
into it (a stated fallback, with a warning). Loudness is mapped quantile to quantile, from the performance's
voiced frames onto the model's training notes; unvoiced frames (breath, consonants, silence) are faded out.
"""
from __future__ import annotations

import warnings

import numpy as np

from xmedia.errors import ConfigError

from .performance import SILENCE_DB, Performance

QUANTILES = np.linspace(0.0, 1.0, 21)


def octave_shift(f0_hz: np.ndarray, voiced: np.ndarray, median_hz: float) -> int:
    """Whole octaves that bring the median voiced pitch nearest ``median_hz``."""
    if not voiced.any():
        return 0
    return int(np.round(np.log2(median_hz / float(np.median(f0_hz[voiced])))))


def fold_into(f0_hz: np.ndarray, low_hz: float, high_hz: float) -> np.ndarray:
    """Fold every pitch by whole octaves into [low, high] (kept as is when the range spans less than an octave)."""
    if high_hz < 2 * low_hz * 0.999:
        return np.clip(f0_hz, low_hz, high_hz)
    out = np.asarray(f0_hz, np.float64).copy()
    up = out < low_hz
    out[up] *= 2.0 ** np.ceil(np.log2(low_hz / out[up]))
    down = out > high_hz
    out[down] /= 2.0 ** np.ceil(np.log2(out[down] / high_hz))
    return out


def map_loudness(loud_db: np.ndarray, voiced: np.ndarray, target_quantiles_db) -> np.ndarray:
    """Quantile mapping of the voiced frames' loudness onto the target's distribution."""
    target = np.asarray(target_quantiles_db, np.float64)
    if voiced.sum() < 3:
        return np.asarray(loud_db, np.float64)
    source = np.quantile(loud_db[voiced], QUANTILES)
    source = np.maximum.accumulate(source + np.arange(len(source)) * 1e-6)
    return np.interp(loud_db, source, target, left=None, right=None) + np.where(
        loud_db < source[0], loud_db - source[0], 0.0)


def fit_performance(performance: Performance, stats: dict, octave="auto", loudness: str = "match"):
    """(f0_hz, loudness_db) frames for a timbre model with range ``stats`` (see ``Timbre.range_stats``)."""
    voiced = performance.voiced()
    f0 = performance.f0_hz.astype(np.float64)
    low, high = stats["f0_range_hz"]
    if octave == "auto":
        shift = octave_shift(f0, voiced, stats["f0_median_hz"])
    else:
        try:
            shift = int(octave)
        except (TypeError, ValueError):
            raise ConfigError(f"octave must be 'auto' or a whole number of octaves, got {octave!r}") from None
    f0 = f0 * 2.0 ** shift
    outside = voiced & ((f0 < low * 0.97) | (f0 > high * 1.03))
    if outside.mean() > 0.05:
        warnings.warn(f"{100 * outside.mean():.0f}% of the voiced frames lie outside the timbre's trained range "
                      f"({low:.0f}-{high:.0f} Hz) after a {shift:+d} octave shift: they are folded by octaves into it",
                      UserWarning, stacklevel=3)
    f0 = fold_into(f0, low, high)
    if loudness == "match":
        loud = map_loudness(performance.loudness_db, voiced, stats["loudness_quantiles_db"])
    elif loudness == "keep":
        loud = performance.loudness_db.astype(np.float64)
    else:
        raise ConfigError(f"loudness must be 'match' or 'keep', got {loudness!r}")
    # unvoiced frames fade out (a timbre model plays pitch; noise-only input gives near silence, never noise bursts)
    fade = np.clip((performance.periodicity - 0.3) / 0.3, 0.0, 1.0)
    loud = np.where(voiced, loud, loud + 40.0 * (fade - 1.0))
    return f0, np.clip(loud, SILENCE_DB, 0.0)
