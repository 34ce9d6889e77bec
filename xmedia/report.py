"""Shared plumbing for PNG reports: matplotlib on the Agg backend, figures written atomically."""
from __future__ import annotations

from pathlib import Path

from .atomic import atomic_path


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend (reports are files, never windows); imported on first use."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path, dpi: int = 100) -> Path:
    """Write ``fig`` as a PNG atomically (never half-written) and free it."""
    path = Path(path)
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=dpi, format="png")
    finally:
        pyplot().close(fig)
    return path
