"""Training data for bridges: paired feature arrays with a split, built from media and cached on disk.

Sources: ``av_segments(folder)`` (self-supervised audio-visual correspondence: fixed-length segments of each
video and their own sound), ``from_manifest(csv)`` (paired files, or a file and numeric targets), in-memory
arrays or media pairs (``pairs``), and ``mix`` (a weighted mix of datasets). ``as_pairs`` accepts any of them.
Segment features are computed once per (file content, segment parameters, encoder source) and cached as npz.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

import numpy as np

from xmedia.atomic import atomic_path
from xmedia.errors import ConfigError, MediaError

FEATURES_VERSION = 2


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
    from xmedia.adapters import perceptual
    from xmedia.media import Video

    options = {"max_side": max_side} if isinstance(x, Video) else {}
    return embedding_features(perceptual.encode(x, **options), n_bins)


# ------------------------------------------------------------------------------------------------ caching
def show_progress(progress: bool | None) -> bool:
    """``None`` means: show progress bars when stderr is a terminal."""
    import sys

    return sys.stderr.isatty() if progress is None else bool(progress)


def default_cache_dir() -> Path:
    return Path(os.environ.get("XMEDIA_CACHE", Path.home() / ".cache" / "xmedia")) / "embeddings"


def file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _encoder_fingerprint() -> str:
    """Changes when the perceptual encoder's source changes, so stale cached features are not reused."""
    from xmedia.adapters import perceptual

    return hashlib.sha256(Path(perceptual.__file__).read_bytes()).hexdigest()[:16]


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


# ------------------------------------------------------------------------------------------------ sources
VIDEO_EXT = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v")


def _video_files(source) -> list[Path]:
    if isinstance(source, (str, Path)) and Path(source).is_dir():
        files = sorted(p for p in Path(source).iterdir() if p.suffix.lower() in VIDEO_EXT)
        if not files:
            raise MediaError(f"{source}: no video files ({', '.join(VIDEO_EXT)}) in this folder")
        return files
    files = [Path(source)] if isinstance(source, (str, Path)) else [Path(p) for p in source]
    for p in files:
        if not p.is_file():
            raise MediaError(f"{p}: no such video file")
    return files


def segment_times(duration_s: float, segment_s: float, hop_s: float, block_s: float) -> list[tuple[float, int]]:
    """(start, block index) of every segment that lies entirely inside one block of ``block_s`` seconds.

    No segment crosses a block boundary, so when whole blocks go to validation no training segment overlaps
    a validation segment.
    """
    out = []
    n_blocks = int(np.ceil(duration_s / block_s - 1e-9))
    for k in range(n_blocks):
        end = min((k + 1) * block_s, duration_s)
        s = k * block_s
        while s + segment_s <= end + 1e-9:
            out.append((round(s, 6), k))
            s += hop_s
    return out


def _segment_video(path: Path, segment_s, hop_s, block_s, n_bins, max_side, context) -> dict[str, np.ndarray]:
    import warnings

    import xmedia
    from xmedia.adapters import perceptual
    from xmedia.media import Video

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # damaged packets are reported by io; what decodes is used
        video = xmedia.load(path)
    if video.audio is None:
        raise MediaError(f"{path} has no audio track; audio-visual training needs videos with their own sound")
    duration = float(min(video.duration_s, video.audio.duration_s))
    times = video.times_s()
    a_rows, b_rows, starts, blocks = [], [], [], []
    if context == "clip":  # encode once, slice the tracks (what a streaming encoder sees)
        ev, ea = perceptual.encode(video, max_side=max_side), perceptual.encode(video.audio)
    else:
        frames = video.load_frames(max_side=max_side)
    for start, block in segment_times(duration, segment_s, hop_s, block_s):
        end = start + segment_s
        if context == "clip":
            va = _slice_features(ev, start, end, n_bins)
            vb = _slice_features(ea, start, end, n_bins)
        else:
            sel = (times >= start - 1e-9) & (times < end - 1e-9)
            if sel.sum() < 2:
                continue
            clip = Video.from_frames(frames[sel], fps=video.fps)
            sound = video.audio.slice_s(Fraction(start).limit_denominator(10**6), Fraction(end).limit_denominator(10**6))
            va = embedding_features(perceptual.encode(clip, max_side=max_side), n_bins)
            vb = embedding_features(perceptual.encode(sound), n_bins)
        a_rows.append(va)
        b_rows.append(vb)
        starts.append(start)
        blocks.append(block)
    if not a_rows:
        raise MediaError(f"{path} ({duration:.2f} s) is shorter than one {segment_s} s segment; use a shorter segment_s")
    return {"a": np.stack(a_rows), "b": np.stack(b_rows), "starts_s": np.asarray(starts), "blocks": np.asarray(blocks)}


def _slice_features(emb, start: float, end: float, n_bins: int) -> np.ndarray:
    rate = float(emb.rate_hz)
    i, j = int(round(start * rate)), max(int(round(end * rate)), int(round(start * rate)) + 1)
    ev = [e for e in emb.events_s if start <= float(e) < end]
    st = [s for e, s in zip(emb.events_s, emb.event_strengths) if start <= float(e) < end]
    return track_features(emb.track[i:j], ev, st, end - start, n_bins, start)


def av_segments(source, segment_s: float = 1.0, hop_s: float = 0.5, block_s: float = 2.0, n_bins: int = 4,
                max_side: int = 96, context: str = "segment", split_by: str = "auto", val_fraction: float = 0.25,
                seed: int = 0, cache_dir=None, progress: bool | None = None) -> Pairs:
    """Self-supervised audio-visual pairs: each segment's video features (a) and its own sound's (b).

    ``context="segment"`` slices the video and audio objects in time and encodes each slice
    (``perceptual.encode``), as a user's clip would be encoded; ``"clip"`` encodes each file once and slices
    the tracks (faster, streaming context). The split is by whole blocks of ``block_s`` seconds: with
    ``split_by="time"`` the same block indices are held out in every file (use it when files share content,
    e.g. two encodes of one trailer), with ``"file"`` whole files are held out; ``"auto"`` picks ``"file"``
    from 5 files up.
    """
    from tqdm.auto import tqdm

    if context not in ("segment", "clip"):
        raise ConfigError(f"context must be 'segment' or 'clip', got {context!r}")
    if not 0 < segment_s <= block_s or hop_s <= 0:
        raise ConfigError(f"need 0 < segment_s <= block_s and hop_s > 0 (got {segment_s}, {block_s}, {hop_s})")
    files = _video_files(source)
    if split_by == "auto":
        split_by = "file" if len(files) >= 5 else "time"
    if split_by not in ("time", "file"):
        raise ConfigError(f"split_by must be 'time', 'file' or 'auto', got {split_by!r}")
    params = dict(segment_s=segment_s, hop_s=hop_s, block_s=block_s, n_bins=n_bins, max_side=max_side,
                  context=context, features=FEATURES_VERSION)
    fingerprint = _encoder_fingerprint()
    parts = []
    for path in tqdm(files, desc="encode segments", unit="file", disable=not show_progress(progress)):
        key = {"file": file_sha256(path), "encoder": fingerprint, **params}
        parts.append((path, cached(cache_dir, key, lambda p=path: _segment_video(
            p, segment_s, hop_s, block_s, n_bins, max_side, context))))
    a = np.concatenate([p["a"] for _, p in parts])
    b = np.concatenate([p["b"] for _, p in parts])
    sources = np.concatenate([[path.name] * len(p["a"]) for path, p in parts])
    starts = np.concatenate([p["starts_s"] for _, p in parts])
    blocks = np.concatenate([p["blocks"] for _, p in parts])
    if split_by == "time":
        groups = blocks
    else:
        groups = np.concatenate([[i] * len(p["a"]) for i, (_, p) in enumerate(parts)])
    data = Pairs(a, b, groups=groups, sources=sources, starts_s=starts,
                 meta={"kind": "av_segments", "files": [p.name for p in files], "split_by": split_by, **params})
    val = data.split(val_fraction, seed)
    # Held-out segments do not overlap one another: a query's near-copies would make retrieval ill-posed.
    offset = (starts - blocks * block_s) / segment_s
    keep = ~val | np.isclose(offset, np.round(offset))
    data = data.subset(keep)
    data.val = val[keep]
    data.meta.update(val_fraction=val_fraction, split_seed=seed)
    return data


def from_manifest(path, cache_dir=None, n_bins: int = 4, max_side: int = 96) -> Pairs:
    """Pairs from a CSV: columns ``a,b`` (two media files per row, paths relative to the CSV), or ``a`` plus
    numeric columns (regression targets, e.g. decoder controls). An optional ``group`` column keeps rows
    together in the split, an optional ``split`` column (``train``/``val``) fixes it."""
    import xmedia

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such manifest; write a CSV with columns a,b (paired files)")
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows or "a" not in rows[0]:
        raise ConfigError(f"{path}: the manifest needs a header with column 'a' (and 'b' or numeric targets)")
    targets = [c for c in rows[0] if c not in ("a", "b", "group", "split")]
    fingerprint = _encoder_fingerprint()

    def feats(name):
        f = (path.parent / name) if not Path(name).is_absolute() else Path(name)
        if not f.is_file():
            raise MediaError(f"{path}: row names {name!r}, which does not exist (paths are relative to the CSV)")
        key = {"file": file_sha256(f), "encoder": fingerprint, "n_bins": n_bins, "max_side": max_side,
               "features": FEATURES_VERSION}
        return cached(cache_dir, key, lambda: {"x": media_features(xmedia.load(f), n_bins, max_side)})["x"]

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
        if p.is_dir() or p.suffix.lower() in VIDEO_EXT:
            return av_segments(p, **options)
        raise ConfigError(f"{p}: give a folder of videos, a video file or a manifest .csv")
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
    from .models import AXES, text_features

    path = Path(path) if path else Path(__file__).resolve().parents[1] / "adapters" / "perceptual_lexicon.csv"
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
    return Pairs(text_features(words, n_features, tuple(ngram)).numpy(), b, sources=np.asarray(words),
                 meta={"kind": "lexicon", "lexicon": path.name, "words": len(words)})
