"""Benchmark: applying a 33^3 LUT to a 1920x1080 frame, side by side with ffmpeg's lut3d, and building a look.

Run: ``python benchmarks/bench_lut.py [--rounds 5] [--frames 60]``

ffmpeg is measured fairly: the same rgb24 frame, read from a raw file (``-stream_loop``) and written to
``/dev/null`` as rgb24, ``--frames`` frames, once with ``-vf lut3d`` and once with ``-vf null``; the
difference per frame is lut3d's own cost (the pipeline's read/write is not charged to it), the wall clock of
the lut3d run per frame is the end-to-end figure. ffmpeg and we both use every core (ffmpeg's filter threads,
our thread pool). Rounds are interleaved (ours, ffmpeg, ours, ...) so both see the same machine load; the
best of the rounds is reported.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

import xmedia
from xmedia.adapters.look import Filter, decode_look, look_table
from xmedia.adapters.perceptual import encode_audio

MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"


def frame_1080p() -> np.ndarray:
    import cv2

    path = MEDIA / "image" / "fruits.jpg"
    if path.exists():
        bgr = cv2.imread(str(path))
        return np.ascontiguousarray(cv2.cvtColor(cv2.resize(bgr, (1920, 1080), interpolation=cv2.INTER_CUBIC),
                                                 cv2.COLOR_BGR2RGB))
    return np.random.default_rng(0).integers(0, 256, (1080, 1920, 3), dtype=np.uint8)


def time_ours(fn, repeat: int) -> float:
    fn()  # warm: kernel tables built once per filter
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def time_ffmpeg(raw: Path, vf: str, frames: int) -> float:
    cmd = ["ffmpeg", "-hide_banner", "-nostats", "-benchmark", "-stream_loop", str(frames - 1), "-f", "rawvideo",
           "-pix_fmt", "rgb24", "-s", "1920x1080", "-i", str(raw), "-vf", vf, "-f", "rawvideo", "-pix_fmt", "rgb24",
           "-y", "/dev/null"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stderr
    rtime = [ln for ln in out.splitlines() if "rtime=" in ln][-1]
    return float(rtime.split("rtime=")[1].rstrip("s").strip()) / frames


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--frames", type=int, default=60)
    args = ap.parse_args()

    rgb = frame_1080p()
    look = Filter(look_table({"exposure_stops": 0.3, "saturation_percent": 40, "yellow_blue_lab": 6,
                              "contrast_percent": 25}, 33))
    rgb16 = rgb.astype(np.uint16) * 257
    rgbf = rgb.astype(np.float32) / 255
    have_ffmpeg = shutil.which("ffmpeg") is not None
    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        raw, cube = Path(tmp) / "frame.rgb", Path(tmp) / "look.cube"
        raw.write_bytes(rgb.tobytes())
        look.save(cube)
        for _ in range(args.rounds):
            for interp in ("tetrahedral", "trilinear"):
                results.setdefault(f"ours {interp} uint8", []).append(
                    time_ours(lambda: look.apply_rgb(rgb, interp), 3))
                if have_ffmpeg:
                    lut = time_ffmpeg(raw, f"lut3d=file={cube}:interp={interp}", args.frames)
                    null = time_ffmpeg(raw, "null", args.frames)
                    results.setdefault(f"ffmpeg {interp} rgb24 (end to end)", []).append(lut)
                    results.setdefault(f"ffmpeg {interp} rgb24 (lut3d only)", []).append(max(lut - null, 1e-6))
            results.setdefault("ours tetrahedral uint16", []).append(time_ours(lambda: look.apply_rgb(rgb16), 2))
            results.setdefault("ours tetrahedral float32", []).append(time_ours(lambda: look.apply_rgb(rgbf), 2))

    best = {k: min(v) for k, v in results.items()}
    print(f"\nApply a 33^3 LUT to one 1920x1080 RGB frame (best of {args.rounds} interleaved rounds)")
    print(f"{'method':42} {'ms/frame':>9} {'Mpx/s':>8} {'speed vs ffmpeg lut3d':>22}")
    for name, sec in best.items():
        interp = "tetrahedral" if "tetrahedral" in name else "trilinear"
        ref = best.get(f"ffmpeg {interp} rgb24 (lut3d only)")
        rel = f"{ref / sec:.2f}x" if ref and name.startswith("ours") else ""
        print(f"{name:42} {sec * 1000:9.1f} {1920 * 1080 / sec / 1e6:8.1f} {rel:>22}")
    if not have_ffmpeg:
        print("(ffmpeg not installed: apt-get install ffmpeg for the side-by-side reference)")

    # LUT generation from a 30 s song (a real loop repeated to 30 s): encode + bridge + 33^3 LUT.
    amen = MEDIA / "audio" / "loop_amen.flac"
    song = xmedia.load(amen) if amen.exists() else None
    if song is not None:
        reps = int(np.ceil(30 / float(song.duration_s)))
        song = xmedia.Audio(np.tile(song.samples, (reps, 1))[: 30 * song.sample_rate_hz], song.sample_rate_hz)
        t = time.perf_counter()
        xmedia.translate(song, to="filter")
        cold = time.perf_counter() - t
        warm = min(_timed(lambda: xmedia.translate(song, to="filter")) for _ in range(2))
        # Imported after the cold run above, which is charged the import of torch (as a user's first call is).
        from xmedia.bridges.audio_filter import PerceptualToFilter, look_track

        enc = min(_timed(lambda: encode_audio(song)) for _ in range(2))
        emb = encode_audio(song)
        bridge = PerceptualToFilter()
        mine = min(_timed(lambda: decode_look(bridge(emb))) for _ in range(3))
        mine65 = min(_timed(lambda: decode_look(bridge(emb), lut_size=65)) for _ in range(2))
        print(f"\nLook from a 30 s song ({song!r}), target < 1 s: {warm:.3f} s end to end (33^3) = "
              f"perceptual encoding {enc:.3f} s + bridge and LUT {mine:.3f} s (65^3: {mine65:.3f} s); "
              f"first call incl. importing torch: {cold:.2f} s.")
        track = look_track(song)
        per = min(_timed(lambda: track.filter_at(12.3).apply_rgb(rgb)) for _ in range(3))
        print(f"Time-varying look: build a 17^3 LUT for the frame's time and apply it at 1080p: {per * 1000:.1f} ms/frame")


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


if __name__ == "__main__":
    main()
