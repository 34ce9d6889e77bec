"""Measures of composed music that the models were not trained on (numpy only; ``benchmarks/bench_music.py``).

- **Key-free melody features** (``melody_features``): four normalised histograms of a piece's melody (the line
  ``tokens.score_to_piece`` takes: the highest part, on the 1/12-beat grid), each invariant under transposition
  because pitch is counted from the piece's estimated tonic:

  * ``pitch_class`` (12): pitch classes of the notes relative to the tonic (0 = tonic, 7 = its fifth);
  * ``interval`` (25): semitones from each pitched note to the next (rests skipped), clipped to -12..+12;
  * ``duration`` (11): each note's length mapped to the nearest of the classes in ``DURATION_CLASSES`` (16th,
    quaver triplet, quaver, crotchet triplet, dotted quaver, crotchet, minim triplet, dotted crotchet, minim,
    dotted minim, semibreve; in log time), as Yang & Lerch's note-length histogram;
  * ``beat_position`` (13): where in the beat each note starts (12 grid points a crotchet) and, last, the share
    of notes starting on a downbeat.

- **A style classifier** (``LogisticStyle``): plain multinomial logistic regression (features standardised,
  classes weighted to balance, L2 ``1 / n`` by default: the objective of scikit-learn's
  ``LogisticRegression(C=1, class_weight="balanced")``), fitted by full-batch gradient descent; deterministic.

- **Yang & Lerch (2018) overlapping area** (``overlap_area``, ``yang_lerch``): per feature, the distribution of
  Euclidean distances between the per-piece histograms within the real set (intra-set) and between real and
  generated pieces (inter-set), each smoothed by a Gaussian KDE (Scott's bandwidth); the overlap is the area
  under the smaller of the two densities (1: the same distribution, 0: disjoint). ``yang_lerch`` gives that
  (intra real vs inter, as their ``mgeval``) and the overlap of the two sets' intra-set distributions.
"""
from __future__ import annotations

import numpy as np

from .tokens import GRID, Piece, score_to_piece

DURATION_CLASSES = (3, 4, 6, 8, 9, 12, 16, 18, 24, 36, 48)  # grid points (1/12 beat)
INTERVAL_RANGE = 12
FEATURES = ("pitch_class", "interval", "duration", "beat_position")
SIZES = {"pitch_class": 12, "interval": 2 * INTERVAL_RANGE + 1, "duration": len(DURATION_CLASSES),
         "beat_position": GRID + 1}


def as_piece(x) -> Piece:
    """A ``tokens.Piece`` from a ``Score`` (its melody, tonic-relative) or a Piece as it is."""
    return x if isinstance(x, Piece) else score_to_piece(x)


def _norm(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return counts / total if total > 0 else counts


def melody_features(x) -> dict[str, np.ndarray]:
    """The four key-free histograms of ``x`` (a ``Score`` or a ``Piece``), each summing to 1 (all zeros when the
    melody has no pitched note)."""
    p = as_piece(x)
    notes = [(pos, dur, rel) for pos, dur, rel in p.notes if rel is not None]
    rel = np.array([n[2] for n in notes], np.int64)
    pos = np.array([n[0] for n in notes], np.int64)
    dur = np.array([n[1] for n in notes], np.float64)
    pc = np.bincount(rel % 12, minlength=12).astype(np.float64) if len(rel) else np.zeros(12)
    steps = np.clip(np.diff(rel), -INTERVAL_RANGE, INTERVAL_RANGE) + INTERVAL_RANGE
    iv = np.bincount(steps, minlength=SIZES["interval"]).astype(np.float64)
    cls = np.log(np.array(DURATION_CLASSES, np.float64))
    nearest = np.abs(np.log(np.maximum(dur, 1.0))[:, None] - cls[None, :]).argmin(1) if len(dur) else []
    du = np.bincount(np.asarray(nearest, np.int64), minlength=len(DURATION_CLASSES)).astype(np.float64)
    bp = np.zeros(GRID + 1)
    if len(pos):
        bp[:GRID] = np.bincount(pos % GRID, minlength=GRID)
        bp /= len(pos)
        bp[GRID] = float((pos == 0).mean())
    return {"pitch_class": _norm(pc), "interval": _norm(iv), "duration": _norm(du), "beat_position": bp}


def feature_vector(x, features=FEATURES) -> np.ndarray:
    """The histograms of ``features`` concatenated (61 numbers for all four)."""
    f = melody_features(x)
    return np.concatenate([f[name] for name in features])


def feature_matrix(items, features=FEATURES) -> np.ndarray:
    return np.stack([feature_vector(x, features) for x in items]) if len(items) else \
        np.zeros((0, sum(SIZES[f] for f in features)))


class LogisticStyle:
    """Multinomial logistic regression: ``fit(X, labels)``, ``predict(X)`` -> labels, ``predict_proba(X)``."""

    def __init__(self, l2: float | None = None, steps: int = 5000, lr: float = 0.5, balanced: bool = True):
        self.l2, self.steps, self.lr, self.balanced = l2, int(steps), float(lr), bool(balanced)

    def fit(self, X, labels) -> LogisticStyle:
        X = np.asarray(X, np.float64)
        self.classes = sorted(set(labels))
        if len(self.classes) < 2:
            raise ValueError("a classifier needs at least two classes")
        y = np.array([self.classes.index(v) for v in labels])
        self.mean, self.std = X.mean(0), X.std(0) + 1e-6
        Z = (X - self.mean) / self.std
        n, k = len(y), len(self.classes)
        counts = np.bincount(y, minlength=k)
        w = (n / (k * counts[y])) if self.balanced else np.ones(n)
        w = w / w.sum()
        Y = np.eye(k)[y]
        l2 = 1.0 / n if self.l2 is None else float(self.l2)
        self.W, self.b = np.zeros((Z.shape[1], k)), np.zeros(k)
        for _ in range(self.steps):
            P = self._softmax(Z @ self.W + self.b)
            G = (P - Y) * w[:, None]
            self.W -= self.lr * (Z.T @ G + l2 * self.W)
            self.b -= self.lr * G.sum(0)
        return self

    @staticmethod
    def _softmax(z):
        z = np.exp(z - z.max(1, keepdims=True))
        return z / z.sum(1, keepdims=True)

    def predict_proba(self, X) -> np.ndarray:
        Z = (np.asarray(X, np.float64) - self.mean) / self.std
        return self._softmax(Z @ self.W + self.b)

    def predict(self, X) -> list:
        return [self.classes[i] for i in self.predict_proba(X).argmax(1)]


def intra_set_distances(F) -> np.ndarray:
    """Euclidean distances between every two rows of ``F`` (each pair once)."""
    F = np.asarray(F, np.float64)
    d = np.sqrt(((F[:, None, :] - F[None, :, :]) ** 2).sum(-1))
    return d[np.triu_indices(len(F), 1)]


def inter_set_distances(F, G) -> np.ndarray:
    """Euclidean distances between every row of ``F`` and every row of ``G``."""
    F, G = np.asarray(F, np.float64), np.asarray(G, np.float64)
    return np.sqrt(((F[:, None, :] - G[None, :, :]) ** 2).sum(-1)).ravel()


def _bandwidth(x: np.ndarray) -> float:
    return max(float(x.std(ddof=1)) if len(x) > 1 else 0.0, 1e-3) * len(x) ** (-1 / 5)  # Scott's rule, 1-D


def kde(x, grid) -> np.ndarray:
    """A Gaussian kernel density estimate of the samples ``x`` at ``grid``."""
    x = np.asarray(x, np.float64)
    h = _bandwidth(x)
    z = (np.asarray(grid, np.float64)[:, None] - x[None, :]) / h
    return np.exp(-0.5 * z * z).sum(1) / (len(x) * h * np.sqrt(2 * np.pi))


def overlap_area(a, b, points: int = 1024) -> float:
    """The area under ``min(kde(a), kde(b))``: 1 for the same samples, ~0 for far-apart ones."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if not len(a) or not len(b):
        raise ValueError("overlap_area needs samples in both sets")
    pad = 4 * max(_bandwidth(a), _bandwidth(b))
    grid = np.linspace(min(a.min(), b.min()) - pad, max(a.max(), b.max()) + pad, points)
    m = np.minimum(kde(a, grid), kde(b, grid))
    return float(min(1.0, np.sum((m[1:] + m[:-1]) / 2 * np.diff(grid))))


def yang_lerch(real, generated, feature: str) -> dict:
    """Overlapping areas for one feature (``pitch_class``, ``interval``, ``duration``, ``beat_position``) between a
    real set and a generated one (``Score``/``Piece`` lists, or feature matrices): ``"intra_inter"`` (intra-set
    distances of the real set vs real-to-generated distances, Yang & Lerch's measure) and ``"intra_intra"``
    (the two sets' intra-set distance distributions)."""
    R = real if isinstance(real, np.ndarray) else feature_matrix(real, (feature,))
    G = generated if isinstance(generated, np.ndarray) else feature_matrix(generated, (feature,))
    intra_r, intra_g, inter = intra_set_distances(R), intra_set_distances(G), inter_set_distances(R, G)
    return {"intra_inter": overlap_area(intra_r, inter), "intra_intra": overlap_area(intra_r, intra_g)}
