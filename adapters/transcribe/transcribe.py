"""Audio -> ``Score``: basic-pitch's network (``model``) and its note decoding (``notes``), one part.

Times are exact: a note's onset is the first sample of its first frame (``model.frame_start_samples``, in
22 050 Hz samples of the input), a rational number of seconds, turned into ticks through the tempo as
``round(seconds * bpm / 60 * ticks_per_beat)``; its end likewise (at least one tick long). At the default 120
bpm and 480 ticks a beat, a tick is 1/960 s, so ``score.onset_s()`` is within half a millisecond of the frame.

Silence (or audio where nothing reaches the thresholds) gives an empty ``Score`` and a ``NoNotesWarning``; a
clip shorter than the minimum note length, and NaN samples, are a ``MediaError``.
"""
from __future__ import annotations

import math
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np

from xmedia.errors import ConfigError, MediaError
from xmedia.score import Part, Score, Tempo

from . import model as bp
from .notes import notes_from_activations


class NoNotesWarning(UserWarning):
    """A transcription found no notes (silence, noise, or thresholds set too high): the Score is empty."""


def _number(value, name: str, low: float, high: float, *, open_low: bool = True) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    ok = math.isfinite(x) and (x > low if open_low else x >= low) and x <= high
    if not ok:
        raise ConfigError(f"{name} must be {'above' if open_low else 'at least'} {low:g} and at most {high:g}, "
                          f"got {value!r}")
    return x


def _tempo(tempo) -> Fraction:
    """The tempo as an exact Fraction of beats per minute (1-1000), else a ConfigError."""
    tempo = 120 if tempo is None else tempo
    try:
        bpm = tempo if isinstance(tempo, Fraction) else Fraction(str(float(tempo))).limit_denominator(1000)
        ok = 1 <= bpm <= 1000
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise ConfigError(f"tempo must be 1-1000 beats per minute, got {tempo!r}: pass e.g. --tempo 96 "
                          "(tempo=96), or leave it out for 120")
    return bpm


def to_ticks(samples, bpm: Fraction, ticks_per_beat: int, rate: int = bp.SAMPLE_RATE_HZ) -> np.ndarray:
    """Sample positions -> ticks: ``round(samples / rate * bpm / 60 * ticks_per_beat)``, in exact integers."""
    num = np.asarray(samples, np.int64) * (bpm.numerator * ticks_per_beat)
    den = rate * 60 * bpm.denominator
    return (2 * num + den) // (2 * den)  # round half up, exactly


def transcribe(audio, tempo=120, onset_threshold: float = 0.5, frame_threshold: float = 0.3,
               min_note_ms: float = 127.70, min_hz: float | None = None, max_hz: float | None = None,
               melodia: bool = True, infer_onsets: bool = True, program: int = 0,
               ticks_per_beat: int = 480) -> Score:
    """The notes of a recording as a one-part ``Score`` (basic-pitch, ICASSP 2022, via onnxruntime)."""
    bpm = _tempo(tempo)
    onset_threshold = _number(onset_threshold, "onset_threshold", 0, 1)
    frame_threshold = _number(frame_threshold, "frame_threshold", 0, 1)
    min_note_ms = _number(min_note_ms, "min_note_ms", 0, 60_000, open_low=False)
    for name, hz in (("min_hz", min_hz), ("max_hz", max_hz)):
        if hz is not None:
            _number(hz, name, 0, bp.SAMPLE_RATE_HZ / 2)
    if min_hz is not None and max_hz is not None and float(min_hz) >= float(max_hz):
        raise ConfigError(f"min_hz ({min_hz}) must be below max_hz ({max_hz})")
    if not (isinstance(program, (int, np.integer)) and not isinstance(program, bool) and 0 <= program <= 127):
        raise ConfigError(f"program must be a General MIDI program number 0-127, got {program!r}")
    if not (isinstance(ticks_per_beat, (int, np.integer)) and 1 <= ticks_per_beat <= 32767):
        raise ConfigError(f"ticks_per_beat must be a whole number 1-32767, got {ticks_per_beat!r}")

    name = getattr(audio, "source", None) or "the audio"
    x = bp.mono_22k(audio)
    min_note_len = int(np.round(min_note_ms / 1000 * (bp.SAMPLE_RATE_HZ / bp.FFT_HOP)))
    need = (min_note_len + 2) * bp.FFT_HOP  # a note is longer than min_note_len frames, and not the last one
    if len(x) < need:
        raise MediaError(f"{name} is {1000 * len(x) / bp.SAMPLE_RATE_HZ:.0f} ms long: too short to hold a note "
                         f"(transcription needs at least {1000 * need / bp.SAMPLE_RATE_HZ:.0f} ms with "
                         f"min_note_ms={min_note_ms:g}); pass a longer recording or lower min_note_ms")
    out = bp.predict(x, outputs=("note", "onset"))  # the contour (pitch bends) is not decoded
    events = notes_from_activations(out["note"], out["onset"], onset_thresh=onset_threshold,
                                    frame_thresh=frame_threshold, min_note_len=min_note_len,
                                    infer_onsets=infer_onsets, min_freq=min_hz, max_freq=max_hz,
                                    melodia_trick=bool(melodia))
    starts = bp.frame_start_samples(len(out["note"]))
    part = Part("transcription", int(program))
    title = Path(str(name)).stem if getattr(audio, "source", None) else ""
    meta = {"transcribed_by": "basic-pitch ICASSP 2022 (onnxruntime)", "source": str(name),
            "onset_threshold": onset_threshold, "frame_threshold": frame_threshold, "min_note_ms": min_note_ms}
    fields = {"parts": (part,), "ticks_per_beat": int(ticks_per_beat), "tempos": (Tempo(0, bpm),), "title": title,
              "meta": meta}
    if not events:
        warnings.warn(f"no notes found in {name} (silence, noise, or thresholds too high: onset_threshold="
                      f"{onset_threshold:g}, frame_threshold={frame_threshold:g}); the Score is empty",
                      NoNotesWarning, stacklevel=2)
        return Score.from_notes([], **fields)
    ev = np.array([(s, e, p) for s, e, p, _ in events], np.int64)
    amp = np.array([a for *_, a in events], np.float64)
    on = to_ticks(starts[ev[:, 0]], bpm, ticks_per_beat)
    off = to_ticks(starts[ev[:, 1]], bpm, ticks_per_beat)
    velocity = np.clip(np.round(127 * amp), 1, 127).astype(np.int64)
    rows = np.stack([on, np.maximum(off - on, 1), ev[:, 2], velocity, np.zeros(len(ev), np.int64)], axis=1)
    return Score.from_notes(rows, **fields)
