"""A ``Score`` as note events, and note events as tokens (what the composition models count).

Each piece gives one melody (the highest part that has notes; where it has chords, the top note; a note is cut
where the next one starts) on a grid of 1/12 beat (so sixteenths and triplets are exact), and, where the piece
has a second part, its bass (the lowest part) on the beat, for the harmony tables. A note event is two tokens:

- a rhythm token ``"p{POS}d{DUR}"``: its position in the bar and its length, both in 1/12 beats (``p0d12``: a
  crotchet on the downbeat; ``p18d6``: a quaver on the second half of beat 2). The position makes the metre
  part of what a model learns (long notes on strong beats, pickups, the bar's shape); with the previous note's
  rhythm token in the context it is all but certain, so it costs next to nothing where it is redundant;
- a pitch token: semitones from the key's tonic in the octave of middle C (``+0`` the tonic C4..B4, ``+7`` the
  fifth above, ``-5`` the fifth below), or ``r`` for a rest. Tonic-relative pitch is transposition-free (every
  key teaches every other) and keeps the scale degree, which a cadence constraint needs; an interval-from-the-
  previous-note token would lose the degree.

A note's cost (nats) is the sum of its two tokens' costs. A piece starts with ``<s>`` and ends with ``</s>``
(not counted as a note). The key is the piece's first key, refined to major or relative minor by the
Krumhansl-Kessler profiles and the final bass note (a key signature alone does not say which); a piece without
one gets the key of its pitch content. A pickup bar is found from where the long notes fall (``bar_phase``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xmedia.errors import MediaError
from xmedia.score import Key, Score

GRID = 12  # grid points per quarter-note beat
MAX_DUR = 8 * GRID  # notes longer than two 4/4 bars are cut to this
BOS, EOS, UNK, REST = "<s>", "</s>", "<unk>", "r"
SPECIAL = (BOS, EOS, UNK)
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10, 11)  # natural minor with the leading tone (harmonic minor's raised 7th)


@dataclass
class Piece:
    """One piece as events: ``notes`` = ``[(pos, dur, rel_pitch or None), ...]`` on the grid, the bar length
    (grid points), the key, and the bass on the beat (``[(melody_pc or None, bass_pc), ...]``, empty without a
    bass part)."""

    notes: list
    bar: int
    key: Key
    beat_pairs: list
    title: str = ""
    metre: tuple = (4, 4)


def rhythm_token(pos: int, dur: int) -> str:
    return f"p{pos}d{dur}"


def parse_rhythm(tok: str) -> tuple[int, int] | None:
    if not tok.startswith("p") or "d" not in tok:
        return None
    p, d = tok[1:].split("d")
    return int(p), int(d)


def pitch_token(rel) -> str:
    return REST if rel is None else f"{int(rel):+d}"


def parse_pitch(tok: str):
    """``"+7"`` -> 7, ``"r"`` -> None; anything else (a special or rhythm token) -> ``False``."""
    if tok == REST:
        return None
    if tok[:1] in "+-" and tok[1:].isdigit():
        return int(tok)
    return False


def piece_tokens(piece: Piece) -> list[str]:
    out = [BOS]
    for pos, dur, rel in piece.notes:
        out += [rhythm_token(pos, dur), pitch_token(rel)]
    return out + [EOS]


def estimate_key(pitches, durations, hint: Key | None = None, final_bass: int | None = None) -> Key:
    """Krumhansl-Kessler key of the duration-weighted pitch classes; with a ``hint`` (a key signature) only it
    and its relative minor/major are candidates, and the final bass note's pitch class breaks close calls."""
    hist = np.bincount(np.asarray(pitches, np.int64) % 12, weights=np.asarray(durations, np.float64), minlength=12)
    if hist.sum() <= 0:
        return hint or Key(0, 0, "major")
    if hint is not None:
        major = hint.tonic if hint.mode == "major" else (hint.tonic + 3) % 12
        cands = [(major, "major"), ((major + 9) % 12, "minor")]
    else:
        cands = [(t, m) for t in range(12) for m in ("major", "minor")]
    best, best_score = None, -np.inf
    for tonic, mode in cands:
        prof = np.roll(MAJOR_PROFILE if mode == "major" else MINOR_PROFILE, tonic)
        score = float(np.corrcoef(hist, prof)[0, 1]) + (0.15 if final_bass is not None and final_bass % 12 == tonic
                                                        else 0.0)
        if score > best_score:
            best, best_score = (tonic, mode), score
    return Key(0, best[0], best[1])


def bar_phase(onsets: np.ndarray, durations: np.ndarray, bar: int) -> int:
    """The shift (grid points) that puts this line's bar lines where its longer notes start: 0 for a piece that
    starts on a downbeat, ``bar - pickup`` for one with a pickup."""
    if bar <= 0 or not len(onsets):
        return 0
    weights = np.minimum(durations, bar).astype(np.float64)
    first_bar = onsets < onsets[0] + bar
    best, best_score = 0, -1.0
    for shift in sorted(set(((-onsets[first_bar]) % bar).tolist()), key=lambda s: (s != 0, s)):
        score = float(weights[(onsets + shift) % bar == 0].sum())
        if score > best_score * 1.05 + 1e-9:  # a pickup must explain clearly more than no shift
            best, best_score = int(shift), score
    return best


def _pitched_parts(score: Score) -> list[int]:
    return [i for i, p in enumerate(score.parts) if not p.is_drum and (score.part == i).any()]


def _line(score: Score, part: int, highest: bool = True):
    """One part as a monophonic line on the grid: (onset, duration, pitch) arrays."""
    keep = score.part == part
    on = np.round(score.onset_ticks[keep] * GRID / score.ticks_per_beat).astype(np.int64)
    dur = np.maximum(1, np.round(score.duration_ticks[keep] * GRID / score.ticks_per_beat).astype(np.int64))
    pitch = score.pitch[keep]
    order = np.lexsort((-pitch if highest else pitch, on))
    on, dur, pitch = on[order], dur[order], pitch[order]
    first = np.ones(len(on), bool)
    first[1:] = on[1:] != on[:-1]
    on, dur, pitch = on[first], dur[first], pitch[first]
    if len(on) > 1:
        dur[:-1] = np.minimum(dur[:-1], np.diff(on))
    return on, np.minimum(dur, MAX_DUR), pitch


def score_to_piece(score: Score) -> Piece:
    """The melody (and bass on the beat) of ``score`` as a ``Piece``; a score without pitched notes is a
    MediaError."""
    parts = _pitched_parts(score)
    if not parts:
        what = "only drums" if score.num_notes else "no notes"
        raise MediaError(f"score {score.title or ''!r} has {what}: a composition model learns from pitched notes")
    means = {i: float(score.pitch[score.part == i].mean()) for i in parts}
    mel_part = max(parts, key=lambda i: means[i])
    on, dur, pitch = _line(score, mel_part)
    metre = score.metre
    bar = int(metre.bar_beats * GRID)
    bass = None
    if len(parts) > 1:
        bass_part = min(parts, key=lambda i: means[i])
        bass = _line(score, bass_part, highest=False)
    final_bass = int(bass[2][-1]) if bass is not None else int(pitch[-1])
    key = estimate_key(score.pitch, score.duration_ticks, score.key, final_bass)
    shift = bar_phase(on - on[0], dur, bar)
    start = on[0] - shift  # the (virtual) downbeat before the first note
    ref = 60 + key.tonic
    notes = []
    for k in range(len(on)):
        o = int(on[k] - start)
        rel = int(pitch[k]) - ref
        notes.append((o % bar, int(dur[k]), rel))
        end = o + int(dur[k])
        nxt = int(on[k + 1] - start) if k + 1 < len(on) else end
        while end < nxt:  # a rest, cut at bar lines
            stop = min(nxt, (end // bar + 1) * bar)
            notes.append((end % bar, min(stop - end, MAX_DUR), None))
            end = stop
    pairs = _beat_pairs(on - start, dur, pitch, bass, start, bar, metre, ref) if bass is not None else []
    return Piece(notes, bar, key, pairs, score.title, (metre.numerator, metre.denominator))


def harmony_unit(numerator: int, denominator: int) -> int:
    """Grid points per chord: a dotted crotchet in compound metres (6/8, 9/8, 12/8), else a crotchet."""
    return GRID * 3 // 2 if denominator == 8 and numerator % 3 == 0 and numerator > 3 else GRID


def sounding(on: np.ndarray, dur: np.ndarray, t: int):
    """Index of the note sounding at grid time ``t`` (the last one started at or before it), or None."""
    i = int(np.searchsorted(on, t, side="right")) - 1
    return i if i >= 0 and on[i] + dur[i] > t else None


def _beat_pairs(mon, mdur, mpitch, bass, start, bar, metre, ref) -> list:
    bon, bdur, bpitch = bass
    bon = bon - start
    unit = harmony_unit(metre.numerator, metre.denominator)
    out = []
    for t in range(0, int(max(mon[-1] + mdur[-1], bon[-1] + bdur[-1])), unit):
        b = sounding(bon, bdur, t)
        if b is None:
            continue
        m = sounding(mon, mdur, t)
        out.append((None if m is None else int(mpitch[m] - ref) % 12, int(bpitch[b] - ref) % 12))
    return out
