"""Markov text models (character or word level, order k) whose n-gram tables are a Process's weights.

Tables: for every context length ``n`` in 0..order, the sorted codes of the (n + 1)-grams seen in training
(``codes_n``, int64: the context's tokens in base V, most recent least significant, times V plus the next
token) and their counts (``counts_n``, int32), saved in ``model.safetensors`` like any other weights. The
probability of the next token interpolates every order with absolute discounting (Kneser-Ney's discount,
estimated per order as n1 / (n1 + 2 n2)), down to a uniform floor, so every token has a finite loss. Line
breaks (and blank lines, which end sections) are tokens, so a model learns the corpus's line and stanza
structure along with its words.
"""
from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import torch

from xmedia.errors import ConfigError

from .corpus import Corpus, mix_corpora, split_text, words
from .model import TextModel, lexicon_of

UNK = "<unk>"


class MarkovText(TextModel):
    """Order-``order`` Markov chain over characters (``level="char"``) or words (``level="word"``)."""

    def __init__(self, vocab=(), order: int = 5, level: str = "char", sizes: dict | None = None):
        super().__init__()
        if level not in ("char", "word"):
            raise ConfigError(f"level must be 'char' or 'word', got {level!r}")
        if not 0 <= int(order) <= 16:
            raise ConfigError(f"order must be in 0..16, got {order}")
        self.level, self.order = level, int(order)
        self._init_text(vocab, sizes)
        if len(self.vocab) ** (self.order + 1) >= 2 ** 62:
            raise ConfigError(f"a vocabulary of {len(self.vocab)} tokens is too large for order {order}: "
                              "lower the order (or use level='char')")
        self._derived = None

    # -- training ---------------------------------------------------------------------------------------
    @classmethod
    def from_corpus(cls, data, order: int = 5, level: str = "char", val_fraction: float = 0.1, min_count: int = 2,
              **read_options) -> "MarkovText":
        """Count a corpus (a path, ``"a.txt:0.7,b.txt:0.3"``, a folder, a ``Corpus`` or a str of text)."""
        corpus = _as_corpus(data, val_fraction, **read_options)
        text = corpus.train
        if level == "char":
            vocab = sorted(set(text))
        else:
            counts: dict[str, int] = {}
            for w in words(text):
                counts[w] = counts.get(w, 0) + 1
            vocab = [UNK] + sorted(w for w, c in counts.items() if c >= min_count)
        model = cls(vocab, order, level)
        model.fit(text)
        model.set_lexicon(lexicon_of(text))
        model.validation_text = corpus.val
        return model

    def fit(self, data, weight: float = 1.0, **_):
        """Add the counts of ``data`` (text, or anything ``train`` takes) times ``weight`` to the tables:
        ``fine_tune(second_corpus, weight=...)`` shifts a copy toward a second corpus."""
        text = data if isinstance(data, str) and not _looks_like_path(data) else _as_corpus(data, 0.0).train
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ids = np.asarray(self.encode(text, unknown="fold"), dtype=np.int64)
        if caught:
            warnings.warn(f"fit: {caught[0].message} (the vocabulary is fixed once trained)", stacklevel=2)
        if len(ids) <= self.order:
            raise ConfigError(f"the corpus has {len(ids)} {self.level}s, fewer than the model's context + 1 "
                              f"({self.order + 1}): give more text or a lower order")
        V = len(self.vocab)
        for n, (codes, counts) in enumerate(_ngram_counts(ids, self.order, V)):
            counts = np.round(counts * float(weight)).astype(np.int64)
            old_c, old_n = self.table(n)
            if len(old_c):
                codes, inv = np.unique(np.concatenate([old_c, codes]), return_inverse=True)
                counts = np.bincount(inv, weights=np.concatenate([old_n, counts])).astype(np.int64)
            keep = counts > 0
            self._store(f"codes_{n}", codes[keep])
            self._store(f"counts_{n}", np.minimum(counts[keep], 2 ** 31 - 1).astype(np.int32))
        self._derived = None
        return self

    def buffer_dtype(self, name: str) -> torch.dtype:
        if name.startswith("counts_"):
            return torch.int32
        if name.startswith("codes_"):  # codes below 2^31 are stored in half the bytes
            return torch.int32 if len(self.vocab) ** (int(name.split("_")[1]) + 1) < 2 ** 31 else torch.int64
        return super().buffer_dtype(name)

    def table(self, n: int):
        if not hasattr(self, f"codes_{n}"):
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        codes, counts = getattr(self, f"codes_{n}"), getattr(self, f"counts_{n}")
        return codes.numpy().astype(np.int64), counts.numpy().astype(np.int64)

    def compatible(self, other) -> bool:
        return False  # interpolating two count tables is not a model: blends mix the distributions

    def _tables(self):
        """Per order: codes, counts, the contexts (sorted), their totals, distinct followers, discount."""
        if self._derived is None:
            V, out = len(self.vocab), []
            for n in range(self.order + 1):
                codes, counts = self.table(n)
                if not len(codes):
                    raise ConfigError("this Markov model has no counts: train it first (MarkovText.train)")
                ctx, first = np.unique(codes // V, return_index=True)
                totals = np.add.reduceat(counts, first)
                followers = np.diff(np.append(first, len(codes)))
                n1, n2 = int((counts == 1).sum()), int((counts == 2).sum())
                d = float(np.clip(n1 / (n1 + 2 * n2), 0.05, 0.95)) if n1 + n2 else 0.5
                out.append((codes, counts.astype(np.float64), ctx, totals.astype(np.float64),
                            followers.astype(np.float64), d))
            self._derived = out
        return self._derived

    # -- the model --------------------------------------------------------------------------------------
    def initial_state(self):
        return ()

    def advance(self, state, token: int):
        return (state + (int(token),))[-self.order:] if self.order else ()

    def next_logprobs(self, state) -> np.ndarray:
        V = len(self.vocab)
        p = np.full(V, 1.0 / V)
        ctx = 0
        for n, (codes, counts, ctxs, totals, followers, d) in enumerate(self._tables()):
            if n > len(state):
                break
            if n:
                ctx += state[-n] * V ** (n - 1)
            j = np.searchsorted(ctxs, ctx)
            if j >= len(ctxs) or ctxs[j] != ctx:
                break
            lo, hi = np.searchsorted(codes, [ctx * V, ctx * V + V])
            seen = np.zeros(V)
            seen[codes[lo:hi] - ctx * V] = counts[lo:hi]
            p = np.maximum(seen - d, 0) / totals[j] + d * followers[j] / totals[j] * p
        if UNK in self.index:
            p[self.index[UNK]] = 0.0
        with np.errstate(divide="ignore"):
            return np.log(p)

    def score_ids(self, ids: np.ndarray) -> float:
        ids = np.asarray(ids, dtype=np.int64)
        V = len(self.vocab)
        p = np.full(len(ids), 1.0 / V)
        ctx = np.zeros(len(ids), dtype=np.int64)
        for n, (codes, counts, ctxs, totals, followers, d) in enumerate(self._tables()):
            if n:
                ctx[n:] += ids[:-n] * V ** (n - 1)
            valid = np.arange(len(ids)) >= n
            j = np.minimum(np.searchsorted(ctxs, ctx), len(ctxs) - 1)
            found = valid & (ctxs[j] == ctx)
            g = ctx * V + ids
            k = np.minimum(np.searchsorted(codes, g), len(codes) - 1)
            c = np.where(codes[k] == g, counts[k], 0.0)
            new = np.maximum(c - d, 0) / totals[j] + d * followers[j] / totals[j] * p
            p = np.where(found, new, p)
        return float(-np.log(p).sum())


def _ngram_counts(ids: np.ndarray, order: int, V: int):
    ctx = np.zeros(len(ids), dtype=np.int64)
    for n in range(order + 1):
        if n:
            ctx[n:] += ids[:-n] * V ** (n - 1)
        codes, counts = np.unique(ctx[n:] * V + ids[n:], return_counts=True)
        yield codes, counts


def _looks_like_path(s: str) -> bool:
    """A corpus path or mix spec (``a.txt:0.5,b/``), not a text to learn: one short line naming files."""
    if len(s) > 4096 or "\n" in s:
        return False
    parts = [p.strip().rpartition(":")[0] if re.search(r":[0-9.eE+-]+$", p.strip()) else p.strip()
             for p in s.split(",")]
    return all(Path(p).exists() or "/" in p or p.endswith((".txt", ".md")) for p in parts if p)


def _as_corpus(data, val_fraction: float, **read_options):
    if isinstance(data, Corpus):
        return data
    if isinstance(data, str) and not _looks_like_path(data):
        if not data.strip():
            raise ConfigError("the corpus is empty: a text model needs text to learn from")
        train, val = split_text(data, val_fraction)
        return Corpus(train, val, [("<text>", 1.0)])
    return mix_corpora(data, val_fraction, **read_options)
