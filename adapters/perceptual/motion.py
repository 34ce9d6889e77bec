"""Motion in (and out of) the perceptual space."""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from xmedia.embedding import Embedding
from xmedia.media import Motion
from xmedia.routing import step

from .space import _EPS, AXES, NEUTRAL, SPACE, _moving_average, _sat, pick_events, pool


@step("motion", "space:perceptual", name="perceptual-motion", cost=0.3, kind="encoder",
      description="motion -> the embedded perceptual space (energy, pace, brightness, warmth, texture, valence, density, onset)")
def encode_motion(motion: Motion) -> Embedding:
    """Motion channels are scaled by their range; speed gives energy, oscillation rate gives pace."""
    v = motion.values
    rate = float(motion.rate_hz)
    span = np.ptp(v, axis=0)
    scaled = v / np.where(span > 1e-9, span, 1.0)
    vel = np.abs(np.diff(scaled, axis=0, prepend=scaled[:1])) * rate  # ranges per second
    speed = vel.mean(axis=1)
    energy = _sat(speed, 1.0)
    acc = np.abs(np.diff(vel, axis=0, prepend=vel[:1])).mean(axis=1)
    texture = np.clip(acc / (speed * rate + _EPS), 0, 1)
    onset = _sat(np.maximum(0, np.diff(speed, prepend=speed[:1])), 0.5)
    centred = scaled - scaled.mean(axis=0)
    crossings = (np.diff(np.sign(centred), axis=0, prepend=np.sign(centred[:1])) != 0).mean(axis=1)
    win = max(3, int(2 * rate))
    zcr = _moving_average(crossings, win) * rate / 2  # oscillations per second
    pace = _sat(zcr, 2.0)
    density = (vel > 0.05).mean(axis=1)
    neutral = np.full(len(v), NEUTRAL)
    track = np.stack([energy, pace, neutral, neutral, texture, neutral, density, onset], axis=1).astype(np.float32)
    times = [motion.start_s + Fraction(i) / motion.rate_hz for i in range(len(v))]
    events, strengths = pick_events(onset, times, min_gap_s=0.1)
    return Embedding(SPACE, pool(track), track=track, rate_hz=motion.rate_hz, duration_s=motion.duration_s,
                     axes=AXES, events_s=events, event_strengths=strengths, source="motion",
                     start_s=motion.start_s)


@step("space:perceptual", "motion", name="perceptual-to-motion", cost=0.5, kind="decoder",
      description="the perceptual track as Motion channels (energy, pace, ...)")
def to_motion(embedding: Embedding, duration_s=None) -> Motion:
    """A perceptual track as a ``Motion`` (one channel per axis, at the track's rate): lets a sound or a
    video's mood drive whatever motion drives (a robot arm whose speed follows the music's energy). Still
    media are held for ``duration_s`` (default 10 s)."""
    embedding = embedding.timed(duration_s)
    return Motion(embedding.track, embedding.rate_hz, channels=embedding.axes, units=("unit",) * len(embedding.axes),
                  start_s=embedding.start_s)
