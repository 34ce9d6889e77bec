"""A timbre "played" by motion: a picture's ``Motion`` as a ``Performance`` (pitch and loudness per 5 ms).

Loudness follows the motion energy (quiet when nothing moves); pitch follows a motion channel (``rising``:
upward speed, the height a flame reaches; ``energy``; or any channel name), quantised to a scale so the motion
plays notes, gliding briefly between them. The timbre's decoder then moves the notes by octaves into its range.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from xmedia.errors import ConfigError
from xmedia.media import Motion

from .performance import HOP, SAMPLE_RATE_HZ, Performance

SCALES = {"pentatonic": (0, 2, 4, 7, 9), "major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10),
          "chromatic": tuple(range(12))}
LOW_MIDI, SPAN = 60, 24  # C4 .. C6 before the timbre's octave fit


def _normalise(x: np.ndarray) -> np.ndarray:
    lo, hi = np.percentile(x, [5, 95])
    return np.clip((x - lo) / (hi - lo), 0.0, 1.0) if hi > lo else np.zeros_like(x)


def _channel(motion: Motion, name: str) -> np.ndarray:
    if name in motion.channels:
        return np.asarray(motion.channel(name), np.float64)
    if name == "energy":
        v = motion.values
        return np.abs(np.diff(v, axis=0, prepend=v[:1])).mean(axis=1)
    raise ConfigError(f"pitch_from={name!r} is not a channel of this motion; it has {list(motion.channels)}")


def motion_to_performance(motion: Motion, pitch_from: str = "rising", scale: str = "pentatonic",
                          sample_rate_hz: int = 48000) -> Performance:
    if scale not in SCALES:
        raise ConfigError(f"scale must be one of {sorted(SCALES)}, got {scale!r}")
    rate = float(motion.rate_hz)
    frames = max(1, int(round(float(motion.duration_s) * SAMPLE_RATE_HZ / HOP)))
    t = np.arange(frames) * HOP / SAMPLE_RATE_HZ + float(motion.start_s)
    energy = _normalise(_channel(motion, "energy"))
    source = pitch_from if pitch_from in motion.channels or pitch_from == "energy" else "energy"
    if pitch_from not in motion.channels and pitch_from not in ("rising", "energy"):
        _channel(motion, pitch_from)  # raises with the channel list
    height = _normalise(_channel(motion, source))
    # smooth the pitch source over ~0.25 s so the notes last, then snap to the scale
    k = max(1, int(round(0.25 * rate)))
    height = np.convolve(np.pad(height, (k // 2, k - 1 - k // 2), mode="edge"), np.ones(k) / k, mode="valid")
    steps = np.array([o * 12 + d for o in range(SPAN // 12 + 1) for d in SCALES[scale] if o * 12 + d <= SPAN])
    notes = LOW_MIDI + steps[np.clip(np.round(height * (len(steps) - 1)).astype(int), 0, len(steps) - 1)]
    times = motion.times_s()
    midi = np.interp(t, times, notes.astype(np.float64))
    glide = max(1, int(0.03 * SAMPLE_RATE_HZ / HOP))  # 30 ms portamento
    midi = np.convolve(np.pad(midi, (glide - 1, 0), mode="edge"), np.ones(glide) / glide, mode="valid")
    loud = np.interp(t, times, -55.0 + 45.0 * energy)
    f0 = 440.0 * 2.0 ** ((midi - 69) / 12)
    periodicity = np.where(loud > -50.0, 1.0, 0.0)
    return Performance(f0, loud, periodicity, rate_hz=Fraction(SAMPLE_RATE_HZ, HOP), sample_rate_hz=sample_rate_hz,
                       source="motion")
