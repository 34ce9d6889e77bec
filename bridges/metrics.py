"""How well a bridge does on held-out pairs: retrieval recall@k with chance levels, or regression error."""
from __future__ import annotations

import numpy as np

from xmedia.errors import ConfigError


def retrieval_metrics(za: np.ndarray, zb: np.ndarray, sources=None, gallery: str = "all", ks=(1, 5)) -> dict:
    """Recall@k both ways (a -> b, b -> a) with chance levels.

    Query i is right when its own partner ranks in the top k of the gallery (ties count against it).
    ``gallery="file"`` searches only among items from the same source file (temporal retrieval inside one
    video, the right protocol when several files share content).
    """
    za, zb = np.asarray(za, np.float64), np.asarray(zb, np.float64)
    n = len(za)
    if gallery not in ("all", "file"):
        raise ConfigError(f"gallery must be 'all' or 'file', got {gallery!r}")
    same = np.ones((n, n), bool) if gallery == "all" or sources is None else \
        np.asarray(sources)[:, None] == np.asarray(sources)[None, :]
    out: dict[str, float] = {}
    sims = za @ zb.T
    for name, s in (("", sims), ("_b2a", sims.T)):
        own = np.diag(s)[:, None]
        rank = ((s >= own) & same).sum(axis=1) - 1  # how many gallery items score at least as high
        for k in ks:
            out[f"recall@{k}{name}"] = float((rank < k).mean())
        if not name:
            out["median_rank"] = float(np.median(rank) + 1)
    sizes = same.sum(axis=1)
    for k in ks:
        out[f"chance@{k}"] = float(np.mean(np.minimum(k, sizes) / sizes))
    out["gallery_size"] = float(sizes.mean())
    out["n"] = float(n)
    return out


def regression_metrics(pred: np.ndarray, target: np.ndarray, train_mean: np.ndarray | None = None) -> dict:
    """MSE, MAE and R^2, with the MSE of predicting the training mean as the chance-level baseline."""
    pred, target = np.asarray(pred, np.float64), np.asarray(target, np.float64)
    mean = target.mean(axis=0) if train_mean is None else np.asarray(train_mean, np.float64)
    mse = float(((pred - target) ** 2).mean())
    baseline = float(((mean - target) ** 2).mean())
    return {"mse": mse, "mae": float(np.abs(pred - target).mean()), "baseline_mse": baseline,
            "r2": float(1 - mse / max(baseline, 1e-12)), "n": float(len(target))}
