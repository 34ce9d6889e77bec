"""The composer's instruments: DSP primitives (envelopes, filters, a sawtooth) and the one-shot voices."""
from __future__ import annotations

import functools

import numpy as np


def midi_hz(midi) -> np.ndarray:
    return 440.0 * 2.0 ** ((np.asarray(midi, dtype=np.float64) - 69) / 12)


def envelope(n: int, sr: int, decay_s: float, attack_s: float = 0.001) -> np.ndarray:
    """Linear attack then exponential decay; sample 0 is the attack's start."""
    t = np.arange(n, dtype=np.float32) / sr
    e = np.exp(-t / max(decay_s, 1e-4))
    a = max(1, int(attack_s * sr))
    e[:a] *= np.linspace(0.0, 1.0, a, endpoint=False, dtype=np.float32) + 1.0 / a
    return e


def _tail_fade(n: int, sr: int, fade_s: float = 0.15) -> np.ndarray:
    """Ones, then a linear fade to zero over the last ``fade_s`` seconds."""
    k = min(n, int(fade_s * sr))
    out = np.ones(n, np.float32)
    out[n - k :] = np.linspace(1, 0, k, dtype=np.float32)
    return out


def _butter(kind: str, cutoff_hz, sr: int, order: int = 2):
    cutoff = tuple(np.round(np.atleast_1d(np.asarray(cutoff_hz, dtype=float)), 1))
    return _butter_cached(kind, cutoff, sr, order)


@functools.lru_cache(maxsize=256)
def _butter_cached(kind: str, cutoff_hz: tuple, sr: int, order: int):
    """Filter design is slower than filtering a short note; a piece reuses a few dozen designs."""
    from scipy.signal import butter

    wn = np.clip(np.asarray(cutoff_hz) / (sr / 2), 1e-4, 0.99)
    return butter(order, wn if len(wn) > 1 else wn[0], btype=kind, output="sos")


def butter_filter(sig: np.ndarray, kind: str, cutoff_hz, sr: int, order: int = 2) -> np.ndarray:
    from scipy.signal import sosfilt

    return sosfilt(_butter(kind, cutoff_hz, sr, order), sig, axis=0).astype(np.float32)


class Voices:
    """One-shot sounds (drums, impacts, plucks), rendered once per piece and cached (deterministic per seed)."""

    def __init__(self, sr: int, rng: np.random.Generator, instrument=None):
        self.sr, self.rng, self.cache = sr, rng, {}
        self.instrument = instrument  # e.g. a trained timbre (xmedia.adapters.timbre.instrument): plays the plucks

    def noise(self, n: int) -> np.ndarray:
        return (self.rng.random(n, dtype=np.float32) * 2 - 1)

    def kick(self) -> np.ndarray:
        if "kick" not in self.cache:
            sr, n = self.sr, int(0.45 * self.sr)
            t = np.arange(n) / sr
            f = 45 + 110 * np.exp(-t / 0.03)
            body = np.sin(2 * np.pi * np.cumsum(f) / sr) * envelope(n, sr, 0.22)
            click = butter_filter(self.noise(n), "highpass", 3000, sr) * envelope(n, sr, 0.004)
            self.cache["kick"] = ((body + 0.4 * click) * _tail_fade(n, sr, 0.1)).astype(np.float32)
        return self.cache["kick"]

    def snare(self) -> np.ndarray:
        if "snare" not in self.cache:
            sr, n = self.sr, int(0.3 * self.sr)
            t = np.arange(n) / sr
            tone = np.sin(2 * np.pi * 185 * t) * envelope(n, sr, 0.05)
            rattle = butter_filter(self.noise(n), "bandpass", [1200, 7000], sr) * envelope(n, sr, 0.11)
            self.cache["snare"] = ((0.5 * tone + 0.9 * rattle) * _tail_fade(n, sr, 0.1)).astype(np.float32)
        return self.cache["snare"]

    def hat(self, open_: bool = False) -> np.ndarray:
        key = f"hat{open_}"
        if key not in self.cache:
            n = int((0.3 if open_ else 0.06) * self.sr)
            self.cache[key] = (butter_filter(self.noise(n), "highpass", 7000, self.sr)
                               * envelope(n, self.sr, 0.09 if open_ else 0.018)).astype(np.float32)
        return self.cache[key]

    def impact(self, brightness: float, roughness: float, size: float) -> np.ndarray:
        """A hit: a crack (noise burst) at sample 0, a pitched body and, for big events, a low boom.

        Brightness raises the body's pitch (pitch <-> lightness, Marks 1987), size lowers it and lengthens it
        (pitch <-> size, Spence 2011), roughness mixes in noise (rough sound <-> jagged picture, Spence 2011).
        """
        b, r, s = round(brightness, 1), round(roughness, 1), round(size, 1)
        key = ("impact", b, r, s)
        if key not in self.cache:
            sr = self.sr
            n = int((0.35 + 1.0 * s) * sr)
            t = np.arange(n) / sr
            f0 = 90.0 * 2 ** (3.0 * b - 1.5 * s)  # ~45..720 Hz
            body = sum(a * np.sin(2 * np.pi * f0 * k * t) * envelope(n, sr, (0.25 + 0.5 * s) / k, 0.0005)
                       for k, a in ((1.0, 1.0), (2.76, 0.5), (5.4, 0.25)))  # struck-bar partials
            crack = butter_filter(self.noise(n), "bandpass", [800 + 3000 * b, 12000], sr) * envelope(n, sr, 0.012 + 0.05 * r, 0.0003)
            rumble = butter_filter(self.noise(n), "lowpass", 300 + 1500 * b, sr) * envelope(n, sr, 0.08 + 0.3 * r)
            boom = np.sin(2 * np.pi * np.cumsum(35 + 60 * np.exp(-t / 0.08)) / sr) * envelope(n, sr, 0.3 + 0.6 * s, 0.002)
            sig = (1 - 0.6 * r) * body + (0.6 + 0.6 * r) * crack + 0.8 * r * rumble + 1.2 * s * boom
            sig *= _tail_fade(n, sr)  # no click where the buffer ends (it would read as an onset)
            self.cache[key] = (sig / (np.abs(sig).max() + 1e-9)).astype(np.float32)
        return self.cache[key]

    def pluck(self, midi: int, brightness: float, roughness: float) -> np.ndarray:
        key = ("pluck", midi, round(brightness, 1), round(roughness, 1))
        if key not in self.cache and self.instrument is not None:
            self.cache[key] = self.instrument.note(midi, 0.45, self.sr)
        if key not in self.cache:
            sr, n = self.sr, int(0.45 * self.sr)
            t = np.arange(n, dtype=np.float32) / sr
            f = float(midi_hz(midi))
            sig = np.zeros(n, np.float32)
            for k in range(1, 9):
                if f * k > sr / 2.5:
                    break
                # Higher partials die faster; brighter/rougher plucks keep more of them (timbre <-> texture).
                w = (1.0 / k) ** (1.6 - 0.9 * brightness) * (1 + 0.6 * roughness * (k % 2 == 0))
                sig += w * np.sin(2 * np.pi * f * k * t) * np.exp(-t * (4 + 5 * k * (1.2 - brightness)))
            sig *= envelope(n, sr, 10.0, 0.002) * _tail_fade(n, sr)
            self.cache[key] = sig / (np.abs(sig).max() + 1e-9)
        return self.cache[key]


def saw(freq_hz: float, n: int, sr: int, phase: float = 0.0) -> np.ndarray:
    """A naive sawtooth in float32 (aliasing is low for these pitches and filtered away by the lowpass)."""
    x = np.arange(n, dtype=np.float32)
    x *= np.float32(freq_hz / sr)
    x += np.float32(phase)
    x -= np.floor(x)
    x *= 2
    x -= 1
    return x
