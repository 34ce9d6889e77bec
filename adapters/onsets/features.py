"""Local-motion features of visual onsets: what makes a sound is often a small region that stops, turns or jumps.

``RegionMotion.add(prev_gray, gray, flow)`` keeps, per frame, the mean camera-compensated flow vector, its mean
speed and the mean frame difference in each cell of a ``GRID`` x ``GRID`` grid (what ``VideoEncoder`` already
computes, so the learned detector costs a few region means per frame). ``sequence_features(raw)`` turns the
whole clip's rows into the model's inputs: per frame, region maxima and means of speed, acceleration,
deceleration, direction reversal, difference and difference flux (Owens et al., "Visually Indicated Sounds",
2016: an impact is a sudden local deceleration or reversal), each also relative to its local median and to its
clip's 95th percentile.
"""
from __future__ import annotations

import numpy as np

GRID = 4
RAW_NAMES = ("u", "v", "speed", "diff")  # per region: mean flow (picture widths/s), mean speed, mean |difference|
RAW_WIDTH = len(RAW_NAMES) * GRID * GRID
FEATURE_NAMES = tuple(f"{kind}_{agg}{rel}" for kind in ("speed", "accel", "decel", "reverse", "diff", "flux")
                      for agg in ("max", "mean") for rel in ("", "_rel", "_clip")) + ("global_flux", "global_flux_rel",
                                                                                    "global_flux_clip")
LOCAL_S = 1.0  # the window of the local median the "_rel" features are measured against


def region_means(x: np.ndarray, grid: int = GRID) -> np.ndarray:
    """Mean of ``x`` (H, W[, C]) in each cell of a ``grid`` x ``grid`` grid (the frame cropped to whole cells),
    flattened row-major (cells x C). An area resize by whole cells is that block mean, ~40x faster than numpy."""
    import cv2

    h, w = x.shape[:2]
    if h < grid or w < grid:  # a frame smaller than the grid: every cell sees the whole frame
        return np.repeat(x.reshape(h * w, -1).mean(axis=0, keepdims=True), grid * grid, axis=0)
    gh, gw = h // grid, w // grid
    cells = cv2.resize(np.ascontiguousarray(x[: gh * grid, : gw * grid], dtype=np.float32), (grid, grid),
                       interpolation=cv2.INTER_AREA)
    return cells.reshape(grid * grid, -1)


class RegionMotion:
    """Per-frame raw rows (``RAW_WIDTH`` floats) of local motion, collected while a video is decoded."""

    def __init__(self, fps: float):
        self.fps = float(fps)
        self.rows: list[np.ndarray] = []

    def reset(self):
        self.rows = []

    def add(self, prev: np.ndarray | None, gray: np.ndarray, flow: np.ndarray | None) -> np.ndarray:
        """One frame: ``prev``/``gray`` uint8 (H, W) and the DIS ``flow`` (H, W, 2) between them (None at the start)."""
        import cv2

        cells = GRID * GRID
        if prev is None or flow is None:
            row = np.zeros(RAW_WIDTH, np.float32)
        else:
            side = float(max(gray.shape))
            scale = self.fps / side  # pixels per frame -> picture widths per second
            mean_flow = region_means(flow)  # (cells, 2)
            camera = np.median(mean_flow, axis=0)  # a pan moves every region alike: what is left is local
            local = (mean_flow - camera) * scale
            speed = cv2.magnitude(flow[..., 0] - np.float32(camera[0]), flow[..., 1] - np.float32(camera[1]))
            diff = cv2.absdiff(gray, prev)
            row = np.concatenate([local[:, 0], local[:, 1], region_means(speed)[:, 0] * scale,
                                  region_means(diff)[:, 0] / 255.0]).astype(np.float32)
        assert row.shape == (4 * cells,)
        self.rows.append(row)
        return row

    def matrix(self) -> np.ndarray:
        return np.stack(self.rows) if self.rows else np.zeros((0, RAW_WIDTH), np.float32)


def _local_median(x: np.ndarray, window: int) -> np.ndarray:
    from scipy.ndimage import median_filter

    return median_filter(x, size=(max(1, window) | 1,) + (1,) * (x.ndim - 1), mode="nearest")


def _of_clip(x: np.ndarray) -> np.ndarray:
    """``x`` against its own clip: over the clip's 95th percentile, capped at 3 (so each clip's busiest moments
    read alike whatever its overall amount of motion)."""
    return np.minimum(x / (np.percentile(x, 95) + 1e-6), 3.0)


def sequence_features(raw: np.ndarray, fps: float) -> np.ndarray:
    """(T, ``len(FEATURE_NAMES)``) float32 model inputs from the raw rows of a whole clip; never NaN."""
    raw = np.nan_to_num(np.asarray(raw, np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    t = raw.shape[0]
    if t == 0:
        return np.zeros((0, len(FEATURE_NAMES)), np.float32)
    c = GRID * GRID
    u, v, speed, diff = (raw[:, i * c : (i + 1) * c] for i in range(4))
    prev = lambda a: np.concatenate([a[:1], a[:-1]])  # noqa: E731
    change = speed - prev(speed)
    accel, decel = np.maximum(change, 0), np.maximum(-change, 0)
    turn = -(u * prev(u) + v * prev(v))  # > 0 when a region's motion points back the way it came
    reverse = np.sqrt(np.maximum(turn, 0))
    flux = np.maximum(diff - prev(diff), 0)
    window = int(round(LOCAL_S * fps))
    aggs, scales = [], []
    for kind, scale in ((speed, 0.3), (accel, 0.2), (decel, 0.2), (reverse, 0.2), (diff, 0.05), (flux, 0.03)):
        aggs += [kind.max(axis=1), kind.mean(axis=1)]
        scales += [scale, scale]
    agg = np.stack(aggs, axis=1)
    x = np.log1p(agg / np.asarray(scales))
    rel = x - _local_median(x, window)  # one 2-D median filter along time for all columns
    clip = np.minimum(agg / (np.percentile(agg, 95, axis=0) + 1e-6), 3.0)
    cols = [col for j in range(agg.shape[1]) for col in (x[:, j], rel[:, j], clip[:, j])]
    g = diff.mean(axis=1)
    g_flux = np.maximum(g - 1.5 * _local_median(g, window), 0)
    cols += [np.log1p(g_flux / 0.02), np.log1p(g_flux / 0.02) - _local_median(np.log1p(g_flux / 0.02), window),
             _of_clip(g_flux)]
    out = np.stack(cols, axis=1)
    return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)
