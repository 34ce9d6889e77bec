"""``Score``: music as notes, the symbolic medium (what a composer writes, what MIDI and MusicXML hold).

Time is exact, as in MIDI and PyAV: every position is an integer number of ticks, ``ticks_per_beat`` to a
quarter-note beat, so a note's onset in beats is the ``Fraction`` ``onset_ticks / ticks_per_beat``; seconds
follow from the tempo map (``Tempo`` changes at tick positions), exactly, with ``seconds_at``.

A score holds:

- notes, one row each, as parallel read-only arrays: ``onset_ticks``, ``duration_ticks`` (> 0), ``pitch`` (MIDI
  0-127), ``velocity`` (1-127) and ``part`` (an index into ``parts``), sorted by onset, then part, then pitch;
- ``parts``: ``Part(name, program, is_drum)`` (``program`` is the General MIDI program, 0-127);
- a tempo map (``tempos``, the first at tick 0), metres (``metres``: ``Metre(tick, numerator, denominator)``)
  and keys (``keys``: ``Key(tick, tonic, mode)``, tonic a pitch class 0-11, mode ``"major"`` or ``"minor"``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from .errors import MediaError
from .media_base import _frozen_array, _Media, as_fraction

PITCH_CLASSES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_LETTERS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
NOTE_FIELDS = ("onset_ticks", "duration_ticks", "pitch", "velocity", "part")


@dataclass(frozen=True)
class Part:
    name: str = "part"
    program: int = 0  # General MIDI program, 0-127 (0: acoustic grand piano)
    is_drum: bool = False

    def __post_init__(self):
        if not (isinstance(self.program, (int, np.integer)) and 0 <= self.program <= 127):
            raise MediaError(f"Part {self.name!r}: program must be a General MIDI number 0-127, got {self.program!r}")


@dataclass(frozen=True)
class Tempo:
    tick: int
    bpm: Fraction  # quarter-note beats per minute

    def __post_init__(self):
        bpm = as_fraction(self.bpm, "tempo bpm")
        if not 1 <= bpm <= 1000:
            raise MediaError(f"tempo must be 1-1000 beats per minute, got {float(bpm):g}")
        object.__setattr__(self, "bpm", bpm)


@dataclass(frozen=True)
class Metre:
    tick: int
    numerator: int = 4
    denominator: int = 4

    def __post_init__(self):
        if not (1 <= self.numerator <= 64 and self.denominator in (1, 2, 4, 8, 16, 32, 64)):
            raise MediaError(f"metre {self.numerator}/{self.denominator}: the numerator must be 1-64 and the "
                             "denominator a power of two (1-64), e.g. 3/4 or 6/8")

    @property
    def bar_beats(self) -> Fraction:
        """Quarter-note beats in one bar (6/8: 3)."""
        return Fraction(4 * self.numerator, self.denominator)

    def __str__(self):
        return f"{self.numerator}/{self.denominator}"


@dataclass(frozen=True)
class Key:
    tick: int
    tonic: int  # pitch class, 0 = C
    mode: str = "major"

    def __post_init__(self):
        if self.mode not in ("major", "minor") or not 0 <= self.tonic <= 11:
            raise MediaError(f"key: tonic must be a pitch class 0-11 and mode major or minor, got {self.tonic!r} "
                             f"{self.mode!r}")

    def __str__(self):
        return PITCH_CLASSES[self.tonic] + ("m" if self.mode == "minor" else "")


def parse_key(text: str, tick: int = 0) -> Key:
    """``"Am"``, ``"A minor"``, ``"F#"``, ``"Bb major"``, ``"c#m"`` -> ``Key``; anything else is a MediaError."""
    m = re.fullmatch(r"\s*([A-Ga-g])([#b]?)\s*(m|min|minor|maj|major)?\s*", str(text))
    if not m:
        raise MediaError(f"unknown key {text!r}: write a tonic and an optional mode, e.g. C, Am, F#m, 'Bb major'")
    tonic = (_LETTERS[m.group(1).upper()] + {"#": 1, "b": -1, "": 0}[m.group(2)]) % 12
    return Key(tick, tonic, "minor" if (m.group(3) or "").startswith("m") and m.group(3) not in ("maj", "major")
               else "major")


def parse_metre(text: str, tick: int = 0) -> Metre:
    """``"3/4"`` -> ``Metre``; anything else is a MediaError."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(text))
    if not m:
        raise MediaError(f"unknown metre {text!r}: write NUMERATOR/DENOMINATOR, e.g. 4/4, 3/4 or 6/8")
    return Metre(tick, int(m.group(1)), int(m.group(2)))


@dataclass(frozen=True, eq=False)
class Score(_Media):
    onset_ticks: np.ndarray
    duration_ticks: np.ndarray
    pitch: np.ndarray
    velocity: np.ndarray
    part: np.ndarray
    parts: tuple[Part, ...] = (Part(),)
    ticks_per_beat: int = 480
    tempos: tuple[Tempo, ...] = (Tempo(0, Fraction(120)),)
    metres: tuple[Metre, ...] = (Metre(0),)
    keys: tuple[Key, ...] = ()
    title: str = ""
    meta: dict = field(default_factory=dict)
    KIND = "score"

    def __post_init__(self):
        cols = [np.asarray(getattr(self, f)) for f in NOTE_FIELDS]
        n = len(cols[0])
        if any(c.ndim != 1 or len(c) != n for c in cols):
            raise MediaError(f"Score note arrays must be 1-D and equally long, got shapes {[c.shape for c in cols]}")
        on, dur, pitch, vel, part = (c.astype(np.int64) if c.size else np.zeros(0, np.int64) for c in cols)
        if any(c.size and not np.array_equal(c, a) for c, a in zip(cols, (on, dur, pitch, vel, part))):
            raise MediaError("Score note fields are whole numbers (ticks, MIDI pitch, velocity, part index)")
        problems = [(on < 0, "negative onsets"), (dur <= 0, "durations <= 0"), ((pitch < 0) | (pitch > 127),
                    "pitches outside MIDI 0-127"), ((vel < 1) | (vel > 127), "velocities outside 1-127"),
                    ((part < 0) | (part >= len(self.parts)), f"part indices outside 0-{len(self.parts) - 1}")]
        for bad, what in problems:
            if bad.any():
                raise MediaError(f"Score has {int(bad.sum())} notes with {what}")
        if not isinstance(self.ticks_per_beat, (int, np.integer)) or not 1 <= self.ticks_per_beat <= 32767:
            raise MediaError(f"ticks_per_beat must be a whole number 1-32767, got {self.ticks_per_beat!r}")
        if not self.tempos or self.tempos[0].tick != 0:
            raise MediaError("a Score's tempo map must start at tick 0 (Tempo(0, bpm))")
        for name in ("tempos", "metres", "keys"):
            ticks = [x.tick for x in getattr(self, name)]
            if ticks != sorted(ticks) or any(t < 0 for t in ticks):
                raise MediaError(f"Score {name} must be in order of their (non-negative) ticks")
        order = np.lexsort((pitch, part, on))
        for f, c in zip(NOTE_FIELDS, (on, dur, pitch, vel, part)):
            object.__setattr__(self, f, _frozen_array(c[order]))
        object.__setattr__(self, "parts", tuple(self.parts))
        object.__setattr__(self, "tempos", tuple(self.tempos))
        object.__setattr__(self, "metres", tuple(self.metres))
        object.__setattr__(self, "keys", tuple(self.keys))

    # -- size and time --------------------------------------------------------------------------------------
    @property
    def num_notes(self) -> int:
        return len(self.pitch)

    @property
    def end_ticks(self) -> int:
        return int((self.onset_ticks + self.duration_ticks).max()) if self.num_notes else 0

    def seconds_at(self, ticks) -> np.ndarray:
        """Seconds at tick positions (an array, or one number), through the tempo map."""
        t = np.asarray(ticks, np.float64)
        starts = np.array([x.tick for x in self.tempos], np.float64)
        spb = np.array([60.0 / float(x.bpm) for x in self.tempos]) / self.ticks_per_beat  # seconds per tick
        base = np.concatenate([[0.0], np.cumsum(np.diff(starts) * spb[:-1])])
        seg = np.searchsorted(starts, t, side="right") - 1
        return base[seg] + (t - starts[seg]) * spb[seg]

    @property
    def duration_s(self) -> Fraction:
        """Exact length in seconds (to the end of the last note)."""
        end, total = self.end_ticks, Fraction(0)
        for here, nxt in zip(self.tempos, list(self.tempos[1:]) + [None]):
            stop = min(end, nxt.tick) if nxt is not None else end
            if stop > here.tick:
                total += Fraction(stop - here.tick, self.ticks_per_beat) * 60 / here.bpm
        return total

    def onset_s(self) -> np.ndarray:
        return self.seconds_at(self.onset_ticks)

    def offset_s(self) -> np.ndarray:
        return self.seconds_at(self.onset_ticks + self.duration_ticks)

    def beats(self, ticks) -> Fraction:
        return Fraction(int(ticks), self.ticks_per_beat)

    @property
    def key(self) -> Key | None:
        return self.keys[0] if self.keys else None

    @property
    def metre(self) -> Metre:
        return self.metres[0] if self.metres else Metre(0)

    @property
    def tempo_bpm(self) -> Fraction:
        return self.tempos[0].bpm

    # -- building ---------------------------------------------------------------------------------------------
    @classmethod
    def from_notes(cls, notes, **fields) -> "Score":
        """From ``(onset_ticks, duration_ticks, pitch, velocity, part)`` rows (any iterable of 5-tuples)."""
        rows = np.asarray(list(notes), np.int64).reshape(-1, 5)
        return cls(*(rows[:, i] for i in range(5)), **fields)

    def notes(self) -> np.ndarray:
        """The notes as an ``(n, 5)`` int array of ``onset_ticks, duration_ticks, pitch, velocity, part``."""
        return np.stack([getattr(self, f) for f in NOTE_FIELDS], axis=1) if self.num_notes else np.zeros((0, 5),
                                                                                                         np.int64)

    def part_notes(self, index: int) -> "Score":
        """The notes of one part (the parts and the maps stay as they are)."""
        keep = self.part == index
        return self.replace(**{f: getattr(self, f)[keep] for f in NOTE_FIELDS})

    def transpose(self, semitones: int) -> "Score":
        pitched = np.array([not self.parts[p].is_drum for p in self.part], bool)
        pitch = self.pitch + np.where(pitched, int(semitones), 0)
        if ((pitch < 0) | (pitch > 127)).any():
            raise MediaError(f"transposing by {semitones} semitones takes notes outside MIDI 0-127")
        keys = tuple(Key(k.tick, (k.tonic + int(semitones)) % 12, k.mode) for k in self.keys)
        return self.replace(pitch=pitch, keys=keys)

    def info_fields(self) -> dict:
        """What ``xmedia info`` shows for a score: parts, notes, duration, tempo, metre and key."""
        counts = np.bincount(self.part, minlength=len(self.parts)) if self.num_notes else [0] * len(self.parts)
        parts = [f"{p.name} ({'drums' if p.is_drum else f'program {p.program}'}, {int(n)} notes)"
                 for p, n in zip(self.parts, counts)]
        bpm = sorted({round(float(t.bpm), 3) for t in self.tempos})
        tempo = bpm[0] if len(bpm) == 1 else f"{bpm[0]:g}-{bpm[-1]:g} ({len(self.tempos)} tempo marks)"
        return {"title": self.title, "parts": parts, "notes": self.num_notes,
                "duration_s": round(float(self.duration_s), 3), "beats": round(self.end_ticks / self.ticks_per_beat, 3),
                "tempo_bpm": tempo,
                "metre": ", ".join(str(m) for m in self.metres), "key": ", ".join(str(k) for k in self.keys) or None,
                "ticks_per_beat": self.ticks_per_beat}

    def __repr__(self):
        key = f", key {self.key}" if self.key else ""
        return (f"Score({self.num_notes} notes, {len(self.parts)} part(s), {float(self.duration_s):.2f} s, "
                f"{self.metre}, {float(self.tempo_bpm):g} bpm{key}{', ' + repr(self.title) if self.title else ''})")
