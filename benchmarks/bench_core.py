"""Core benchmarks: import time, perceptual encoding speed, memory on a long 1080p file.

    python benchmarks/bench_core.py [--minutes 10] [--skip-long]

Each figure is printed beside a reference measured in the same run (the floor the code cannot beat:
``import numpy``, PyAV decoding alone, a bare interpreter). Targets (issue 2): import < 0.5 s, encoding a
640x360 video >= 10x real time, a 10-minute 1080p file analysed in < 1 GB.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEDIA = ROOT.parent / "shared" / "media" / "video"


def run_child(code: str) -> tuple[float, float, str]:
    """Run ``code`` in a fresh interpreter: (wall seconds, peak RSS MiB, stdout)."""
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"child failed ({proc.returncode}): {code}")
    return time.perf_counter() - t, usage.ru_maxrss / 1024, out.strip()


def median_of(code: str, n: int = 5) -> float:
    return statistics.median(run_child(code)[0] for _ in range(n))


def row(name, value, reference, ref_name, target):
    print(f"| {name:<38} | {value:>12} | {reference:>12} | {ref_name:<24} | {target:<14} |")


def make_long_1080p(path: Path, minutes: float) -> None:
    """A synthetic 1080p30 H.264 file (moving gradient + noise), made once and cached."""
    import av
    import numpy as np

    n = int(minutes * 60 * 30)
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=30)
        s.width, s.height, s.pix_fmt = 1920, 1080, "yuv420p"
        s.options = {"preset": "ultrafast", "crf": "35"}
        base = np.linspace(0, 255, 1920, dtype=np.float32)[None, :, None].repeat(1080, 0).repeat(3, 2)
        for i in range(n):
            img = np.roll(base, i * 8, axis=1).astype(np.uint8)
            for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10.0, help="length of the long 1080p file")
    ap.add_argument("--skip-long", action="store_true", help="skip the long-file memory benchmark")
    args = ap.parse_args()

    print("| measure                                | xmedia       | reference    | reference is             | target         |")
    print("|----------------------------------------|--------------|--------------|--------------------------|----------------|")
    t_x = median_of("import xmedia")
    t_np = median_of("import numpy")
    t_py = median_of("pass")
    row("import xmedia (s, median of 5)", f"{t_x:.3f}", f"{t_np:.3f}", "import numpy", "< 0.5 s")
    row("  interpreter start alone (s)", f"{t_py:.3f}", "", "", "")

    for name in ("phone_portrait.mp4", "megamind.avi"):
        path = MEDIA / name
        if not path.exists():
            print(f"(skipped {name}: ../shared/media not found)")
            continue
        enc = (f"import time,xmedia,warnings; warnings.simplefilter('ignore'); v=xmedia.load(r'{path}'); t=time.perf_counter();"
               "from xmedia.adapters.perceptual import encode; encode(v); print(float(v.duration_s)/(time.perf_counter()-t))")
        dec = (f"import time,av; c=av.open(r'{path}'); s=c.streams.video[0]; s.thread_type='AUTO'; t=time.perf_counter();"
               "n=sum(1 for _ in c.decode(s)); d=float(s.duration*s.time_base) if s.duration else n/float(s.average_rate);"
               "print(d/(time.perf_counter()-t))")
        rtf = statistics.median(float(run_child(enc)[2]) for _ in range(3))
        ref = statistics.median(float(run_child(dec)[2]) for _ in range(3))
        row(f"perceptual encode {name} (x RT)", f"{rtf:.1f}x", f"{ref:.1f}x", "PyAV decode only", ">= 10x")

    if not args.skip_long:
        path = Path(tempfile.gettempdir()) / f"xmedia_bench_1080p_{args.minutes:g}min.mp4"
        if not path.exists():
            print(f"(making {path} once: {args.minutes:g} min of 1080p30 ...)", flush=True)
            make_long_1080p(path, args.minutes)
        code = (f"import warnings,xmedia; warnings.simplefilter('ignore'); v=xmedia.load(r'{path}');"
                "from xmedia.adapters.perceptual import encode; e=encode(v); print(e.num_steps)")
        wall, rss, _ = run_child(code)
        _, rss_ref, _ = run_child("import xmedia, av, cv2, numpy, scipy.signal")
        row(f"analyse {args.minutes:g} min 1080p: peak RSS (MiB)", f"{rss:.0f}", f"{rss_ref:.0f}",
            "libraries imported only", "< 1024 MiB")
        row(f"analyse {args.minutes:g} min 1080p: wall (s)", f"{wall:.1f}", f"{args.minutes * 60:.0f}", "real time", "")


if __name__ == "__main__":
    main()
