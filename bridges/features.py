"""Feature rows of media for training and running bridges, and their on-disk cache.

A bridge reads fixed-size rows: ``track_features`` summarises a perceptual track over a stretch of time
(levels, spread, change, a centred temporal profile, events), ``embedding_features`` does it for a whole
``Embedding``, ``media_features`` for any medium, and ``text_features`` hashes a word's character n-grams.
Rows computed from files are memoised by ``cached`` (an npz per file content, parameters and encoder source).
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import zlib
from pathlib import Path

import numpy as np

from xmedia.adapters import perceptual
from xmedia.atomic import atomic_path
from xmedia.errors import MediaError, WeightsError
from xmedia.media import Video
from xmedia.pretrained import locate

FEATURES_VERSION = 2


# ------------------------------------------------------------------------------------------------ features
def track_features(track: np.ndarray, events_s=(), strengths=(), duration_s: float = 1.0, n_bins: int = 4,
                   start_s: float = 0.0) -> np.ndarray:
    """Fixed-size statistics of a perceptual track (T x 8) over one segment.

    Per axis: mean, standard deviation, mean absolute change, and the mean over ``n_bins`` equal time bins minus
    the segment mean
    (the temporal profile, so the timing of a cut can meet the timing of a hit); then the event count per
    second, the mean event strength and the event strength per time bin. Length ``8 * (3 + n_bins) + 2 + n_bins``.
    """
    t = np.asarray(track, np.float32)
    if t.ndim != 2 or len(t) == 0:
        raise MediaError(f"a perceptual track must be (T, D) with T > 0, got shape {t.shape}")
    delta = np.abs(np.diff(t, axis=0)).mean(axis=0) if len(t) > 1 else np.zeros(t.shape[1], np.float32)
    bins = np.array_split(np.arange(len(t)), n_bins)
    mean = t.mean(axis=0)
    # Centred: the profile carries only the segment's own rises and falls, which is what synchrony between
    # a picture and its sound consists of (levels are in the mean).
    profile = np.concatenate([(t[b].mean(axis=0) if len(b) else mean) - mean for b in bins])
    ev = np.asarray([float(e) - start_s for e in events_s], np.float64)
    st = np.asarray(strengths, np.float64) if len(strengths) else np.ones(len(ev))
    ev_bins = np.zeros(n_bins)
    if len(ev):
        idx = np.clip((ev / max(duration_s, 1e-9) * n_bins).astype(int), 0, n_bins - 1)
        np.add.at(ev_bins, idx, st)
    head = [len(ev) / max(duration_s, 1e-9), float(st.mean()) if len(ev) else 0.0]
    return np.concatenate([mean, t.std(axis=0), delta, profile, head, ev_bins]).astype(np.float32)


def feature_dim(n_axes: int = 8, n_bins: int = 4) -> int:
    return n_axes * (3 + n_bins) + 2 + n_bins


def embedding_features(emb, n_bins: int = 4) -> np.ndarray:
    """``track_features`` of an Embedding's track, or its pooled vector padded to the same length."""
    if emb.track is not None:
        return track_features(emb.track, emb.events_s, emb.event_strengths, float(emb.duration_s), n_bins,
                              float(emb.start_s))
    v = np.asarray(emb.vector, np.float32)
    out = np.zeros(feature_dim(len(v), n_bins), np.float32)
    out[: len(v)] = v
    return out


def media_features(x, n_bins: int = 4, max_side: int = 96) -> np.ndarray:
    """Perceptual features of any medium (``xmedia.adapters.perceptual.encode``), or a vector for text."""
    options = {"max_side": max_side} if isinstance(x, Video) else {}
    return embedding_features(perceptual.encode(x, **options), n_bins)


def text_features(words, n_features: int = 512, ngram=(2, 4)) -> np.ndarray:
    """Hashed character n-grams of each word (with ``<``/``>`` boundary marks), L2-normalised: (N, n_features).

    The hashing trick (Weinberger et al. 2009) with subword n-grams (fastText, Bojanowski et al. 2017) maps
    unseen words and inflections ("sparkly", "rumbling") near the words that share their pieces. crc32 keeps
    the hash stable across Python runs (``hash()`` is salted).
    """
    if isinstance(words, str):
        words = [words]
    out = np.zeros((len(words), n_features), np.float32)
    for row, word in enumerate(words):
        w = f"<{word.lower().strip()}>"
        for n in range(ngram[0], ngram[1] + 1):
            for i in range(len(w) - n + 1):
                h = zlib.crc32(w[i:i + n].encode())
                out[row, h % n_features] += 1.0 if (h >> 31) & 1 else -1.0  # signed hashing: collisions cancel
        out[row, zlib.crc32(w.encode()) % n_features] += 2.0  # the whole word
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.maximum(norms, 1e-6)


# ------------------------------------------------------------------------------------------------ files and cache
def show_progress(progress: bool | None) -> bool:
    """``None`` means: show progress bars when stderr is a terminal."""
    return sys.stderr.isatty() if progress is None else bool(progress)


def default_cache_dir() -> Path:
    return Path(os.environ.get("XMEDIA_CACHE", Path.home() / ".cache" / "xmedia")) / "embeddings"


def file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def encoder_fingerprint() -> str:
    """Changes when the perceptual encoder's source or its visual-onset model changes, so stale cached features
    are not reused."""
    h = hashlib.sha256()
    sources = Path(perceptual.__file__).parent.glob("*.py")
    onsets = Path(perceptual.__file__).parents[1] / "onsets"
    for source in sorted([*sources, *onsets.glob("*.py")]):
        h.update(source.name.encode() + b"\0" + source.read_bytes())
    try:
        h.update(json.loads((locate("visual-onsets") / "config.json").read_text()).get("sha256", "").encode())
    except (WeightsError, OSError, ValueError):
        pass  # no shipped onset model: the encoder falls back to the classic detector (its source is hashed)
    return h.hexdigest()[:16]


def cached(cache_dir, key: dict, compute) -> dict[str, np.ndarray]:
    """``compute()`` (a dict of arrays) memoised in ``cache_dir/<sha256(key)>.npz``; ``cache_dir=False`` disables."""
    if cache_dir is False:
        return compute()
    cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
    name = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:24]
    path = cache_dir / f"{name}.npz"
    if path.is_file():
        try:
            with np.load(path) as z:
                return {k: z[k] for k in z.files}
        except (OSError, ValueError):
            pass  # a damaged cache file is recomputed and replaced
    out = compute()
    with atomic_path(path) as tmp:
        np.savez(tmp, **out)
    return out
