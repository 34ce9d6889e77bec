"""Training bridges on the one trainer (``xmedia.trainer``): contrastive alignment of two spaces (CLIP-style
symmetric InfoNCE with a learnable temperature) or regression to a space / decoder controls.

A bridge brings a ``BridgeTask``: batches from a ``DataLoader`` over its training pairs, epoch by epoch
(``steps_per_epoch`` = batches per epoch; the held-out split is scored after every epoch), the ``Objective`` as
its loss, and held-out retrieval recall@1/@5 with chance (contrastive) or MSE/R^2 against predicting the training
mean (regression) as its metrics and curves. The trainer brings the rest, the same for every family: seeds, the
runner (one process, or data-parallel under ``torchrun`` / ``accelerate launch`` with the loader sharded and
only the main process writing), progress, early stopping, the best epoch restored, NaN checks and the loss PNG
(held-out recall against chance beside the loss). Defaults: ``bridges/recipe.json``, under a zoo recipe's
``"train"`` section (``train_recipe``). ``train(bridge, data, ...)`` is ``bridge.fit``; see docs/training.md.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from xmedia.errors import ConfigError
from xmedia.trainer import Task, TrainResult

from .av_data import VIDEO_EXT
from .data import as_pairs
from .dataset import Pairs
from .metrics import regression_metrics, retrieval_metrics

OBJECTIVES = ("contrastive", "regression")
MAX_LOGIT_SCALE = math.log(100.0)  # CLIP clamps the temperature so logits stay <= 100


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


GALLERIES = ("all", "file")
CURVES = {"contrastive": (("recall@1", "chance@1"), ("recall@5", "chance@5")),
          "regression": (("mse", "baseline_mse"),)}


def check_options(options: dict) -> dict:
    """The bridges' own training options, refused before any work (``ConfigError`` naming the option)."""
    o = dict(options)
    if o["objective"] is not None and o["objective"] not in OBJECTIVES:
        raise ConfigError(f"objective must be one of {OBJECTIVES}, got {o['objective']!r}")
    vf = o["val_fraction"]
    if isinstance(vf, bool) or not isinstance(vf, (int, float)) or not 0.0 < vf < 1.0:
        raise ConfigError(f"val_fraction must be a number in (0, 1), got {vf!r}")
    freeze = [o["freeze"]] if isinstance(o["freeze"], str) else o["freeze"]
    if not isinstance(freeze, (list, tuple)) or not all(isinstance(x, str) for x in freeze):
        raise ConfigError(f"freeze takes parameter-name prefixes (strings), got {o['freeze']!r}")
    if o["gallery"] not in GALLERIES:
        raise ConfigError(f"gallery must be one of {GALLERIES}, got {o['gallery']!r}")
    if not isinstance(o["fit_input_stats"], bool):
        raise ConfigError(f"fit_input_stats must be true or false, got {o['fit_input_stats']!r}")
    for name in ("data_options", "card"):
        if o[name] is not None and not isinstance(o[name], dict):
            raise ConfigError(f"{name} must be a dict, got {o[name]!r}")
    return {**o, "freeze": list(freeze), "val_fraction": float(vf)}


class BridgeTask(Task):
    """A bridge's pieces for ``xmedia.trainer.train``. ``model`` is the ``Objective`` wrapping the bridge (so the
    runner sees every parameter, the temperature of a one-tower contrastive bridge included); ``finish`` hands
    the bridge back as ``result.process`` with its model card."""

    def __init__(self, bridge, data, objective: str | None, val_fraction: float, freeze, gallery: str,
                 fit_input_stats: bool, data_options: dict | None, card: dict | None):
        self.bridge, self.source, self.val_fraction, self.freeze = bridge, data, val_fraction, freeze
        self.gallery, self.fit_stats, self.data_options, self.card = gallery, fit_input_stats, data_options, card
        self.objective = objective or guess_objective(bridge)
        self.model = Objective(bridge, self.objective)
        self.loss_name = "InfoNCE loss" if self.objective == "contrastive" else "MSE"
        self.curves = CURVES[self.objective]

    def describe(self) -> str:
        return type(self.bridge).__name__

    def setup(self, runner) -> None:
        seed = self.options["seed"]
        self.data = as_pairs(self.source, **_data_options(self.source, self.data_options, seed, self.val_fraction))
        _check_dims(self.bridge, self.data, self.objective)
        val_mask = self.data.split(self.val_fraction, seed)
        self.tr, self.va = tr, va = self.data.subset(~val_mask), self.data.subset(val_mask)
        if len(tr) < 2 or len(va) < 2:
            raise ConfigError(f"the split left {len(tr)} training and {len(va)} validation pairs; need 2+ of each "
                              "(add data or change val_fraction)")
        if self.fit_stats and hasattr(self.bridge, "fit_input_stats"):
            self.bridge.fit_input_stats(torch.from_numpy(tr.a), torch.from_numpy(tr.b))
        self.frozen = freeze_parameters(self.bridge, self.freeze)
        g = torch.Generator().manual_seed(seed)
        dataset = torch.utils.data.TensorDataset(torch.from_numpy(tr.a), torch.from_numpy(tr.b))
        if tr.weights is not None:
            sampler = torch.utils.data.WeightedRandomSampler(torch.as_tensor(tr.weights, dtype=torch.double),
                                                             len(tr), replacement=True, generator=g)
        else:
            sampler = torch.utils.data.RandomSampler(dataset, generator=g)
        self.batch_size = bs = min(self.options["batch_size"], len(tr))
        loader = torch.utils.data.DataLoader(dataset, batch_size=bs, sampler=sampler,  # no 1-item contrastive batch
                                             drop_last=self.objective == "contrastive" and len(tr) % bs == 1)
        self.loader, = runner.prepare(loader)  # data-parallel: each process its shard
        self.steps_per_epoch, self.processes = len(self.loader), runner.num_processes
        self.train_mean = tr.b.mean(axis=0)
        self.epoch = iter(())

    def batch(self, step, rng):
        got = next(self.epoch, None)
        if got is None:  # a new epoch: the sampler draws a new order
            self.epoch = iter(self.loader)
            got = next(self.epoch)
        return got

    def loss(self, net, batch):
        return net(*batch)

    def validate(self, model):
        # Every process scores the whole (small) held-out split with the same weights: one early-stopping decision.
        return _metrics(model, self.va.a, self.va.b, self.va.sources, self.gallery, self.train_mean)

    def finish(self, result: TrainResult) -> None:
        bridge, spe = self.bridge, self.steps_per_epoch
        for p in bridge.parameters():
            p.requires_grad_(True)
        _, result.metrics = _metrics(self.model, self.va.a, self.va.b, self.va.sources, self.gallery, self.train_mean)
        _, train_metrics = _metrics(self.model, self.tr.a, self.tr.b, self.tr.sources, self.gallery, self.train_mean)
        bridge.eval()
        for row in result.history:
            row["epoch"] = math.ceil(row["step"] / spe)
        result.process = bridge
        result.extra.update(objective=self.objective, n_train=len(self.tr), n_val=len(self.va),
                            train_metrics=train_metrics, best_epoch=math.ceil(result.best_step / spe),
                            epochs=math.ceil(result.steps / spe), steps_per_epoch=spe)
        o = result.options
        options = dict(max_epochs=o["max_epochs"], batch_size=self.batch_size, learning_rate=o["learning_rate"],
                       weight_decay=o["weight_decay"], val_fraction=self.val_fraction, patience=o["patience"],
                       seed=o["seed"], freeze=self.frozen, gallery=self.gallery, processes=self.processes)
        bridge.card = {**bridge.card, **training_card(result, self.data, options), **(self.card or {})}


def train(bridge: nn.Module, data, objective: str | None = None, defaults: dict | None = None, **options
          ) -> TrainResult:
    """Train ``bridge`` in place on ``data`` (``bridge.fit``); returns the trainer's ``TrainResult`` (the bridge,
    its best held-out epoch restored, in ``.process``; ``extra``: ``best_epoch``, ``n_train``, ``n_val``,
    ``train_metrics``).

    ``data``: Pairs, a folder of videos with sound (self-supervised audio-visual segments), a manifest CSV,
    ``(a, b)`` arrays, a list of media pairs, or ``[(data, weight), ...]`` (a weighted mix). ``defaults``: a
    recipe's ``"train"`` section, under ``options``. Options: the trainer's (``learning_rate``, ``max_epochs``,
    ``batch_size``, ``patience``, ``seed``, ``restore_best``, ``report``: the loss PNG, ``progress``...) and the
    bridges' (``bridges/recipe.json``): ``val_fraction``, ``freeze`` (parameter-name prefixes left untouched),
    ``gallery`` (retrieval protocol, see ``retrieval_metrics``), ``fit_input_stats``, ``data_options``
    (for ``as_pairs``), ``card`` (model-card fields). ``restore_best=False`` keeps the last epoch's weights
    (when fitting the training data itself is the goal, as for a lexicon).
    """
    given = {**(defaults or {}), **options, **({"objective": objective} if objective else {})}
    return bridge.fit(data, **given)


def _data_options(data, options: dict | None, seed: int, val_fraction: float) -> dict:
    """Options for ``as_pairs``; a folder of videos takes the split too (it splits by whole time blocks)."""
    options = dict(options or {})
    if isinstance(data, (str, Path)) and (Path(data).is_dir() or Path(data).suffix.lower() in VIDEO_EXT):
        options.setdefault("seed", seed)
        options.setdefault("val_fraction", val_fraction)
    return options


def training_card(result: TrainResult, data: Pairs, options: dict) -> dict[str, Any]:
    """Model-card fields: data, objective, metrics (with chance), how to reproduce the split."""
    m, x = result.metrics, result.extra
    if x["objective"] == "contrastive":
        metrics = {f"held-out {k}": round(v, 4) for k, v in m.items()}
        objective = ("contrastive: symmetric InfoNCE (CLIP-style) with a learnable temperature, "
                     f"best epoch {x['best_epoch']}, val loss {result.best_val:.4f}")
    else:
        metrics = {f"held-out {k}": round(v, 5) for k, v in m.items()}
        objective = f"regression (MSE), best epoch {x['best_epoch']}, val loss {result.best_val:.5f}"
    return {
        "data": {**{k: v for k, v in data.meta.items()}, "n_train": x["n_train"], "n_val": x["n_val"]},
        "objective": objective,
        "metrics": metrics,
        "training": options,
        "metrics_raw": m,
    }
