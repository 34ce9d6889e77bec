"""The embedded composer: a soundtrack synthesised from composer controls, offline, with no weights.

DSP in numpy/scipy: drums (kick, snare, hat), bass, pads, plucks, a noise texture and impacts, arranged from
``ComposerControls`` (per-step tracks of tempo, intensity, brightness, register, valence, roughness, density
and accent, plus the exact event times). Two styles:

- ``music`` (default): a beat whose tempo follows the picture's pace, layers that enter with its energy, a key
  and mode from its brightness and valence, and an accent (impact) on every visual event. Strong events restart
  the bar, so the downbeat lands on the cut.
- ``foley``: only event-synced hits (no beat, no bed): their pitch, length and noisiness follow the picture.

Every event sound has its attack at the event's sample (``round(t * sample_rate_hz)``), far inside one video
frame and inside the ITU-R BT.1359 detectability window (sound early by < 45 ms, late by < 125 ms); see
``../shared/design/crossmodal.md``. The output has exactly ``round(duration_s * sample_rate_hz)`` samples.

Remix mode (``bank="folder/"``) builds the same arrangement from the user's own samples, each embedded in the
perceptual space and chosen per moment by similarity to the picture's track.

Modules: ``controls`` (the controls and keys), ``voices`` (instruments), ``arrange`` (beat, bars, notes),
``render`` (the score and its windowed render), ``bank`` (remix mode), ``decoder`` (``compose``, the route
step ``controls:composer -> audio``) and ``mixing`` (with the clip's own audio).
"""
from __future__ import annotations

from .arrange import Piece, beat_times
from .bank import SampleBank
from .controls import (
    CONTROL_NAMES,
    NOTE_NAMES,
    SAMPLE_RATES_HZ,
    SCALES,
    STYLES,
    TEMPO_RANGE_BPM,
    ComposerControls,
    parse_key,
)
from .decoder import compose
from .mixing import MIXES, mix
from .render import Score, render_score

__all__ = ["CONTROL_NAMES", "NOTE_NAMES", "SAMPLE_RATES_HZ", "SCALES", "STYLES", "TEMPO_RANGE_BPM", "MIXES",
           "ComposerControls", "parse_key", "compose", "mix", "Piece", "beat_times", "Score", "render_score",
           "SampleBank"]
