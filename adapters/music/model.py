"""The common base of the composition processes: vocabulary, statistics of the training pieces, scoring in nats
per note, composing a ``Score`` (``compose.py``) and blending several models' next-token distributions.

A subclass gives ``initial_state()``, ``advance(state, token_id)``, ``next_probs(state)`` (probabilities over
its vocabulary, all > 0 but ``<unk>``'s), ``unigram_probs()``, ``harmony_counts()`` (13 x 13 x 12: previous
bass, melody, bass pitch classes) and ``corpus_runs()`` (the training pieces' tokens, for the copy cap).
"""
from __future__ import annotations

import copy
import json
import math
from collections import Counter
from pathlib import Path

import numpy as np
import torch

from xmedia.blend import build_process, process_spec
from xmedia.errors import ConfigError
from xmedia.process import Process

from .tokens import UNK, piece_tokens


def recipe_model(recipe: str) -> dict:
    """The ``"model"`` section of a recipe JSON beside this module (the constructor defaults)."""
    return json.loads(Path(__file__).with_name(recipe).read_text())["model"]


def in_range(name: str, value, low: float, high: float = math.inf, *, integer: bool = False,
             low_open: bool = False):
    """``value`` as a number in ``[low, high]`` (``(low, high]`` with ``low_open``), else a ConfigError."""
    number = not isinstance(value, (bool, str)) and isinstance(value, (int, float, np.integer, np.floating))
    if not (number and math.isfinite(value) and (value > low if low_open else value >= low) and value <= high
            and (not integer or value == int(value))):
        kind = "a whole number" if integer else "a number"
        raise ConfigError(f"{name} must be {kind} in {'(' if low_open else '['}{low:g}, {high:g}], got {value!r}")
    return int(value) if integer else float(value)


class MusicModel(Process):
    """Base of the composition processes (``src`` and ``dst`` score: a prompt score in, a new score out)."""

    src, dst = "score", "score"

    def _init_music(self, vocab, sizes: dict | None, stats: dict | None) -> None:
        self.vocab = list(vocab)
        if len(set(self.vocab)) != len(self.vocab):
            raise ConfigError("the vocabulary has duplicate tokens")
        self.index = {tok: i for i, tok in enumerate(self.vocab)}
        self.config["vocab"] = list(self.vocab)
        self.config["stats"] = dict(stats or {})
        self.config["sizes"] = dict(sizes or {})
        for name, shape in self.config["sizes"].items():
            self.register_buffer(name, torch.zeros(shape, dtype=self.buffer_dtype(name)))

    def buffer_dtype(self, name: str) -> torch.dtype:
        return torch.int64

    def _store(self, name: str, array) -> None:
        t = torch.as_tensor(np.ascontiguousarray(array)).to(self.buffer_dtype(name))
        self.register_buffer(name, t)
        self.config["sizes"][name] = list(t.shape)

    @property
    def stats(self) -> dict:
        """What the training pieces were like: their commonest metre, mode and melodic range (semitones from
        the tonic), and how many pieces and notes were counted; generation's defaults come from here."""
        return self.config["stats"]

    def _update_stats(self, pieces) -> None:
        s = self.stats
        metres = Counter(s.get("metres", {}))
        modes = Counter(s.get("modes", {}))
        rels = [n[2] for p in pieces for n in p.notes if n[2] is not None]
        for p in pieces:
            metres[f"{p.metre[0]}/{p.metre[1]}"] += 1
            modes[p.key.mode] += 1
        lo, hi = (np.percentile(rels, [2, 98]) if rels else (-5, 12))
        old_n = s.get("notes", 0)
        if old_n:  # a fine-tuned copy keeps the widest of the two ranges
            lo, hi = min(lo, s["low"]), max(hi, s["high"])
        s.update(metres=dict(metres), modes=dict(modes), low=int(lo), high=int(hi),
                 pieces=s.get("pieces", 0) + len(pieces), notes=old_n + sum(len(p.notes) for p in pieces))

    # -- what a subclass defines --------------------------------------------------------------------------
    def initial_state(self):
        raise NotImplementedError

    def advance(self, state, token: int):
        raise NotImplementedError

    def next_probs(self, state) -> np.ndarray:
        raise NotImplementedError

    def unigram_probs(self) -> np.ndarray:
        raise NotImplementedError

    def harmony_counts(self) -> np.ndarray:
        raise NotImplementedError

    def corpus_runs(self) -> list[list[str]]:
        raise NotImplementedError

    # -- scoring ------------------------------------------------------------------------------------------
    def ids(self, tokens) -> tuple[list[int], int]:
        """Token ids (unknown tokens as ``<unk>``) and how many were unknown."""
        unk = self.index.get(UNK)
        out = [self.index.get(t, unk) for t in tokens]
        return out, sum(1 for t in tokens if t not in self.index)

    def nats_per_note(self, pieces) -> dict:
        """Held-out cost: a note's nats are the sum of its two tokens' (rhythm, pitch); ``</s>`` is not a note.
        Beside it the unigram baseline on the same tokens."""
        from .corpus import as_pieces

        if not isinstance(pieces, list) or (pieces and not hasattr(pieces[0], "notes")):
            pieces, _ = as_pieces(pieces)
        uni = np.log(self.unigram_probs())
        total = base = 0.0
        notes = unknown = 0
        for p in pieces:
            ids, missing = self.ids(piece_tokens(p))
            unknown += missing
            state = self.advance(self.initial_state(), ids[0])
            for tok in ids[1:-1]:  # every note token after <s>, before </s>
                total -= math.log(self.next_probs(state)[tok])
                base -= uni[tok]
                state = self.advance(state, tok)
            notes += len(p.notes)
        if not notes:
            raise ConfigError("nothing to score: the pieces have no notes")
        return {"nats_per_note": total / notes, "unigram_nats_per_note": base / notes, "notes": notes,
                "pieces": len(pieces), "unknown_tokens": unknown}

    # -- composing ----------------------------------------------------------------------------------------
    def compose(self, bars: int = 8, **options):
        """A new ``Score``: melody, bass and chords (``compose.compose`` has every option)."""
        from .compose import compose

        return compose(self, bars, **options)

    def run(self, x=None, bars: int = 8, key: str | None = None, metre: str | None = None, tempo: float | None = None,
            seed: int = 0, temperature: float = 1.0):
        """A route step's call: a new score (``x``, a score, gives its key, metre and tempo when not given)."""
        if x is not None and hasattr(x, "keys"):
            key = key or (str(x.key) if x.key else None)
            metre = metre or str(x.metre)
            tempo = tempo or float(x.tempo_bpm)
        return self.compose(bars, key=key, metre=metre, tempo=tempo, seed=seed, temperature=temperature)

    # -- blending -----------------------------------------------------------------------------------------
    def compatible(self, other) -> bool:
        return False  # two count tables do not interpolate into a model: blends mix the distributions

    @classmethod
    def blend_outputs(cls, a: "MusicModel", b: "MusicModel", t: float) -> "MusicModel":
        if t in (0.0, 1.0):
            return copy.deepcopy(a if t == 0.0 else b)
        if not isinstance(b, MusicModel):
            raise ConfigError(f"cannot blend a music model with a {type(b).__name__}: blend music styles")
        return BlendedMusic(process_spec(a), process_spec(b), t)._load(a, b)


class BlendedMusic(MusicModel):
    """``(1 - t) p_a + t p_b`` over the union of the two vocabularies (``a``'s tokens first); the harmony
    tables and training runs are mixed and pooled the same way. Exactly ``a`` at ``t = 0``, ``b`` at 1."""

    def __init__(self, a: dict, b: dict, t: float = 0.5, sizes: dict | None = None, stats: dict | None = None,
                 vocab=()):  # ``vocab`` is recorded for the record only: the union is rebuilt from a and b
        super().__init__()
        self.a, self.b, self.t = build_process(a, MusicModel), build_process(b, MusicModel), float(t)
        if not 0.0 <= self.t <= 1.0:
            raise ConfigError(f"blend t must be in [0, 1], got {t}")
        union = list(self.a.vocab) + [v for v in self.b.vocab if v not in self.a.index]
        self._init_music(union, sizes, stats)
        self.map_a = np.array([self.index[v] for v in self.a.vocab])
        self.map_b = np.array([self.index[v] for v in self.b.vocab])

    def _load(self, a: MusicModel, b: MusicModel) -> "BlendedMusic":
        self.a.load_state_dict(a.state_dict())
        self.b.load_state_dict(b.state_dict())
        for m, src in ((self.a, a), (self.b, b)):
            m.config.update(vocab=list(src.vocab), stats=dict(src.stats))
            m.vocab, m.index = list(src.vocab), dict(src.index)
        self.config["stats"] = _mix_stats(a.stats, b.stats, self.t)
        return self

    @property
    def stats(self) -> dict:
        return self.config["stats"] or _mix_stats(self.a.stats, self.b.stats, self.t)

    def initial_state(self):
        return (self.a.initial_state(), self.b.initial_state())

    def advance(self, state, token: int):
        tok = self.vocab[token]
        sa, sb = state
        ia, ib = self.a.index.get(tok), self.b.index.get(tok)
        return (sa if ia is None else self.a.advance(sa, ia), sb if ib is None else self.b.advance(sb, ib))

    def _mix(self, pa_small, pb_small) -> np.ndarray:
        pa, pb = np.zeros(len(self.vocab)), np.zeros(len(self.vocab))
        pa[self.map_a] = pa_small
        pb[self.map_b] = pb_small
        return (1.0 - self.t) * pa + self.t * pb

    def next_probs(self, state) -> np.ndarray:
        p = self._mix(self.a.next_probs(state[0]), self.b.next_probs(state[1]))
        return np.maximum(p, 1e-12) / np.maximum(p, 1e-12).sum()

    def unigram_probs(self) -> np.ndarray:
        return np.maximum(self._mix(self.a.unigram_probs(), self.b.unigram_probs()), 1e-12)

    def harmony_counts(self) -> np.ndarray:
        ha, hb = self.a.harmony_counts(), self.b.harmony_counts()
        na, nb = max(ha.sum(), 1e-9), max(hb.sum(), 1e-9)
        return (1 - self.t) * ha / na + self.t * hb / nb

    def corpus_runs(self) -> list[list[str]]:
        return self.a.corpus_runs() + self.b.corpus_runs()


def _mix_stats(a: dict, b: dict, t: float) -> dict:
    out = dict(a if t < 0.5 else b)
    for name in ("metres", "modes"):
        mixed = Counter()
        for s, w in ((a, 1 - t), (b, t)):
            total = sum(s.get(name, {}).values()) or 1
            for k, v in s.get(name, {}).items():
                mixed[k] += w * v / total
        out[name] = dict(mixed)
    out["low"], out["high"] = min(a.get("low", -5), b.get("low", -5)), max(a.get("high", 12), b.get("high", 12))
    return out
