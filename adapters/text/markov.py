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

import time

import numpy as np
import torch

from xmedia.errors import ConfigError
from xmedia.trainer import TrainResult, plot_history

from .corpus import as_corpus, words
from .model import TextModel, in_range, recipe_model

MODEL = recipe_model("markov.json")
UNK = "<unk>"
MAX_ORDER = 16
MAX_WEIGHT = 1e4  # counts times more than this would overflow the int32 tables
MIN_WORD_COUNT = 2  # word level: rarer words are <unk>
TRAIN_SCORE_CHARS = 40_000  # the training nats/char (the "training loss" of the one-row history) on this much


class MarkovText(TextModel):
    """Order-``order`` Markov chain over characters (``level="char"``) or words (``level="word"``)."""

    recipe = "markov.json"

    def __init__(self, vocab=(), order: int = MODEL["order"], level: str = MODEL["level"], sizes: dict | None = None):
        super().__init__()
        self.check_config(order=order, level=level)
        self.level, self.order = level, int(order)
        self._init_text(vocab, sizes)
        if len(self.vocab) ** (self.order + 1) >= 2 ** 62:
            raise ConfigError(f"a vocabulary of {len(self.vocab)} tokens is too large for order {order}: "
                              "lower the order (or use level='char')")
        self._derived = None

    # -- training: counts, not gradients (``from_corpus``, ``fit``, ``fine_tune`` as every process has them) -----
    @classmethod
    def check_config(cls, order=MODEL["order"], level=MODEL["level"], **_) -> None:
        if level not in ("char", "word"):
            raise ConfigError(f"level must be 'char' or 'word', got {level!r}")
        in_range("order", order, 0, MAX_ORDER, integer=True)

    @classmethod
    def vocabulary(cls, corpus, level: str = MODEL["level"], **_) -> list[str]:
        text = corpus.train
        if level == "char":
            return sorted(set(text))
        check_spaced_words(text)
        counts: dict[str, int] = {}
        for w in words(text):
            counts[w] = counts.get(w, 0) + 1
        return [UNK] + sorted(w for w, c in counts.items() if c >= MIN_WORD_COUNT)

    @classmethod
    def check_family_options(cls, options: dict) -> dict:
        o = super().check_family_options(options)
        o["weight"] = in_range("weight", o["weight"], 0.0, MAX_WEIGHT, low_open=True)
        return o

    def fit(self, data, fine_tune: bool = False, **options):
        """Add the counts of ``data``'s training part (a path, a mix, a ``Corpus`` or a text) times ``weight`` to
        the tables (``fine_tune(second_corpus, weight=...)`` shifts a copy toward a second corpus); returns a
        ``xmedia.trainer.TrainResult`` (no steps; held-out nats per character as its metrics) like every ``fit``."""
        common, family = self.check_training_options(fine_tune, **options)
        t0 = time.perf_counter()
        corpus = as_corpus(data, family["val_fraction"], encoding=family["encoding"])
        self.add_counts(corpus.train, family["weight"])
        train_nats = self.nats_per_char(corpus.train[:TRAIN_SCORE_CHARS])["nats_per_char"]
        held_out = self.nats_per_char(corpus.val) if len(self.tokens(corpus.val)) > 1 else None
        val = held_out["nats_per_char"] if held_out else train_nats
        metrics = {"bits/char": float(held_out["bits_per_char"])} if held_out else {}
        seconds = time.perf_counter() - t0
        result = TrainResult(self, [{"step": 0, "train_loss": train_nats, "val_loss": val, "seconds": seconds,
                                     **metrics}], best_val=val, seconds=seconds, seed=common["seed"],
                             stopped=f"counted {len(self.tokens(corpus.train)):,} {self.level}s x {family['weight']:g}",
                             metrics=metrics, options=common, loss_name="nats/char",
                             extra={"data": f"{corpus.describe()}; the last {family['val_fraction']:.0%} of each "
                                            "corpus held out"})
        if common["report"] is not None:
            result.report_path = plot_history(result, common["report"])
        return result

    def add_counts(self, text: str, weight: float = 1.0) -> "MarkovText":
        """Add the n-gram counts of ``text`` times ``weight`` to the tables."""
        ids = self.training_ids(text)
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
                    raise ConfigError("this Markov model has no counts: count a corpus first (MarkovText.from_corpus)")
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


MIN_SPACES_PER_LETTER = 0.02  # English has ~0.2; Chinese, Japanese or Thai text next to none


def check_spaced_words(text: str, min_letters: int = 100) -> None:
    """Word level needs words separated by spaces: on Chinese (or any unspaced) text every clause would be one
    "word", seen once, and the model would learn only the punctuation."""
    letters = sum(1 for c in text if c.isalpha())
    spaces = sum(1 for c in text if c.isspace() and c != "\n")
    if letters >= min_letters and spaces < MIN_SPACES_PER_LETTER * letters:
        raise ConfigError(f"word level needs words separated by spaces, but this text has {spaces} spaces for "
                          f"{letters} letters (Chinese, Japanese or Thai text has none); use character level "
                          "(--level char, level='char')")


def _ngram_counts(ids: np.ndarray, order: int, V: int):
    ctx = np.zeros(len(ids), dtype=np.int64)
    for n in range(order + 1):
        if n:
            ctx[n:] += ids[:-n] * V ** (n - 1)
        codes, counts = np.unique(ctx[n:] * V + ids[n:], return_counts=True)
        yield codes, counts

