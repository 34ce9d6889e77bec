"""Media -> text: the perceptual space writes timed lines with a corpus model (a flame writes).

A line starts on the first frame of each burst of motion (where the smoothed energy starts to rise) and on
each detected event (``events_s``); it lasts until the next line (``min_line_s``, shorter for a faster clip, to
``max_line_s``: a longer stretch is split). Its length is the characters per second that the stretch's energy
sets (half on the clip's own range, half absolute), times its duration, cut at a word boundary; the sampling
temperature rises with energy; the line opens with a word of the perceptual lexicon
(``adapters/perceptual_lexicon.csv``) close to the stretch's axes (warm, bright, dark, calm...), and of
``candidates`` continuations the one whose words the lexicon places closest to those axes is kept. Still media
(a photo, a phrase) are held for ``duration_s`` (default 10 s) and get lines on a regular beat.
"""
from __future__ import annotations

import functools
import os
from fractions import Fraction

import numpy as np

from xmedia.embedding import Embedding
from xmedia.errors import ConfigError
from xmedia.routing import step

from ..perceptual.space import AXES, IDX
from ..perceptual.still import encode_text, perceptual_lexicon
from .timed import TimedLine, TimedText

STEER_AXES = ("energy", "brightness", "warmth", "texture", "valence")
DEFAULT_MODEL = "shakespeare-markov"


def load_text_model(model=DEFAULT_MODEL):
    """A text model: a loaded one as is, else a saved folder, a zoo name (``"shakespeare-gru"``) or a blend
    (``"shakespeare-markov:0.7,my_model/:0.3"``), through ``xmedia.blend.load_process``."""
    if hasattr(model, "generate") and hasattr(model, "vocab"):
        return model
    if not isinstance(model, (str, os.PathLike)):
        raise ConfigError(f"model= takes a text model, a folder, a zoo name or 'a:0.7,b:0.3', "
                          f"not a {type(model).__name__}")
    return _load(os.fspath(model))


@functools.lru_cache(maxsize=4)
def _load(spec: str):
    from xmedia.blend import load_process

    from .model import TextModel

    return load_process(spec, TextModel, "text model",
                        hint="train one with `xmedia train text --data corpus.txt -o DIR`")


def smoothed_energy(emb: Embedding, smooth_s: float = 0.4) -> np.ndarray:
    from scipy.ndimage import uniform_filter1d

    size = max(1, int(round(smooth_s * float(emb.rate_hz))))
    e = np.array(emb.axis("energy"), dtype=np.float64)
    if len(e) > 1 and emb.source == "video":
        e[0] = e[1]  # the first frame has no motion to measure (nothing before it), not a calm one
    return uniform_filter1d(e, size, mode="nearest")


def burst_onsets(emb: Embedding, smooth_s: float = 0.4) -> list[int]:
    """Frames where a burst of motion begins: the local minima of the (lightly smoothed) energy, where it
    starts to rise. A medium without variation (a held still) has none."""
    e = smoothed_energy(emb, smooth_s)
    if e.max() - e.min() < 1e-4:
        return []
    return [i for i in range(1, len(e) - 1) if e[i] <= e[i - 1] and e[i] < e[i + 1]]


def plan_lines(emb: Embedding, min_line_s: float, max_line_s: float, smooth_s: float = 0.4):
    """``(start, end, what it marks, strength)`` for every line, covering the whole medium: a line starts on
    each event (``"onset"``) and on each burst onset (``"motion"``) at least ``min_line_s`` after the previous
    start (an event wins over a burst onset closer than that); a line longer than ``max_line_s`` is split
    (``"continued"``); a medium with neither gets lines on a regular beat (``"pace"``)."""
    rate = emb.rate_hz
    frac = lambda x: Fraction(x).limit_denominator(1000)  # noqa: E731
    shortest, longest = frac(min_line_s), frac(max_line_s)
    energy = emb.axis("energy")
    marks = [(Fraction(t), "onset", float(s)) for t, s in zip(emb.events_s, emb.event_strengths)]
    for i in burst_onsets(emb, smooth_s):
        t = Fraction(i) / rate
        if all(abs(t - m) >= shortest for m, _, _ in marks[: len(emb.events_s)]):
            marks.append((t, "motion", float(energy[i:i + int(rate)].max())))
    marks.sort(key=lambda m: m[0])
    if not marks:  # nothing moves (a photo, a phrase, a steady tone): lines on a regular beat
        beat = frac(max(min_line_s, min(max_line_s, 2.0)))
        marks = [(k * beat, "pace", float(energy[0])) for k in range(1, int(emb.duration_s / beat) + 1)]
    starts = [(Fraction(0), "pace" if marks and marks[0][1] == "pace" else "start", float(energy[0]))]
    for t, what, s in marks:
        if t - starts[-1][0] >= shortest:
            starts.append((t, what, s))
        elif what == "onset" and starts[-1][1] != "onset" and t - starts[-1][0] >= shortest / 2:
            if len(starts) > 1 and t - starts[-2][0] >= shortest:
                starts[-1] = (t, what, s)  # an event wins over a burst onset just before it
            else:
                starts.append((t, what, s))
    if emb.duration_s - starts[-1][0] < shortest / 2 and len(starts) > 1:
        starts.pop()
    out = []
    for k, (a, what, s) in enumerate(starts):
        b = starts[k + 1][0] if k + 1 < len(starts) else emb.duration_s
        while b - a > longest:
            n = int(-(-(b - a) // longest))  # equal parts no longer than max_line_s
            part = (b - a) / n
            out.append((a, a + part, what, s))
            a, what = a + part, "continued"
        out.append((a, b, what, s))
    return out


def _loudness(energy: float, lo: float, hi: float) -> float:
    """Where ``energy`` sits in [0, 1]: half within this medium's own range (so a flame's small swings still
    change the writing, like a level meter's auto-gain), half on the absolute axis (so a calm clip writes less
    than a wild one)."""
    relative = (energy - lo) / (hi - lo) if hi - lo > 1e-4 else 0.5
    return float(np.clip(0.5 * relative + 0.5 * np.sqrt(energy), 0.0, 1.0))


def _pick_word(target: np.ndarray, rng, recent=(), top: int = 6) -> str:
    """One of the ``top`` lexicon words nearest the target axes (not one of the ``recent`` openings)."""
    lex = perceptual_lexicon()
    scored = []
    for word, entry in lex.items():
        if word in recent:
            continue
        axes = [a for a in STEER_AXES if a in entry]
        if len(axes) >= 1:
            d = np.mean([(entry[a] - target[IDX[a]]) ** 2 for a in axes]) + 0.02 / len(axes)
            scored.append((d, word))
    scored.sort()
    return scored[int(rng.integers(min(top, len(scored))))][1]


def _steer_distance(text: str, target: np.ndarray) -> float:
    from xmedia.media import Text

    v = encode_text(Text(text)).vector
    return float(np.mean([(v[IDX[a]] - target[IDX[a]]) ** 2 for a in STEER_AXES]))


def _cut(text: str, n_chars: int) -> str:
    """``text`` cut at the word boundary nearest ``n_chars`` (one line, spaces collapsed)."""
    text = " ".join(text.split())
    if len(text) <= n_chars:
        return text
    left = text.rfind(" ", 0, n_chars + 1)
    right = text.find(" ", n_chars)
    right = len(text) if right < 0 else right
    cut = left if left > 0 and n_chars - left <= right - n_chars else right
    return text[:cut].rstrip(" ,;:")


def write_poem(emb: Embedding, model=DEFAULT_MODEL, seed: int = 0, temperature: float | None = None,
               chars_per_s: tuple = (4.0, 28.0), min_line_s: float | None = None, max_line_s: float = 2.0,
               candidates: int = 4, sound_poem: bool = False, duration_s=None, prompt: str = "") -> TimedText:
    """Timed lines from a perceptual embedding (see the module docstring)."""
    if emb.axes is None or "energy" not in emb.axes:
        raise ConfigError(f"write_poem needs the perceptual space (axes {AXES}), got space {emb.space!r}")
    lm = load_text_model(model)
    emb = emb.timed(duration_s)
    track = emb.track
    rate = float(emb.rate_hz)
    pace = float(np.mean(emb.axis("pace")))
    gap = float(min_line_s) if min_line_s is not None else 1.0 - 0.4 * pace  # a faster clip, shorter lines
    if not 0 < gap <= max_line_s:
        raise ConfigError(f"min_line_s must be in (0, max_line_s={max_line_s}], got {gap}")
    level = smoothed_energy(emb)
    lo_e, hi_e = float(level.min()), float(level.max())
    lo, hi = (float(x) for x in chars_per_s)
    rng = np.random.default_rng(seed)
    lines, context, openings = [], prompt, []
    for k, (start, end, what, strength) in enumerate(plan_lines(emb, gap, max_line_s)):
        a = int(float(start) * rate)
        b = max(a + 1, int(float(end) * rate))
        target = track[a:b].mean(axis=0)
        energy = float(level[a:b].mean())
        n_chars = int(np.clip(round((lo + (hi - lo) * _loudness(energy, lo_e, hi_e)) * float(end - start)), 3, 160))
        temp = float(temperature) if temperature is not None else 0.45 + 0.6 * energy
        first = "" if sound_poem else _pick_word(target, rng, recent=openings[-4:])
        openings.append(first)
        best = None
        for c in range(max(1, int(candidates))):
            opening = first.capitalize() + " " if first else ""
            cont = lm.generate(context[-80:] + ("\n" if context else "") + opening,
                               length=n_chars + 40, temperature=temp, seed=int(seed) * 100_003 + k * 101 + c,
                               sound_poem=sound_poem, unknown="skip")
            line = _cut(opening + cont, n_chars) or first.capitalize()
            score = (0.0 if sound_poem else _steer_distance(line, target)) + 0.1 * abs(len(line) - n_chars) / n_chars
            if best is None or score < best[0]:
                best = (score, line)
        lines.append(TimedLine(start, end, best[1], what, strength))
        context += "\n" + best[1]
    return TimedText.from_lines(lines, emb.duration_s, source=emb.source,
                                meta={"model": getattr(lm, "card", {}).get("title", type(lm).__name__),
                                      "seed": int(seed), "min_line_s": round(gap, 3)})


@step("space:perceptual", "text", name="perceptual-to-text", cost=1.0, kind="decoder",
      description="the perceptual space -> timed lines of text from a corpus model (a line per burst of events)")
def to_text(embedding: Embedding, model: str = DEFAULT_MODEL, seed: int = 0, temperature: float | None = None,
            min_line_s: float | None = None, max_line_s: float = 2.0, candidates: int = 4,
            sound_poem: bool = False, duration_s=None, prompt: str = "") -> TimedText:
    """Timed lines written by a clip, a sound or a still (``model``: a saved text model folder or zoo name)."""
    return write_poem(embedding, model, seed, temperature, min_line_s=min_line_s, max_line_s=max_line_s,
                      candidates=candidates, sound_poem=sound_poem, duration_s=duration_s, prompt=prompt)
