"""``MusicMarkov``: a variable-order Markov model of note events (tokens: ``adapters/music/tokens.py``) whose
n-gram tables are a Process's weights, in the line of the Continuator (Pachet 2003) and Flow Machines.

Tables: for every context length ``n`` in 0..order, the (n + 1)-grams seen in training as rows of token ids
(``grams_n``, int32) and their counts (``counts_n``). The probability of the next token interpolates every
order with absolute discounting (the discount estimated per order as n1 / (n1 + 2 n2), as ``MarkovText``) down
to a uniform floor, so every token has a finite cost: a context never seen backs off to the longest one that
was. The vocabulary grows with the data (a fine-tuning corpus may bring new rhythms and pitches).

Also in the weights: the harmony table (``harmony``: counts of the bass's pitch class on each beat given the
previous one and the melody's, from pieces with a bass part) and the training token stream (``corpus``: what the
copy cap compares generated runs with).
"""
from __future__ import annotations

import time
from collections import Counter

import numpy as np
import torch

from xmedia.errors import ConfigError
from xmedia.trainer import TrainResult, plot_history

from .corpus import as_pieces, split_pieces
from .model import MusicModel, in_range, recipe_model
from .tokens import EOS, SPECIAL, UNK, piece_tokens

MODEL = recipe_model("markov.json")
MAX_ORDER = 24
MAX_WEIGHT = 1e4


class MusicMarkov(MusicModel):
    """Order-``order`` Markov chain over note-event tokens (two tokens a note: ``order=8`` sees four notes)."""

    recipe = "markov.json"

    def __init__(self, vocab=(), order: int = MODEL["order"], sizes: dict | None = None, stats: dict | None = None):
        super().__init__()
        in_range("order", order, 1, MAX_ORDER, integer=True)
        self.order = int(order)
        self._init_music(list(vocab) or list(SPECIAL), sizes, stats)
        for n in range(self.order + 1):
            for name, shape in ((f"grams_{n}", [0, n + 1]), (f"counts_{n}", [0])):
                if name not in self.config["sizes"]:
                    self._store(name, np.zeros(shape, np.int32))
        if "harmony" not in self.config["sizes"]:
            self._store("harmony", np.zeros((13, 13, 12), np.float32))
        if "corpus" not in self.config["sizes"]:
            self._store("corpus", np.zeros(0, np.int32))
        self._derived = None

    # -- training -----------------------------------------------------------------------------------------
    @classmethod
    def check_family_options(cls, options: dict) -> dict:
        o = dict(options)
        o["weight"] = in_range("weight", o["weight"], 0.0, MAX_WEIGHT, low_open=True)
        o["val_fraction"] = in_range("val_fraction", o["val_fraction"], 0.0, 0.95)
        if o.get("max_pieces") is not None:
            o["max_pieces"] = in_range("max_pieces", o["max_pieces"], 1, 10 ** 7, integer=True)
        return o

    def fit(self, data, fine_tune: bool = False, **options):
        """Add the counts of ``data``'s training pieces (``corpus:NAME``, a folder, scores; the last
        ``val_fraction`` of the pieces held out) times ``weight``; returns a ``TrainResult`` (no steps; held-out
        nats per note beside a unigram baseline as its metrics)."""
        common, family = self.check_training_options(fine_tune, **options)
        t0 = time.perf_counter()
        pieces, described = as_pieces(data, family["max_pieces"])
        train, val = split_pieces(pieces, family["val_fraction"])
        self.add_pieces(train, family["weight"])
        train_score = self.nats_per_note(train[:200])
        held = self.nats_per_note(val) if val else None
        val_loss = held["nats_per_note"] if held else train_score["nats_per_note"]
        metrics = {}
        if held:
            metrics = {"nats/note": held["nats_per_note"], "unigram nats/note": held["unigram_nats_per_note"],
                       "held-out pieces": float(len(val)), "held-out notes": float(held["notes"])}
        seconds = time.perf_counter() - t0
        notes = sum(len(p.notes) for p in train)
        result = TrainResult(self, [{"step": 0, "train_loss": train_score["nats_per_note"], "val_loss": val_loss,
                                     "seconds": seconds, **metrics}], best_val=val_loss, seconds=seconds,
                             seed=common["seed"], stopped=f"counted {notes:,} notes of {len(train)} pieces "
                                                          f"x {family['weight']:g}",
                             metrics=metrics, options={**common, **family}, loss_name="nats/note",
                             extra={"data": f"{described}: {len(pieces)} pieces; the last "
                                            f"{family['val_fraction']:.0%} ({len(val)}) held out"})
        if common["report"] is not None:
            result.report_path = plot_history(result, common["report"])
        return result

    def add_pieces(self, pieces, weight: float = 1.0) -> "MusicMarkov":
        """Count ``pieces`` (``tokens.Piece``) times ``weight`` into the tables (new tokens join the vocabulary)."""
        if not pieces:
            raise ConfigError("no pieces to learn from (all were held out?): give more pieces or val_fraction=0")
        for p in pieces:
            for tok in piece_tokens(p):
                if tok not in self.index:
                    self.index[tok] = len(self.vocab)
                    self.vocab.append(tok)
        self.config["vocab"] = list(self.vocab)
        tables = [Counter() for _ in range(self.order + 1)]
        stream = []
        for p in pieces:
            ids = [self.index[t] for t in piece_tokens(p)]
            stream += ids + [-1]
            for i in range(1, len(ids)):
                for n in range(min(self.order, i) + 1):
                    tables[n][tuple(ids[i - n:i + 1])] += 1
        for n, table in enumerate(tables):
            old_g, old_c = self.grams(n)
            merged = Counter({tuple(g): int(c) for g, c in zip(old_g.tolist(), old_c.tolist())})
            for g, c in table.items():
                merged[g] += int(round(c * float(weight)))
            rows = sorted(g for g, c in merged.items() if c > 0)
            self._store(f"grams_{n}", np.array(rows, np.int32).reshape(-1, n + 1))
            self._store(f"counts_{n}", np.minimum([merged[g] for g in rows], 2 ** 31 - 1).astype(np.int32))
        self._store("corpus", np.concatenate([self.corpus.numpy(), np.array(stream, np.int32)]))
        harmony = self.harmony.numpy().astype(np.float64)
        for p in pieces:
            prev = 12
            for mel, bass in p.beat_pairs:
                harmony[prev, 12 if mel is None else mel, bass] += float(weight)
                prev = bass
        self._store("harmony", harmony.astype(np.float32))
        self._update_stats(pieces)
        self._derived = None
        return self

    def grams(self, n: int):
        return getattr(self, f"grams_{n}").numpy().astype(np.int64), getattr(self, f"counts_{n}").numpy()

    def buffer_dtype(self, name: str) -> torch.dtype:
        if name == "harmony":
            return torch.float32
        small = len(self.vocab) < 2 ** 15  # token ids fit in half the bytes
        return torch.int16 if small and (name.startswith("grams_") or name == "corpus") else torch.int32

    def _tables(self):
        """Per order: ``{context: (tokens, counts, total, distinct followers)}`` and the discount."""
        if self._derived is None:
            out = []
            for n in range(self.order + 1):
                g, c = self.grams(n)
                if n == 0 and not len(g):
                    raise ConfigError("this music model has no counts: train it first (xmedia train music)")
                groups: dict = {}
                for row, count in zip(g.tolist(), c.tolist()):
                    groups.setdefault(tuple(row[:-1]), ([], []))
                    groups[tuple(row[:-1])][0].append(row[-1])
                    groups[tuple(row[:-1])][1].append(count)
                table = {ctx: (np.array(t), np.array(k, np.float64), float(sum(k)), float(len(t)))
                         for ctx, (t, k) in groups.items()}
                n1, n2 = int((c == 1).sum()), int((c == 2).sum())
                d = float(np.clip(n1 / (n1 + 2 * n2), 0.05, 0.95)) if n1 + n2 else 0.5
                out.append((table, d))
            self._derived = out
        return self._derived

    # -- the model ----------------------------------------------------------------------------------------
    def initial_state(self):
        return ()

    def advance(self, state, token: int):
        return (state + (int(token),))[-self.order:]

    def next_probs(self, state) -> np.ndarray:
        V = len(self.vocab)
        p = np.full(V, 1.0 / V)
        for n, (table, d) in enumerate(self._tables()):
            if n > len(state):
                break
            hit = table.get(tuple(state[len(state) - n:]) if n else ())
            if hit is None:
                break
            toks, counts, total, followers = hit
            seen = np.zeros(V)
            seen[toks] = counts
            p = np.maximum(seen - d, 0) / total + d * followers / total * p
        p[self.index[UNK]] *= 1e-3  # <unk> keeps a cost when scoring, is (almost) never generated
        return p / p.sum()

    def unigram_probs(self) -> np.ndarray:
        """The baseline: each token's training frequency, add-one smoothed over the vocabulary."""
        g, c = self.grams(0)
        counts = np.zeros(len(self.vocab))
        counts[g[:, 0]] = c
        return (counts + 1) / (counts.sum() + len(self.vocab))

    def harmony_counts(self) -> np.ndarray:
        return self.harmony.numpy().astype(np.float64)

    def corpus_runs(self) -> list[list[str]]:
        ids = self.corpus.numpy().astype(np.int64)
        cuts = np.flatnonzero(ids < 0)
        out, start = [], 0
        for c in cuts:
            out.append([self.vocab[i] for i in ids[start:c].tolist()])
            start = c + 1
        return out

    def is_eos(self, token: int) -> bool:
        return self.vocab[token] == EOS
