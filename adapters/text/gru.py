"""A character-level GRU language model (char-rnn, as in Euro(re)vision's lyrics), trainable on a CPU.

``CharGRU.from_corpus(corpus, max_minutes=12)`` builds the vocabulary from the training part, then ``fit`` trains on
random windows of ``seq_len`` characters with AdamW, a linear warm-up and a cosine decay, measures the loss on
the held-out end of the corpus every ``eval_every`` steps (early stopping keeps the best weights) and can
write a loss PNG. Training stops at ``max_steps`` or ``max_minutes``, whichever comes first (the schedule
follows whichever is further along, so a time-limited run still anneals).
"""
from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from xmedia.errors import ConfigError

from .markov import _as_corpus
from .model import TextModel, lexicon_of


@dataclass
class TextTrainResult:
    history: list = field(default_factory=list)  # (step, train loss, val loss, seconds)
    best_val: float = float("inf")
    best_step: int = 0
    steps: int = 0
    seconds: float = 0.0
    stopped: str = ""
    model: object = None  # the trained model (what ``fine_tune`` trained: a copy)

    def summary(self) -> str:
        return (f"{self.steps} steps in {self.seconds / 60:.1f} min ({self.stopped}); best validation "
                f"{self.best_val:.3f} nats/char at step {self.best_step}")


class CharGRU(TextModel):
    """Embedding -> GRU -> linear over the characters of ``vocab``."""

    fine_tune_defaults = {"max_steps": 300, "lr": 1e-3, "warmup_steps": 10}

    def __init__(self, vocab=(), embed_dim: int = 64, hidden: int = 384, layers: int = 1, dropout: float = 0.1,
                 sizes: dict | None = None):
        super().__init__()
        self._init_text(vocab, sizes)
        V = len(self.vocab)
        self.embed = nn.Embedding(V, embed_dim)
        self.gru = nn.GRU(embed_dim, hidden, num_layers=layers, batch_first=True,
                          dropout=dropout if layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, V)
        self.result: TextTrainResult | None = None

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

    # -- training -----------------------------------------------------------------------------------------
    @classmethod
    def from_corpus(cls, data, val_fraction: float = 0.1, embed_dim: int = 64, hidden: int = 256, layers: int = 1,
                     dropout: float = 0.1, read_options: dict | None = None, **fit_options) -> "CharGRU":
        """Build the vocabulary from ``data`` (path, ``"a.txt:0.5,b.txt:0.5"``, folder or text), train, return
        the model with its result in ``.result`` and the held-out text in ``.validation_text``."""
        corpus = _as_corpus(data, val_fraction, **(read_options or {}))
        torch.manual_seed(int(fit_options.get("seed", 0)))
        model = cls(sorted(set(corpus.train) | set(corpus.val)), embed_dim, hidden, layers, dropout)
        model.set_lexicon(lexicon_of(corpus.train))
        model.validation_text = corpus.val
        model.fit(corpus, **fit_options)
        return model

    def fit(self, data, max_steps: int = 4000, max_minutes: float | None = None, batch_size: int = 64,
            seq_len: int = 128, lr: float = 3e-3, warmup_steps: int = 50, weight_decay: float = 0.01,
            eval_every: int = 100, eval_chars: int = 40_000, patience: int = 5, seed: int = 0,
            progress: bool | None = None, report=None, val_fraction: float = 0.1,
            distributed: bool | None = None) -> TextTrainResult:
        """Train in place on ``data`` (a ``Corpus``, a path or a mix spec); returns a ``TextTrainResult``.
        ``distributed``: data-parallel under ``torchrun`` (see ``xmedia.scale.runner``); each process draws
        its own windows."""
        from tqdm.auto import tqdm

        from xmedia.scale import runner

        corpus = _as_corpus(data, val_fraction)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            train = torch.tensor(self.encode(corpus.train, unknown="fold"), dtype=torch.long)
        if caught:
            warnings.warn(f"fit: {caught[0].message} (the vocabulary is fixed once built)", stacklevel=2)
        if len(train) < seq_len + 2:
            raise ConfigError(f"the training text has {len(train)} usable characters, fewer than the context "
                              f"seq_len + 2 = {seq_len + 2}: give more text or a smaller seq_len")
        val_text = corpus.val[:eval_chars] if corpus.val else ""
        r = runner(distributed)
        gen = torch.Generator().manual_seed(int(seed) + r.process_index)
        torch.manual_seed(int(seed))
        params = [p for p in self.parameters() if p.requires_grad]
        decay = [p for p in params if p.dim() >= 2]
        rest = [p for p in params if p.dim() < 2]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0}],
                                lr=lr, betas=(0.9, 0.99))
        net, opt = r.prepare(self, opt)
        res = TextTrainResult()
        best_state, wait, t0 = None, 0, time.perf_counter()
        limit_s = None if max_minutes is None else 60.0 * float(max_minutes)
        show = progress if progress is not None else False
        bar = tqdm(range(1, int(max_steps) + 1), desc=f"train {type(self).__name__}", unit="step",
                   disable=not (show and r.is_main))
        running = None
        for step in bar:
            elapsed = r.max(time.perf_counter() - t0)  # one clock for all processes: the same learning rate
            frac = max(step / max_steps, elapsed / limit_s if limit_s else 0.0)
            scale = min(1.0, step / max(1, warmup_steps)) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(frac, 1))))
            for g in opt.param_groups:
                g["lr"] = lr * scale
            self.train()
            off = torch.randint(0, len(train) - seq_len - 1, (batch_size,), generator=gen)
            idx = off[:, None] + torch.arange(seq_len + 1)
            chunk = train[idx]
            logits, _ = net(chunk[:, :-1])
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), chunk[:, 1:].reshape(-1))
            if not torch.isfinite(loss):
                raise ConfigError(f"the loss became {float(loss)} at step {step}: lower lr (now {lr})")
            opt.zero_grad(set_to_none=True)
            r.backward(loss)
            nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            value = float(loss.detach())
            running = value if running is None else 0.95 * running + 0.05 * value
            res.steps = step
            out_of_time = r.any(limit_s is not None and time.perf_counter() - t0 >= limit_s)
            if step % eval_every == 0 or step == max_steps or out_of_time:
                val = self.nats_per_char(val_text)["nats_per_char"] if len(val_text) > 1 else running
                res.history.append((step, running, val, time.perf_counter() - t0))
                bar.set_postfix(train=f"{running:.3f}", val=f"{val:.3f}")
                if val < res.best_val - 1e-4:
                    res.best_val, res.best_step, wait = val, step, 0
                    best_state = {k: v.detach().clone() for k, v in self.state_dict().items()}
                else:
                    wait += 1
                    if wait >= patience:
                        res.stopped = f"early stop: no better validation loss in {patience} checks"
                        break
            if out_of_time:
                res.stopped = f"time limit {max_minutes} min"
                break
        bar.close()
        res.stopped = res.stopped or f"{max_steps} steps"
        if best_state is not None:
            self.load_state_dict(best_state)
        res.seconds = time.perf_counter() - t0
        self.eval()
        self.result, res.model = res, self
        if report and r.is_main:
            write_loss_report(res, report, title=f"{type(self).__name__} on {corpus.describe()}")
        return res


def write_loss_report(res: TextTrainResult, path, title: str = ""):
    """Loss PNG: training (smoothed) and validation nats/char against steps."""
    from xmedia.report import pyplot, save_figure

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    if res.history:
        s, tr, va, _ = zip(*res.history)
        ax.plot(s, tr, label="train (smoothed)")
        ax.plot(s, va, marker="o", label="validation")
        ax.axvline(res.best_step, color="0.6", ls="--", lw=0.8)
    ax.set_xlabel("step")
    ax.set_ylabel("nats per character")
    ax.set_title(title[:90], fontsize=9)
    ax.legend()
    return save_figure(fig, path)
