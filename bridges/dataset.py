"""``Pairs``: the training data of a bridge, two aligned feature arrays and how to split them.

Every data source (``xmedia.bridges.data``, ``xmedia.bridges.av_data``) produces one; ``train`` and
``evaluate`` consume it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from xmedia.errors import ConfigError


@dataclass
class Pairs:
    """``a[i]`` and ``b[i]`` are two views of one thing (a video segment and its sound; a word and its axes).

    ``groups`` keeps related items on one side of the train/validation split; ``val`` (optional) fixes the
    split instead; ``sources``/``starts_s`` say where each item came from; ``weights`` are sampling weights
    (a weighted ``mix``); ``meta`` records how the features were made (it goes into the model card).
    """

    a: np.ndarray
    b: np.ndarray
    groups: np.ndarray | None = None
    val: np.ndarray | None = None
    sources: np.ndarray | None = None
    starts_s: np.ndarray | None = None
    weights: np.ndarray | None = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        self.a = np.asarray(self.a, np.float32)
        self.b = np.asarray(self.b, np.float32)
        if self.b.ndim == 1:
            self.b = self.b[:, None]
        if self.a.ndim != 2 or len(self.a) != len(self.b):
            raise ConfigError(f"pairs need a (N, Da) and b (N, Db) with the same N; got {self.a.shape} and {self.b.shape}")
        if len(self.a) < 2:
            raise ConfigError(f"need at least 2 pairs to train, got {len(self.a)}")
        for name in ("a", "b"):
            if not np.isfinite(getattr(self, name)).all():
                raise ConfigError(f"pairs.{name} contains NaN/inf; clean the data before training")
        n = len(self.a)
        if self.groups is None:
            self.groups = np.arange(n)
        for name in ("groups", "val", "sources", "starts_s", "weights"):
            value = getattr(self, name)
            if value is not None and len(value) != n:
                raise ConfigError(f"pairs.{name} has {len(value)} entries for {n} pairs")

    def __len__(self):
        return len(self.a)

    def subset(self, mask) -> "Pairs":
        idx = np.flatnonzero(mask) if np.asarray(mask).dtype == bool else np.asarray(mask)
        pick = lambda v: None if v is None else np.asarray(v)[idx]  # noqa: E731
        return Pairs(self.a[idx], self.b[idx], pick(self.groups), pick(self.val), pick(self.sources),
                     pick(self.starts_s), pick(self.weights), dict(self.meta))

    def split(self, val_fraction: float = 0.2, seed: int = 0) -> np.ndarray:
        """Boolean validation mask: ``val`` if the data fixed it, else whole groups drawn with ``seed``."""
        if self.val is not None:
            return np.asarray(self.val, bool)
        if not 0.0 < val_fraction < 1.0:
            raise ConfigError(f"val_fraction must be in (0, 1), got {val_fraction}")
        uniq = np.unique(self.groups)
        if len(uniq) < 2:
            raise ConfigError("all pairs are in one group: nothing is left to validate on; add data or groups")
        rng = np.random.default_rng(seed)
        n_val = min(len(uniq) - 1, max(1, int(round(val_fraction * len(uniq)))))
        val_groups = rng.permutation(uniq)[:n_val]
        return np.isin(self.groups, val_groups)
