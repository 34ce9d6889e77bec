"""Training a visual-onset model on a folder of videos with sound: gather, check, cross-validate, fit, report.

``gather(files)`` (``clips.gather``) decodes each clip once; clips without sound or with silent sound are skipped
(and counted), clips whose sound is offset from their picture are flagged and left out of training
(``offset_check``).
``VisualOnsets.fit`` (``xmedia.trainer``) runs the ``OnsetTask``: full-batch epochs over every clip (one step is
one epoch), the threshold tuned on inner folds, and with ``folds`` the same recipe cross-validated by clip
(thresholds tuned inside the training folds). ``train(clips)`` is that fit; ``report_png`` draws per-clip held-out kappa, the
reliability diagram of the held-out probability and the loss.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np

from .clips import Gathered, offset_check  # noqa: F401 - the gathering API, here beside the training
from .clips import collect as collect_clips
from .clips import gather as gather_clips
from .evaluate import fair_table, group_of, table  # noqa: F401
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
    """Per-clip held-out kappa at the same event count (model, frame difference; chance is 0) with the
    density-fair summary in the title, the reliability diagram of the held-out probability, and the final fit's
    loss with its threshold."""
    from xmedia.report import pyplot, save_figure

    plt = pyplot()
    rows = cv["clips"]
    fig, (ax, rx, bx) = plt.subplots(1, 3, figsize=(16, max(4.0, 0.22 * len(rows) + 1.5)),
                                     gridspec_kw={"width_ratios": [3, 1.2, 1]})
    y = np.arange(len(rows))
    for dy, key, colour in ((-0.2, "model", "C0"), (0.2, "frame_diff", "C1")):
        ax.barh(y + dy, [r.get(f"{key} kappa", np.nan) for r in rows], height=0.4, color=colour,
                label=key.replace("_", " "))
    ax.axvline(0, color="0.4", lw=1, label="chance (same count)")
    ax.set_yticks(y, [f"{r['clip'][:28]} (f{r['fold']}, x{r.get('model density', np.nan):.1f})" for r in rows],
                  fontsize=7)
    ax.invert_yaxis()
    o = cv["overall"]
    ax.set_xlabel("held-out kappa: (F@100 - F@100 of as many random events) / (1 - that); x = model density ratio")

    def g(m, k):
        return o.get(f"{m} {k}", np.nan)

    ax.set_title(f"cross-validated by clip: kappa model {g('model', 'kappa'):.2f} / frame diff "
                 f"{g('frame_diff', 'kappa'):.2f} / chance 0; salient {g('model', 'kappa salient'):.2f} / "
                 f"{g('frame_diff', 'kappa salient'):.2f}\nAUC {g('model', 'AUC'):.2f} / {g('frame_diff', 'AUC'):.2f} "
                 f"/ 0.5; density x{g('model', 'density'):.2f} / x{g('frame_diff', 'density'):.2f} "
                 f"(model within 0.5-2x on {100 * g('model', 'density 0.5-2x'):.0f} % of clips); F@100 "
                 f"{o['model F@100']:.2f} / {o['frame_diff F@100']:.2f} / {o['chance F@100']:.2f}", fontsize=9)
    ax.legend(fontsize=8, loc="lower right")
    rel, raw = cv.get("reliability"), cv.get("reliability_uncalibrated")
    if rel is not None:
        rx.plot([0, 1], [0, 1], color="0.6", lw=1, ls="--")
        tops, title = [0.05], "reliability (held out)"
        for r, colour, label in ((raw, "C1", "uncalibrated"), (rel, "C0", "calibrated")):
            if r is None:
                continue
            ok = r["count"] > 0
            rx.plot(r["mean_p"][ok], r["observed"][ok], "o-", color=colour, label=f"{label}: ECE {r['ece']:.3f}")
            for x_, y_, n_ in zip(r["mean_p"][ok], r["observed"][ok], r["count"][ok]):
                rx.annotate(f"{int(n_)}", (x_, y_), fontsize=6, xytext=(2, -8), textcoords="offset points")
            if ok.any():
                tops.append(float(np.nanmax(np.r_[r["mean_p"][ok], r["observed"][ok]]) * 1.1))
            title += f"\n{label}: ECE {r['ece']:.3f}, Brier {r['brier']:.3f}"
        top = min(1.0, max(tops))
        rx.set_xlim(0, top)
        rx.set_ylim(0, top)
        rx.set_xlabel("predicted probability (held-out frames)")
        rx.set_ylabel("observed: frame nearest a real onset")
        rx.set_title(title, fontsize=9)
        rx.legend(fontsize=7, loc="upper left")
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
    """The cross-validated F table, then the density-fair one (kappa, salient kappa, AUC, density)."""
    return table(cv) + "\n\n" + fair_table(cv)
