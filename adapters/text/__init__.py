"""Text as an output: corpus-trained text processes (Markov, character GRU), remixed, and written by media.

``MarkovText.from_corpus(corpus)`` and ``CharGRU.from_corpus(corpus)`` learn a corpus; every model generates with a
prompt, length, temperature and seed (``generate`` / ``stream``), is scored in nats per character
(``nats_per_char``), saved and shared like every process, fine-tuned and blended. The route step
``perceptual-to-text`` (in ``poem``) writes timed lines (``TimedText``: .srt, .vtt, .json, .txt) from the
perceptual space: a flame writes. Names load on first use, so the formats and the route step stay light
(no torch until a model is used).
"""
from __future__ import annotations

from importlib import import_module

_WHERE = {"Corpus": "corpus", "mix_corpora": "corpus", "parse_mix": "corpus", "read_corpus": "corpus",
          "split_text": "corpus", "MarkovText": "markov", "CharGRU": "gru", "BlendedText": "model",
          "TextModel": "model", "TimedText": "timed", "TimedLine": "timed", "write_poem": "poem",
          "load_text_model": "poem"}
__all__ = sorted(_WHERE)


def __getattr__(name):
    if name in _WHERE:
        return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
