"""The common base of the text processes: vocabulary, generation (prompt, length, temperature, seed, streaming,
sound-poem mode), scoring in nats per character, and blending two models' next-token distributions.

A subclass (``MarkovText``, ``CharGRU``) gives three things: ``initial_state()``, ``advance(state, token_id)``
-> state and ``next_logprobs(state)`` -> log-probabilities over its vocabulary (float64, finite), plus a fast
``score_ids``. Everything else (sampling, streaming, blending) is shared, so every model generates the same way.
Buffers whose size depends on the data (Markov tables, the sound-poem lexicon) are recorded in the config's
``sizes``, so ``from_pretrained`` rebuilds them before loading the weights. Training is the common contract
(``xmedia.trainer``): ``from_corpus`` = ``for_corpus`` (vocabulary) + ``fit`` (a ``TrainResult``).
"""
from __future__ import annotations

import codecs
import copy
import inspect
import json
import math
import unicodedata
import warnings
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from xmedia.blend import build_process, process_spec
from xmedia.errors import ConfigError
from xmedia.media import Text
from xmedia.process import Process

from .corpus import as_corpus, detokenize, words

SOUND_POEM_KEEP = set(" \n-'")
MAX_LEXICON = 30_000


def lexicon_of(text: str, limit: int = MAX_LEXICON) -> list[str]:
    """The most frequent lower-case words of a corpus (what sound-poem mode must not reproduce)."""
    counts: dict[str, int] = {}
    for w in words(text.lower()):
        if w.replace("'", "").replace("’", "").isalpha():  # words and contractions (they'll)
            counts[w] = counts.get(w, 0) + 1
    return sorted(counts, key=lambda w: (-counts[w], w))[:limit]


def recipe_model(recipe: str) -> dict:
    """The ``"model"`` section of a recipe JSON beside this module: a family's constructor defaults (the one place
    they are written; ``xmedia train text`` reads them for its flags)."""
    return json.loads(Path(__file__).with_name(recipe).read_text())["model"]


def in_range(name: str, value, low: float, high: float = math.inf, *, integer: bool = False,
             low_open: bool = False):
    """``value`` as a number in ``[low, high]`` (``(low, high]`` with ``low_open``), else a ``ConfigError`` naming
    ``name``: NaN, infinities, booleans, strings and fractions where a whole number is due are refused."""
    number = not isinstance(value, (bool, str)) and isinstance(value, (int, float, np.integer, np.floating))
    if not (number and math.isfinite(value) and (value > low if low_open else value >= low) and value <= high
            and (not integer or value == int(value))):
        kind = "a whole number" if integer else "a number"
        raise ConfigError(f"{name} must be {kind} in {'(' if low_open else '['}{low:g}, {high:g}], got {value!r}")
    return int(value) if integer else float(value)


def fold(char: str) -> str:
    """A character without its accents (``é`` -> ``e``), for mapping unknown characters."""
    return "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))


class TextModel(Process):
    """Base of the text processes (``src`` text, ``dst`` text). ``level`` is ``"char"`` or ``"word"``."""

    src, dst = "text", "text"
    level = "char"

    def _init_text(self, vocab, sizes: dict | None) -> None:
        self.vocab = list(vocab)
        if not self.vocab:
            raise ConfigError(f"{type(self).__name__} needs a vocabulary (build one with from_corpus(corpus))")
        if len(set(self.vocab)) != len(self.vocab):
            raise ConfigError("the vocabulary has duplicate tokens")
        self.index = {tok: i for i, tok in enumerate(self.vocab)}
        self.config["sizes"] = dict(sizes or {})
        for name, shape in self.config["sizes"].items():
            self.register_buffer(name, torch.zeros(shape, dtype=self.buffer_dtype(name)))
        if "lexicon" not in self.config["sizes"]:
            self.register_buffer("lexicon", torch.zeros(0, dtype=torch.uint8))
        self._lexicon: set | None = None

    def buffer_dtype(self, name: str) -> torch.dtype:
        """The dtype of a data-sized buffer (it follows from its name and the config alone)."""
        return torch.uint8 if name == "lexicon" else torch.int64

    def _store(self, name: str, array) -> None:
        """Set a data-sized buffer and record its shape in the config."""
        t = torch.as_tensor(np.ascontiguousarray(array)).to(self.buffer_dtype(name))
        self.register_buffer(name, t)
        self.config["sizes"][name] = list(t.shape)

    def set_lexicon(self, words_list) -> None:
        self._store("lexicon", np.frombuffer("\n".join(words_list).encode("utf-8"), dtype=np.uint8).copy())
        self._lexicon = None

    def known_words(self) -> set:
        if self._lexicon is None:
            raw = bytes(self.lexicon.numpy().tobytes()).decode("utf-8")
            self._lexicon = set(raw.split("\n")) if raw else set()
        return self._lexicon

    # -- training (xmedia.trainer; the options' defaults are in the subclass's recipe JSON) -------------------
    @classmethod
    def check_config(cls, **config) -> None:
        """Refuse a bad constructor argument (a size above ``xmedia.limits``...) before anything is read or
        allocated."""

    @classmethod
    def vocabulary(cls, corpus, **config) -> list[str]:
        """The tokens a model of ``config`` learns from ``corpus`` (a ``Corpus``; its training part)."""
        raise NotImplementedError

    @classmethod
    def check_family_options(cls, options: dict) -> dict:
        o = dict(options)
        o["val_fraction"] = in_range("val_fraction", o["val_fraction"], 0.0, 0.95)
        try:
            codecs.lookup(o["encoding"])
        except (LookupError, TypeError):
            raise ConfigError(f"encoding {o['encoding']!r} is not a text encoding Python knows (utf-8, latin-1, "
                              "cp1252...)") from None
        return o

    @classmethod
    def for_corpus(cls, data, *, val_fraction=None, encoding=None, seed=None, **config) -> "TextModel":
        """An untrained model of ``config`` whose vocabulary (and sound-poem lexicon) come from ``data``'s training
        part (a path, ``"a.txt:0.7,b.txt:0.3"``, a folder, a manifest, a ``Corpus`` or a text); the held-out part
        is kept in ``.validation_text``; ``seed`` sets the initial weights. Checked before the corpus is read."""
        cls.check_config(**config)
        given = {"val_fraction": val_fraction, "encoding": encoding, "seed": seed}
        common, family = cls.check_training_options(**{k: v for k, v in given.items() if v is not None})
        corpus = as_corpus(data, family["val_fraction"], encoding=family["encoding"])
        torch.manual_seed(common["seed"])
        model = cls(cls.vocabulary(corpus, **config), **config)
        model.set_lexicon(lexicon_of(corpus.train))
        model.validation_text = corpus.val
        return model

    @classmethod
    def from_corpus(cls, data, **options) -> "TextModel":
        """``for_corpus`` then ``fit``: a model trained on ``data``, with its ``TrainResult`` in ``.train_result``.
        ``options``: constructor arguments (``hidden``, ``order``...) and ``fit``'s options, all checked first."""
        names = set(inspect.signature(cls.__init__).parameters) - {"self", "vocab", "sizes"}
        config = {k: options.pop(k) for k in list(options) if k in names}
        cls.check_config(**config)
        common, family = cls.check_training_options(**options)
        corpus = as_corpus(data, family["val_fraction"], encoding=family["encoding"])
        model = cls.for_corpus(corpus, seed=common["seed"], **config)
        model.train_result = model.fit(corpus, **options)
        return model

    def training_ids(self, text: str) -> np.ndarray:
        """Token ids of a training text: unknown characters (words) folded or skipped, with one warning (the
        vocabulary is fixed once built)."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ids = np.asarray(self.encode(text, unknown="fold"), dtype=np.int64)
        if caught:
            warnings.warn(f"fit: {caught[0].message} (the vocabulary is fixed once built)", stacklevel=3)
        return ids

    # -- what a subclass defines ------------------------------------------------------------------------
    def initial_state(self):
        raise NotImplementedError

    def advance(self, state, token: int):
        raise NotImplementedError

    def next_logprobs(self, state) -> np.ndarray:
        raise NotImplementedError

    def score_ids(self, ids: np.ndarray) -> float:
        """Total nats of the token sequence ``ids`` (each token predicted from the ones before it)."""
        state, total = self.initial_state(), 0.0
        for tok in ids:
            total -= float(self.next_logprobs(state)[tok])
            state = self.advance(state, int(tok))
        return total

    # -- tokens -----------------------------------------------------------------------------------------
    def tokens(self, text: str) -> list[str]:
        return list(text) if self.level == "char" else words(text)

    def encode(self, text: str, unknown: str = "fold") -> list[int]:
        """Token ids of ``text``. An unknown character (word) is folded (``é`` -> ``e``, ``Q`` -> ``q``) when
        the folded one is known, else skipped with a warning (``unknown="skip"``); ``unknown="error"`` raises."""
        if unknown not in ("fold", "skip", "error"):
            raise ConfigError(f"unknown must be 'fold', 'skip' or 'error', got {unknown!r}")
        ids, missing = [], []
        for tok in self.tokens(text):
            i = self.index.get(tok)
            if i is None and unknown == "fold":
                for alt in (fold(tok), tok.lower(), fold(tok).lower(), tok.upper()):
                    if alt in self.index:
                        i = self.index[alt]
                        break
            if i is None and self.level == "word" and "<unk>" in self.index:
                i = self.index["<unk>"]  # a rare word: the word model's unknown-word token
            if i is None:
                missing.append(tok)
            else:
                ids.append(i)
        if missing:
            shown = ", ".join(repr(m) for m in sorted(set(missing))[:8])
            if unknown == "error":
                raise ConfigError(f"{len(missing)} {self.level}s are not in the model's vocabulary ({shown}); "
                                  "pass unknown='skip' to drop them")
            warnings.warn(f"skipped {len(missing)} {self.level}s the model does not know: {shown}", stacklevel=3)
        return ids

    def decode(self, ids) -> str:
        toks = [self.vocab[i] for i in ids]
        return "".join(toks) if self.level == "char" else detokenize(toks)

    # -- generation -------------------------------------------------------------------------------------
    def stream(self, prompt: str = "", length: int = 200, temperature: float = 1.0, seed: int = 0,
               lines: int | None = None, sound_poem: bool = False, unknown: str = "fold") -> Iterator[str]:
        """Generated text as it comes (the prompt itself is not repeated). ``length`` counts characters;
        ``lines`` stops after that many line breaks; ``temperature`` 0 is greedy; the same seed gives the same
        text. ``sound_poem``: only letters, spaces and line breaks, and no word the corpus contains (Hugo Ball's
        verses without words, in the corpus's sound)."""
        temperature = float(temperature)
        if not temperature >= 0 or not np.isfinite(temperature):
            raise ConfigError(f"temperature must be >= 0, got {temperature}")
        if int(length) < 0:
            raise ConfigError(f"length must be >= 0, got {length}")
        rng = np.random.default_rng(seed)
        self.eval()  # sampling never drops out
        state = self.initial_state()
        last = "\n"
        for tok in self.encode(prompt, unknown):
            state = self.advance(state, tok)
            last = self.vocab[tok]
        if sound_poem:
            yield from self._sound_poem(state, int(length), temperature, rng, lines)
            return
        produced, breaks = 0, 0
        while produced < int(length):
            i = sample(self.next_logprobs(state), temperature, rng)
            tok = self.vocab[i]
            piece = tok if self.level == "char" else _spaced(last, tok)
            state, last = self.advance(state, i), tok
            produced += len(piece)
            yield piece
            if tok == "\n":
                breaks += 1
                if lines is not None and breaks >= lines:
                    return

    def _sound_poem(self, state, length: int, temperature: float, rng, lines):
        """Letter by letter; when a word would end as a word the corpus has, it goes on (letters only) until it
        is no longer one, so what is left are invented words in the corpus's sound."""
        mask = self._sound_poem_mask()
        letters = np.array([t.isalpha() or t in "-'" for t in self.vocab])
        known = self.known_words()
        produced, breaks, word = 0, 0, ""
        while produced < length:
            logp = np.where(mask, self.next_logprobs(state), -np.inf)
            i = sample(logp, temperature, rng)
            if not letters[i] and _is_known(word, known) and len(word) < 30 and np.isfinite(logp[letters]).any():
                i = sample(np.where(letters, logp, -np.inf), temperature, rng)  # still a real word: go on
            tok = self.vocab[i]
            word = word + tok.lower() if letters[i] else ""
            state = self.advance(state, i)
            produced += len(tok)
            yield tok
            if tok == "\n":
                breaks += 1
                if lines is not None and breaks >= lines:
                    return

    def generate(self, prompt: str = "", length: int = 200, temperature: float = 1.0, seed: int = 0,
                 lines: int | None = None, sound_poem: bool = False, unknown: str = "fold") -> str:
        """The whole generated text (exactly what ``stream`` yields, joined)."""
        return "".join(self.stream(prompt, length, temperature, seed, lines, sound_poem, unknown))

    def run(self, x, length: int = 200, temperature: float = 1.0, seed: int = 0, lines: int | None = None,
            sound_poem: bool = False) -> Text:
        """A ``Text`` (or str) prompt in, its continuation out."""
        prompt = x.text if isinstance(x, Text) else str(x)
        return Text(self.generate(prompt, length, temperature, seed, lines, sound_poem))

    def _sound_poem_mask(self) -> np.ndarray:
        if self.level != "char":
            raise ConfigError("sound-poem mode invents words letter by letter: use a character-level model")
        return np.array([t.isalpha() or t in SOUND_POEM_KEEP for t in self.vocab])

    # -- evaluation -------------------------------------------------------------------------------------
    def nats_per_char(self, text: str) -> dict:
        """Loss on ``text`` in nats per character. Characters the model does not know are not scored and are
        counted in ``unknown`` (so the number is over the characters it can predict)."""
        if not text:
            raise ConfigError("nothing to score: the text is empty")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ids = np.asarray(self.encode(text, unknown="skip"), dtype=np.int64)
        if len(ids) < 2:
            raise ConfigError("the text has fewer than two tokens this model knows: nothing to score")
        n_chars = len(self.decode(ids))
        nats = self.score_ids(ids)
        total_tokens = len(self.tokens(text))
        return {"nats_per_char": nats / n_chars, "bits_per_char": nats / n_chars / np.log(2), "chars": n_chars,
                "tokens": int(len(ids)), "unknown": int(total_tokens - len(ids))}

    # -- blending ---------------------------------------------------------------------------------------
    @classmethod
    def blend_outputs(cls, a: "TextModel", b: "TextModel", t: float) -> "TextModel":
        if t in (0.0, 1.0):  # exactly one of the two, bit for bit
            return copy.deepcopy(a if t == 0.0 else b)
        return BlendedText(process_spec(a), process_spec(b), t)._load(a, b)


def _is_known(word: str, known: set) -> bool:
    """A word of the corpus, or a hyphenated compound of them (``to-morrow``)."""
    word = word.strip("-'")
    return bool(word) and (word in known or all(p in known for p in word.split("-") if p))


def _spaced(last: str, tok: str) -> str:
    if tok == "\n" or last == "\n" or (len(tok) == 1 and tok in ".,;:!?')]}’"):
        return tok
    return " " + tok


def sample(logp: np.ndarray, temperature: float, rng: np.random.Generator) -> int:
    """One draw (inverse CDF of one uniform number, so zero-probability tokens never shift the others)."""
    if temperature == 0:
        return int(np.argmax(logp))
    z = logp / temperature
    z = z - np.max(z)
    p = np.exp(z)
    cdf = np.cumsum(p)
    u = rng.random() * cdf[-1]
    return int(min(np.searchsorted(cdf, u, side="right"), len(p) - 1))


class BlendedText(TextModel):
    """``(1 - t) * p_a + t * p_b``: the mix of two models' next-token distributions, over the union of their
    vocabularies (``a``'s tokens first). Exactly ``a`` at ``t = 0`` and ``b`` at ``t = 1``."""

    def __init__(self, a: dict, b: dict, t: float = 0.5, sizes: dict | None = None):
        super().__init__()
        self.a, self.b, self.t = build_process(a, TextModel), build_process(b, TextModel), float(t)
        if not 0.0 <= self.t <= 1.0:
            raise ConfigError(f"blend t must be in [0, 1], got {t}")
        if self.a.level != self.b.level:
            raise ConfigError(f"cannot blend a {self.a.level}-level and a {self.b.level}-level model")
        self.level = self.a.level
        union = list(self.a.vocab) + [v for v in self.b.vocab if v not in self.a.index]
        self._init_text(union, sizes)
        self.map_a = np.array([self.index[v] for v in self.a.vocab])
        self.map_b = np.array([self.index[v] for v in self.b.vocab])

    def _load(self, a: TextModel, b: TextModel) -> "BlendedText":
        self.a.load_state_dict(a.state_dict())
        self.b.load_state_dict(b.state_dict())
        return self

    def known_words(self) -> set:
        return self.a.known_words() | self.b.known_words()

    def initial_state(self):
        return (self.a.initial_state(), self.b.initial_state())

    def advance(self, state, token: int):
        tok = self.vocab[token]
        sa, sb = state
        ia, ib = self.a.index.get(tok), self.b.index.get(tok)
        # A token one model does not know leaves that model's state where it was.
        return (sa if ia is None else self.a.advance(sa, ia), sb if ib is None else self.b.advance(sb, ib))

    def next_logprobs(self, state) -> np.ndarray:
        n = len(self.vocab)
        if self.t in (0.0, 1.0):
            out = np.full(n, -np.inf)
            if self.t == 0.0:
                out[self.map_a] = self.a.next_logprobs(state[0])
            else:
                out[self.map_b] = self.b.next_logprobs(state[1])
            return out
        pa = np.zeros(n)
        pb = np.zeros(n)
        pa[self.map_a] = np.exp(self.a.next_logprobs(state[0]))
        pb[self.map_b] = np.exp(self.b.next_logprobs(state[1]))
        with np.errstate(divide="ignore"):
            return np.log((1.0 - self.t) * pa + self.t * pb)
