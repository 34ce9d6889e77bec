"""``python -m xmedia.zoo.build text``: the shipped Shakespeare text models.

- ``shakespeare-markov@1``: character Markov chain, order 4, interpolated absolute discounting.
- ``shakespeare-gru@1``: character GRU (embedding 64, hidden 256), trained on this CPU for at most 14 minutes.

Both learn ``text/tinyshakespeare_en.txt`` from the shared corpora (public domain) with its last 10% held out
as one contiguous block; the validation loss on that block (nats per character) is in each card.
"""
from __future__ import annotations

import os
import platform
import time
from pathlib import Path

import torch

from xmedia.adapters.text.corpus import mix_corpora
from xmedia.adapters.text.gru import CharGRU
from xmedia.adapters.text.markov import MarkovText

from . import ZOO_DIR, index_entry

CORPUS = Path("text") / "tinyshakespeare_en.txt"
VAL_FRACTION = 0.1
MARKOV_ORDER = 4
GRU = {"embed_dim": 64, "hidden": 256, "layers": 1, "dropout": 0.1}
FIT = {"max_steps": 6000, "max_minutes": 14.0, "batch_size": 64, "seq_len": 128, "learning_rate": 3e-3,
       "warmup_steps": 50, "eval_every": 100, "eval_chars": 30_000, "patience": 6, "seed": 0}
DATA = ("tinyshakespeare_en.txt (the first 36,000 lines of the char-rnn Tiny Shakespeare corpus; public domain). "
        "Split: the last 10% of the file held out as one contiguous block (validation), the rest trained on.")


def build_text(corpora_dir, progress: bool | None = None, **_) -> dict:
    """Both shipped text models (the GRU trains for up to 14 minutes)."""
    torch.set_num_threads(int(os.environ.get("XMEDIA_TRAIN_THREADS", "1")))
    corpus = mix_corpora(Path(corpora_dir) / CORPUS, val_fraction=VAL_FRACTION)
    return {**build_markov(corpus), **build_gru(corpus, progress)}


def build_markov(corpus) -> dict:
    t0 = time.perf_counter()
    markov = MarkovText.from_corpus(corpus, order=MARKOV_ORDER)
    m_val = markov.nats_per_char(corpus.val)["nats_per_char"]
    markov.card = {"title": "shakespeare-markov", "data": DATA,
                   "description": f"Character Markov chain of order {MARKOV_ORDER} on Tiny Shakespeare: validation "
                                  f"{m_val:.3f} nats/char.",
                   "objective": "n-gram counts; interpolated absolute discounting (discount n1/(n1+2 n2) per order)",
                   "metrics": {"validation nats/char": round(m_val, 4), "order": MARKOV_ORDER,
                               "training seconds": round(time.perf_counter() - t0, 1)},
                   "licence": "Apache-2.0 (tables); the corpus is public domain",
                   "reproduce": "python -m xmedia.zoo.build text"}
    folder = ZOO_DIR / "shakespeare-markov" / "1"
    markov.save_pretrained(folder)
    print(markov.card["description"])
    return {"shakespeare-markov": {"1": index_entry(folder, markov, step=False)}}


def build_gru(corpus, progress: bool | None = None) -> dict:
    gru = CharGRU.from_corpus(corpus, **GRU, progress=progress if progress is not None else True,
                               report=ZOO_DIR / "shakespeare-gru" / "loss.png", **FIT)
    res = gru.train_result
    g_val = gru.nats_per_char(corpus.val)["nats_per_char"]
    gru.card = {"title": "shakespeare-gru", "data": DATA,
                "description": f"Character GRU (hidden {GRU['hidden']}) on Tiny Shakespeare: validation "
                               f"{g_val:.3f} nats/char after {res.seconds / 60:.1f} min on a CPU.",
                "objective": "next-character cross-entropy; AdamW, warm-up + cosine, early stopping on validation",
                "metrics": {"validation nats/char": round(g_val, 4), "steps": res.steps,
                            "best step": res.best_step, "training minutes": round(res.seconds / 60, 2),
                            "stopped": res.stopped, "threads": torch.get_num_threads(),
                            "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                                       "shared with other jobs while training"},
                "licence": "Apache-2.0 (weights); the corpus is public domain",
                "reproduce": "python -m xmedia.zoo.build text"}
    folder = ZOO_DIR / "shakespeare-gru" / "1"
    gru.save_pretrained(folder)
    print(res.summary())
    print(gru.card["description"])
    return {"shakespeare-gru": {"1": index_entry(folder, gru, step=False)}}
