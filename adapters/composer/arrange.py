"""Arrangement: the piece's beat, bars and chords, and every note of the ``music`` and ``foley`` styles.

An arrangement only decides (into a ``Score``); rendering it to samples is ``render.render_score``'s job.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .controls import (
    CONTROL_NAMES,
    PROGRESSIONS,
    SCALES,
    STRONG_EVENT,
    TEMPO_RANGE_BPM,
    ComposerControls,
)
from .render import Score
from .voices import Voices, butter_filter, envelope, midi_hz, saw


@dataclass
class Piece:
    """A piece being arranged: its controls, sample rate and length in samples, the seeded random generator
    (every random choice is drawn from it) and the key (``root`` pitch class, ``mode``) and tempo it plays in."""

    controls: ComposerControls
    sr: int
    n: int
    rng: np.random.Generator
    root: int
    mode: str
    tempo_bpm: float

    def at(self, name: str, t_s) -> np.ndarray | float:
        """A control's value at time(s) ``t_s`` (linear interpolation over steps)."""
        c = self.controls
        if getattr(self, "_times", None) is None or len(self._times) != c.track.shape[0]:
            self._times, self._start = c.times_s(), float(c.start_s)
        return np.interp(np.asarray(t_s, dtype=float) - self._start, self._times, c.track[:, CONTROL_NAMES.index(name)])

    def event_samples(self) -> list[tuple[int, float]]:
        c = self.controls
        out = []
        for e, s in zip(c.events_s, c.event_strengths):
            i = int(round((e - c.start_s) * self.sr))
            if 0 <= i < self.n:
                out.append((i, s))
        return out


def beat_times(piece: Piece, follow_pace: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Beat times (s) and each beat's index in its bar.

    Tempo drifts around the piece's tempo with the local pace (by up to +-20 %, smoothed over ~4 s); a strong
    event moves the nearest beat onto itself and starts a new bar there, so accents and downbeats hit the cut.
    """
    c, dur = piece.controls, float(piece.controls.duration_s)
    grid = np.arange(0.0, dur + 0.05, 0.05)
    if follow_pace:
        lo, hi = TEMPO_RANGE_BPM
        local = lo + (hi - lo) * piece.at("tempo", grid + float(c.start_s))
        k = max(1, int(4.0 / 0.05))
        local = np.convolve(np.pad(local, k // 2, mode="edge"), np.ones(k) / k, mode="same")[k // 2 : k // 2 + len(grid)]
        bpm = piece.tempo_bpm * np.clip(1 + 0.5 * (local - np.median(local)) / piece.tempo_bpm, 0.8, 1.2)
    else:
        bpm = np.full(len(grid), piece.tempo_bpm)
    phase = np.concatenate([[0.0], np.cumsum(bpm[:-1] / 60 * 0.05)])
    beats = list(np.interp(np.arange(0, phase[-1]), phase, grid))
    downbeats = set()
    min_gap = 60 / piece.tempo_bpm
    for e, s in zip(c.events_s, c.event_strengths):
        te = float(e - c.start_s)
        if s < STRONG_EVENT or not beats:
            continue
        i = int(np.argmin(np.abs(np.asarray(beats) - te)))
        if abs(beats[i] - te) > 0.5 * min_gap or any(abs(te - d) < 1.5 * min_gap for d in downbeats):
            continue
        shift = te - beats[i]
        beats = beats[:i] + [b + shift for b in beats[i:]]
        downbeats.add(te)
    beats = np.asarray([b for b in beats if 0 <= b < dur])
    if len(beats) > 1:  # drop beats squeezed by a shift (closer than 0.4 beat)
        keep = np.concatenate([[True], np.diff(beats) > 0.4 * min_gap])
        beats = beats[keep]
    index, k = np.zeros(len(beats), int), 0
    for j, b in enumerate(beats):
        if any(abs(b - d) < 1e-9 for d in downbeats):
            k = 0
        index[j] = k % 4
        k += 1
    return beats, index


def _chord(piece: Piece, degree: int, octave_midi: int) -> list[int]:
    scale = SCALES[piece.mode]
    notes = []
    for step in (0, 2, 4):
        d = degree + step
        notes.append(octave_midi + piece.root + scale[d % 7] + 12 * (d // 7))
    return notes


def arrange_music(piece: Piece, voices: Voices, progress: bool = False) -> Score:
    sr, n, rng = piece.sr, piece.n, piece.rng
    score = Score(n, sr, ("drums", "bass", "pad", "pluck", "fx", "texture"))
    beats, index = beat_times(piece)
    ev = piece.event_samples()
    beat_len = 60 / piece.tempo_bpm
    ends = np.append(beats[1:], beats[-1] + beat_len) if len(beats) else beats
    progression = PROGRESSIONS[piece.mode][int(rng.integers(len(PROGRESSIONS[piece.mode])))]
    bar_starts = [j for j in range(len(beats)) if index[j] == 0 or j == 0]
    bars = list(zip(bar_starts, bar_starts[1:] + [len(beats)]))
    if progress:
        from tqdm import tqdm

        bars = tqdm(bars, desc="compose", unit="bar")
    ev_arr = np.array([e for e, _ in ev], dtype=np.int64)

    def clear(sample: int) -> bool:
        """No event in the 60 ms after ``sample``: a note there would smear the event's accent."""
        k = np.searchsorted(ev_arr, sample, side="right")
        return k >= len(ev_arr) or ev_arr[k] - sample > int(0.06 * sr)

    for bar_no, (j0, j1) in enumerate(bars):
        t0 = 0.0 if bar_no == 0 else beats[j0]  # the first pad starts at 0: the piece does not open in silence
        t1 = float(piece.controls.duration_s) if j1 >= len(beats) else beats[j1]
        mid = (t0 + t1) / 2
        inten, bright = float(piece.at("intensity", mid)), float(piece.at("brightness", mid))
        octave = 48 + 12 * int(np.clip(round(2 * (float(piece.at("register", mid)) - 0.5)), -1, 1))
        chord = _chord(piece, progression[bar_no % len(progression)], octave)
        _pad(score, piece, chord, t0, t1, bright, gain=0.22 + 0.18 * (1 - inten))
        for j in range(j0, j1):
            tb, te = beats[j], ends[j]
            s = int(round(tb * sr))
            i_b = float(piece.at("intensity", tb))
            dens = float(piece.at("density", tb))
            rough = float(piece.at("roughness", tb))
            br = float(piece.at("brightness", tb))
            acc = float(piece.at("accent", tb))
            pos = index[j]
            pre_event = not clear(s)
            if not pre_event and ((i_b > 0.3 and pos in (0, 2)) or i_b > 0.65):
                score.place("drums", s, voices.kick(), 0.9 * (0.6 + 0.4 * i_b))
            if not pre_event and i_b > 0.45 and pos in (1, 3):
                score.place("drums", s, voices.snare(), 0.55 * (0.6 + 0.4 * i_b), pan=0.1)
            subdiv = 4 if (dens > 0.6 and i_b > 0.55) else 2
            for q in range(subdiv):
                tq = tb + q * (te - tb) / subdiv
                if not clear(int(round(tq * sr))):
                    continue
                if i_b > 0.2:
                    vel = 0.18 * (0.5 + 0.5 * i_b) * (1.0 if q == 0 else 0.6) * (1 + 0.5 * acc)
                    score.place("drums", int(round(tq * sr)), voices.hat(open_=(q == subdiv - 1 and rough > 0.7)),
                           vel, pan=0.3)
                if q < 2 and i_b > 0.15 and (q == 0 or i_b > 0.55):
                    bass_note = chord[0] - 24 + (7 if (pos == 3 and q == 1) else 0)
                    _bass(score, piece, voices, bass_note, tq, min(te - tq, (te - tb) / 2 if subdiv > 1 else te - tb),
                          br, 0.32 * (0.5 + 0.5 * i_b))
                if rng.random() < 0.15 + 0.45 * dens * (0.3 + 0.7 * i_b):
                    note = chord[int(rng.integers(3))] + 12 * int(rng.integers(1, 3))
                    score.place("pluck", int(round(tq * sr)), voices.pluck(note, br, rough),
                           0.16 * (0.4 + 0.6 * i_b), pan=float(rng.uniform(-0.6, 0.6)))
    for s, strength in ev:
        t = s / sr
        big = strength >= STRONG_EVENT
        sig = voices.impact(float(piece.at("brightness", t)), float(piece.at("roughness", t)),
                            size=0.3 + 0.7 * strength if big else 0.1)
        score.choke("fx", s)
        score.place("fx", s, sig, 0.35 + 0.45 * strength)
        if big:  # a crash on top (on the fx bus: the bed's dip must not swallow it)
            score.place("fx", s, voices.hat(open_=True), 0.25)
    _texture(score, piece, voices)
    score.duck(("drums", "bass", "pad", "pluck", "texture"), [s for s, _ in ev])
    return score


def _pad(score: Score, piece: Piece, chord, t0: float, t1: float, brightness: float, gain: float) -> None:
    release = 0.6
    n = int((t1 - t0 + release) * piece.sr)
    if n > 0:  # synthesised when a window needs it: a long piece's pads never sit in memory together
        score.place("pad", int(round(t0 * piece.sr)), functools.partial(_pad_sound, chord, n, brightness, piece.sr,
                                                                        release), gain / len(chord), length=n)


def _pad_sound(chord, n: int, brightness: float, sr: int, release: float) -> np.ndarray:
    sig = np.zeros((n, 2), np.float32)
    for i, midi in enumerate(chord):
        f = float(midi_hz(midi))
        for ch, detune in enumerate((-0.12, 0.12)):
            sig[:, ch] += saw(f * 2 ** (detune / 12), n, sr, phase=0.37 * i + 0.5 * ch)
    sig = butter_filter(sig, "lowpass", 350 + 2600 * brightness**2, sr)
    env = np.ones(n, np.float32)
    a, r = int(0.25 * sr), int(release * sr)
    env[:a] = np.linspace(0, 1, a)
    env[-r:] *= np.linspace(1, 0, r)
    return sig * env[:, None]


def _bass(score: Score, piece: Piece, voices: Voices, midi: int, t_s: float, length_s: float, brightness: float,
          gain: float) -> None:
    sr = piece.sr
    length_s, brightness = round(max(0.08, min(length_s, 0.6)), 2), round(brightness, 1)
    key = ("bass", midi, length_s, brightness)
    if key not in voices.cache:
        n = int(length_s * sr)
        f = float(midi_hz(midi))
        sig = 0.6 * saw(f, n, sr) + 0.8 * np.sin(2 * np.pi * f * np.arange(n) / sr).astype(np.float32)
        sig = butter_filter(sig, "lowpass", 180 + 700 * brightness, sr)
        env = envelope(n, sr, 0.35, 0.004)
        env[-int(0.01 * sr):] *= np.linspace(1, 0, int(0.01 * sr))
        voices.cache[key] = sig * env
    score.place("bass", int(round(t_s * sr)), voices.cache[key], gain)


def _texture(score: Score, piece: Piece, voices: Voices) -> None:
    """A noise bed whose level follows roughness x intensity (rough pictures sound rough)."""
    sr, n = piece.sr, piece.n
    hop = sr // 50
    t = np.arange(0, n, hop) / sr
    level = 0.05 * np.clip(piece.at("roughness", t) - 0.3, 0, 1) * (0.3 + 0.7 * piece.at("intensity", t))
    if level.max() < 1e-4:
        return
    loop = int(2.7 * sr)  # a filtered noise loop, tiled with different offsets per channel (no audible repeat)
    noise = butter_filter(np.stack([voices.noise(loop), voices.noise(loop)], axis=1), "bandpass", [1500, 9000], sr)
    level_at = np.arange(len(t)) * hop

    def render(a: int, b: int) -> np.ndarray:
        out = np.empty((b - a, 2), np.float32)
        amp = np.interp(np.arange(a, b), level_at, level).astype(np.float32)
        for ch, off in enumerate((0, loop // 3)):
            out[:, ch] = noise[(np.arange(a, b) + off) % loop, ch] * amp
        return out

    score.bed("texture", render)


def arrange_foley(piece: Piece, voices: Voices) -> Score:
    score = Score(piece.n, piece.sr, ("fx",))
    for s, strength in piece.event_samples():
        t = s / piece.sr
        sig = voices.impact(float(piece.at("brightness", t)), float(piece.at("roughness", t)),
                            size=float(np.clip(0.6 * strength + 0.4 * piece.at("intensity", t), 0, 1)))
        score.choke("fx", s)
        score.place("fx", s, sig, 0.3 + 0.7 * strength)
    return score
