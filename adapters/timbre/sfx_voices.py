"""The sound-effect presets (numpy/scipy DSP, after Farnell, *Designing Sound*): fire, water, wind.

Each renderer takes a ``Drive`` (``sfx_drive.motion_drive``) and returns ``(n, 2)`` samples. The continuous layers'
amplitude is the motion energy (linear, sample by sample), so the effect's loudness follows the picture; event
sounds start exactly at the event's sample.
"""
from __future__ import annotations

import numpy as np

from .sfx_drive import Drive, energy_at


def _band(x: np.ndarray, sr: int, low: float | None, high: float | None, order: int = 2) -> np.ndarray:
    from scipy.signal import butter, sosfilt

    nyq = sr / 2
    if low and high:
        sos = butter(order, [low, min(high, 0.95 * nyq)], btype="bandpass", fs=sr, output="sos")
    elif low:
        sos = butter(order, low, btype="highpass", fs=sr, output="sos")
    else:
        sos = butter(order, min(high, 0.95 * nyq), btype="lowpass", fs=sr, output="sos")
    y = sosfilt(sos, x)
    rms = float(np.sqrt(np.mean(y * y))) if len(y) else 0.0
    return y / rms if rms > 0 else y


def _smooth(x: np.ndarray, sr: int, time_s: float) -> np.ndarray:
    from scipy.signal import lfilter

    a = np.exp(-1.0 / (time_s * sr))
    return lfilter([1 - a], [1, -a], x)


def _event_sample(drive: Drive, t: float, sr: int, n: int) -> int:
    return int(min(max(round((t - float(drive.times_s[0])) * sr), 0), max(n - 1, 0)))


def _crackle(rng, sr: int, strength: float) -> np.ndarray:
    """One crackle: a few ms of decaying resonant noise (a burst of burning wood's pops)."""
    length = int(sr * rng.uniform(0.002, 0.012))
    t = np.arange(length) / sr
    tau = rng.uniform(0.0006, 0.003)
    f = rng.uniform(1500, 6000)
    click = rng.standard_normal(length) * np.exp(-t / tau) + 0.6 * np.sin(2 * np.pi * f * t) * np.exp(-t / tau)
    click[0] = abs(click[0]) + 1.0  # a sharp attack on the event's sample
    return strength * click


def _place(out: np.ndarray, start: int, sound: np.ndarray, pan: float) -> None:
    end = min(len(out), start + len(sound))
    if end <= start:
        return
    seg = sound[: end - start]
    out[start:end, 0] += seg * np.sqrt(1 - pan)
    out[start:end, 1] += seg * np.sqrt(pan)


def render_fire(drive: Drive, sr: int, n: int, rng) -> np.ndarray:
    """Roar (low rumble + hiss) following the energy, lapping at the flicker rate, crackles on events."""
    e = energy_at(drive, sr, n)
    roar = _band(np.cumsum(rng.standard_normal(n)) * 0.02, sr, 40, 400)  # brownish rumble of the burning gas
    hiss = _band(rng.standard_normal(n), sr, 2500, 9000)
    lap_noise = _band(rng.standard_normal(n), sr, 150, 1200)
    t = np.arange(n) / sr + float(drive.times_s[0])
    rate = np.interp(t, drive.times_s, drive.flicker_hz)
    depth = np.interp(t, drive.times_s, drive.flicker_depth)
    phase = 2 * np.pi * np.cumsum(rate * (1 + 0.15 * _smooth(rng.standard_normal(n), sr, 0.05))) / sr
    lapping = (0.5 + 0.5 * np.sin(phase)) ** 2
    bed = 0.55 * roar + 0.12 * hiss + (0.25 + 0.5 * depth) * lapping * lap_noise
    mono = e * bed
    out = np.repeat(mono[:, None], 2, axis=1)
    for te, s in zip(drive.events_s, drive.event_strengths):
        start = _event_sample(drive, te, sr, n)
        pan = rng.uniform(0.2, 0.8)
        _place(out, start, _crackle(rng, sr, 3.0 + 4.0 * s), pan)
        for _ in range(int(2 + 6 * s)):  # the pops that follow within a few tens of ms
            pop = _crackle(rng, sr, 1.0 + 2.0 * s * rng.random())
            _place(out, start + int(sr * rng.uniform(0.015, 0.08)), pop, pan)
    # sparse background crackling, denser when the fire is more active (kept quiet: events stay distinct)
    expected = 2.0 * e.mean() * n / sr
    for start in np.sort(rng.integers(0, max(n, 1), rng.poisson(expected))):
        if rng.random() < e[start]:
            _place(out, int(start), _crackle(rng, sr, 0.5 * e[start]), rng.uniform(0.1, 0.9))
    return out


def _bubble(rng, sr: int, size: float) -> np.ndarray:
    """A bubble (Minnaert resonance): a rising, decaying sine, its pitch falling with its radius."""
    f0 = 3000.0 / (0.3 + 3 * size) * rng.uniform(0.8, 1.25)
    tau = 0.004 + 0.03 * size
    t = np.arange(int(sr * tau * 6)) / sr
    f = f0 * (1 + 0.8 * t / (tau * 6))
    return np.sin(2 * np.pi * np.cumsum(f) / sr) * np.exp(-t / tau)


def render_water(drive: Drive, sr: int, n: int, rng) -> np.ndarray:
    """Flowing water: a noise bed following the energy, bubbles at a rate set by it, splashes on events."""
    e = energy_at(drive, sr, n)
    bed = _band(rng.standard_normal(n), sr, 300, 3000) * e * 0.5
    out = np.repeat(bed[:, None], 2, axis=1)
    rate = 60.0 * e
    count = rng.poisson(rate.sum() / sr)
    for start in np.sort(rng.integers(0, max(n, 1), count)):
        if rng.random() < min(1.0, e[start]):
            _place(out, int(start), 0.6 * e[start] * _bubble(rng, sr, rng.random()), rng.uniform(0.2, 0.8))
    for te, s in zip(drive.events_s, drive.event_strengths):
        start = _event_sample(drive, te, sr, n)
        length = int(0.08 * sr)
        splash = _band(rng.standard_normal(length), sr, 500, 6000) * np.exp(-np.arange(length) / (0.02 * sr))
        splash[0] = abs(splash[0]) + 1.0
        _place(out, start, (1.0 + 2 * s) * splash, 0.5)
        for _ in range(int(4 + 10 * s)):
            _place(out, start + int(sr * rng.uniform(0.0, 0.15)), 0.8 * _bubble(rng, sr, rng.random()),
                   rng.uniform(0.2, 0.8))
    return out


def render_wind(drive: Drive, sr: int, n: int, rng) -> np.ndarray:
    """Wind: low and high noise bands crossfaded by the energy (stronger = brighter), a whistle in gusts."""
    e = energy_at(drive, sr, n)
    for te, s in zip(drive.events_s, drive.event_strengths):  # a gust: a swell starting at the event
        start = _event_sample(drive, te, sr, n)
        length = min(n - start, int(0.6 * sr))
        t = np.arange(length) / sr
        e[start:start + length] += s * 0.8 * (1 - np.exp(-t / 0.01)) * np.exp(-t / 0.25)
    low = _band(rng.standard_normal(n), sr, 80, 500)
    high = _band(rng.standard_normal(n), sr, 700, 3000)
    mix = np.clip(e, 0, 1)
    t = np.arange(n) / sr
    whistle = np.sin(2 * np.pi * np.cumsum(500 + 700 * _smooth(mix, sr, 0.3)) / sr) * np.clip(mix - 0.6, 0, None)
    mono = e * ((1 - 0.6 * mix) * low + 0.6 * mix * high) + 0.3 * whistle
    side = _band(rng.standard_normal(n), sr, 80, 3000) * e * 0.1
    del t
    return np.stack([mono + side, mono - side], axis=1)


RENDERERS = {"fire": render_fire, "water": render_water, "wind": render_wind}
