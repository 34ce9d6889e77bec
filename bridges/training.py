"""Training bridges: contrastive alignment of two spaces (CLIP-style symmetric InfoNCE with a learnable
temperature) or regression to a space / decoder controls, with a validation split, early stopping, seeds,
progress bars, a loss-curve PNG and a ``TrainResult``.

One loop for every scale: run as a plain script it trains in one CPU process; launched with
``accelerate launch`` or ``torchrun`` (``WORLD_SIZE`` > 1) the same loop runs data-parallel through
``accelerate`` (DDP: batches sharded, gradients all-reduced; only the main process writes files).
See docs/training.md.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from xmedia.errors import ConfigError
from xmedia.report import pyplot, save_figure
from xmedia.scale import runner as scale_runner

from .av_data import VIDEO_EXT
from .data import as_pairs
from .dataset import Pairs
from .features import show_progress
from .metrics import regression_metrics, retrieval_metrics

OBJECTIVES = ("contrastive", "regression")
MAX_LOGIT_SCALE = math.log(100.0)  # CLIP clamps the temperature so logits stay <= 100


@dataclass
class TrainResult:
    """What ``train`` returns: the trained bridge (best validation epoch restored) and how it got there."""

    bridge: nn.Module
    objective: str
    history: list[dict] = field(default_factory=list)
    best_epoch: int = 0
    best_val_loss: float = float("inf")
    metrics: dict[str, float] = field(default_factory=dict)
    train_metrics: dict[str, float] = field(default_factory=dict)
    n_train: int = 0
    n_val: int = 0
    steps: int = 0
    seconds: float = 0.0
    seed: int = 0
    stopped_early: bool = False
    report_path: Path | None = None
    out_dir: Path | None = None

    @property
    def train_losses(self) -> list[float]:
        return [h["train_loss"] for h in self.history]

    @property
    def val_losses(self) -> list[float]:
        return [h["val_loss"] for h in self.history]

    def summary(self) -> str:
        m = ", ".join(f"{k} {v:.3f}" for k, v in self.metrics.items() if isinstance(v, float))
        return (f"{self.objective}: {len(self.history)} epochs ({self.steps} steps, {self.seconds:.1f} s), best epoch "
                f"{self.best_epoch}, val loss {self.best_val_loss:.4f}; held-out ({self.n_val}): {m}")


# ------------------------------------------------------------------------------------------------ losses
def is_two_tower(bridge) -> bool:
    flag = getattr(bridge, "two_tower", None)  # wrappers (extend, blend) say whether their base is
    return bool(flag) if flag is not None else hasattr(bridge, "encode_a") and hasattr(bridge, "encode_b")


def contrastive_loss(za: torch.Tensor, zb: torch.Tensor, logit_scale: torch.Tensor) -> torch.Tensor:
    """Symmetric InfoNCE (Radford et al. 2021): row i of ``za`` should pick row i of ``zb`` and vice versa."""
    logits = logit_scale.clamp(max=MAX_LOGIT_SCALE).exp() * za @ zb.T
    labels = torch.arange(len(za), device=za.device)
    return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))


class Objective(nn.Module):
    """``forward(a, b) -> loss``: the one module the (possibly distributed) loop wraps, so DDP sees every
    parameter, including the temperature of a single-tower contrastive bridge."""

    def __init__(self, bridge: nn.Module, objective: str):
        super().__init__()
        if objective not in OBJECTIVES:
            raise ConfigError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
        self.bridge, self.objective = bridge, objective
        self.two_tower = is_two_tower(bridge)
        if objective == "contrastive" and not self.two_tower:
            self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def embed(self, a, b):
        if self.two_tower:
            return self.bridge.encode_a(a), self.bridge.encode_b(b)
        return F.normalize(self.bridge(a), dim=-1), F.normalize(b, dim=-1)

    def forward(self, a, b):
        if self.objective == "regression":
            return F.mse_loss(self.bridge(a), b)
        za, zb = self.embed(a, b)
        scale = self.bridge.logit_scale if self.two_tower else self.logit_scale
        return contrastive_loss(za, zb, scale)


# ------------------------------------------------------------------------------------------------ metrics
@torch.no_grad()
def _metrics(objective: Objective, a, b, sources=None, gallery="all", train_mean=None) -> tuple[float, dict]:
    objective.eval()
    device = next(objective.parameters()).device
    a, b = torch.as_tensor(a, device=device), torch.as_tensor(b, device=device)
    loss = float(objective(a, b))
    if objective.objective == "regression":
        return loss, regression_metrics(objective.bridge(a).cpu().numpy(), b.cpu().numpy(), train_mean)
    za, zb = objective.embed(a, b)
    return loss, retrieval_metrics(za.cpu().numpy(), zb.cpu().numpy(), sources, gallery)


def guess_objective(bridge) -> str:
    return "contrastive" if is_two_tower(bridge) else "regression"


def evaluate(bridge: nn.Module, data, objective: str | None = None, split: str = "val", val_fraction: float = 0.25,
             seed: int = 0, gallery: str = "all", **data_options) -> dict:
    """Held-out metrics of a trained bridge: retrieval recall@1/@5 with chance (contrastive) or MSE/R^2
    (regression). ``split`` is ``"val"`` (the split ``train`` held out with the same seed), ``"train"`` or
    ``"all"``."""
    data = as_pairs(data, **_data_options(data, data_options, seed, val_fraction))
    objective = objective or guess_objective(bridge)
    _check_dims(bridge, data, objective)
    mask = {"val": lambda: data.split(val_fraction, seed), "train": lambda: ~data.split(val_fraction, seed),
            "all": lambda: np.ones(len(data), bool)}.get(split)
    if mask is None:
        raise ConfigError(f"split must be 'val', 'train' or 'all', got {split!r}")
    part = data.subset(mask())
    train_mean = data.b[~data.split(val_fraction, seed)].mean(axis=0)
    was_training = bridge.training
    _, metrics = _metrics(Objective(bridge, objective), part.a, part.b, part.sources, gallery, train_mean)
    bridge.train(was_training)
    return metrics


# ------------------------------------------------------------------------------------------------ training
def _check_dims(bridge, data: Pairs, objective: str) -> None:
    name = type(bridge).__name__
    in_dim = getattr(bridge, "in_dim", None)
    if in_dim is not None and data.a.shape[1] != in_dim:
        raise ConfigError(f"{name} takes {in_dim} input features but the data has {data.a.shape[1]}; "
                          f"build the bridge with in_dim/video_dim={data.a.shape[1]}")
    if objective == "contrastive":
        b_dim = getattr(bridge, "b_dim", None) if is_two_tower(bridge) else getattr(bridge, "out_dim", None)
        if b_dim is not None and data.b.shape[1] != b_dim:
            raise ConfigError(f"{name} expects {b_dim}-dim partners but the data's b side has {data.b.shape[1]}")
    elif objective == "regression":
        if is_two_tower(bridge):
            raise ConfigError(f"{name} is a two-tower bridge; train it with objective='contrastive'")
        out_dim = getattr(bridge, "out_dim", None)
        if out_dim is not None and data.b.shape[1] != out_dim:
            raise ConfigError(f"{name} outputs {out_dim} values but the targets have {data.b.shape[1]}")


def freeze_parameters(bridge: nn.Module, prefixes) -> list[str]:
    """Stop gradients for parameters whose names start with any prefix; returns the frozen names."""
    prefixes = [prefixes] if isinstance(prefixes, str) else list(prefixes or [])
    names = [n for n, _ in bridge.named_parameters()]
    frozen = []
    for prefix in prefixes:
        hit = [n for n in names if n.startswith(prefix)]
        if not hit:
            raise ConfigError(f"freeze prefix {prefix!r} matches no parameter; parameters: {names}")
        frozen += hit
    for n, p in bridge.named_parameters():
        p.requires_grad_(n not in frozen)
    return sorted(set(frozen))


def train(bridge: nn.Module, data, objective: str = "contrastive", *, epochs: int = 200, batch_size: int = 128,
          lr: float = 3e-3, weight_decay: float = 1e-3, val_fraction: float = 0.25, patience: int = 25,
          min_delta: float = 1e-4, seed: int = 0, freeze=(), max_steps: int | None = None, gallery: str = "all",
          fit_input_stats: bool = True, restore_best: bool = True, out_dir=None, report=None, card: dict | None = None,
          progress: bool | None = None, distributed: bool | None = None, data_options: dict | None = None
          ) -> TrainResult:
    """Train ``bridge`` on ``data`` and return a ``TrainResult`` (the bridge keeps its best-validation weights).

    ``data``: Pairs, a folder of videos with sound (self-supervised audio-visual segments), a manifest CSV,
    ``(a, b)`` arrays, a list of media pairs, or ``[(data, weight), ...]`` (a weighted mix). ``freeze``:
    parameter-name prefixes left untouched. ``restore_best=False`` keeps the last epoch's weights (when
    fitting the training data itself is the goal, as for a lexicon). ``out_dir``: save the bridge (model card included) and
    ``loss.png`` there. ``report``: path of the loss-curve PNG. ``gallery``: retrieval protocol (see
    ``retrieval_metrics``).
    """
    from tqdm.auto import tqdm

    t0 = time.perf_counter()
    torch.manual_seed(seed)
    data = as_pairs(data, **_data_options(data, data_options, seed, val_fraction))
    _check_dims(bridge, data, objective)
    val_mask = data.split(val_fraction, seed)
    tr, va = data.subset(~val_mask), data.subset(val_mask)
    if len(tr) < 2 or len(va) < 2:
        raise ConfigError(f"the split left {len(tr)} training and {len(va)} validation pairs; need 2+ of each "
                          "(add data or change val_fraction)")
    if fit_input_stats and hasattr(bridge, "fit_input_stats"):
        bridge.fit_input_stats(torch.from_numpy(tr.a), torch.from_numpy(tr.b))
    frozen = freeze_parameters(bridge, freeze)
    objective_mod = Objective(bridge, objective)
    params = [p for p in objective_mod.parameters() if p.requires_grad]
    if not params:
        raise ConfigError("every parameter is frozen: nothing to train")
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)

    g = torch.Generator().manual_seed(seed)
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(tr.a), torch.from_numpy(tr.b))
    if tr.weights is not None:
        sampler = torch.utils.data.WeightedRandomSampler(torch.as_tensor(tr.weights, dtype=torch.double), len(tr),
                                                         replacement=True, generator=g)
    else:
        sampler = torch.utils.data.RandomSampler(dataset, generator=g)
    bs = min(batch_size, len(tr))
    loader = torch.utils.data.DataLoader(dataset, batch_size=bs, sampler=sampler,
                                         drop_last=objective == "contrastive" and len(tr) % bs == 1)
    runner = scale_runner(distributed)
    model, optimizer, loader = runner.prepare(objective_mod, optimizer, loader)
    train_mean = tr.b.mean(axis=0)

    history, best, best_state, best_epoch, wait, steps, stopped = [], float("inf"), None, 0, 0, 0, False
    bar = tqdm(range(1, epochs + 1), desc=f"train {type(bridge).__name__}", unit="epoch",
               disable=not (runner.is_main and show_progress(progress)))
    for epoch in bar:
        model.train()
        total, count = 0.0, 0
        for a, b in loader:
            if objective == "contrastive" and len(a) < 2:
                continue
            loss = model(a, b)
            optimizer.zero_grad(set_to_none=True)
            runner.backward(loss)
            optimizer.step()
            total, count, steps = total + loss.item() * len(a), count + len(a), steps + 1
            if max_steps and steps >= max_steps:
                break
        # Every process evaluates the whole (small) validation set with the same weights, so all of them
        # take the same early-stopping decision without communicating.
        val_loss, val_metrics = _metrics(runner.unwrap(model), va.a, va.b, va.sources, gallery, train_mean)
        history.append({"epoch": epoch, "train_loss": total / max(count, 1), "val_loss": val_loss, **val_metrics})
        if val_loss < best - min_delta:
            best, best_epoch, wait = val_loss, epoch, 0
            best_state = copy.deepcopy(runner.unwrap(model).state_dict())
        else:
            wait += 1
        bar.set_postfix(train=f"{history[-1]['train_loss']:.3f}", val=f"{val_loss:.3f}")
        if wait >= patience:
            stopped = True
            break
        if max_steps and steps >= max_steps:
            break
    bar.close()
    final = runner.unwrap(model)
    if best_state is not None and restore_best:
        final.load_state_dict(best_state)
    for p in bridge.parameters():
        p.requires_grad_(True)
    _, metrics = _metrics(final, va.a, va.b, va.sources, gallery, train_mean)
    _, train_metrics = _metrics(final, tr.a, tr.b, tr.sources, gallery, train_mean)
    bridge.eval()

    result = TrainResult(bridge, objective, history, best_epoch, best, metrics, train_metrics, len(tr), len(va),
                         steps, time.perf_counter() - t0, seed, stopped)
    bridge.card = {**bridge.card, **training_card(result, data, dict(
        epochs=epochs, batch_size=bs, lr=lr, weight_decay=weight_decay, val_fraction=val_fraction,
        patience=patience, seed=seed, freeze=frozen, gallery=gallery, processes=runner.num_processes)), **(card or {})}
    if runner.is_main:
        if out_dir is not None:
            result.out_dir = Path(out_dir)
            bridge.save_pretrained(out_dir)
            report = report or Path(out_dir) / "loss.png"
        if report is not None:
            result.report_path = plot_history(result, report)
    return result


def _data_options(data, options: dict | None, seed: int, val_fraction: float) -> dict:
    """Options for ``as_pairs``; a folder of videos takes the split too (it splits by whole time blocks)."""
    options = dict(options or {})
    if isinstance(data, (str, Path)) and (Path(data).is_dir() or Path(data).suffix.lower() in VIDEO_EXT):
        options.setdefault("seed", seed)
        options.setdefault("val_fraction", val_fraction)
    return options


def training_card(result: TrainResult, data: Pairs, options: dict) -> dict[str, Any]:
    """Model-card fields: data, objective, metrics (with chance), how to reproduce the split."""
    m = result.metrics
    if result.objective == "contrastive":
        metrics = {f"held-out {k}": round(v, 4) for k, v in m.items()}
        objective = ("contrastive: symmetric InfoNCE (CLIP-style) with a learnable temperature, "
                     f"best epoch {result.best_epoch}, val loss {result.best_val_loss:.4f}")
    else:
        metrics = {f"held-out {k}": round(v, 5) for k, v in m.items()}
        objective = f"regression (MSE), best epoch {result.best_epoch}, val loss {result.best_val_loss:.5f}"
    return {
        "data": {**{k: v for k, v in data.meta.items()}, "n_train": result.n_train, "n_val": result.n_val},
        "objective": objective,
        "metrics": metrics,
        "training": options,
        "metrics_raw": m,
    }


def plot_history(result: TrainResult, path) -> Path:
    """Loss curves (train, validation, best epoch) and, for contrastive training, held-out recall vs chance."""
    plt = pyplot()
    h = result.history
    epochs = [x["epoch"] for x in h]
    two = result.objective == "contrastive"
    fig, axes = plt.subplots(1, 2 if two else 1, figsize=(10 if two else 6, 3.6), squeeze=False)
    ax = axes[0, 0]
    ax.plot(epochs, [x["train_loss"] for x in h], label="train")
    ax.plot(epochs, [x["val_loss"] for x in h], label="validation")
    ax.axvline(result.best_epoch, color="grey", ls="--", lw=1, label=f"best (epoch {result.best_epoch})")
    ax.set(xlabel="epoch", ylabel="InfoNCE loss" if two else "MSE", title=f"{type(result.bridge).__name__}")
    ax.legend()
    if two:
        ax = axes[0, 1]
        for k in ("recall@1", "recall@5"):
            ax.plot(epochs, [x[k] for x in h], label=f"held-out {k}")
            ax.axhline(h[-1][f"chance@{k[-1]}"], ls=":", lw=1, color=ax.lines[-1].get_color(), label=f"chance@{k[-1]}")
        ax.set(xlabel="epoch", ylabel="recall", ylim=(0, 1.02), title="retrieval a -> b (held out)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path, dpi=100)
