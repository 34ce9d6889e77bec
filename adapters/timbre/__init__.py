"""Timbre models (DDSP-style, trainable on a CPU), imprint, blending, live playing, and sound effects from motion.

Light on import (numpy only): torch loads when a timbre is trained or played.

- ``performance``: ``Performance`` (the ``controls:timbre`` node: f0, loudness, voicing per 5 ms) and ``analyse``.
- ``synth`` / ``model``: the differentiable harmonic + noise + reverb synthesiser and the ``Timbre`` process.
- ``train``: ``Timbre().fit("recordings/")``; ``imprint``: octave and loudness mapping; ``blend``: loading by
  name and ``"violin:0.7,flute:0.3"`` blends; ``live``: ``LiveImprint`` (voice in, timbre out, in 20 ms blocks).
- ``sfx``: procedural fire, water and wind driven by a picture's ``Motion``; ``steps``: the route steps.
"""
from __future__ import annotations

from .performance import HOP, SAMPLE_RATE_HZ, Performance, analyse

__all__ = ["HOP", "SAMPLE_RATE_HZ", "Performance", "analyse"]
