"""A character-level GRU language model (char-rnn, as in Euro(re)vision's lyrics), trainable on a CPU.

``CharGRU.from_corpus(corpus, max_minutes=12)`` builds the vocabulary from the corpus, then ``fit`` (the one
trainer, ``xmedia.trainer``) trains on random windows of ``seq_len`` characters with AdamW, a linear warm-up and a
cosine decay, measures nats per character on the held-out end of the corpus every ``eval_every`` steps (early
stopping keeps the best weights) and can write a loss PNG. Defaults: ``gru.json`` beside this module (the
constructor's under ``"model"``, ``fit``'s under ``"train"``, ``fine_tune``'s under ``"fine_tune"``).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from xmedia.errors import ConfigError
from xmedia.limits import check, check_bytes
from xmedia.trainer import Task

from .corpus import as_corpus
from .model import TextModel, in_range, recipe_model

MODEL = recipe_model("gru.json")
MAX_LAYERS = 16


class CharGRU(TextModel):
    """Embedding -> GRU -> linear over the characters of ``vocab``."""

    recipe = "gru.json"

    def __init__(self, vocab=(), embed_dim: int = MODEL["embed_dim"], hidden: int = MODEL["hidden"],
                 layers: int = MODEL["layers"], dropout: float = MODEL["dropout"], sizes: dict | None = None):
        super().__init__()
        self.check_config(embed_dim=embed_dim, hidden=hidden, layers=layers, dropout=dropout)
        self._init_text(vocab, sizes)
        V = len(self.vocab)
        self.embed = nn.Embedding(V, embed_dim)
        self.gru = nn.GRU(embed_dim, hidden, num_layers=layers, batch_first=True,
                          dropout=dropout if layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, V)

    def forward(self, x: torch.Tensor, h: torch.Tensor | None = None):
        """Token ids ``(B, T)`` -> logits ``(B, T, V)`` and the last hidden state."""
        out, h = self.gru(self.embed(x), h)
        return self.head(self.drop(out)), h

    # -- the TextModel interface --------------------------------------------------------------------------
    def initial_state(self):
        h = torch.zeros(self.gru.num_layers, 1, self.gru.hidden_size)
        with torch.no_grad():
            logits = self.head(h[-1, 0])
        return h, F.log_softmax(logits.double(), -1).numpy()

    def advance(self, state, token: int):
        with torch.no_grad():
            logits, h = self.forward(torch.tensor([[int(token)]]), state[0])
        return h, F.log_softmax(logits[0, -1].double(), -1).numpy()

    def next_logprobs(self, state) -> np.ndarray:
        return state[1]

    @torch.no_grad()
    def score_ids(self, ids, streams: int = 16, chunk: int = 1024) -> float:
        """Total nats, the text cut into ``streams`` parallel pieces (each starts from the empty state)."""
        was = self.training
        self.eval()
        ids = torch.as_tensor(np.asarray(ids), dtype=torch.long)
        n = len(ids)
        streams = max(1, min(streams, n // 256 or 1))
        L = -(-n // streams)
        x = torch.zeros(streams * L, dtype=torch.long)
        x[:n] = ids
        valid = torch.arange(streams * L) < n
        x, valid = x.view(streams, L), valid.view(streams, L)
        h = torch.zeros(self.gru.num_layers, streams, self.gru.hidden_size)
        total = -float(F.log_softmax(self.head(h[-1]).double(), -1).gather(1, x[:, :1])[valid[:, :1]].sum())
        for a in range(0, L - 1, chunk):
            inp, tgt, m = x[:, a:a + chunk], x[:, a + 1:a + chunk + 1], valid[:, a + 1:a + chunk + 1]
            logits, h = self.forward(inp[:, : tgt.shape[1]], h)
            nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).double(), tgt.reshape(-1), reduction="none")
            total += float(nll[m.reshape(-1)].sum())
        self.train(was)
        return total

        # -- training (xmedia.trainer) ----------------------------------------------------------------------------
    @classmethod
    def check_config(cls, embed_dim=MODEL["embed_dim"], hidden=MODEL["hidden"], layers=MODEL["layers"],
                     dropout=MODEL["dropout"], **_) -> None:
        for name, value in (("embed_dim", embed_dim), ("hidden", hidden)):
            check("model_units", in_range(name, value, 1, integer=True), name)
        in_range("layers", layers, 1, MAX_LAYERS, integer=True)
        in_range("dropout", dropout, 0.0, 0.95)
        check_bytes(4 * 3 * hidden * (embed_dim + 2 * hidden) * layers, f"a GRU of hidden {hidden} x {layers} layers")

    @classmethod
    def vocabulary(cls, corpus, **_) -> list[str]:
        return sorted(set(corpus.train) | set(corpus.val))

    @classmethod
    def check_family_options(cls, options: dict) -> dict:
        o = super().check_family_options(options)
        o["seq_len"] = in_range("seq_len", o["seq_len"], 1, integer=True)
        check("train_crop_px", o["seq_len"], "seq_len")
        o["eval_chars"] = in_range("eval_chars", o["eval_chars"], 2, integer=True)
        return o

    def training_task(self, data, seq_len: int, val_fraction: float, encoding: str, eval_chars: int) -> "CharTask":
        """Random windows of ``data``'s training part; held-out nats per character on (up to ``eval_chars`` of)
        its end."""
        corpus = as_corpus(data, val_fraction, encoding=encoding)
        ids = self.training_ids(corpus.train)
        if len(ids) < seq_len + 2:
            raise ConfigError(f"the training text has {len(ids)} usable characters, fewer than the context "
                              f"seq_len + 2 = {seq_len + 2}: give more text or a smaller seq_len")
        return CharTask(self, torch.as_tensor(ids), corpus.val[:eval_chars], seq_len,
                        f"{corpus.describe()}; the last {val_fraction:.0%} of each corpus held out")


class CharTask(Task):
    """Next-character cross-entropy on random windows; held-out nats per character (the loss in the PNG)."""

    loss_name = "nats/char"

    def __init__(self, model: CharGRU, ids: torch.Tensor, val_text: str, seq_len: int, data: str):
        self.model, self.ids, self.val_text, self.seq_len, self.data = model, ids, val_text, seq_len, data
        self.window = torch.arange(seq_len + 1)

    def setup(self, runner) -> None:
        """One step's activations must fit ``memory_bytes`` (checked before the first batch)."""
        batch, gru, vocab = self.options["batch_size"], self.model.gru, len(self.model.vocab)
        width = self.model.embed.embedding_dim + 6 * gru.hidden_size * gru.num_layers + 3 * vocab
        check_bytes(4 * batch * self.seq_len * width,
                    f"a step of batch_size {batch} x seq_len {self.seq_len} (hidden {gru.hidden_size})")

    def optimizer(self, params, options: dict) -> torch.optim.Optimizer:
        """AdamW, weight decay on the matrices only."""
        decay = [p for p in params if p.dim() >= 2]
        rest = [p for p in params if p.dim() < 2]
        return torch.optim.AdamW([{"params": decay, "weight_decay": options["weight_decay"]},
                                  {"params": rest, "weight_decay": 0.0}], lr=options["learning_rate"],
                                 betas=(0.9, 0.99))

    def batch(self, step: int, rng: np.random.Generator) -> torch.Tensor:
        starts = torch.as_tensor(rng.integers(0, len(self.ids) - self.seq_len - 1, self.options["batch_size"]))
        return self.ids[starts[:, None] + self.window]

    def loss(self, net, chunk: torch.Tensor) -> torch.Tensor:
        logits, _ = net(chunk[:, :-1])
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), chunk[:, 1:].reshape(-1))

    def validate(self, model: CharGRU):
        if len(self.val_text) < 2:
            return None  # nothing held out: the trainer follows the training loss
        r = model.nats_per_char(self.val_text)
        return r["nats_per_char"], {"bits/char": float(r["bits_per_char"])}

    def finish(self, result) -> None:
        result.extra["data"] = self.data
