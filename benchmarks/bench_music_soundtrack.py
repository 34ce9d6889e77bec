"""The composed soundtrack (``--style score``) against today's ``music`` style, on real clips, same run.

Independent measures with librosa (not the project's own onset detector), on the mono soundtrack at 22.05 kHz:

- key clarity: the best Pearson correlation of the mean chroma (``chroma_cqt``) with the 24 rotated
  Krumhansl-Kessler profiles;
- beat pulse: the highest peak of the onset-strength envelope's autocorrelation (normalised by lag 0) at lags
  0.25-2 s;
- onsets/s (``onset_detect``) against the clip's real sound's (its own audio track);
- note F (one clip, ``--transcribe``): the soundtrack transcribed by the project's basic-pitch step
  (``xmedia.translate(audio, to="score")``) against the score's pitched notes: a match is an onset within
  50 ms and the same pitch class, one to one (greedy by time).

    python benchmarks/bench_music_soundtrack.py [--clips N] [--music-style NAME] [--png spectrograms.png]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CLIPS = ("media/video/phone_portrait.mp4", "media/video/megamind.avi", "corpora/av/bmt_women_long_jump.mp4",
         "corpora/av/difffoley_drum.mp4", "corpora/av/avsbench_CbQ2Ap7Phsw_dog_child.mp4",
         "corpora/av/icassp23_fireworks.mp4", "corpora/av/condfoleygen_hitting_bag.mp4",
         "corpora/av/avsbench_QYbisnpKlQ_bus.mp4", "corpora/av/retalking_1.mp4",
         "corpora/av/mmaudiosep_music_violin.mp4")
SR = 22050
KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def mono(audio) -> np.ndarray:
    import librosa

    x = audio.mono().astype(np.float32)
    return librosa.resample(x, orig_sr=audio.sample_rate_hz, target_sr=SR) if audio.sample_rate_hz != SR else x


def key_clarity(y: np.ndarray) -> float:
    import librosa

    chroma = librosa.feature.chroma_cqt(y=y, sr=SR).mean(axis=1)
    return max(float(np.corrcoef(chroma, np.roll(p, k))[0, 1]) for p in (KK_MAJOR, KK_MINOR) for k in range(12))


def beat_pulse(y: np.ndarray) -> float:
    import librosa

    env = librosa.onset.onset_strength(y=y, sr=SR)
    env = env - env.mean()
    ac = librosa.autocorrelate(env)
    if ac[0] <= 0:
        return 0.0
    fps = SR / 512
    lo, hi = int(0.25 * fps), min(len(ac) - 1, int(2.0 * fps))
    return float(ac[lo:hi + 1].max() / ac[0])


def onset_rate(y: np.ndarray) -> float:
    import librosa

    return len(librosa.onset.onset_detect(y=y, sr=SR, units="time")) / (len(y) / SR)


def note_f(score, audio, tol_s: float = 0.05) -> tuple[float, int, int]:
    """F of the transcription's notes against the score's pitched notes (onset within tol, same pitch class)."""
    import xmedia

    heard = xmedia.translate(audio, to="score")
    pitched = np.array([not score.parts[p].is_drum for p in score.part], bool)
    ref = sorted(zip(score.onset_s()[pitched], score.pitch[pitched] % 12))
    est = sorted(zip(heard.onset_s(), heard.pitch % 12)) if heard.num_notes else []
    used, hits = set(), 0
    for t, pc in ref:
        for j, (u, qc) in enumerate(est):
            if j not in used and qc == pc and abs(u - t) <= tol_s:
                used.add(j)
                hits += 1
                break
    p = hits / max(1, len(est))
    r = hits / max(1, len(ref))
    return (2 * p * r / (p + r) if p + r else 0.0), len(ref), len(est)


def spectrograms(path, rows) -> None:
    from xmedia.report import pyplot, save_figure

    plt = pyplot()
    fig, ax = plt.subplots(len(rows), 1, figsize=(12, 3 * len(rows)), sharex=True)
    for a, (title, y) in zip(np.atleast_1d(ax), rows):
        a.specgram(y, NFFT=2048, Fs=SR, noverlap=1536, cmap="magma", vmin=-120)
        a.set_ylim(0, 4000)
        a.set_ylabel("Hz")
        a.set_title(title)
    fig.tight_layout()
    save_figure(fig, path, dpi=90)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clips", type=int, default=8)
    ap.add_argument("--music-style", default="bach-chorales")
    ap.add_argument("--png", default="", help="write the spectrograms of the first clip here")
    ap.add_argument("--transcribe", type=int, default=0, help="the clip (index) whose new soundtrack is transcribed")
    args = ap.parse_args(argv)
    import xmedia

    cols = ("clip", "dur", "old key", "new key", "old pulse", "new pulse", "real on/s", "old on/s", "new on/s",
            "accents/s", "new s")
    print(" | ".join(cols))
    print(" | ".join("---" for _ in cols))
    sums = np.zeros(7)
    n = 0
    for i, rel in enumerate(CLIPS[:args.clips]):
        path = SHARED / rel
        if not path.is_file():
            print(f"(missing {rel})", file=sys.stderr)
            continue
        clip = xmedia.load(path)
        old = mono(xmedia.translate(clip, to="audio", style="music", seed=0))
        t0 = time.perf_counter()
        trace = xmedia.translate(clip, to="audio", style="score", music_style=args.music_style, seed=0, trace=True)
        took = time.perf_counter() - t0
        new = mono(trace.output)
        score = trace.get("score")
        real = onset_rate(mono(clip.audio)) if clip.audio is not None else float("nan")
        dur = float(clip.duration_s)
        row = (key_clarity(old), key_clarity(new), beat_pulse(old), beat_pulse(new), real, onset_rate(old),
               onset_rate(new))
        sums += np.nan_to_num(row)
        n += 1
        acc = len(score.meta.get("accents_s", ())) / dur
        print(" | ".join([Path(rel).stem[:28], f"{dur:.1f}"] + [f"{v:.2f}" for v in row] + [f"{acc:.2f}",
                                                                                          f"{took:.1f}"]))
        if args.png and i == 0:
            spectrograms(args.png, [(f"{Path(rel).name}: old style music", old),
                                    (f"{Path(rel).name}: new style score ({args.music_style})", new)])
        if i == args.transcribe:
            f, nref, nest = note_f(score, trace.output)
            print(f"  transcription of {Path(rel).name}: note F {f:.3f} ({nref} score notes, {nest} heard)")
    if n:
        m = sums / n
        print(" | ".join(["**mean**", ""] + [f"{v:.2f}" for v in m] + ["", ""]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
