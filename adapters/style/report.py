"""PNG reports of style transfer: a before / after / style grid, and the soundtrack's style weights over time."""
from __future__ import annotations

import numpy as np

from xmedia.report import pyplot, save_figure


def style_grid(rows, titles, path, style_pictures=(), title: str = "", dpi: int = 80):
    """One row per content picture (``rows[i]`` = [before, after, ...] uint8 RGB), ``titles`` per column; the
    style pictures (if any) in a last column."""
    plt = pyplot()
    cols = max(len(r) for r in rows) + (1 if len(style_pictures) else 0)
    fig, axes = plt.subplots(len(rows), cols, figsize=(3.2 * cols, 2.6 * len(rows) + 0.4), squeeze=False)
    for i, row in enumerate(rows):
        for j in range(cols):
            ax = axes[i, j]
            ax.axis("off")
            if j < len(row):
                ax.imshow(row[j])
                if i == 0 or len(rows) == 1:
                    ax.set_title(titles[j] if j < len(titles) else "", fontsize=9)
            elif len(style_pictures):
                ax.imshow(style_pictures[min(i, len(style_pictures) - 1)])
                if i == 0:
                    ax.set_title("style", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path, dpi=dpi)


def style_track_plot(track, path, frames=(), title: str = ""):
    """The soundtrack's style weights over time (a stacked area), with optional styled frames above."""
    plt = pyplot()
    n = len(frames)
    fig = plt.figure(figsize=(12, 5.5 if n else 3))
    grid = fig.add_gridspec(2 if n else 1, max(n, 1), height_ratios=[1.3, 1] if n else [1])
    for i, (t, rgb) in enumerate(frames):
        ax = fig.add_subplot(grid[0, i])
        ax.imshow(rgb)
        ax.set_title(f"{t:.1f} s", fontsize=8)
        ax.axis("off")
    ax = fig.add_subplot(grid[-1, :])
    ax.stackplot(track.times_s, np.asarray(track.weights).T, labels=track.names, alpha=0.85)
    ax.set_xlim(track.times_s[0], track.times_s[-1])
    ax.set_ylim(0, 1)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("style weight")
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(title or "style picked by the soundtrack", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path, dpi=80)
