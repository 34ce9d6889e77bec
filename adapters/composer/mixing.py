"""Mixing the soundtrack with the clip's own audio (``replace``, ``under``, ``over``)."""
from __future__ import annotations

import numpy as np

from xmedia.errors import ConfigError
from xmedia.media import Audio

MIXES = ("replace", "under", "over")


def mix(soundtrack_audio: Audio, original: Audio | None, mode: str = "replace") -> Audio:
    """Combine the soundtrack with the clip's own audio: ``replace`` it, sit ``under`` it (ducked where the
    clip is loud, so speech stays clear) or play ``over`` it (the clip's sound kept quietly beneath)."""
    if mode not in MIXES:
        raise ConfigError(f"unknown mix {mode!r}; choose one of {MIXES}")
    if mode == "replace" or original is None:
        return soundtrack_audio
    sr, n = soundtrack_audio.sample_rate_hz, soundtrack_audio.num_samples
    orig = original.with_channels(2).resample(sr).samples[:n]
    orig = np.pad(orig, ((0, n - len(orig)), (0, 0)))
    music = soundtrack_audio.samples

    def rms(x):
        return float(np.sqrt(np.mean(x[:: max(1, len(x) // 100_000)] ** 2))) + 1e-9

    # The quieter part sits ~10 dB (x0.3 in RMS) below the other, whatever the two levels were.
    if mode == "under":
        from scipy.ndimage import uniform_filter1d

        env = uniform_filter1d(np.abs(orig).mean(axis=1), size=int(0.3 * sr), mode="nearest")
        duck = 1.0 - 0.6 * np.clip(env / (np.percentile(env, 95) + 1e-6), 0, 1)
        out = orig + (0.3 * rms(orig) / rms(music)) * music * duck[:, None]
    else:
        out = music + (0.3 * rms(music) / rms(orig)) * orig
    peak = float(np.abs(out).max())
    if peak > 0.99:
        out = out * (0.99 / peak)
    return Audio(out.astype(np.float32), sr)
