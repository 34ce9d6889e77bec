"""The visual-onset family's pieces for the one trainer (``xmedia.trainer``): per-frame targets from a clip's own
sound, the family's options (checked before any work) and the ``OnsetTask`` that ``VisualOnsets.fit`` runs.
"""
from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np

from xmedia.errors import ConfigError
from xmedia.trainer import Progress, Task

from .clips import Gathered, collect
from .data import ClipData
from .evaluate import cross_validate, group_of, tune_detection

QUICK_FIT_STEPS = 150  # the sync check's quick fit on the clips themselves


def frame_targets(times_s: np.ndarray, onsets_s: np.ndarray, fps: float, spread: float = 0.5) -> np.ndarray:
    """1 at the frame nearest each onset, ``spread`` on its two neighbours, 0 elsewhere."""
    y = np.zeros(len(times_s), np.float32)
    if len(times_s) == 0:
        return y
    for s in onsets_s:
        i = int(np.argmin(np.abs(times_s - s)))
        if abs(times_s[i] - s) > 1.0 / fps:
            continue
        y[i] = 1.0
        for j in (i - 1, i + 1):
            if 0 <= j < len(y):
                y[j] = max(y[j], spread)
    return y


def clip_targets(clip, target: str = "onsets", spread: float = 0.5) -> np.ndarray:
    """Per-frame targets in [0, 1]: ``"onsets"`` (``frame_targets`` of the label onsets), ``"strength"`` (the
    sound's onset strength over each frame, against its clip's 99th percentile) or ``"both"`` (their mean)."""
    onsets = frame_targets(clip.times_s, clip.label_s, clip.fps, spread)
    if target == "onsets":
        return onsets
    env = np.asarray(clip.sound_envelope, np.float64)[: len(onsets)]
    strength = np.clip(env / (np.percentile(env, 99) + 1e-9), 0, 1).astype(np.float32) if len(env) else onsets
    return strength if target == "strength" else 0.5 * (onsets + strength)


TARGETS = ("onsets", "strength", "both")


def check_options(options: dict) -> dict:
    """The family's training options, refused before any work (``ConfigError`` naming the option)."""
    o = dict(options)
    for name, low in (("folds", 2), ("inner_folds", 0)):
        v = o[name]
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or v != int(v) or v < low):
            raise ConfigError(f"{name} must be a whole number >= {low}"
                              + (" (cross-validation by clip needs 2 folds or more)" if name == "folds" else "")
                              + f", got {v!r}")
        o[name] = None if v is None else int(v)
    for name, low, high in (("pos_weight", 0.0, 1000.0), ("spread", 0.0, 1.0)):
        v = o[name]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not low <= v <= high \
                or (name == "pos_weight" and v == 0):
            raise ConfigError(f"{name} must be a number in {'(' if name == 'pos_weight' else '['}{low:g}, {high:g}], "
                              f"got {v!r}")
        o[name] = float(v)
    if o["target"] not in TARGETS:
        raise ConfigError(f"target must be one of {TARGETS}, got {o['target']!r}")
    if o["cache"] is not None and not isinstance(o["cache"], (str, Path)):
        raise ConfigError(f"cache must be a folder, got {o['cache']!r}")
    return o


def counted(desc: str, show, main: bool = True):
    """A progress wrapper over a list (the trainer's ``Progress``: tqdm on a terminal, else a line every ~10 %)."""
    def wrap(items):
        items = list(items)
        bar = Progress(len(items), desc, show, main)
        try:
            for i, item in enumerate(items, 1):
                yield item
                bar.update(i)
        finally:
            bar.close()

    return wrap


class OnsetTask(Task):
    """Full-batch epochs over the clips (one step is one epoch): per-frame BCE against each clip's own sound
    onsets. ``finish`` tunes the threshold on inner folds (``inner_folds``; ``None``: left as it is) and, with
    ``folds``, cross-validates the same recipe by clip: ``result.extra["cv"]``, its overall numbers in
    ``result.metrics``. There is no held-out loss inside one fit: the held-out numbers are the folds'."""

    loss_name = "BCE"
    steps_per_epoch = 1

    def __init__(self, model, data, pos_weight: float, target: str, spread: float, folds: int | None,
                 inner_folds: int | None, cache=None):
        self.model, self.source, self.cache = model, data, cache
        self.family = dict(pos_weight=pos_weight, target=target, spread=spread)
        self.folds, self.inner_folds = folds, inner_folds
        self.initial = copy.deepcopy(model)  # every cross-validation fit starts from here

    def setup(self, runner) -> None:
        import torch

        from .features import sequence_features

        data, show = self.source, self.options["progress"]
        if isinstance(data, Gathered):
            self.gathered = data
        elif isinstance(data, (list, tuple)) and data and all(isinstance(c, ClipData) for c in data):
            self.gathered = Gathered(clips=list(data))
        else:
            self.gathered = collect(data, cache_dir=self.cache, progress=counted("read clips", show, runner.is_main),
                                    fit_model=self.quick_fit)
        clips = self.gathered.clips
        groups = len({group_of(c.name) for c in clips})
        if self.folds is not None and self.folds > groups:
            raise ConfigError(f"folds {self.folds} is more than the {groups} clip group(s) to split by "
                              f"({len(clips)} usable clip(s); GRID sentences count as one): give folds 2..{groups}"
                              if groups >= 2 else f"cross-validation by clip needs 2 usable clips or more, got "
                              f"{len(clips)}; add clips or pass folds=None")
        if not clips:
            raise ConfigError("no clips to train on")
        self.xs = [torch.as_tensor(sequence_features(c.motion, c.fps)) for c in clips]
        self.ys = [torch.as_tensor(clip_targets(c, self.family["target"], self.family["spread"])) for c in clips]
        allx = torch.cat(self.xs)
        with torch.no_grad():
            self.model.mean.copy_(allx.mean(0))
            self.model.std.copy_(allx.std(0).clamp_min(1e-3))
        self.frames, self.share = len(allx), 1.0
        n = runner.num_processes
        if n > 1 and len(self.xs) >= n:  # shard the clips; DDP averages the gradients, so scale up
            self.xs, self.ys = self.xs[runner.process_index::n], self.ys[runner.process_index::n]
            self.share = float(n)
        self.weight = torch.tensor(self.family["pos_weight"])

    def quick_fit(self, clips):
        """The sync check's model when the shipped one is missing: a quick fit on the clips themselves."""
        quick = copy.deepcopy(self.initial)
        quick.fit(clips, max_steps=QUICK_FIT_STEPS, folds=None, inner_folds=None, progress=False)
        return quick.onset_model()

    def batch(self, step, rng):
        return self.xs, self.ys

    def loss(self, net, batch):
        from torch.nn.functional import binary_cross_entropy_with_logits as bce

        return sum(bce(net(x), y, pos_weight=self.weight, reduction="sum") for x, y in zip(*batch)) \
            / self.frames * self.share

    def optimizer(self, params, options):
        import torch

        return torch.optim.Adam(params, lr=options["learning_rate"], weight_decay=options["weight_decay"])

    def finish(self, result) -> None:
        clips, seed = self.gathered.clips, result.seed
        fit = {**{k: v for k, v in result.options.items() if k not in ("progress", "report", "seed")},
               **self.family}

        def make():
            return copy.deepcopy(self.initial)

        if self.inner_folds is not None:
            tune_detection(self.model, clips, make, self.inner_folds, seed=seed, group=group_of, **fit)
        if self.folds is not None:
            from xmedia.scale import is_main_process

            show = counted("cross-validate by clip", self.options["progress"], is_main_process())
            cv = cross_validate(clips, make, k=self.folds, seed=seed, group=group_of, inner_folds=self.inner_folds,
                                progress=show, **fit)
            result.extra["cv"] = cv
            result.metrics = {k: v for k, v in cv["overall"].items() if isinstance(v, float)}
        result.extra["gathered"] = self.gathered
