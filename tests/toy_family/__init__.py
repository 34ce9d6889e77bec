"""A toy trainable family for the trainer's tests: a line fitted to noisy points. All a new family needs is
its model (a ``Process`` naming its recipe JSON), its batches and its loss (a ``Task``)."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from xmedia.errors import ConfigError
from xmedia.process import Process
from xmedia.trainer import Task


class LineTask(Task):
    def __init__(self, model, points: np.ndarray, noise: float, holdout: float):
        self.model, self.noise = model, noise
        n_val = max(2, int(len(points) * holdout))
        self.train_xy = torch.as_tensor(points[n_val:], dtype=torch.float32)
        self.val_xy = torch.as_tensor(points[:n_val], dtype=torch.float32)
        self.batch_size = 32

    def batch(self, step, rng):
        idx = rng.integers(0, len(self.train_xy), 32)
        xy = self.train_xy[idx]
        return xy[:, :1], xy[:, 1:] + self.noise * torch.as_tensor(rng.standard_normal((32, 1)), dtype=torch.float32)

    def loss(self, net, batch):
        x, y = batch
        return nn.functional.mse_loss(net(x), y)

    def validate(self, model):
        x, y = self.val_xy[:, :1], self.val_xy[:, 1:]
        err = nn.functional.mse_loss(model(x), y)
        return float(err), {"abs_slope_error": abs(model.line.weight.item() - 2.0)}


class ToyLine(Process):
    recipe = "recipe.json"
    src, dst = "toy", "toy"

    def __init__(self, bias: bool = True):
        super().__init__()
        self.line = nn.Linear(1, 1, bias=bias)

    def forward(self, x):
        return self.line(x)

    @classmethod
    def check_family_options(cls, options):
        if not 0 <= options["noise"] < 10 or not 0 < options["holdout"] < 1:
            raise ConfigError(f"noise must be in [0, 10) and holdout in (0, 1), got {options}")
        return options

    def training_task(self, data, noise: float, holdout: float):
        points = np.asarray(data, np.float32)
        if points.ndim != 2 or points.shape[1] != 2:
            raise ConfigError("data: (n, 2) points")
        return LineTask(self, points, noise, holdout)
