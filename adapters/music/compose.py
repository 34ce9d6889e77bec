"""Composing under constraints: a melody drawn token by token from a music model, then a bass and chords.

At each note the model's next-token distribution is masked, then sampled (``temperature``; the same seed gives
the same score):

- metre: the rhythm token must start where the bar has got to and end inside the bar (the piece is exactly
  ``bars`` bars);
- key: pitches in the key's scale (major, or minor with its raised leading tone);
- range: between ``low`` and ``high`` (MIDI; default the training melodies' 2nd-98th percentile);
- cadence: the note that ends a phrase (every ``phrase_bars`` bars, and the last bar) is the tonic, never a
  rest;
- copy cap: no run of more than ``max_copy`` notes (rhythm and pitch) as it stands in one training piece.

When a constraint leaves nothing, the copy cap is dropped first, then the range. The harmony (``harmony.py``)
follows the melody beat by beat. The result is a three-part ``Score``: melody, bass, chords.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from xmedia import limits
from xmedia.errors import ConfigError
from xmedia.score import Key, Metre, Part, Score, Tempo, parse_key, parse_metre

from .harmony import accompany
from .tokens import BOS, GRID, MAJOR_SCALE, MINOR_SCALE, parse_pitch, parse_rhythm, pitch_token, rhythm_token

MAX_BARS = 1024
TICKS = 480
DEFAULT_PROGRAMS = (0, 32, 48)  # GM: acoustic grand piano, acoustic bass, string ensemble


def sample(p: np.ndarray, temperature: float, rng) -> int:
    if temperature == 0:
        return int(np.argmax(p))
    z = np.where(p > 0, np.log(np.maximum(p, 1e-300)) / temperature, -np.inf)
    z = np.exp(z - z.max())
    cdf = np.cumsum(z)
    return int(min(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"), len(p) - 1))


def _defaults(model, key, metre, tempo):
    s = model.stats
    if metre is None:
        metres = s.get("metres") or {"4/4": 1}
        metre = max(metres, key=metres.get)
    if key is None:
        modes = s.get("modes") or {"major": 1}
        key = "C" if modes.get("major", 0) >= modes.get("minor", 0) else "Am"
    key = key if isinstance(key, Key) else parse_key(key)
    metre = metre if isinstance(metre, Metre) else parse_metre(metre)
    tempo = float(s.get("tempo", 100) if tempo is None else tempo)
    if not tempo > 0 or not np.isfinite(tempo):
        raise ConfigError(f"tempo must be > 0 beats per minute, got {tempo}")
    return key, metre, tempo


def _windows(model, n: int) -> set:
    """Hashes of every run of ``n`` notes in the training pieces (notes = (rhythm, pitch) token pairs)."""
    out = set()
    for run in model.corpus_runs():
        body = run[1:-1] if run and run[0] == BOS else run
        for i in range(0, len(body) - 2 * n + 1, 2):
            out.add(hash(tuple(body[i:i + 2 * n])))
    return out


def compose(model, bars: int = 8, key=None, metre=None, tempo=None, seed: int = 0, temperature: float = 1.0,
            low: int | None = None, high: int | None = None, phrase_bars: int = 4, max_copy: int | None = 8,
            harmony: bool = True, programs=None, title: str = "") -> Score:
    """A ``bars``-bar piece in ``key`` (``"Am"``) and ``metre`` (``"3/4"``; default the corpus's commonest) at
    ``tempo`` bpm; ``harmony=False`` gives the melody alone. Every constraint is in this module's docstring."""
    if isinstance(bars, bool) or not isinstance(bars, (int, np.integer)) or bars < 1:
        raise ConfigError(f"bars must be a whole number >= 1, got {bars!r}")
    limits.check("music_bars", bars, "bars")
    if not (isinstance(temperature, (int, float)) and np.isfinite(temperature) and temperature >= 0):
        raise ConfigError(f"temperature must be >= 0, got {temperature!r}")
    if int(phrase_bars) < 1:
        raise ConfigError(f"phrase_bars must be >= 1, got {phrase_bars}")
    key, metre, tempo = _defaults(model, key, metre, tempo)
    ref = 60 + key.tonic
    s = model.stats
    low = ref + s.get("low", -5) if low is None else int(low)
    high = ref + s.get("high", 12) if high is None else int(high)
    if not 0 <= low <= high - 5 <= 122:
        raise ConfigError(f"the range {low}-{high} (MIDI) must span at least a fourth within 0-127")
    melody = _melody(model, int(bars), key, metre, low, high, int(phrase_bars), max_copy, float(temperature),
                     np.random.default_rng(seed))
    return _score(melody, key, metre, tempo, bars, phrase_bars, model, harmony, programs, title, seed)


def _melody(model, bars, key, metre, low, high, phrase_bars, max_copy, temperature, rng) -> list:
    """``[(onset, duration, midi pitch or None), ...]`` on the grid."""
    bar = int(metre.bar_beats * GRID)
    total = bars * bar
    ref = 60 + key.tonic
    scale = set(MAJOR_SCALE if key.mode == "major" else MINOR_SCALE)
    vocab = model.vocab
    rhythms = {i: parse_rhythm(t) for i, t in enumerate(vocab) if parse_rhythm(t) is not None}
    pitches = {i: parse_pitch(t) for i, t in enumerate(vocab) if parse_pitch(t) is not False}
    windows = _windows(model, max_copy + 1) if max_copy else set()
    history: list[str] = []
    state = model.advance(model.initial_state(), model.index[BOS])
    notes, t = [], 0
    while t < total:
        pos, left = t % bar, bar - t % bar
        p = model.next_probs(state)
        ok = [i for i, (rp, rd) in rhythms.items() if rp == pos and rd <= left]
        if not ok:  # this position never starts a note in the corpus: any length that fits
            ok = [i for i, (_, rd) in rhythms.items() if rd <= left]
        if ok:
            r = ok[sample(p[ok], temperature, rng)]
            dur = rhythms[r][1]
        else:
            r, dur = model.index.get(rhythm_token(pos, left)), left
        end_bar = (t + dur) // bar if (t + dur) % bar == 0 else -1
        cadence = end_bar > 0 and (end_bar % phrase_bars == 0 or end_bar == bars)
        if r is not None:
            state = model.advance(state, r)
        p = model.next_probs(state)
        rtok = vocab[r] if r is not None else rhythm_token(pos, dur)
        chosen = None
        for relax in (0, 1, 2):
            cands = []
            for i, rel in pitches.items():
                if rel is None:
                    if cadence or not notes:
                        continue
                elif (rel % 12 not in scale or (cadence and rel % 12 != 0)
                      or (relax < 2 and not low <= ref + rel <= high)):
                    continue
                if relax == 0 and windows and hash(tuple(history[-2 * max_copy:] + [rtok, vocab[i]])) in windows:
                    continue
                cands.append(i)
            if cands:
                chosen = cands[sample(p[cands], temperature, rng)]
                break
        if chosen is None:  # nothing in the vocabulary fits: the tonic nearest the middle of the range
            rel = int(round(((low + high) / 2 - ref) / 12)) * 12
            chosen = model.index.get(pitch_token(rel))
            value = rel
        else:
            value = pitches[chosen]
        if chosen is not None:
            state = model.advance(state, chosen)
        history += [rtok, pitch_token(value)]
        notes.append((t, dur, None if value is None else ref + value))
        t += dur
    return notes


def _score(melody, key, metre, tempo, bars, phrase_bars, model, harmony, programs, title, seed) -> Score:
    tick = TICKS // GRID
    rows = [(on * tick, dur * tick, pitch, 96, 0) for on, dur, pitch in melody if pitch is not None]
    programs = tuple(programs or model.stats.get("programs") or DEFAULT_PROGRAMS)
    parts = [Part("melody", int(programs[0]))]
    if harmony:
        rng = np.random.default_rng(seed + 1)
        bass, chords = accompany(melody, key, metre, bars, phrase_bars, model.harmony_counts(), rng)
        rows += [(on * tick, dur * tick, pitch, 80, 1) for on, dur, pitch in bass]
        rows += [(on * tick, dur * tick, pitch, 60, 2) for on, dur, pitch in chords]
        parts += [Part("bass", int(programs[1])), Part("chords", int(programs[2]))]
    return Score.from_notes(rows, parts=tuple(parts), ticks_per_beat=TICKS,
                            tempos=(Tempo(0, Fraction(tempo).limit_denominator(1000)),), metres=(metre,),
                            keys=(key,), title=title or f"composed in {key}, {metre}",
                            meta={"bars": int(bars), "seed": int(seed)})
