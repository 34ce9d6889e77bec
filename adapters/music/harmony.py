"""A bass and chords for a melody, one chord per beat (a dotted crotchet in 6/8, 9/8, 12/8).

The bass's pitch class on each beat is drawn from the model's harmony table: counts of (previous bass, melody,
bass) pitch classes on the beats of the training pieces that have a bass part (Bach's chorales), interpolated
with (melody, bass) and (bass) alone. A model trained on single melodies (fiddle tunes, folk songs) has no such
counts: its bass is the root of the diatonic triad that holds most of the beat's melody (I, V, IV preferred,
then vi, ii, iii). Phrase ends are cadences: the last beat of a phrase has the tonic in the bass, the beat
before the piece's last has the dominant when the melody allows it. Chords are the diatonic triad holding the
bass (root position first, else the bass as third or fifth) and the melody note, voiced under the melody.
"""
from __future__ import annotations

import numpy as np

from .tokens import GRID, harmony_unit

MAJOR_DEGREES = (0, 2, 4, 5, 7, 9, 11)
MINOR_DEGREES = (0, 2, 3, 5, 7, 8, 11)  # harmonic minor: a major dominant
ROOT_PRIOR = {0: 1.0, 4: 0.8, 3: 0.7, 5: 0.4, 1: 0.4, 2: 0.2, 6: 0.0}  # scale-step index -> preference
BASS_LOW, BASS_HIGH = 36, 57
CHORD_LOW, CHORD_HIGH = 50, 67


def triads(mode: str) -> list[tuple[int, tuple[int, int, int]]]:
    """``(root pitch class, (root, third, fifth))`` of the seven diatonic triads (relative to the tonic)."""
    deg = MAJOR_DEGREES if mode == "major" else MINOR_DEGREES
    return [(deg[i], (deg[i], deg[(i + 2) % 7], deg[(i + 4) % 7])) for i in range(7)]


def _melody_weights(melody, start: int, stop: int, tonic: int) -> np.ndarray:
    w = np.zeros(12)
    for on, dur, pitch in melody:
        overlap = min(on + dur, stop) - max(on, start)
        if pitch is not None and overlap > 0:
            w[(pitch - tonic) % 12] += overlap * (2.0 if on == start else 1.0)
    return w


def _rule_bass(weights: np.ndarray, mode: str, prev: int | None) -> int:
    best, best_score = 0, -np.inf
    for i, (root, tones) in enumerate(triads(mode)):
        score = sum(weights[t] for t in tones) / max(weights.sum(), 1e-9) * 3 + ROOT_PRIOR[i]
        score -= 0.3 if prev == root else 0.0  # move the harmony a little
        if score > best_score:
            best, best_score = root, score
    return best


def _learned_bass(counts: np.ndarray, prev: int | None, mel: int | None, allowed: list[int], rng) -> int:
    pr = 12 if prev is None else prev
    me = 12 if mel is None else mel
    p = np.full(12, 1.0 / 12)
    for table in (counts.sum(axis=(0, 1)), counts[:, me, :].sum(axis=0), counts[pr, me, :]):
        total = table.sum()
        if total > 0:
            p = (table + 2.0 * p) / (total + 2.0)
    mask = np.zeros(12)
    mask[allowed] = 1.0
    p = p * mask
    p = p ** 1.5  # a little sharper than the counts: fewer odd basses
    return int(rng.choice(12, p=p / p.sum()))


def _place(pc: int, low: int, high: int, near: float, tonic: int) -> int:
    options = [m for m in range(low, high + 1) if (m - tonic) % 12 == pc]
    return min(options, key=lambda m: abs(m - near))


def _chord(bass_pc: int, mel_pc: int | None, mode: str) -> tuple[int, ...]:
    found = [(tones.index(bass_pc), -(mel_pc in tones), tones) for _, tones in triads(mode) if bass_pc in tones]
    return min(found)[2] if found else (bass_pc, (bass_pc + 4) % 12, (bass_pc + 7) % 12)


def accompany(melody, key, metre, bars: int, phrase_bars: int, counts: np.ndarray, rng):
    """``(bass, chords)`` as ``[(onset, duration, midi pitch), ...]`` on the grid."""
    unit = harmony_unit(metre.numerator, metre.denominator)
    bar = int(metre.bar_beats * GRID)
    total = bars * bar
    tonic = key.tonic
    learned = counts.sum() > 0
    scale = list(MAJOR_DEGREES if key.mode == "major" else MINOR_DEGREES)
    starts = list(range(0, total, unit))
    bass_pcs, prev = [], None
    for k, t in enumerate(starts):
        w = _melody_weights(melody, t, min(t + unit, total), tonic)
        mel = int(np.argmax(w)) if w.sum() else None
        ends_phrase = (t + unit) % bar == 0 and ((t + unit) // bar) % phrase_bars == 0 or t + unit >= total
        if ends_phrase or k == 0:
            pc = 0
        elif k == len(starts) - 2 and (mel is None or mel in (7, 11, 2, 5)):
            pc = 7
        elif learned:
            pc = _learned_bass(counts, prev, mel, scale, rng)
        else:
            covered = w[list(_chord(prev, None, key.mode))].sum() if prev is not None else 0.0
            keep = prev is not None and t % bar != 0 and covered >= 0.5 * w.sum()
            pc = prev if keep else _rule_bass(w, key.mode, prev)
        bass_pcs.append((pc, mel))
        prev = pc
    bass, chords, last_pitch = [], [], 43.0 + tonic % 12
    for k, (t, (pc, mel)) in enumerate(zip(starts, bass_pcs)):
        dur = min(unit, total - t)
        if bass and bass[-1][2] % 12 == (pc + tonic) % 12 and t % bar != 0:
            on, d, p = bass[-1]
            bass[-1] = (on, d + dur, p)  # a held bass within the bar
        else:
            last_pitch = _place(pc, BASS_LOW, BASS_HIGH, last_pitch, tonic)
            bass.append((t, dur, last_pitch))
        top = min([p for on, d, p in melody if p is not None and on < t + dur and on + d > t] or [CHORD_HIGH + 1])
        for tone in _chord(pc, mel, key.mode):
            options = [m for m in range(CHORD_LOW, min(CHORD_HIGH, top - 1) + 1) if (m - tonic) % 12 == tone]
            if options:
                chords.append((t, dur, min(options, key=lambda m: abs(m - 59))))
    return bass, chords
