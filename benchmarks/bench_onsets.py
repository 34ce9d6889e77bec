"""Benchmark: visual onsets against the clips' real sound, and the encoder's per-frame cost.

    python benchmarks/bench_onsets.py [--quick] [--speed] [--cache DIR]

1. Sync (cross-validated, split by clip): mean per-clip onset F-measure (mir_eval, 50 and 100 ms) of the events
   against librosa's onsets of each clip's own sound (an independent detector, backtrack off), per fold and
   overall, for: the learned model (trained and thresholded inside the training folds only), today's classic
   detector (the hand-tuned onset axis of ``VideoEncoder`` and ``pick_events``, as it was), a plain
   frame-difference detector (its threshold tuned on the training folds) and chance (random onsets of the
   truth's count, mean over 20 seeds). Data: ../shared/corpora/av (GRID sentences kept in one fold) plus
   megamind.avi and phone_portrait.mp4, minus the shipped model's held-out clips, which get their own table
   scored with the shipped weights.
2. Speed, same run: the encoder's analysis time per frame with the learned model (local-motion features while
   decoding + the model over the clip) beside the classic detector's, on the same decoded frames.
   ``--quick``: 3 folds and fewer frames.
3. Density-fair (issue 22), same run and folds: kappa = (F@100 - F@100 of as many random events) / (1 - that),
   against all real onsets and against the salient ones (>= 40 % of the clip's 99th-percentile onset strength),
   the AUC of each detector's per-frame curve at the real onsets and its density ratio (events / real onsets),
   for the model (tuned threshold and the encoder's ``events="all"`` / ``"salient"`` operating points), frame
   difference (tuned threshold, and its strongest peaks at the same count as "all" / "salient") and chance
   (``adapters.onsets.measure``); the held-out reliability (ECE) before and after the calibration; the phone
   clip's event counts at both operating points.
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def speed(frames: int) -> None:
    import xmedia
    from xmedia.adapters.onsets.model import resolve
    from xmedia.adapters.perceptual.video import VideoEncoder

    video = xmedia.load(SHARED / "media" / "video" / "pedestrians.avi")
    rgb = [f.rgb for f in video.iter_frames(max_side=160, stop=frames)]
    model = resolve("visual-onsets")
    fps = float(video.fps)
    times = {}
    for name in ("classic", "model", "classic ", "model "):  # twice each, interleaved: the machine may be shared
        enc = VideoEncoder(fps=fps, collect_motion=name.strip() == "model")
        t = time.perf_counter()
        for x in rgb:
            enc.process(x)
        if name.strip() == "model" and model is not None:
            curve = model.curve_from_motion(enc.motion.matrix(), fps)
            model.events(curve, video.times_s()[: len(rgb)])
        times[name.strip()] = min(times.get(name.strip(), np.inf), (time.perf_counter() - t) / len(rgb))
    ratio = times["model"] / times["classic"]
    print(f"\nencoder analysis per frame ({len(rgb)} frames of pedestrians.avi at max_side 160, decoding excluded):")
    print(f"  classic detector  {times['classic'] * 1000:7.2f} ms/frame (reference, same run)")
    print(f"  learned model     {times['model'] * 1000:7.2f} ms/frame  = {ratio:.2f}x the classic"
          + ("" if model is not None else "  (no shipped weights: features only)"))


def fair_row(o: dict) -> str:
    """One line: kappa (all / salient real onsets), AUC and density ratio of the model, frame difference and
    chance (kappa 0, AUC 0.5 by construction; chance F at the model's count for scale)."""
    def g(m, k):
        return o.get(f"{m} {k}", float("nan"))

    return "  ".join(f"{label}: kappa {g(m, 'kappa'):.3f} salient {g(m, 'kappa salient'):.3f} AUC {g(m, 'AUC'):.3f} "
                     f"density x{g(m, 'density'):.2f}" for label, m in (("model", "model"),
                                                                        ("events='all'", "model_all"),
                                                                        ("frame diff at all's count", "fd_all"),
                                                                        ("events='salient'", "model_salient"),
                                                                        ("frame diff at salient's count",
                                                                         "fd_salient"),
                                                                        ("frame diff", "frame_diff"))) \
        + f"  chance: kappa 0 salient 0 AUC 0.5 (F@100 {g('model', 'F chance'):.3f} at the model's count)"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--speed", action="store_true", help="only the per-frame cost (part 2)")
    p.add_argument("--cache", default=os.environ.get("XMEDIA_CACHE"), help="clip feature cache folder")
    args = p.parse_args(argv)
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    if args.speed:
        speed(150 if args.quick else 600)
        return 0
    from xmedia.adapters.onsets.evaluate import clips_fair_table, clips_table, fair_table, score_clips, table
    from xmedia.adapters.onsets.train import gather, train
    from xmedia.zoo.build_onsets import HELD_OUT, held_out_files, training_files

    corpora = SHARED / "corpora"
    if not (corpora / "av").is_dir():
        raise SystemExit(f"the corpus is not at {corpora / 'av'} (../shared/corpora beside the checkout)")
    t0 = time.perf_counter()
    got = gather(training_files(SHARED / "media", corpora), cache_dir=args.cache, truth=True, sync_model="fit")
    print(got.summary())
    folds = 3 if args.quick else 5
    _, cv, _ = train(got.clips, folds=folds, max_steps=150 if args.quick else 300)
    print(f"\ncross-validated by clip ({folds} folds), mean per-clip F against librosa onsets of the real sound:")
    print(table(cv))
    per_fold_win = sum(f["model F@100"] > f["frame_diff F@100"] for f in cv["folds"])
    print(f"model above frame difference (F@100) on {per_fold_win}/{len(cv['folds'])} folds")
    print("\ndensity-fair, same run (kappa against chance at each detector's own event count; issue 22):")
    print(fair_table(cv))
    print(fair_row(cv["overall"]))
    kappa_win = sum(f["model kappa"] > f["frame_diff kappa"] for f in cv["folds"])
    print(f"model above frame difference (kappa) on {kappa_win}/{len(cv['folds'])} folds")
    for point in ("all", "salient"):
        win = sum(f[f"model_{point} kappa"] > f[f"fd_{point} kappa"] for f in cv["folds"])
        print(f"events={point!r} above frame difference at the same count (kappa) on {win}/{len(cv['folds'])} folds")
    phone = SHARED / "media" / "video" / "phone_portrait.mp4"
    if phone.is_file():
        import xmedia
        from xmedia.adapters.perceptual.video import encode_video

        clip = xmedia.load(phone)
        counts = {e: len(encode_video(clip, events=e).events_s) for e in ("all", "salient")}
        print(f"phone_portrait.mp4 ({float(clip.duration_s):.1f} s, shipped weights): events='all' {counts['all']}, "
              f"'salient' {counts['salient']}")

    from xmedia.adapters.onsets.model import resolve
    from xmedia.process import load

    if resolve("visual-onsets") is not None:
        shipped = load("visual-onsets")
        held = gather(held_out_files(corpora), cache_dir=args.cache, truth=True, sync_model=None).clips
        rows = score_clips(shipped, held, float(shipped.card.get("frame_diff_threshold", 0.3)))
        print(f"\nshipped visual-onsets on its held-out clips ({', '.join(HELD_OUT)}):")
        print(clips_table(rows))
        print(clips_fair_table(rows))
        print(fair_row(rows["mean"]))
    print(f"(sync part: {time.perf_counter() - t0:.0f} s)")
    speed(150 if args.quick else 600)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
