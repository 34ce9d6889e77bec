"""Training data for bridges: paired feature arrays from a manifest, in-memory arrays or media, a lexicon, a mix.

Sources: ``from_manifest(csv)`` (paired files, or a file and numeric targets), in-memory arrays or media pairs
(``pairs``), ``lexicon`` (words and their perceptual axes), ``mix`` (a weighted mix of datasets) and, from
``xmedia.bridges.av_data``, ``av_segments(folder)`` (videos and their own sound). ``as_pairs`` accepts any of
them and gives ``Pairs``.
"""
from __future__ import annotations

import csv
from dataclasses import replace
from importlib import resources
from pathlib import Path

import numpy as np

from xmedia.adapters.perceptual import AXES
from xmedia.errors import ConfigError, MediaError
from xmedia.io import load
from xmedia.manifest import is_manifest

from .av_data import VIDEO_EXT, av_segments
from .dataset import Pairs
from .features import (
    FEATURES_VERSION,
    cached,
    embedding_features,
    encoder_fingerprint,
    file_sha256,
    media_features,
    text_features,
)

LEXICON = "perceptual_lexicon.csv"  # the perceptual text encoder's own lexicon, shipped in xmedia.adapters


def from_manifest(path, cache_dir=None, n_bins: int = 4, max_side: int = 96) -> Pairs:
    """Pairs from a CSV: columns ``a,b`` (two media files per row, paths relative to the CSV), or ``a`` plus
    numeric columns (regression targets, e.g. decoder controls). An optional ``group`` column keeps rows
    together in the split, an optional ``split`` column (``train``/``val``) fixes it."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such manifest; write a CSV with columns a,b (paired files)")
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows or "a" not in rows[0]:
        raise ConfigError(f"{path}: the manifest needs a header with column 'a' (and 'b' or numeric targets)")
    targets = [c for c in rows[0] if c not in ("a", "b", "group", "split")]
    fingerprint = encoder_fingerprint()

    def feats(name):
        f = (path.parent / name) if not Path(name).is_absolute() else Path(name)
        if not f.is_file():
            raise MediaError(f"{path}: row names {name!r}, which does not exist (paths are relative to the CSV)")
        key = {"file": file_sha256(f), "encoder": fingerprint, "n_bins": n_bins, "max_side": max_side,
               "features": FEATURES_VERSION}
        return cached(cache_dir, key, lambda: {"x": media_features(load(f), n_bins, max_side)})["x"]

    a = np.stack([feats(r["a"]) for r in rows])
    if "b" in rows[0]:
        b = np.stack([feats(r["b"]) for r in rows])
    else:
        try:
            b = np.asarray([[float(r[c]) for c in targets] for r in rows], np.float32)
        except ValueError as exc:
            raise ConfigError(f"{path}: target columns {targets} must be numbers ({exc})") from None
    groups = np.unique([r.get("group") or str(i) for i, r in enumerate(rows)], return_inverse=True)[1]
    val = np.asarray([r["split"] == "val" for r in rows]) if "split" in rows[0] else None
    return Pairs(a, b, groups=groups, val=val, sources=np.asarray([r["a"] for r in rows]),
                 meta={"kind": "manifest", "manifest": path.name, "targets": targets or None, "n_bins": n_bins})


def pairs(a, b=None, **kw) -> Pairs:
    """In-memory pairs: two arrays/tensors (N, Da) and (N, Db), or a list of (media, media) tuples."""
    if b is None:
        items = list(a)
        if not items or not all(isinstance(p, (tuple, list)) and len(p) == 2 for p in items):
            raise ConfigError("pairs(list) needs (a, b) tuples; or call pairs(a_array, b_array)")
        a = np.stack([_as_features(x) for x, _ in items])
        b = np.stack([_as_features(y) for _, y in items])
    return Pairs(_as_array(a), _as_array(b), **kw)


def _as_array(x) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, np.float32)


def _as_features(x) -> np.ndarray:
    if getattr(x, "KIND", None) in ("video", "audio", "image", "text", "motion"):
        return media_features(x)
    if getattr(x, "KIND", None) == "embedding":
        return embedding_features(x)
    return _as_array(x)


def mix(datasets, weights=None) -> Pairs:
    """A weighted mix of datasets: each contributes ``weight / sum(weights)`` of the training samples in
    expectation, whatever its size. Takes ``[(data, w), ...]`` or ``datasets`` plus ``weights``."""
    if weights is None:
        datasets, weights = zip(*datasets)
    datasets = [as_pairs(d) for d in datasets]
    w = np.asarray(weights, np.float64)
    if len(w) != len(datasets) or (w < 0).any() or w.sum() <= 0:
        raise ConfigError(f"mix needs one non-negative weight per dataset (sum > 0), got {list(weights)}")
    dims = {(d.a.shape[1], d.b.shape[1]) for d in datasets}
    if len(dims) > 1:
        raise ConfigError(f"datasets to mix must have the same feature sizes, got {sorted(dims)}")
    parts = []
    for i, (d, wi) in enumerate(zip(datasets, w / w.sum())):
        item_w = (d.weights if d.weights is not None else np.ones(len(d))).astype(np.float64)
        val = d.val if d.val is not None else None
        parts.append(replace(d, groups=np.asarray([f"{i}:{g}" for g in d.groups]), weights=item_w / item_w.sum() * wi,
                             val=val))
    has_val = [p.val is not None for p in parts]
    if any(has_val) and not all(has_val):
        parts = [p if p.val is not None else replace(p, val=p.split(0.2, 0)) for p in parts]
    cat = lambda name: None if getattr(parts[0], name) is None else np.concatenate([getattr(p, name) for p in parts])  # noqa: E731
    return Pairs(np.concatenate([p.a for p in parts]), np.concatenate([p.b for p in parts]),
                 groups=cat("groups"), val=cat("val"),
                 sources=np.concatenate([p.sources if p.sources is not None else np.full(len(p), f"set{i}")
                                         for i, p in enumerate(parts)]),
                 weights=np.concatenate([p.weights for p in parts]),
                 meta={"kind": "mix", "parts": [d.meta.get("kind", "pairs") for d in datasets],
                       "weights": [float(x) for x in w / w.sum()]})


def as_pairs(data, **options) -> Pairs:
    """Any supported data source as ``Pairs``: Pairs, a folder of videos, a manifest CSV, (a, b) arrays,
    a list of media pairs, or a list of ``(data, weight)`` for a weighted mix."""
    if isinstance(data, Pairs):
        return data
    if isinstance(data, (str, Path)):
        p = Path(data)
        if p.suffix.lower() == ".csv":
            return from_manifest(p, **{k: v for k, v in options.items() if k in ("cache_dir", "n_bins", "max_side")})
        if p.is_dir() or p.suffix.lower() in VIDEO_EXT or is_manifest(p):
            return av_segments(p, **options)
        raise ConfigError(f"{p}: give a folder of videos, a video file, a JSON-lines list of videos or a manifest .csv")
    if isinstance(data, tuple) and len(data) == 2 and not isinstance(data[0], (tuple, list)):
        return pairs(*data)
    if isinstance(data, list) and data and all(isinstance(d, tuple) and len(d) == 2 and
                                               isinstance(d[1], (int, float)) for d in data):
        return mix(data)
    if isinstance(data, list):
        return pairs(data)
    raise ConfigError(f"cannot train on {type(data).__name__}; give Pairs, a folder, a manifest CSV, "
                      "(a, b) arrays or a list of (media, media) pairs")


def lexicon(path=None, n_features: int = 512, ngram=(2, 4)) -> Pairs:
    """Words and their axis values (CSV: ``word`` plus the eight axis columns; ``#`` lines are comments; a blank
    value means the word says nothing about that axis and counts as neutral 0.5) as pairs of hashed character
    n-gram features and axis vectors. Default: the perceptual text encoder's own lexicon, so the learned bridge
    and the lexicon encoder agree on every taught word."""
    path = Path(path) if path else Path(str(resources.files("xmedia.adapters").joinpath(LEXICON)))
    if not path.is_file():
        raise ConfigError(f"{path}: no such lexicon; write a CSV with columns word,{','.join(AXES)}")
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(line for line in fh if not line.startswith("#")))
    missing = [a for a in ("word", *AXES) if rows and a not in rows[0]]
    if not rows or missing:
        raise ConfigError(f"{path}: the lexicon needs columns word,{','.join(AXES)} (missing {missing})")
    try:
        b = np.asarray([[float(r[a]) if r[a].strip() else 0.5 for a in AXES] for r in rows], np.float32)
    except ValueError as exc:
        raise ConfigError(f"{path}: axis values must be numbers in [0, 1] ({exc})") from None
    if (b < 0).any() or (b > 1).any():
        raise ConfigError(f"{path}: axis values must lie in [0, 1]")
    words = [r["word"] for r in rows]
    return Pairs(text_features(words, n_features, tuple(ngram)), b, sources=np.asarray(words),
                 meta={"kind": "lexicon", "lexicon": path.name, "words": len(words)})
