"""Training a visual-onset model on a folder of videos with sound: gather, check, cross-validate, fit, report.

``gather(files)`` (``clips.gather``) decodes each clip once; clips without sound or with silent sound are skipped
(and counted), clips whose sound is offset from their picture are flagged and left out of training
(``offset_check``).
``VisualOnsets.fit`` (``xmedia.trainer``) runs the ``OnsetTask``: full-batch epochs over every clip (one step is
one epoch), the threshold tuned on inner folds, and with ``folds`` the same recipe cross-validated by clip
(thresholds tuned inside the training folds). ``train(clips)`` is that fit; ``report_png`` draws per-clip F and
the loss.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np

from .clips import Gathered, offset_check  # noqa: F401 - the gathering API, here beside the training
from .clips import collect as collect_clips
from .clips import gather as gather_clips
from .evaluate import group_of, table  # noqa: F401
from .task import QUICK_FIT_STEPS, check_options  # noqa: F401


def quick_fit(clips):
    """A ``VisualOnsets`` fitted quickly on ``clips`` (the sync check's model when the shipped one is missing)."""
    from .process import VisualOnsets

    quick = VisualOnsets()
    quick.fit(clips, max_steps=QUICK_FIT_STEPS, folds=None, inner_folds=None, progress=False)
    return quick.onset_model()


gather = partial(gather_clips, fit_model=quick_fit)  # ``clips.gather`` with the quick fit for the sync check
collect = partial(collect_clips, fit_model=quick_fit)


def train(clips, folds: int = 5, seed: int = 0, max_steps: int = 300, progress=None, distributed: bool | None = None,
          **model_options):
    """``(model, cross-validation result, loss curve)``: ``VisualOnsets(**model_options).fit`` on ``clips``:
    cross-validated by clip, then fitted on every clip with its threshold tuned on inner folds.
    ``distributed``: every fit runs data-parallel under ``torchrun`` (see ``xmedia.scale.runner``)."""
    from .process import VisualOnsets

    model = VisualOnsets(**model_options)
    result = model.fit(clips, folds=folds, seed=seed, max_steps=max_steps, progress=progress, distributed=distributed)
    return model, result.extra.get("cv"), result.train_losses


def report_png(path, cv: dict, loss, threshold: float, gathered: Gathered | None = None) -> Path:
    """Per-clip held-out F@100 (model, frame difference, chance) and the final fit's loss with its threshold."""
    from xmedia.report import pyplot, save_figure

    plt = pyplot()
    rows = cv["clips"]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(13, max(3.5, 0.22 * len(rows) + 1.5)),
                                 gridspec_kw={"width_ratios": [3, 1]})
    y = np.arange(len(rows))
    for dy, key, colour in ((-0.25, "model", "C0"), (0, "frame_diff", "C1"), (0.25, "chance", "0.6")):
        ax.barh(y + dy, [r[f"{key} F@100"] for r in rows], height=0.25, color=colour, label=key.replace("_", " "))
    ax.set_yticks(y, [f"{r['clip'][:32]} (fold {r['fold']})" for r in rows], fontsize=7)
    ax.invert_yaxis()
    o = cv["overall"]
    ax.set_xlabel("held-out F within 100 ms of the clip's sound onsets")
    ax.set_title(f"cross-validated by clip: model {o['model F@100']:.2f}, frame diff {o['frame_diff F@100']:.2f}, "
                 f"chance {o['chance F@100']:.2f}", fontsize=9)
    ax.legend(fontsize=8, loc="lower right")
    bx.plot(loss)
    bx.set_xlabel("epoch (full batch)")
    bx.set_ylabel("training loss (BCE)")
    text = f"threshold {threshold:.2f}"
    if gathered is not None:
        text += f"\nskipped {len(gathered.skipped)}, out of sync {len(gathered.flagged)}"
        text += "".join(f"\n{n[:22]} {lag * 1000:+.0f} ms" for n, lag in gathered.flagged.items())
    bx.text(0.98, 0.98, text, transform=bx.transAxes, ha="right", va="top", fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


def cv_text(cv: dict) -> str:
    return table(cv)
