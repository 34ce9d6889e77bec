"""``xmedia train visual-onsets --data DIR -o OUT``: learn the picture's sound events from your own clips, and
``xmedia eval visual-onsets --data DIR``: score a visual-onsets model on clips with their own sound.

DIR is a folder of videos with their own sound, or a ``.jsonl`` manifest listing them (``xmedia.manifest``).
Each clip's sound onsets label its frames; clips without sound or with a silent one are skipped and counted; a
clip whose sound is offset from its picture is flagged and left out. The trainer is the common one
(``ProcessTrainer``: ``--max-steps`` full-batch epochs, ``--learning-rate``, ``--seed``, ``--fine-tune``...,
the destination checked before any work) plus ``--folds`` (cross-validation by clip) and ``--cache``. It prints
the cross-validated F (by clip) beside the frame-difference baseline and chance, writes the model to OUT
(``translate(video, to="audio", onset_model="OUT")`` or ``--option onset_model=OUT`` uses it) and a PNG report
(OUT/report.png).
"""
from __future__ import annotations

from xmedia.errors import ConfigError, XMediaError

from .training import ProcessTrainer, TrainFlag

ORDER = 60  # where this area's hooks run among the others' (xmedia.commands.areas)
DEFAULT_DIFF_THRESHOLD = 0.3  # frame difference's threshold when a model's card records none


def _truth(clips) -> str:
    return "librosa onsets (independent)" if clips and clips[0].truth_s is not None else "the training labels"


def _card(args, result) -> dict:
    from xmedia.adapters.onsets.evaluate import best_threshold, frame_diff_curve

    got, cv = result.extra["gathered"], result.extra.get("cv")
    card = {"description": "Visual onsets learned from the clips' own sound (xmedia train visual-onsets).",
            "data": f"{len(got.clips)} clip(s) from {', '.join(map(str, args.data))}; skipped {len(got.skipped)}, "
                    f"out of sync {len(got.flagged)} (left out)",
            "objective": "per-frame BCE against the sound's onsets; threshold tuned on inner folds",
            # what `xmedia eval` compares the model with on new clips: frame difference tuned on these clips
            "frame_diff_threshold": best_threshold([frame_diff_curve(c) for c in got.clips], got.clips)}
    if cv is not None:
        card["metrics"] = {f"cross-validated {k} (against {_truth(got.clips)})": round(v, 3)
                           for k, v in cv["overall"].items() if isinstance(v, float)}
    return card


def _after_save(args, result, out) -> list:
    from xmedia.adapters.onsets.train import cv_text, report_png

    got, cv = result.extra["gathered"], result.extra.get("cv")
    print(got.summary())
    threshold = float(result.process.threshold)
    if cv is None:
        return []
    print(f"cross-validated by clip, mean per-clip F and density-fair scores against {_truth(got.clips)}:")
    print(cv_text(cv))
    report = report_png(out / "report.png", cv, result.train_losses, threshold, got)
    print(f"threshold {threshold:.2f}; use it: xmedia translate CLIP --to audio --option onset_model={out}")
    return [report]


TRAINERS = (ProcessTrainer(
    "visual-onsets", "learn visual onsets (what in the picture makes a sound) from videos with their own sound",
    "xmedia.adapters.onsets.process:VisualOnsets",
    "folder(s) of videos with their own synchronized sound, or .jsonl manifests of them",
    flags=(TrainFlag("folds", int, "cross-validation folds, split by clip (2 up to the number of clips)"),
           TrainFlag("cache", str, "cache folder for decoded clip features ($XMEDIA_CACHE when not given)")),
    card=_card, after_save=_after_save, unused=("batch_size",)).as_trainer(),)  # full batch: every clip a step


# ------------------------------------------------------------------------------------------------ eval
def is_onset_model(name_or_path) -> bool:
    """Whether ``name_or_path`` (a zoo name or a folder) holds a saved ``VisualOnsets`` model."""
    from xmedia.pretrained import locate, read_config

    try:
        return read_config(locate(name_or_path)).get("class") == "VisualOnsets"
    except XMediaError:
        return False


def eval_onsets(args) -> int:
    """Per-clip F@50/F@100 of the model on ``--data``'s clips beside today's detector, frame difference and
    chance (held-out numbers when the model never trained on those clips)."""
    from xmedia.adapters.onsets.evaluate import clips_fair_table, clips_table, score_clips
    from xmedia.adapters.onsets.train import collect
    from xmedia.process import load

    if not args.data:
        raise ConfigError(f"xmedia eval {args.bridge} scores a visual-onsets model on videos with their own sound: "
                          "pass --data DIR (a folder or .jsonl manifest of them)")
    model = load(args.bridge)
    got = collect(args.data, cache_dir=args.cache, sync_model=None)
    print(got.summary())
    diff = model.card.get("frame_diff_threshold")
    scored = score_clips(model, got.clips, DEFAULT_DIFF_THRESHOLD if diff is None else float(diff))
    print(f"{args.bridge} on {len(got.clips)} clip(s) of {args.data}, per-clip F against {_truth(got.clips)} "
          f"(frame difference at threshold {DEFAULT_DIFF_THRESHOLD if diff is None else float(diff):.2f}):")
    print(clips_table(scored))
    print(clips_fair_table(scored))
    return 0
