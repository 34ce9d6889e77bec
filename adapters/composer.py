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
``/work/shared/design/crossmodal.md``. The output has exactly ``round(duration_s * sample_rate_hz)`` samples.

Remix mode (``bank="folder/"``) builds the same arrangement from the user's own samples, each embedded in the
perceptual space and chosen per moment by similarity to the picture's track.
"""
from __future__ import annotations

import dataclasses
import functools
import math
import warnings
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from xmedia.errors import ConfigError, MediaError
from xmedia.media import Audio, as_fraction

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


# ---------------------------------------------------------------------------------------------- controls
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


# ---------------------------------------------------------------------------------------------- helpers
def _midi_hz(midi) -> np.ndarray:
    return 440.0 * 2.0 ** ((np.asarray(midi, dtype=np.float64) - 69) / 12)


def _env(n: int, sr: int, decay_s: float, attack_s: float = 0.001) -> np.ndarray:
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


def _place(bus: np.ndarray, start: int, sig: np.ndarray, gain: float = 1.0, pan: float = 0.0) -> None:
    """Add a mono (n,) or stereo (n, 2) sound into a stereo bus from sample ``start`` (cut at the ends)."""
    a, b = max(start, 0), min(start + len(sig), len(bus))
    if b <= a:
        return
    sig = sig[a - start : b - start]
    if sig.ndim == 1:
        angle = (pan + 1) * math.pi / 4  # constant-power pan
        gains = np.array([math.cos(angle), math.sin(angle)], np.float32) * gain * math.sqrt(2)
        bus[a:b] += sig[:, None] * gains
    else:
        bus[a:b] += sig * gain


def _butter(kind: str, cutoff_hz, sr: int, order: int = 2):
    cutoff = tuple(np.round(np.atleast_1d(np.asarray(cutoff_hz, dtype=float)), 1))
    return _butter_cached(kind, cutoff, sr, order)


@functools.lru_cache(maxsize=256)
def _butter_cached(kind: str, cutoff_hz: tuple, sr: int, order: int):
    """Filter design is slower than filtering a short note; a piece reuses a few dozen designs."""
    from scipy.signal import butter

    wn = np.clip(np.asarray(cutoff_hz) / (sr / 2), 1e-4, 0.99)
    return butter(order, wn if len(wn) > 1 else wn[0], btype=kind, output="sos")


def _filter(sig: np.ndarray, kind: str, cutoff_hz, sr: int, order: int = 2) -> np.ndarray:
    from scipy.signal import sosfilt

    return sosfilt(_butter(kind, cutoff_hz, sr, order), sig, axis=0).astype(np.float32)


class _Voices:
    """One-shot sounds (drums, impacts, plucks), rendered once per piece and cached (deterministic per seed)."""

    def __init__(self, sr: int, rng: np.random.Generator):
        self.sr, self.rng, self.cache = sr, rng, {}

    def noise(self, n: int) -> np.ndarray:
        return (self.rng.random(n, dtype=np.float32) * 2 - 1)

    def kick(self) -> np.ndarray:
        if "kick" not in self.cache:
            sr, n = self.sr, int(0.45 * self.sr)
            t = np.arange(n) / sr
            f = 45 + 110 * np.exp(-t / 0.03)
            body = np.sin(2 * np.pi * np.cumsum(f) / sr) * _env(n, sr, 0.22)
            click = _filter(self.noise(n), "highpass", 3000, sr) * _env(n, sr, 0.004)
            self.cache["kick"] = ((body + 0.4 * click) * _tail_fade(n, sr, 0.1)).astype(np.float32)
        return self.cache["kick"]

    def snare(self) -> np.ndarray:
        if "snare" not in self.cache:
            sr, n = self.sr, int(0.3 * self.sr)
            t = np.arange(n) / sr
            tone = np.sin(2 * np.pi * 185 * t) * _env(n, sr, 0.05)
            rattle = _filter(self.noise(n), "bandpass", [1200, 7000], sr) * _env(n, sr, 0.11)
            self.cache["snare"] = ((0.5 * tone + 0.9 * rattle) * _tail_fade(n, sr, 0.1)).astype(np.float32)
        return self.cache["snare"]

    def hat(self, open_: bool = False) -> np.ndarray:
        key = f"hat{open_}"
        if key not in self.cache:
            n = int((0.3 if open_ else 0.06) * self.sr)
            self.cache[key] = (_filter(self.noise(n), "highpass", 7000, self.sr)
                               * _env(n, self.sr, 0.09 if open_ else 0.018)).astype(np.float32)
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
            body = sum(a * np.sin(2 * np.pi * f0 * k * t) * _env(n, sr, (0.25 + 0.5 * s) / k, 0.0005)
                       for k, a in ((1.0, 1.0), (2.76, 0.5), (5.4, 0.25)))  # struck-bar partials
            crack = _filter(self.noise(n), "bandpass", [800 + 3000 * b, 12000], sr) * _env(n, sr, 0.012 + 0.05 * r, 0.0003)
            rumble = _filter(self.noise(n), "lowpass", 300 + 1500 * b, sr) * _env(n, sr, 0.08 + 0.3 * r)
            boom = np.sin(2 * np.pi * np.cumsum(35 + 60 * np.exp(-t / 0.08)) / sr) * _env(n, sr, 0.3 + 0.6 * s, 0.002)
            sig = (1 - 0.6 * r) * body + (0.6 + 0.6 * r) * crack + 0.8 * r * rumble + 1.2 * s * boom
            sig *= _tail_fade(n, sr)  # no click where the buffer ends (it would read as an onset)
            self.cache[key] = (sig / (np.abs(sig).max() + 1e-9)).astype(np.float32)
        return self.cache[key]

    def pluck(self, midi: int, brightness: float, roughness: float) -> np.ndarray:
        key = ("pluck", midi, round(brightness, 1), round(roughness, 1))
        if key not in self.cache:
            sr, n = self.sr, int(0.45 * self.sr)
            t = np.arange(n, dtype=np.float32) / sr
            f = float(_midi_hz(midi))
            sig = np.zeros(n, np.float32)
            for k in range(1, 9):
                if f * k > sr / 2.5:
                    break
                # Higher partials die faster; brighter/rougher plucks keep more of them (timbre <-> texture).
                w = (1.0 / k) ** (1.6 - 0.9 * brightness) * (1 + 0.6 * roughness * (k % 2 == 0))
                sig += w * np.sin(2 * np.pi * f * k * t) * np.exp(-t * (4 + 5 * k * (1.2 - brightness)))
            sig *= _env(n, sr, 10.0, 0.002) * _tail_fade(n, sr)
            self.cache[key] = sig / (np.abs(sig).max() + 1e-9)
        return self.cache[key]


def _saw(freq_hz: float, n: int, sr: int, phase: float = 0.0) -> np.ndarray:
    """A naive sawtooth in float32 (aliasing is low for these pitches and filtered away by the lowpass)."""
    x = np.arange(n, dtype=np.float32)
    x *= np.float32(freq_hz / sr)
    x += np.float32(phase)
    x -= np.floor(x)
    x *= 2
    x -= 1
    return x


# ---------------------------------------------------------------------------------------------- arrangement
@dataclass
class _Piece:
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


def beat_times(piece: _Piece, follow_pace: bool = True) -> tuple[np.ndarray, np.ndarray]:
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


def _chord(piece: _Piece, degree: int, octave_midi: int) -> list[int]:
    scale = SCALES[piece.mode]
    notes = []
    for step in (0, 2, 4):
        d = degree + step
        notes.append(octave_midi + piece.root + scale[d % 7] + 12 * (d // 7))
    return notes


def _arrange_music(piece: _Piece, voices: _Voices, progress: bool = False) -> "_Score":
    sr, n, rng = piece.sr, piece.n, piece.rng
    score = _Score(n, sr, ("drums", "bass", "pad", "pluck", "fx", "texture"))
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


def duck_for_events(buses: dict[str, np.ndarray], names, event_samples, sr: int, depth: float = 0.95,
                    offset: int = 0) -> None:
    """Dip the bed just before each event and let it swell back (a film-scoring 'hit point'): the event's
    attack then stands out as an onset even when the music is busy. ``offset``: the piece's sample at
    ``bus[0]`` when the buses hold one window of it."""
    pre, post = int(0.025 * sr), int(0.3 * sr)
    curve = np.concatenate([np.linspace(1, 1 - depth, pre, dtype=np.float32),
                            np.linspace(1 - depth, 1, post, dtype=np.float32)])
    end = offset + len(next(iter(buses.values())))
    for s in event_samples:
        a, b = max(0, s - pre, offset), min(end, s + post)
        if b <= a:
            continue
        c = curve[a - (s - pre) : b - (s - pre)][:, None]
        for name in names:
            if name in buses:
                buses[name][a - offset : b - offset] *= c


def choke(bus: np.ndarray, start: int, sr: int, fade_s: float = 0.02, offset: int = 0) -> None:
    """Fade out what still rings on ``bus`` so it is silent at ``start`` (a drummer's choke): the next hit is
    then heard as an onset however loud the previous one was. ``offset`` as in ``duck_for_events``."""
    k = min(max(0, start), int(fade_s * sr))
    a, b = max(start - k, offset), min(start, offset + len(bus))
    if b > a:
        bus[a - offset : b - offset] *= np.linspace(1, 0, k, dtype=np.float32)[a - (start - k) : b - (start - k), None]
    bus[max(0, start - offset):] = 0


def _pad(score: "_Score", piece: _Piece, chord, t0: float, t1: float, brightness: float, gain: float) -> None:
    release = 0.6
    n = int((t1 - t0 + release) * piece.sr)
    if n > 0:  # synthesised when a window needs it: a long piece's pads never sit in memory together
        score.place("pad", int(round(t0 * piece.sr)), functools.partial(_pad_sound, chord, n, brightness, piece.sr,
                                                                        release), gain / len(chord), length=n)


def _pad_sound(chord, n: int, brightness: float, sr: int, release: float) -> np.ndarray:
    sig = np.zeros((n, 2), np.float32)
    for i, midi in enumerate(chord):
        f = float(_midi_hz(midi))
        for ch, detune in enumerate((-0.12, 0.12)):
            sig[:, ch] += _saw(f * 2 ** (detune / 12), n, sr, phase=0.37 * i + 0.5 * ch)
    sig = _filter(sig, "lowpass", 350 + 2600 * brightness**2, sr)
    env = np.ones(n, np.float32)
    a, r = int(0.25 * sr), int(release * sr)
    env[:a] = np.linspace(0, 1, a)
    env[-r:] *= np.linspace(1, 0, r)
    return sig * env[:, None]


def _bass(score: "_Score", piece: _Piece, voices: "_Voices", midi: int, t_s: float, length_s: float, brightness: float,
          gain: float) -> None:
    sr = piece.sr
    length_s, brightness = round(max(0.08, min(length_s, 0.6)), 2), round(brightness, 1)
    key = ("bass", midi, length_s, brightness)
    if key not in voices.cache:
        n = int(length_s * sr)
        f = float(_midi_hz(midi))
        sig = 0.6 * _saw(f, n, sr) + 0.8 * np.sin(2 * np.pi * f * np.arange(n) / sr).astype(np.float32)
        sig = _filter(sig, "lowpass", 180 + 700 * brightness, sr)
        env = _env(n, sr, 0.35, 0.004)
        env[-int(0.01 * sr):] *= np.linspace(1, 0, int(0.01 * sr))
        voices.cache[key] = sig * env
    score.place("bass", int(round(t_s * sr)), voices.cache[key], gain)


def _texture(score: "_Score", piece: _Piece, voices: _Voices) -> None:
    """A noise bed whose level follows roughness x intensity (rough pictures sound rough)."""
    sr, n = piece.sr, piece.n
    hop = sr // 50
    t = np.arange(0, n, hop) / sr
    level = 0.05 * np.clip(piece.at("roughness", t) - 0.3, 0, 1) * (0.3 + 0.7 * piece.at("intensity", t))
    if level.max() < 1e-4:
        return
    loop = int(2.7 * sr)  # a filtered noise loop, tiled with different offsets per channel (no audible repeat)
    noise = _filter(np.stack([voices.noise(loop), voices.noise(loop)], axis=1), "bandpass", [1500, 9000], sr)
    level_at = np.arange(len(t)) * hop

    def render(a: int, b: int) -> np.ndarray:
        out = np.empty((b - a, 2), np.float32)
        amp = np.interp(np.arange(a, b), level_at, level).astype(np.float32)
        for ch, off in enumerate((0, loop // 3)):
            out[:, ch] = noise[(np.arange(a, b) + off) % loop, ch] * amp
        return out

    score.bed("texture", render)


def _arrange_foley(piece: _Piece, voices: _Voices) -> "_Score":
    score = _Score(piece.n, piece.sr, ("fx",))
    for s, strength in piece.event_samples():
        t = s / piece.sr
        sig = voices.impact(float(piece.at("brightness", t)), float(piece.at("roughness", t)),
                            size=float(np.clip(0.6 * strength + 0.4 * piece.at("intensity", t), 0, 1)))
        score.choke("fx", s)
        score.place("fx", s, sig, 0.3 + 0.7 * strength)
    return score


# ---------------------------------------------------------------------------------------------- rendering
WINDOW_S = 10.0  # the renderer's block: memory is bounded by it, not by the piece's length
_EDGE = 64  # samples rendered either side of a window: the sr/4 resampler reads 40 samples around each sample


@dataclass
class _Note:
    start: int
    length: int
    sound: object  # mono (n,) or stereo (n, 2) array, or a function of no arguments that synthesises it
    gain: float = 1.0
    pan: float = 0.0


@dataclass
class _Choke:
    start: int


class _Score:
    """The whole piece, decided before anything is rendered: per bus its notes and chokes in the order they are
    played, its bed (a continuous sound rendered per sample range) and the event ducks. ``render(a, b)`` gives
    the buses' samples a..b, the same whichever windows the piece is cut into."""

    def __init__(self, n: int, sr: int, bus_names):
        self.n, self.sr = n, sr
        self.parts: dict[str, list] = {name: [] for name in bus_names}
        self.beds: dict[str, object] = {}
        self.ducks: list[tuple[tuple, list]] = []
        self._spans: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._synthesised: dict[tuple[str, int], np.ndarray] = {}

    def place(self, bus: str, start: int, sound, gain: float = 1.0, pan: float = 0.0, length: int | None = None):
        length = len(sound) if length is None else int(length)
        if start < self.n and start + length > 0:
            self.parts[bus].append(_Note(int(start), length, sound, float(gain), float(pan)))

    def choke(self, bus: str, start: int) -> None:
        self.parts[bus].append(_Choke(int(start)))

    def bed(self, bus: str, render) -> None:
        self.beds[bus] = render

    def duck(self, names, event_samples) -> None:
        self.ducks.append((tuple(names), list(event_samples)))

    def render(self, a: int, b: int) -> dict[str, np.ndarray]:
        self._synthesised = {k: v for k, v in self._synthesised.items() if self._spans[k[0]][1][k[1]] > a}
        buses = {}
        for name, part in self.parts.items():
            bus = np.zeros((b - a, 2), np.float32)
            starts, ends = self._span(name)
            for i in np.flatnonzero((starts < b) & (ends > a)):
                op = part[i]
                if isinstance(op, _Choke):
                    choke(bus, op.start, self.sr, offset=a)
                else:
                    _place(bus, op.start - a, self._sound(name, i, op), op.gain, op.pan)
            if name in self.beds:
                bus += self.beds[name](a, b)
            buses[name] = bus
        for names, events in self.ducks:
            duck_for_events(buses, names, events, self.sr, offset=a)
        return buses

    def _span(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Where each of the bus's operations acts: a note while it sounds, a choke from its fade to the end."""
        if name not in self._spans:
            fade = int(0.02 * self.sr)
            part = self.parts[name]
            starts = np.array([op.start - (fade if isinstance(op, _Choke) else 0) for op in part], np.int64)
            ends = np.array([np.iinfo(np.int64).max if isinstance(op, _Choke) else op.start + op.length
                             for op in part], np.int64)
            self._spans[name] = (starts, ends)
        return self._spans[name]

    def _sound(self, bus: str, i: int, note: _Note) -> np.ndarray:
        if not callable(note.sound):
            return note.sound
        if (bus, i) not in self._synthesised:  # kept while it rings: the next window reuses it
            self._synthesised[(bus, i)] = note.sound()
        return self._synthesised[(bus, i)]


@functools.lru_cache(maxsize=4)
def _reverb_ir(sr: int, seconds: float = 1.1) -> np.ndarray:
    rng = np.random.default_rng(12345)  # the same room for every piece (so it is built once per rate)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    ir = rng.standard_normal((n, 2)).astype(np.float32) * np.exp(-t / (seconds / 6.9))[:, None].astype(np.float32)
    ir[: int(0.012 * sr)] = 0  # pre-delay keeps the dry attack clean
    ir = _filter(ir, "lowpass", 5000, sr) * 0.04
    ir.flags.writeable = False  # shared by every piece through the cache
    return ir


class _Room:
    """The reverb, streamed window by window. The room is band-limited to 5 kHz: the send goes down to sr/4 (16x
    less work), each block is convolved with the IR and its tail carried into the next (overlap-add), and the
    wet comes back up. The IR's 12 ms pre-delay makes the low-rate wet final that far past the block's end,
    more than the upsampler reads, so a window's wet is complete once its own block is in (no lag, no seam)."""

    REACH = 16  # low-rate samples the upsampler reads either side of a window (10, with a margin)

    def __init__(self, sr: int):
        self.ir = _reverb_ir(sr // 4)
        assert np.flatnonzero(np.abs(self.ir).sum(axis=1))[0] > self.REACH, "the pre-delay must cover the upsampler"
        self.wet = np.zeros((0, 2), np.float32)  # the low-rate wet, from low-rate sample self.wet_start on
        self.wet_start = 0

    def process(self, send: np.ndarray, send_start: int, a: int, b: int) -> np.ndarray:
        """The wet for samples a..b, given the send from ``send_start`` (a multiple of 4) to at least b + _EDGE."""
        from scipy.signal import oaconvolve, resample_poly

        p0, p1 = a // 4, -(-b // 4)
        if not send.any() and not self.wet.any():  # silence in, nothing ringing: skip the filters (foley's gaps)
            self.wet = self.wet[:0]
            self._drop_before(p1 - self.REACH)
            return np.zeros((b - a, 2), np.float32)
        low = resample_poly(send, 1, 4, axis=0).astype(np.float32)[p0 - send_start // 4 : p1 - send_start // 4]
        self._grow(p1 + len(self.ir) - 1)
        if low.any():
            into = self.wet[p0 - self.wet_start : p1 + len(self.ir) - 1 - self.wet_start]
            for ch in range(2):
                into[:, ch] += oaconvolve(low[:, ch], self.ir[:, ch]).astype(np.float32)
        q0, q1 = max(0, p0 - self.REACH), p1 + self.REACH
        up = resample_poly(self.wet[q0 - self.wet_start : q1 - self.wet_start], 4, 1, axis=0)
        self._drop_before(p1 - self.REACH)
        return up[a - 4 * q0 : b - 4 * q0].astype(np.float32)

    def _grow(self, end: int) -> None:
        have = self.wet_start + len(self.wet)
        if end > have:
            self.wet = np.concatenate([self.wet, np.zeros((end - have, 2), np.float32)])

    def _drop_before(self, start: int) -> None:
        if start > self.wet_start:
            self.wet, self.wet_start = self.wet[start - self.wet_start :].copy(), start


def _render(score: _Score, reverb: dict[str, float], duck_at=(), window_s: float | None = None) -> np.ndarray:
    """Render the score window by window: sum the buses, add the room, then normalise and soft-clip.

    Memory is the output plus one window of buses (the room's state is ~1 s at sr/4). The level needs the whole
    piece, so each window is written un-normalised into the output and the output is normalised in place at the
    end: one pass, and the same samples as rendering the piece in one block."""
    sr, n = score.sr, score.n
    step = max(4, int((window_s or WINDOW_S) * sr) // 4 * 4)  # windows start on multiples of 4 (the sr/4 room)
    sends = {k: np.float32(w) for k, w in reverb.items() if k in score.parts}
    room = _Room(sr) if sends else None
    out = np.empty((n, 2), np.float32)
    peak = 0.0
    for a in range(0, n, step):
        b = min(n, a + step)
        lo, hi = max(0, a - _EDGE), min(n, b + _EDGE)
        buses = score.render(lo, hi)
        send = None
        for k, w in sends.items():
            send = buses[k] * w if send is None else send + buses[k] * w
        names = list(buses)
        dry = buses[names[0]]
        for k in names[1:]:
            dry += buses[k]
        dry = dry[a - lo : b - lo]
        if room is not None:
            wet = {"wet": room.process(send, lo, a, b)}
            duck_for_events(wet, ("wet",), duck_at, sr, offset=a)  # the tail dips too, or it would blur the accent
            dry += wet["wet"]
        out[a:b] = dry
        peak = max(peak, float(np.abs(dry).max()))
    return _normalise(out, peak)


def _normalise(mix: np.ndarray, peak: float) -> np.ndarray:
    """Normalise on a robust level (99.9th percentile) and soft-clip the rest, so one impact cannot duck the mix."""
    if peak < 1e-9:
        return mix
    level = float(np.percentile(np.abs(mix[:: max(1, len(mix) // 200_000)]), 99.9)) or peak
    mix *= np.float32(1 / max(level, peak / 3))
    np.tanh(mix, out=mix)
    mix *= np.float32(0.89)
    return mix


# ---------------------------------------------------------------------------------------------- compose
def compose(controls: ComposerControls, style: str = "music", seed: int | None = None, tempo: float | None = None,
            key: str | None = None, bank=None, sample_rate_hz: int = 48000, progress: bool = False) -> Audio:
    """Render ``controls`` to stereo ``Audio`` of exactly ``round(duration_s * sample_rate_hz)`` samples.

    ``style``: ``"music"`` or ``"foley"``. ``tempo`` (bpm) and ``key`` (``"A"``, ``"F#m"``, ``"Bb minor"``)
    override the controls' global choices. ``bank``: a folder of audio samples to compose from (remix mode).
    The same controls and seed give the same samples.
    """
    if not isinstance(controls, ComposerControls):
        raise ConfigError(f"the composer takes ComposerControls, got {type(controls).__name__}")
    if style not in STYLES:
        raise ConfigError(f"unknown style {style!r}; choose one of {STYLES}")
    if int(sample_rate_hz) not in SAMPLE_RATES_HZ:
        raise ConfigError(f"sample_rate_hz must be one of {SAMPLE_RATES_HZ}, got {sample_rate_hz}")
    sr = int(sample_rate_hz)
    root, mode = parse_key(controls.key)
    mode = mode or controls.mode
    if key is not None:
        root, key_mode = parse_key(key)
        mode = key_mode or mode
    tempo_bpm = controls.tempo_bpm
    if tempo is not None:
        tempo_bpm = float(tempo)
        if not (40 <= tempo_bpm <= 240):
            raise ConfigError(f"tempo must be within 40..240 bpm, got {tempo}")
    n = int(round(controls.duration_s * sr))
    seed = 0 if seed is None else int(seed)
    piece = _Piece(controls, sr, n, np.random.default_rng(seed), root, mode, tempo_bpm)
    if bank is not None:
        from xmedia.adapters.composer_bank import arrange_from_bank

        score = arrange_from_bank(piece, load_bank(bank, sr), style, follow_pace=tempo is None)
        reverb = {"pad": 0.3, "hits": 0.25}
    elif style == "foley":
        if not controls.events_s:
            warnings.warn("no visual events (cuts, impacts, sudden motion) were found: the foley track is silent; "
                          "style='music' scores the whole clip", UserWarning, stacklevel=2)
        score = _arrange_foley(piece, _Voices(sr, piece.rng))
        reverb = {"fx": 0.15}
    else:
        if tempo is not None:
            piece.controls = controls.replace(track=_flat_tempo(controls))
        score = _arrange_music(piece, _Voices(sr, piece.rng), progress=progress)
        reverb = {"pad": 0.5, "pluck": 0.6, "drums": 0.12, "fx": 0.35}
    out = _render(score, reverb, duck_at=[s for s, _ in piece.event_samples()])
    assert out.shape == (n, 2)
    return Audio(out, sr)


def _flat_tempo(controls: ComposerControls) -> np.ndarray:
    """A tempo override means a steady tempo: hold the tempo control constant."""
    track = np.array(controls.track)
    track[:, CONTROL_NAMES.index("tempo")] = float(np.median(track[:, CONTROL_NAMES.index("tempo")]))
    return track


def load_bank(bank, sample_rate_hz: int):
    from xmedia.adapters.composer_bank import SampleBank

    return SampleBank.load(bank, sample_rate_hz)


# ---------------------------------------------------------------------------------------------- pipeline
MIXES = ("replace", "under", "over")


def soundtrack(video, style: str = "music", seed: int | None = None, tempo: float | None = None,
               key: str | None = None, bank=None, sample_rate_hz: int = 48000, max_side: int = 160,
               progress: bool = False, bridge=None, return_parts: bool = False):
    """Video -> soundtrack in one call: perceptual encoding, the bridge, the composer.

    With ``return_parts=True`` returns ``(audio, embedding, controls)`` (the CLI's report plots them).
    ``bridge``: a trained ``PerceptualToComposer`` (default: the initial, research-grounded weights).
    """
    from xmedia.adapters.perceptual import encode_video
    from xmedia.bridges.soundtrack import default_bridge

    emb = encode_video(video, max_side=max_side, progress=progress)
    controls = (bridge or default_bridge()).controls(emb)
    audio = compose(controls, style=style, seed=seed, tempo=tempo, key=key, bank=bank,
                    sample_rate_hz=sample_rate_hz, progress=progress)
    return (audio, emb, controls) if return_parts else audio


def mix(soundtrack_audio: Audio, original: Audio | None, mode: str = "replace") -> Audio:
    """Combine the soundtrack with the clip's own audio: ``replace`` it, sit ``under`` it (ducked where the
    clip is loud, so speech stays clear) or play ``over`` it (the clip's sound kept quietly beneath)."""
    if mode not in MIXES:
        raise ConfigError(f"unknown mix {mode!r}; choose one of {MIXES}")
    if mode == "replace" or original is None:
        return soundtrack_audio
    sr, n = soundtrack_audio.sample_rate_hz, soundtrack_audio.num_samples
    orig = original.with_channels(2).resample(sr).samples[:n]
    orig = np.pad(orig, ((0, n - len(orig)), (0, 0)))
    music = soundtrack_audio.samples

    def rms(x):
        return float(np.sqrt(np.mean(x[:: max(1, len(x) // 100_000)] ** 2))) + 1e-9

    # The quieter part sits ~10 dB (x0.3 in RMS) below the other, whatever the two levels were.
    if mode == "under":
        from scipy.ndimage import uniform_filter1d

        env = uniform_filter1d(np.abs(orig).mean(axis=1), size=int(0.3 * sr), mode="nearest")
        duck = 1.0 - 0.6 * np.clip(env / (np.percentile(env, 95) + 1e-6), 0, 1)
        out = orig + (0.3 * rms(orig) / rms(music)) * music * duck[:, None]
    else:
        out = music + (0.3 * rms(music) / rms(orig)) * orig
    peak = float(np.abs(out).max())
    if peak > 0.99:
        out = out * (0.99 / peak)
    return Audio(out.astype(np.float32), sr)


# ---------------------------------------------------------------------------------------------- analysis
def detect_onsets(audio: Audio, threshold: float = 0.08, min_gap_s: float = 0.03) -> np.ndarray:
    """Onset times (s): peaks of half-wave-rectified log spectral flux above an adaptive (median) threshold.

    Frames of ~21 ms (hop ~5 ms) find the onsets; each is then refined to the steepest rise of the 1 ms
    amplitude envelope within one frame around it, so the reported time is the attack itself (a few ms).
    """
    from scipy.ndimage import maximum_filter1d, median_filter, uniform_filter1d

    sr = audio.sample_rate_hz
    mono = audio.mono().astype(np.float32)
    win = 1 << int(round(math.log2(sr * 0.0213)))
    hop = win // 4
    if len(mono) < win:
        return np.zeros(0)
    n = 1 + (len(mono) - win) // hop
    frames = np.lib.stride_tricks.as_strided(mono, (n, win), (mono.strides[0] * hop, mono.strides[0]))
    power = np.abs(np.fft.rfft(frames * np.hanning(win).astype(np.float32), axis=1)) ** 2
    # Log energy in log-spaced bands, so a bass note's onset counts as much as a hi-hat's.
    edges = np.unique(np.geomspace(2, win // 2, 25).astype(int))
    bands = np.add.reduceat(power, edges, axis=1)[:, :-1]
    logband = np.log1p(1e4 * bands / win)
    flux = np.maximum(0, np.diff(logband, axis=0, prepend=logband[:1])).mean(axis=1)
    flux /= flux.max() + 1e-9
    k = max(3, int(0.1 * sr / hop) | 1)
    floor = median_filter(flux, size=k, mode="nearest") + threshold
    gap = max(1, int(min_gap_s * sr / hop))
    is_peak = (flux >= maximum_filter1d(flux, size=2 * gap + 1, mode="nearest")) & (flux > floor)
    env = np.log(uniform_filter1d(np.abs(mono), size=max(1, sr // 1000)) + 1e-5)
    rise = np.diff(env, prepend=env[:1])
    rise = uniform_filter1d(rise, size=max(1, sr // 2000))
    out = []
    for i in np.flatnonzero(is_peak):
        a, b = max(0, i * hop), min(len(mono), i * hop + win + hop)
        out.append((a + int(np.argmax(rise[a:b]))) / sr)
    return np.asarray(out)


# ---------------------------------------------------------------------------------------------- routes
def _composer_factory():
    return compose


def _bridge_factory():
    from xmedia.bridges.soundtrack import default_bridge

    bridge = default_bridge()

    def run(embedding, duration_s=None):
        return bridge.controls(embedding.timed(duration_s))  # a photo or a phrase is scored as a held mood

    return run


def register(registry):
    registry.register(
        "composer", "controls:composer", "audio", _composer_factory, cost=1.0, kind="decoder",
        options=("style", "seed", "tempo", "key", "bank", "sample_rate_hz", "progress"),
        description="the embedded composer: DSP drums, bass, pads, plucks, textures and impacts (no weights); "
                    "style music|foley, bank=folder/ to remix your own samples",
    )
    registry.register(
        "perceptual-to-composer", "space:perceptual", "controls:composer", _bridge_factory, cost=0.1, kind="bridge",
        options=("duration_s",),
        description="PerceptualToComposer: tempo from pace, intensity from energy, key/mode/register from "
                    "brightness, warmth and valence, timbre from texture, accents on events",
    )
