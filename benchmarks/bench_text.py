"""Text processes and media -> text, measured: ``python benchmarks/bench_text.py [--skip-media]``.

1. Language models on Tiny Shakespeare (../shared/corpora/text/tinyshakespeare_en.txt), the last 10% held out
   as one contiguous block: validation nats per character of the shipped GRU (zoo ``shakespeare-gru``; with
   ``--train-gru-minutes M`` also one trained in this run) beside
   character Markov chains of order 1..8 and a word Markov chain trained here in the same run, with chance
   (uniform over the vocabulary) and a unigram baseline; sampling speed in characters per second, with the speed
   of a trivial numpy sampler measured in the same run as the reference (the machine is shared: ratios travel,
   absolute numbers do not).
2. Media -> text on ../shared/media/video/fire_a.mp4 and fire_b.mp4: Pearson correlation between an
   independent motion-energy envelope (mean Farneback optical-flow magnitude per second, OpenCV, full frames,
   not the DIS flow the perceptual encoder steers by) and the text's characters per second; null: the same
   correlation with the text's curve circularly shifted (mean and 95th percentile over all shifts); timing:
   every cue's start in the written .srt (as ffmpeg/our reader parses it) against the event it marks.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpora" / "text" / "tinyshakespeare_en.txt"
VIDEOS = [SHARED / "media" / "video" / n for n in ("fire_a.mp4", "fire_b.mp4")]


def reference_speed(vocab_size: int, n: int = 3000) -> float:
    """Characters per second of a trivial sampler (a fixed distribution, the same inverse-CDF draw)."""
    from xmedia.adapters.text.model import sample

    rng = np.random.default_rng(0)
    logp = np.log(np.full(vocab_size, 1.0 / vocab_size))
    t = time.perf_counter()
    for _ in range(n):
        sample(logp, 1.0, rng)
    return n / (time.perf_counter() - t)


def speed(model, n: int = 1500) -> float:
    t = time.perf_counter()
    model.generate("\n", n, 0.8, seed=0)
    return n / (time.perf_counter() - t)


def bench_models(train_gru_minutes: float = 0.0) -> None:
    import torch

    from xmedia.adapters.text import CharGRU, MarkovText, mix_corpora  # noqa: F401
    from xmedia.process import load

    torch.set_num_threads(1)
    corpus = mix_corpora(CORPUS, val_fraction=0.1)
    vocab = sorted(set(corpus.train))
    counts = np.array([corpus.train.count(c) for c in vocab], dtype=float)
    probs = dict(zip(vocab, counts / counts.sum()))
    unigram = -np.mean([np.log(probs.get(c, 1e-9)) for c in corpus.val])
    ref = reference_speed(len(vocab))
    print(f"Tiny Shakespeare: {len(corpus.train)} training / {len(corpus.val)} held-out characters (last 10%)")
    print(f"chance (uniform over {len(vocab)} characters): {np.log(len(vocab)):.3f} nats/char; unigram {unigram:.3f}")
    print(f"reference sampler: {ref:,.0f} chars/s (same run)\n")
    print(f"{'model':34} {'val nats/char':>13} {'train s':>8} {'chars/s':>9} {'/ reference':>11} {'size MB':>8}")
    rows = []
    for order in range(1, 9):
        t = time.perf_counter()
        m = MarkovText.from_corpus(corpus, order=order)
        rows.append((f"char Markov order {order}", m, time.perf_counter() - t))
    t = time.perf_counter()
    rows.append(("word Markov order 2 (unk: lower bound)", MarkovText.from_corpus(corpus, order=2, level="word"),
                 time.perf_counter() - t))
    if train_gru_minutes > 0:  # the neural model trained here, in this run, with the zoo's recipe
        from xmedia.zoo.build_text import FIT, GRU

        t = time.perf_counter()
        gru = CharGRU.from_corpus(corpus, **GRU, **{**FIT, "max_minutes": train_gru_minutes})
        rows.append((f"char GRU trained here ({train_gru_minutes} min)", gru, time.perf_counter() - t))
    for name in ("shakespeare-markov", "shakespeare-gru"):
        try:
            m = load(name)
        except Exception as exc:  # the zoo entry is missing: say so, keep measuring the rest
            print(f"{name}: not in the zoo ({exc})")
            continue
        minutes = m.card.get("metrics", {}).get("training minutes")
        rows.append((f"zoo {name}" + (f" ({minutes} min)" if minutes else ""), m, float("nan")))
    for name, m, train_s in rows:
        val = m.nats_per_char(corpus.val)["nats_per_char"]
        sp = speed(m)
        size = sum(b.numel() * b.element_size() for b in m.state_dict().values()) / 1e6
        print(f"{name:34} {val:13.3f} {train_s:8.1f} {sp:9,.0f} {sp / ref:11.3f} {size:8.2f}", flush=True)


def flow_envelope(path, rate_hz: float = 1.0) -> np.ndarray:
    """Mean Farneback optical-flow magnitude (pixels per frame) per 1/rate_hz seconds: the independent envelope."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS)
    prev, mags = None, []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        if prev is not None:
            flow = cv2.calcOpticalFlowFarneback(prev, gray, None, 0.5, 3, 15, 3, 5, 1.2, 0)
            mags.append(float(np.hypot(flow[..., 0], flow[..., 1]).mean()))
        else:
            mags.append(0.0)
        prev = gray
    cap.release()
    per = max(1, int(round(fps / rate_hz)))
    n = len(mags) // per
    return np.array(mags[: n * per]).reshape(n, per).mean(axis=1)


def bench_media(model: str) -> None:
    import xmedia
    from xmedia.adapters.text.poem import write_poem

    print(f"\nmedia -> text with {model}: r(independent flow envelope, text chars/s), 1 s bins")
    print(f"{'clip':11} {'lines':>5} {'r':>6} {'null mean':>9} {'null 95%':>8} {'cues on event':>13} "
          f"{'max |start-event| ms':>20} {'frame ms':>8} {'s':>5}")
    for path in VIDEOS:
        if not path.exists():
            print(f"{path.name}: missing, skipped")
            continue
        t = time.perf_counter()
        video = xmedia.load(path)
        emb = xmedia.encode(video)
        poem = write_poem(emb, model, seed=0)
        elapsed = time.perf_counter() - t
        env = flow_envelope(path)
        cps = poem.chars_per_second(1.0, emb.duration_s)[: len(env)]
        env = env[: len(cps)]
        r = float(np.corrcoef(env, cps)[0, 1])
        null = np.array([np.corrcoef(env, np.roll(cps, k))[0, 1] for k in range(1, len(cps))])
        with tempfile.TemporaryDirectory() as tmp:
            srt = Path(tmp) / "poem.srt"
            poem.save(srt)
            cues = xmedia.load(srt).lines
        frame = 1.0 / float(video.fps)
        errors = [abs(float(c.start_s - li.start_s)) for c, li in zip(cues, poem.lines)]
        marked = [li for li in poem.lines if li.event in ("onset", "motion")]
        events = {float(e) for e in emb.events_s}
        on_event = sum(1 for c, li in zip(cues, poem.lines) if li.event in ("onset", "motion")
                       and abs(float(c.start_s - li.start_s)) <= frame)
        n_events = sum(1 for e in events if any(abs(float(li.start_s) - e) <= frame for li in poem.lines))
        print(f"{path.name:11} {len(poem.lines):5d} {r:6.3f} {null.mean():9.3f} {np.quantile(null, 0.95):8.3f} "
              f"{on_event:>6}/{len(marked):<6} {1000 * max(errors):20.2f} {1000 * frame:8.1f} {elapsed:5.1f}")
        print(f"  {len(emb.events_s)} encoder events, {n_events} with a line starting within a frame; "
              f"line kinds: {sorted({li.event for li in poem.lines})}")
        for li in poem.lines[:4]:
            print(f"    {float(li.start_s):6.2f}-{float(li.end_s):6.2f} [{li.event}] {li.text}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--skip-models", action="store_true")
    p.add_argument("--skip-media", action="store_true")
    p.add_argument("--model", default="shakespeare-markov", help="text model for the media part")
    p.add_argument("--train-gru-minutes", type=float, default=0.0,
                   help="also train a GRU here with the zoo's recipe for this many minutes (the zoo's took 14)")
    args = p.parse_args()
    if not CORPUS.exists():
        print(f"{CORPUS} is missing: nothing to measure")
        return 1
    if not args.skip_models:
        bench_models(args.train_gru_minutes)
    if not args.skip_media:
        bench_media(args.model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
