"""Sound effects from motion: what moves in the picture, heard (Farnell, *Designing Sound*: fire, water, wind).

``motion_to_sfx(motion, preset)`` reads what drives the sound (``sfx_drive.motion_drive``: the normalised motion
energy, the flicker rate, sudden local events) and renders the preset (``sfx_voices``): its loudness follows
the energy sample by sample, and every event's sound starts at the event's own sample (far inside one frame).
"""
from __future__ import annotations

import numpy as np

from xmedia.errors import ConfigError
from xmedia.media import Audio, Motion

from .sfx_drive import Drive, local_events, motion_drive
from .sfx_voices import RENDERERS

PRESETS = tuple(RENDERERS)
SAMPLE_RATES_HZ = (16000, 22050, 32000, 44100, 48000)

__all__ = ["PRESETS", "Drive", "local_events", "motion_drive", "motion_to_sfx"]


def motion_to_sfx(motion: Motion, preset: str = "fire", seed: int = 0, sample_rate_hz: int = 48000) -> Audio:
    """Render ``preset`` (fire, water, wind) driven by ``motion``: stereo Audio of the motion's duration."""
    if preset not in PRESETS:
        raise ConfigError(f"unknown sound-effect preset {preset!r}; choose one of {PRESETS}")
    if int(sample_rate_hz) not in SAMPLE_RATES_HZ:
        raise ConfigError(f"sample_rate_hz must be one of {SAMPLE_RATES_HZ}, got {sample_rate_hz}")
    drive = motion_drive(motion)
    sr = int(sample_rate_hz)
    n = int(round(drive.duration_s * sr))
    rng = np.random.default_rng(seed)
    stereo = RENDERERS[preset](drive, sr, n, rng)
    peak = float(np.abs(stereo).max())
    if peak > 0:
        stereo = stereo * (0.9 / peak)
    return Audio(np.nan_to_num(stereo).astype(np.float32), sr)
