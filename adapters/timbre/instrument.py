"""A trained timbre as an instrument of the composer: ``compose(..., instrument="violin")`` plays its melodic
notes (the plucks) with the timbre instead of the DSP pluck; with ``bank=`` a sustained note of it joins the
remix bank (as a pad, pitched to the piece's key).

``TimbreInstrument(timbre).note(midi, length_s, sr)`` renders one note: a steady pitch with a short attack, a
slight decay and a release, moved by octaves into the timbre's trained range (cached per pitch).
"""
from __future__ import annotations

import numpy as np

from xmedia.media import Audio

from .imprint import fold_into
from .performance import HOP, SAMPLE_RATE_HZ


class TimbreInstrument:
    def __init__(self, timbre):
        from .blend import load_timbre

        self.model = load_timbre(timbre)
        self.stats = self.model.range_stats()
        self.cache: dict = {}

    def note(self, midi: int, length_s: float, sample_rate_hz: int) -> np.ndarray:
        """Mono float32 note of ``length_s`` at ``sample_rate_hz``, peak 1."""
        key = (int(midi), round(float(length_s), 2), int(sample_rate_hz))
        if key not in self.cache:
            f0 = float(fold_into(np.array([440.0 * 2.0 ** ((midi - 69) / 12)]), *self.stats["f0_range_hz"])[0])
            frames = max(4, int(length_s * SAMPLE_RATE_HZ / HOP))
            t = np.arange(frames) * HOP / SAMPLE_RATE_HZ
            q = np.asarray(self.stats["loudness_quantiles_db"])
            top = float(q[int(0.8 * (len(q) - 1))])
            attack = np.clip(t / 0.03, 0, 1)
            release = np.clip((length_s - t) / 0.12, 0, 1)
            loud = top - 6.0 * t / max(length_s, 1e-3) + 60.0 * (np.minimum(attack, release) - 1.0)
            self.model.reset()
            audio = self.model.synthesize(np.stack([np.full(frames, f0), loud], axis=1))
            x = Audio(audio, SAMPLE_RATE_HZ).resample(int(sample_rate_hz)).mono()
            self.cache[key] = (x / (np.abs(x).max() + 1e-9)).astype(np.float32)
        return self.cache[key]

    def sustained(self, midi: int, sample_rate_hz: int, length_s: float = 4.0) -> Audio:
        """A long note (a pad for the remix bank): ``length_s`` of the timbre at its upper-middle loudness."""
        return Audio(self.note(midi, length_s, sample_rate_hz), int(sample_rate_hz))
