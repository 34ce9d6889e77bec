"""Self-supervised audio-visual training data: fixed-length segments of videos paired with their own sound.

``av_segments(folder)`` cuts each video into segments that never cross a block boundary, encodes the picture
and the sound of each (``xmedia.adapters.perceptual``), and returns ``Pairs`` split by whole blocks or files.
Segment features are computed once per (file content, segment parameters, encoder source) and cached as npz.
"""
from __future__ import annotations

import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from xmedia.adapters import perceptual
from xmedia.avio import open_container
from xmedia.errors import ConfigError, MediaError
from xmedia.io import load
from xmedia.manifest import is_manifest, read_manifest
from xmedia.media import Video

from .dataset import Pairs
from .features import (
    FEATURES_VERSION,
    cached,
    embedding_features,
    encoder_fingerprint,
    file_sha256,
    show_progress,
    track_features,
)

VIDEO_EXT = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v")


def video_files(source) -> list[Path]:
    """A folder's videos, a JSON-lines manifest's inputs (``xmedia.manifest``), one video or a list of them."""
    if isinstance(source, (str, Path)) and is_manifest(source):
        source = [item.input for item in read_manifest(source)]
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


def segment_video(path: Path, segment_s, hop_s, block_s, n_bins, max_side, context) -> dict[str, np.ndarray]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # damaged packets are reported by io; what decodes is used
        video = load(path)
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
            va = slice_features(ev, start, end, n_bins)
            vb = slice_features(ea, start, end, n_bins)
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


def slice_features(emb, start: float, end: float, n_bins: int) -> np.ndarray:
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
    if context not in ("segment", "clip"):
        raise ConfigError(f"context must be 'segment' or 'clip', got {context!r}")
    if not 0 < segment_s <= block_s or hop_s <= 0:
        raise ConfigError(f"need 0 < segment_s <= block_s and hop_s > 0 (got {segment_s}, {block_s}, {hop_s})")
    files, silent = split_by_sound(video_files(source))
    if not files:
        raise MediaError(f"{source}: no audio track in any of the {len(silent)} video(s); audio-visual training "
                         "needs videos with their own sound")
    if silent:
        warnings.warn(f"skipped {len(silent)} of {len(files) + len(silent)} videos without sound "
                      f"({', '.join(p.name for p in silent[:5])}{', ...' if len(silent) > 5 else ''}): audio-visual "
                      "training needs each video's own sound", UserWarning, stacklevel=2)
    if split_by == "auto":
        split_by = "file" if len(files) >= 5 else "time"
    if split_by not in ("time", "file"):
        raise ConfigError(f"split_by must be 'time', 'file' or 'auto', got {split_by!r}")
    params = dict(segment_s=segment_s, hop_s=hop_s, block_s=block_s, n_bins=n_bins, max_side=max_side,
                  context=context, features=FEATURES_VERSION)
    fingerprint = encoder_fingerprint()
    parts = []
    for path in tqdm(files, desc="encode segments", unit="file", disable=not show_progress(progress)):
        key = {"file": file_sha256(path), "encoder": fingerprint, **params}
        parts.append((path, cached(cache_dir, key, lambda p=path: segment_video(
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
    data.meta.update(val_fraction=val_fraction, split_seed=seed, skipped_without_sound=[p.name for p in silent])
    return data


def split_by_sound(files: list[Path]) -> tuple[list[Path], list[Path]]:
    """(videos with an audio stream, videos without one), read from the container headers only."""
    with_sound, silent = [], []
    for path in files:
        with open_container(lambda p=path: str(p), str(path)) as c:
            (with_sound if c.streams.audio else silent).append(path)
    return with_sound, silent
