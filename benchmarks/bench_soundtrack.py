"""Benchmark: video -> soundtrack. Speed of the whole command and pipeline, and sync with the picture.

    python benchmarks/bench_soundtrack.py [--quick] [--command-only]

0. The whole command, as a user runs it (a fresh process each time, median of 3): ``xmedia translate FILE --to
   audio -o x.wav`` and ``-o x.mp4``, beside ``ffmpeg -i FILE -f null -`` (decoding alone, the floor) on the
   same file in the same run, and the time from process start to the first decoded frame. Targets (issue 11):
   >= 20x real time to wav, >= 10x to mp4, <= 2x the ffmpeg decode, first frame within 0.5 s.

1. Speed: decode -> analyse -> compose -> write (a WAV, and an MP4 with the video copied or re-encoded), as a
   real-time factor (clip seconds per wall second; warm, in-process), on phone_portrait.mp4 and
   pedestrians.avi. Side by side: transformers' MusicGen at the musicgen-small shape (random weights, no
   download) generating audio on this CPU (classifier-free guidance 3, as musicgen-small's default); it is
   timed on 1 s and 3 s and extrapolated linearly to the clip's length (said so in the table), which flatters
   it (attention cost grows with length).
2. Sync: onset F-measure (mir_eval.onset.f_measure, 50 and 100 ms windows) between the soundtrack's onsets and
   (a) the clip's own audio onsets, for style="foley", on the clips with synced sound (phone_portrait.mp4,
   megamind.avi); (b) the visual events, for both styles. Each with a chance baseline: as many random onset
   times, uniform over the clip, averaged over 200 seeds.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

import xmedia
from xmedia.adapters.composer import compose
from xmedia.adapters.perceptual.audio import detect_onsets
from xmedia.io import write_video_with_audio

MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media" / "video"


def timed(fn, *args, repeat: int = 1, **kw):
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn(*args, **kw)
        best = min(best, time.perf_counter() - t)
    return best, out


def pipeline(path: Path, out_dir: Path, max_side: int, to: str):
    """Decode -> analyse -> compose -> write; returns stage times (s).

    The route video -> audio run in two calls, so its stages can be timed: the video to the perceptual space,
    then the embedding through the bridge and the composer."""
    t = {}
    t0 = time.perf_counter()
    video = xmedia.load(path)
    emb = xmedia.encode(video, max_side=max_side)  # decoding happens inside, frame by frame
    t["decode+analyse"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    audio = xmedia.translate(emb, to="audio", seed=0)
    t["compose"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    if to == "wav":
        audio.save(out_dir / "out.wav")
        t["how"] = "wav"
    else:
        t["how"] = write_video_with_audio(video, audio, out_dir / "out.mp4")
    t["write"] = time.perf_counter() - t2
    t["total"] = time.perf_counter() - t0
    t["duration"] = float(video.duration_s)
    return t


def musicgen_seconds_per_second(durations=(1.0, 3.0)) -> tuple[float, float, list[tuple[float, float]]]:
    """Time MusicGen (musicgen-small shape, random weights) for a few durations; fit time = a + b * duration."""
    import torch
    from transformers import (
        EncodecConfig,
        MusicgenConfig,
        MusicgenDecoderConfig,
        MusicgenForConditionalGeneration,
        T5Config,
    )

    torch.manual_seed(0)
    torch.set_flush_denormal(True)  # random weights can drive activations into denormals, which crawl on CPUs
    text = T5Config(vocab_size=32128, d_model=768, d_kv=64, d_ff=3072, num_layers=12, num_heads=12)
    audio = EncodecConfig(sampling_rate=32000, audio_channels=1, num_filters=64, upsampling_ratios=[8, 5, 4, 4],
                          codebook_size=2048, target_bandwidths=[2.2], hidden_size=128, num_lstm_layers=2,
                          compress=2, normalize=False, use_causal_conv=False)
    dec = MusicgenDecoderConfig(vocab_size=2048, hidden_size=1024, num_hidden_layers=24, num_attention_heads=16,
                                ffn_dim=4096, num_codebooks=4, max_position_embeddings=2048)
    cfg = MusicgenConfig(text_encoder=text.to_dict(), audio_encoder=audio.to_dict(), decoder=dec.to_dict())
    model = MusicgenForConditionalGeneration(cfg).eval()
    n_params = sum(p.numel() for p in model.parameters())
    ids = torch.tensor([[37, 1048, 6, 3, 1]])  # any short token sequence: the prompt's content does not change cost
    frame_rate = 50
    points = []
    with torch.no_grad():
        for _ in range(2):  # warm-up: the first calls pay one-off kernel selection and allocation
            model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=True, max_new_tokens=28,
                           guidance_scale=3.0)
        for d in durations:
            t = time.perf_counter()
            wav = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=True,
                                 max_new_tokens=int(d * frame_rate) + 3, guidance_scale=3.0)
            points.append((float(wav.shape[-1]) / 32000, time.perf_counter() - t))
    (b, a) = np.polyfit([p[0] for p in points], [p[1] for p in points], 1)
    return a, b, points, n_params


FIRST_FRAME = """
import sys, time
t0 = time.perf_counter()
from xmedia.cli import build_parser
args = build_parser().parse_args(["translate", sys.argv[1], "--to", "audio", "-o", "x.wav"])
from xmedia.io import load
next(iter(load(args.input).iter_frames(max_side=160)))
print(time.perf_counter() - t0)
"""


def wall(cmd, runs: int = 3) -> float:
    """Median wall time of a command run as a fresh process (interpreter start included)."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def whole_command(clips, out: Path) -> None:
    xm = [sys.executable, "-m", "xmedia.cli", "translate"]
    print("\n## Whole command, fresh process each run, median of 3 (RTF = clip s / wall s)\n")
    print("| clip | duration s | ffmpeg -f null s | start -> first frame s | to wav s | RTF wav | wav / ffmpeg "
          "| to mp4 s | RTF mp4 | mp4 video |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for clip in clips:
        path = str(MEDIA / clip)
        dur = float(xmedia.info(path)["duration_s"])
        ff = wall(["ffmpeg", "-v", "error", "-i", path, "-f", "null", "-"]) if shutil.which("ffmpeg") else float("nan")
        first = np.median([float(subprocess.run([sys.executable, "-c", FIRST_FRAME, path], check=True,
                                                capture_output=True, text=True).stdout) for _ in range(3)])
        wav = wall(xm + [path, "--to", "audio", "-o", str(out / "cmd.wav")])
        mp4 = wall(xm + [path, "--to", "audio", "-o", str(out / "cmd.mp4")])
        how = "copied" if _same_codec(path, out / "cmd.mp4") else "re-encoded"
        print(f"| {clip} | {dur:.1f} | {ff:.2f} | {first:.2f} | {wav:.2f} | {dur / wav:.1f}x | {wav / ff:.1f}x | "
              f"{mp4:.2f} | {dur / mp4:.1f}x | {how} |")
    print("\ntargets: RTF wav >= 20x, RTF mp4 >= 10x, wav / ffmpeg <= 2x, first frame <= 0.5 s")


def _same_codec(a, b) -> bool:
    return [s.get("codec") for s in xmedia.info(a)["streams"] if s.get("type") == "video"] == \
        [s.get("codec") for s in xmedia.info(b)["streams"] if s.get("type") == "video"]


def f_measure(ref, est, window, which: int = 0):
    """mir_eval's (F, precision, recall)[which]."""
    import mir_eval

    if len(ref) == 0 or len(est) == 0:
        return 0.0
    return mir_eval.onset.f_measure(np.asarray(ref), np.asarray(est), window=window)[which]


def chance(ref, count, duration, window, seeds=200):
    rng = np.random.default_rng(0)
    return float(np.mean([f_measure(ref, np.sort(rng.uniform(0, duration, count)), window) for _ in range(seeds)]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="skip MusicGen")
    ap.add_argument("--musicgen-only", action="store_true", help="only the MusicGen reference")
    ap.add_argument("--sync-only", action="store_true", help="only the sync table")
    ap.add_argument("--command-only", action="store_true", help="only the whole-command table")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    import torch

    print(f"machine: {os.cpu_count()} CPU cores, torch threads {torch.get_num_threads()}, no GPU")
    out = Path(tempfile.mkdtemp())
    if args.musicgen_only:
        a, b, points, n_params = musicgen_seconds_per_second()
        print(f"MusicGen-small shape ({n_params / 1e6:.0f} M parameters): " +
              ", ".join(f"{d:.2f} s of audio in {s:.1f} s" for d, s in points) +
              f"; fit: {a:.1f} s + {b:.1f} s per audio second")
        return 0
    clips = ["phone_portrait.mp4", "pedestrians.avi"]
    if not args.sync_only:
        whole_command(clips, out)
    if args.command_only:
        return 0
    if not args.sync_only:
        speed(args, clips, out)
    sync()
    return 0


def controls_of(video, **options):
    """The picture's embedding and the composer controls the route makes of it."""
    trace = xmedia.translate(video, to="controls:composer", trace=True, **options)
    return trace["space:perceptual"], trace.output


def speed(args, clips, out):
    pipeline(MEDIA / clips[0], out, 160, "wav")  # warm-up (imports, codec init)

    print("\n## Speed: whole pipeline, real-time factor (clip s / wall s), warm, best of 2\n")
    print("| clip | duration s | analysis max_side | output | decode+analyse s | compose s | write s | total s | RTF |")
    print("|---|---|---|---|---|---|---|---|---|")
    rows = {}
    for clip in clips:
        for max_side, to in ((160, "wav"), (96, "wav"), (96, "mp4")):
            runs = [pipeline(MEDIA / clip, out, max_side, to) for _ in range(2)]
            t = min(runs, key=lambda r: r["total"])
            rows[(clip, max_side, to)] = t
            print(f"| {clip} | {t['duration']:.1f} | {max_side} | {to} ({t['how']}) | {t['decode+analyse']:.2f} | "
                  f"{t['compose']:.3f} | {t['write']:.2f} | {t['total']:.2f} | {t['duration'] / t['total']:.1f}x |")
    # compose alone
    for clip in clips:
        _, ctl = controls_of(xmedia.load(MEDIA / clip), max_side=96)
        for style in ("music", "foley"):
            sec, _ = timed(compose, ctl, style=style, seed=0, repeat=2)
            print(f"| {clip} | {float(ctl.duration_s):.1f} | - | compose only, {style} | - | {sec:.3f} | - | "
                  f"{sec:.3f} | {float(ctl.duration_s) / sec:.0f}x |")

    if not args.quick:
        a, b, points, n_params = musicgen_seconds_per_second()
        print(f"\nMusicGen, musicgen-small shape ({n_params / 1e6:.0f} M parameters, random weights), CPU, measured: "
              + ", ".join(f"{d:.2f} s of audio in {s:.1f} s" for d, s in points))
        for clip in clips:
            dur = rows[(clip, 96, "wav")]["duration"]
            est = a + b * dur
            print(f"| {clip} | {dur:.1f} | - | MusicGen generate only (EXTRAPOLATED linearly from the points above) | "
                  f"- | {est:.0f} | - | {est:.0f} | {dur / est:.3f}x |")


def sync():
    print("\n## Sync: onset F-measure (mir_eval), soundtrack onsets vs references; chance = random onsets, "
          "same count, mean of 200 seeds\n")
    print("| clip | style | reference | ref onsets | soundtrack onsets | F @50 ms | chance @50 | F @100 ms | chance @100 "
          "| recall @50 ms |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for clip in ("phone_portrait.mp4", "megamind.avi"):
        video = xmedia.load(MEDIA / clip)
        emb, ctl = controls_of(video)
        dur = float(video.duration_s)
        clip_onsets = detect_onsets(video.audio)
        events = np.array([float(e) for e in emb.events_s])
        for style in ("foley", "music"):
            est = detect_onsets(compose(ctl, style=style, seed=0))
            refs = [("visual events", events)] + ([("clip's own audio onsets", clip_onsets)] if style == "foley" else [])
            for name, ref in refs:
                cells = []
                for w in (0.05, 0.1):
                    cells += [f"{f_measure(ref, est, w):.3f}", f"{chance(ref, len(est), dur, w):.3f}"]
                cells.append(f"{f_measure(ref, est, 0.05, which=2):.3f}")
                print(f"| {clip} | {style} | {name} | {len(ref)} | {len(est)} | " + " | ".join(cells) + " |")
        # the upper bound for audio sync: visual events themselves as the estimate of the clip's audio onsets
        cells = []
        for w in (0.05, 0.1):
            cells += [f"{f_measure(clip_onsets, events, w):.3f}", f"{chance(clip_onsets, len(events), dur, w):.3f}"]
        cells.append(f"{f_measure(clip_onsets, events, 0.05, which=2):.3f}")
        print(f"| {clip} | (visual events as estimate) | clip's own audio onsets | {len(clip_onsets)} | {len(events)} | "
              + " | ".join(cells) + " |")


if __name__ == "__main__":
    sys.exit(main())
