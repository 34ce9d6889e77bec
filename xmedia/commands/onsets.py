"""``xmedia train visual-onsets --data DIR -o OUT``: learn the picture's sound events from your own clips.

DIR is a folder of videos with their own sound, or a ``.jsonl`` manifest listing them (``xmedia.manifest``).
Each clip's sound onsets label its frames; clips without sound or with a silent one are skipped and counted; a
clip whose sound is offset from its picture is flagged and left out. The command prints the cross-validated F
(by clip) beside the frame-difference baseline and chance, writes the model to OUT (``translate(video,
to="audio", onset_model="OUT")`` or ``--option onset_model=OUT`` uses it) and a PNG report (OUT/report.png).
"""
from __future__ import annotations

import sys
from pathlib import Path

from . import Trainer


def add_arguments(parser) -> None:
    parser.add_argument("--data", required=True,
                        help="folder of videos with their own synchronized sound, or a .jsonl manifest of them")
    parser.add_argument("-o", "--output", required=True, help="folder to save the trained model in")
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds, split by clip (default 5)")
    parser.add_argument("--epochs", type=int, default=300, help="training epochs (full batch; default 300)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the folds and the training")
    parser.add_argument("--cache", help="cache folder for decoded clip features (default $XMEDIA_CACHE)")
    parser.add_argument("--report", help="PNG report (default OUTPUT/report.png)")
    parser.add_argument("--progress", action="store_true", default=None,
                        help="show progress bars (default: when the output is a terminal)")


def run(args) -> int:
    from functools import partial

    from tqdm import tqdm

    from xmedia.adapters.onsets.train import collect, cv_text, report_png, train
    from xmedia.scale import is_main_process

    show = sys.stderr.isatty() if args.progress is None else args.progress
    bar = (lambda desc: partial(tqdm, desc=desc, unit="", leave=False)) if show else (lambda desc: None)
    got = collect(args.data, cache_dir=args.cache, progress=bar("read clips"))
    print(got.summary())
    model, cv, loss = train(got.clips, folds=args.folds, seed=args.seed, epochs=args.epochs, progress=bar("folds"))
    if not is_main_process():  # torchrun: the other ranks trained in step; rank 0 writes
        return 0
    truth = "librosa onsets (independent)" if got.clips[0].truth_s is not None else "the training labels"
    print(f"cross-validated by clip, mean per-clip F against {truth}:")
    print(cv_text(cv))
    out = Path(args.output)
    threshold = float(model.threshold)
    overall = cv["overall"]
    model.save_pretrained(out, card={
        "title": "visual-onsets (retrained)",
        "description": "Visual onsets learned from the clips' own sound (xmedia train visual-onsets).",
        "data": f"{len(got.clips)} clip(s) from {args.data}; skipped {len(got.skipped)}, out of sync "
                f"{len(got.flagged)} (left out)",
        "objective": "per-frame weighted BCE against the sound's onsets; threshold tuned on inner folds",
        "metrics": {k: round(v, 3) for k, v in overall.items() if isinstance(v, float)},
        "reproduce": f"xmedia train visual-onsets --data {args.data} -o {args.output} --folds {args.folds} "
                     f"--epochs {args.epochs} --seed {args.seed}"})
    report = report_png(args.report or out / "report.png", cv, loss, threshold, got)
    print(f"wrote {out} (threshold {threshold:.2f}; report: {report})")
    print(f"use it: xmedia translate CLIP --to audio --option onset_model={out}")
    return 0


TRAINERS = (Trainer("visual-onsets", "learn visual onsets (what in the picture makes a sound) from videos with "
                    "their own sound", add_arguments, run),)
