"""What drives a sound effect: ``motion_drive(motion)`` reads it from a ``Motion`` (the optical-flow channels):

- ``energy``: the motion energy, normalised by its 95th percentile (any other Motion: its mean speed);
- ``flicker_hz``: the dominant rate of the energy's fluctuation in the flame puffing band (2-10 Hz, Cetegen &
  Ahmed 1993), tracked over 2 s windows;
- ``events``: sudden local motion (a region's speed jumping far above its recent jumps) with a strength.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xmedia.errors import MediaError
from xmedia.media import Motion

FLICKER_BAND_HZ = (2.0, 10.0)
EVENT_Z = 5.0  # a region's speed jump this many robust deviations above its usual jumps is an event
EVENT_GAP_S = 0.12


@dataclass(frozen=True)
class Drive:
    """What drives a sound effect, per motion frame (``times_s``), plus the events."""

    times_s: np.ndarray
    energy: np.ndarray  # normalised, ~0..1
    flicker_hz: np.ndarray
    flicker_depth: np.ndarray  # 0..1: how much of the energy fluctuates in the flicker band
    events_s: np.ndarray
    event_strengths: np.ndarray
    rate_hz: float
    duration_s: float


def _speed(motion: Motion) -> np.ndarray:
    if "energy" in motion.channels:
        return np.abs(motion.channel("energy"))
    v = motion.values
    d = np.abs(np.diff(v, axis=0, prepend=v[:1])) * float(motion.rate_hz)
    return d.mean(axis=1)


def _region_speeds(motion: Motion) -> np.ndarray:
    """(T, regions) speed of each region of the flow grid (``rRcC_x``/``_y``); the global speed if none."""
    names = [c[:-2] for c in motion.channels
             if c.startswith("r") and c.endswith("_x") and c[:-2] + "_y" in motion.channels]
    if not names:
        return _speed(motion)[:, None]
    return np.stack([np.hypot(motion.channel(n + "_x"), motion.channel(n + "_y")) for n in names], axis=1)


def local_events(motion: Motion, z: float = EVENT_Z, gap_s: float = EVENT_GAP_S) -> tuple[np.ndarray, np.ndarray]:
    """Sudden local motion: frames where some region's speed jumps ``z`` robust deviations above its typical
    jump; returns (times_s, strengths in 0..1). At most one event per ``gap_s``."""
    speeds = _region_speeds(motion)
    if len(speeds) < 3:
        return np.zeros(0), np.zeros(0)
    jumps = np.diff(speeds, axis=0, prepend=speeds[:1])
    med = np.median(jumps, axis=0)
    mad = np.median(np.abs(jumps - med), axis=0) * 1.4826
    floor = 0.02 * np.percentile(speeds, 95, axis=0) + 1e-9  # ignore jumps that are tiny in absolute terms
    score = ((jumps - med) / np.maximum(mad, floor)).max(axis=1)
    score[0] = 0.0
    rate = float(motion.rate_hz)
    gap = max(1, int(round(gap_s * rate)))
    picked, strengths = [], []
    for i in np.argsort(-score):
        if score[i] < z:
            break
        if all(abs(i - j) >= gap for j in picked):
            picked.append(int(i))
            strengths.append(float(np.clip((score[i] - z) / (3 * z), 0.2, 1.0)))
    order = np.argsort(picked)
    times = motion.times_s()[np.array(picked, int)[order]] if picked else np.zeros(0)
    return times, np.array(strengths)[order] if picked else np.zeros(0)


def flicker_rate(energy: np.ndarray, rate_hz: float, window_s: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame dominant fluctuation rate in the flicker band and its depth (band RMS / mean energy)."""
    n = len(energy)
    high = min(FLICKER_BAND_HZ[1], 0.45 * rate_hz)
    win = max(8, int(round(window_s * rate_hz)))
    hop = max(1, win // 4)
    if n < 8 or high <= FLICKER_BAND_HZ[0]:
        return np.full(n, 4.0), np.zeros(n)
    centres, rates, depths = [], [], []
    size = 1 << int(np.ceil(np.log2(max(win, 8) * 4)))
    freqs = np.fft.rfftfreq(size, 1 / rate_hz)
    band = (freqs >= FLICKER_BAND_HZ[0]) & (freqs <= high)
    for start in range(0, max(1, n - win + 1), hop):
        seg = energy[start:start + win]
        seg = (seg - seg.mean()) * np.hanning(len(seg))
        spec = np.abs(np.fft.rfft(seg, size))
        k = int(np.argmax(np.where(band, spec, -1)))
        rates.append(freqs[k])
        depths.append(float(np.sqrt(np.mean(seg ** 2)) / max(energy[start:start + win].mean(), 1e-9)))
        centres.append(start + len(seg) / 2)
    t = np.arange(n)
    return np.interp(t, centres, rates), np.clip(np.interp(t, centres, depths), 0.0, 1.0)


def motion_drive(motion: Motion) -> Drive:
    if not isinstance(motion, Motion):
        raise MediaError(f"sound effects are driven by Motion, got {type(motion).__name__}")
    if motion.num_frames < 2:
        raise MediaError("the motion has fewer than 2 frames: there is nothing to sonify")
    speed = _speed(motion)
    scale = float(np.percentile(speed, 95))
    energy = np.clip(speed / scale, 0.0, 1.5) if scale > 1e-9 else np.zeros_like(speed)
    rate = float(motion.rate_hz)
    flicker_hz, depth = flicker_rate(energy, rate)
    events, strengths = local_events(motion)
    return Drive(motion.times_s(), energy, flicker_hz, depth, events, strengths, rate, float(motion.duration_s))


def energy_at(drive: Drive, sr: int, n: int) -> np.ndarray:
    """The energy at every sample (linear between frames; the frame's value from its start time)."""
    t = np.arange(n) / sr + float(drive.times_s[0])
    return np.interp(t, drive.times_s, drive.energy)
