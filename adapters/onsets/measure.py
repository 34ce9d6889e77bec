"""Measures of visual events against a clip's real sound that do not reward density.

F within a window rises with the number of events: random events at 4 a second already score F@100 ~0.5 against
a busy sound track. Each measure here is fair to density:

- ``kappa``: (F - F_chance) / (1 - F_chance), where F_chance is the mean F of the same *number* of events placed
  uniformly at random over the clip (``chance_f``: ``CHANCE_SEEDS`` seeds). 0 is chance at that density, 1 a
  perfect match; adding random events does not raise it.
- ``salient_onsets``: the real onsets whose onset strength is >= ``SALIENT`` (40 %) of the clip's 99th percentile
  (``data.independent_truth(strengths=True)``): kappa against those tells whether the loud sounds are found.
- ``onset_auc``: ROC-AUC of a per-frame event-strength envelope (its maximum within the F window) at the frames
  nearest the real onsets against the frames farther than the window (and a frame) from any (no threshold, so no density).
- ``density_ratio``: events per second over real onsets per second (1 = the real density).
- ``reliability``: a reliability diagram of a per-frame probability against whether the frame is the one nearest
  a real onset (calibration).

Matching is one-to-one within ``window_s``, greedy in time order (optimal on a line; the numbers equal
``mir_eval.onset.f_measure``'s), and fast enough to average chance over seeds for every clip and detector.
"""
from __future__ import annotations

import numpy as np

WINDOW_S = 0.1
SALIENT = 0.4  # a salient real onset: onset strength >= 40 % of its clip's 99th percentile
CHANCE_SEEDS = 20


def _times(x) -> np.ndarray:
    return np.sort(np.asarray([float(e) for e in x], np.float64))


def hits(truth_s, events_s, window_s: float = WINDOW_S) -> int:
    """The number of one-to-one matches of events to real onsets within ``window_s``."""
    truth, est = _times(truth_s), _times(events_s)
    i = j = n = 0
    while i < len(truth) and j < len(est):
        if abs(truth[i] - est[j]) <= window_s + 1e-12:
            n, i, j = n + 1, i + 1, j + 1
        elif est[j] < truth[i]:
            j += 1
        else:
            i += 1
    return n


def f_at(truth_s, events_s, window_s: float = WINDOW_S) -> float:
    """F-measure of ``events_s`` against ``truth_s`` within ``window_s`` (0 when either is empty)."""
    nt, ne = len(truth_s), len(events_s)
    return 0.0 if nt == 0 or ne == 0 else 2.0 * hits(truth_s, events_s, window_s) / (nt + ne)


def chance_f(truth_s, count: int, duration_s: float, window_s: float = WINDOW_S, seeds: int = CHANCE_SEEDS,
             seed: int = 0) -> float:
    """Mean F of ``count`` events uniform over [0, ``duration_s``] (``seeds`` draws, reproducible)."""
    if count <= 0 or len(truth_s) == 0 or duration_s <= 0:
        return 0.0
    rng = np.random.default_rng(seed)
    return float(np.mean([f_at(truth_s, rng.uniform(0, duration_s, int(count)), window_s) for _ in range(seeds)]))


def kappa(truth_s, events_s, duration_s: float, window_s: float = WINDOW_S, seeds: int = CHANCE_SEEDS,
          seed: int = 0) -> tuple[float, float, float]:
    """``(kappa, F, F_chance)``: F of the events, F of as many random events, and (F - F_chance) / (1 - F_chance)."""
    f = f_at(truth_s, events_s, window_s)
    fc = chance_f(truth_s, len(events_s), duration_s, window_s, seeds, seed)
    return (f - fc) / (1.0 - fc) if fc < 1.0 else 0.0, f, fc


def salient_onsets(truth_s, strengths, fraction: float = SALIENT) -> np.ndarray:
    """The real onsets whose relative strength (over the clip's 99th percentile) is >= ``fraction``."""
    t = np.asarray(truth_s, np.float64)
    if strengths is None:
        return t
    s = np.asarray(strengths, np.float64)
    return t[s >= fraction]


def onset_auc(curve, times_s, truth_s, window_s: float = WINDOW_S) -> float:
    """ROC-AUC (Mann-Whitney, ties count half) of an event-strength envelope at the real onsets: the envelope's
    maximum within ``window_s`` (the F window) of each frame, frames nearest a real onset against frames farther
    than ``window_s`` plus a frame from every real onset (the frames between are neither). NaN when either set is empty."""
    c = np.nan_to_num(np.asarray(curve, np.float64))
    t = np.asarray(times_s, np.float64)[: len(c)]
    c = c[: len(t)]
    truth = _times(truth_s)
    if len(t) < 2 or len(truth) == 0:
        return float("nan")
    step = float(np.median(np.diff(t)))
    r = max(0, int(np.floor(window_s / step + 1e-9)))
    pooled = np.max(np.lib.stride_tricks.sliding_window_view(np.pad(c, r, mode="edge"), 2 * r + 1), axis=1)
    k = np.searchsorted(truth, t)
    near = np.minimum(np.abs(t - truth[np.clip(k - 1, 0, len(truth) - 1)]),
                      np.abs(t - truth[np.clip(k, 0, len(truth) - 1)]))
    pos = np.zeros(len(t), bool)
    for s in truth:
        i = int(np.argmin(np.abs(t - s)))
        if abs(t[i] - s) <= step:
            pos[i] = True
    neg = near > window_s + step  # no positive frame within the pooling window
    n_pos, n_neg = int(pos.sum()), int(neg.sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    from scipy.stats import rankdata

    ranks = rankdata(np.concatenate([pooled[pos], pooled[neg]]))
    return float((ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def density_ratio(n_events: int, n_truth: int) -> float:
    """Events per second over real onsets per second (same clip, so the count ratio); NaN without real onsets."""
    return float(n_events) / n_truth if n_truth else float("nan")


def nearest_frame_hits(times_s, truth_s, fps: float) -> np.ndarray:
    """1 on the frame nearest each real onset (within one frame), 0 elsewhere: what a frame probability predicts."""
    t = np.asarray(times_s, np.float64)
    y = np.zeros(len(t), np.float64)
    for s in np.asarray(truth_s, np.float64):
        if len(t):
            i = int(np.argmin(np.abs(t - s)))
            if abs(t[i] - s) <= 1.0 / fps:
                y[i] = 1.0
    return y


def reliability(probs, outcomes, bins: int = 10) -> dict:
    """A reliability diagram: per probability bin the mean predicted probability, the observed frequency and the
    count; plus the expected calibration error (count-weighted |observed - predicted|) and the Brier score."""
    p = np.clip(np.asarray(probs, np.float64).ravel(), 0, 1)
    y = np.asarray(outcomes, np.float64).ravel()
    edges = np.linspace(0, 1, bins + 1)
    b = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    count = np.bincount(b, minlength=bins).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_p = np.bincount(b, p, bins) / count
        freq = np.bincount(b, y, bins) / count
    ok = count > 0
    ece = float((count[ok] * np.abs(freq[ok] - mean_p[ok])).sum() / max(1.0, count.sum()))
    return {"edges": edges, "mean_p": mean_p, "observed": freq, "count": count, "ece": ece,
            "brier": float(np.mean((p - y) ** 2)) if len(p) else float("nan")}


def fair_scores(truth_s, truth_strength, events_s, duration_s: float, curve=None, times_s=None,
                window_s: float = WINDOW_S, seeds: int = CHANCE_SEEDS) -> dict[str, float]:
    """A detector's density-fair scores on one clip: ``kappa``, ``F``, ``F chance`` (same count), ``kappa salient``,
    ``AUC`` (of ``curve`` over ``times_s``; NaN without one) and ``density``."""
    k, f, fc = kappa(truth_s, events_s, duration_s, window_s, seeds)
    sal = salient_onsets(truth_s, truth_strength)
    ks = kappa(sal, events_s, duration_s, window_s, seeds)[0]
    auc = onset_auc(curve, times_s, truth_s) if curve is not None and times_s is not None else float("nan")
    return {"kappa": k, "F": f, "F chance": fc, "kappa salient": ks, "AUC": auc,
            "density": density_ratio(len(events_s), len(truth_s))}
