"""Composer controls: what the embedded composer plays (per-step control tracks, events, tempo, key, mode).

``ComposerControls`` is the ``controls:composer`` route node: a bridge (``PerceptualToComposer``) makes one from
an embedding, the decoder (``compose``) renders it. ``parse_key`` reads keys such as ``"F#m"`` or ``"Bb minor"``.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from xmedia.errors import ConfigError, MediaError
from xmedia.media import as_fraction

CONTROL_NAMES = ("tempo", "intensity", "brightness", "register", "valence", "roughness", "density", "accent")
STYLES = ("music", "foley")
SAMPLE_RATES_HZ = (44100, 48000)
NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_FLATS = {"Db": "C#", "Eb": "D#", "Gb": "F#", "Ab": "G#", "Bb": "A#"}
SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10)}
# Chord progressions as scale degrees (0 = tonic): I-V-vi-IV, I-vi-IV-V, I-IV-I-V / i-VI-III-VII, i-iv-v-i, i-VII-VI-VII.
PROGRESSIONS = {"major": ((0, 4, 5, 3), (0, 5, 3, 4), (0, 3, 0, 4)),
                "minor": ((0, 5, 2, 6), (0, 3, 4, 0), (0, 6, 5, 6))}
TEMPO_RANGE_BPM = (70.0, 150.0)
STRONG_EVENT = 0.5  # events at least this strong restart the bar (the beat follows the cut)


@dataclass(frozen=True, eq=False)
class ComposerControls:
    """What the composer plays: per-step control tracks in [0, 1] plus events and global choices.

    ``track`` is (T, 8) with columns ``CONTROL_NAMES`` at ``rate_hz`` (the embedding's rate); ``events_s`` are
    exact event times (from the embedding), ``tempo_bpm``/``key``/``mode`` the piece's global choices.
    ``perceptual`` optionally keeps the (T, 8) perceptual track the controls came from: remix mode matches
    samples against it. ``KIND`` makes it a route node, so ``xmedia.translate(controls, to="audio")`` runs the composer alone.
    """

    track: np.ndarray
    rate_hz: Fraction
    duration_s: Fraction
    events_s: tuple[Fraction, ...] = ()
    event_strengths: tuple[float, ...] = ()
    tempo_bpm: float = 110.0
    key: str = "C"
    mode: str = "major"
    start_s: Fraction = Fraction(0)
    perceptual: np.ndarray | None = None
    KIND = "controls:composer"

    def __post_init__(self):
        t = np.asarray(self.track, dtype=np.float32)
        if t.ndim != 2 or t.shape[1] != len(CONTROL_NAMES) or t.shape[0] < 1:
            raise MediaError(f"ComposerControls track must be (T, {len(CONTROL_NAMES)}), got shape {t.shape}")
        if not np.isfinite(t).all():
            raise MediaError("ComposerControls track contains NaN/inf")
        t = np.clip(t, 0.0, 1.0)
        t.flags.writeable = False
        object.__setattr__(self, "track", t)
        if self.perceptual is not None:
            p = np.array(self.perceptual, dtype=np.float32)
            if p.shape != t.shape:
                raise MediaError(f"ComposerControls perceptual track must be {t.shape}, got {p.shape}")
            p.flags.writeable = False
            object.__setattr__(self, "perceptual", p)
        object.__setattr__(self, "rate_hz", as_fraction(self.rate_hz, "ComposerControls rate_hz"))
        duration = as_fraction(self.duration_s, "ComposerControls duration_s", positive=False)
        if duration <= 0:
            raise MediaError("the clip has zero duration: there is nothing to score; give a clip of at least 2 frames")
        object.__setattr__(self, "duration_s", duration)
        object.__setattr__(self, "start_s", as_fraction(self.start_s, "start_s", positive=False))
        strengths = tuple(float(s) for s in self.event_strengths) or (1.0,) * len(self.events_s)
        if len(strengths) != len(self.events_s):
            raise MediaError("event_strengths must have one value per event")
        pairs = sorted((Fraction(e), s) for e, s in zip(self.events_s, strengths)
                       if self.start_s <= Fraction(e) < self.start_s + duration)
        object.__setattr__(self, "events_s", tuple(p[0] for p in pairs))
        object.__setattr__(self, "event_strengths", tuple(min(1.0, max(0.0, p[1])) for p in pairs))
        root, mode = parse_key(self.key)
        object.__setattr__(self, "key", NOTE_NAMES[root])
        object.__setattr__(self, "mode", mode or self.mode)
        if self.mode not in SCALES:
            raise ConfigError(f"mode must be 'major' or 'minor', got {self.mode!r}")
        if not (20 <= float(self.tempo_bpm) <= 300):
            raise ConfigError(f"tempo_bpm must be within 20..300, got {self.tempo_bpm}")
        object.__setattr__(self, "tempo_bpm", float(self.tempo_bpm))

    def control(self, name: str) -> np.ndarray:
        """One control track by name (``"intensity"``...)."""
        if name not in CONTROL_NAMES:
            raise ConfigError(f"unknown control {name!r}; controls: {CONTROL_NAMES}")
        return self.track[:, CONTROL_NAMES.index(name)]

    def times_s(self) -> np.ndarray:
        return np.arange(self.track.shape[0]) / float(self.rate_hz)

    def replace(self, **changes) -> "ComposerControls":
        return dataclasses.replace(self, **changes)

    def __repr__(self):
        return (f"ComposerControls({self.track.shape[0]} steps at {self.rate_hz} Hz, {float(self.duration_s):.3f} s, "
                f"{self.tempo_bpm:.0f} bpm, {self.key} {self.mode}, {len(self.events_s)} events)")


def parse_key(key) -> tuple[int, str | None]:
    """``"A"``, ``"f#m"``, ``"Bb minor"``, ``"C major"`` -> (pitch class, mode or None)."""
    if isinstance(key, (int, np.integer)):
        return int(key) % 12, None
    text = str(key).strip()
    mode = None
    low = text.lower()
    for suffix, m in ((" minor", "minor"), (" major", "major"), ("min", "minor"), ("maj", "major"), ("m", "minor")):
        if low.endswith(suffix) and len(text) > len(suffix):
            text, mode = text[: -len(suffix)].strip(), m
            break
    name = text[:1].upper() + text[1:]
    name = _FLATS.get(name, name)
    if name not in NOTE_NAMES:
        raise ConfigError(f"unknown key {key!r}; use a note name with an optional mode, e.g. 'A', 'F#m', 'Bb minor'")
    return NOTE_NAMES.index(name), mode
