"""Peak memory of long audio -> look / -> robot and ``info``, beside same-run references.

A long 48 kHz stereo WAV is built from a real loop of ../shared/media (repeated; written to a temporary folder
and deleted afterwards, never committed). Each command runs in its own process; its peak RSS is the child's
``ru_maxrss`` (``os.wait4``). References measured in the same run: the RSS of ``import xmedia``, of
``import torch`` (for scale: the look and robot routes run their bridges in numpy and never import it), the same
command on a 10 s clip (so growth with length is peak(long) - peak(10 s)) and, for ``info``, the old in-memory path
(the whole file decoded) on the longest file it can hold.

    python benchmarks/bench_memory.py                 # 1 hour (about 4 minutes on one core)
    python benchmarks/bench_memory.py --minutes 10    # quicker
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOOP = ROOT.parent / "shared" / "media" / "audio" / "loop_amen.flac"


WRITE_WAV = """
import sys
import soundfile as sf
import xmedia

path, seconds, rate_hz = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
loop = xmedia.load(sys.argv[4]).resample(rate_hz).with_channels(2).samples
total = int(seconds * rate_hz)
with sf.SoundFile(path, "w", rate_hz, 2, subtype="PCM_16") as f:
    for a in range(0, total, len(loop)):
        f.write(loop[: min(len(loop), total - a)])
"""


def write_long_wav(path: Path, seconds: float, rate_hz: int = 48000) -> Path:
    """``seconds`` of the shared amen loop, resampled to ``rate_hz``, stereo 16-bit, written block by block.

    In a child process: this process stays small, so the children it forks start from a small RSS."""
    subprocess.run([sys.executable, "-c", WRITE_WAV, str(path), str(seconds), str(rate_hz), str(LOOP)], check=True)
    return path


def peak_rss_mb(argv: list[str], env: dict | None = None) -> tuple[float, float, int]:
    """(peak RSS in MB, wall seconds, exit status) of a child process."""
    t = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", **(env or {})})
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace").strip()
    proc.stderr.close()
    if proc.returncode:
        print(f"  ! {' '.join(argv[-6:])} exited {proc.returncode}: {err[-300:]}", file=sys.stderr)
    return usage.ru_maxrss / 1024, time.perf_counter() - t, proc.returncode


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=60.0, help="length of the long file (default 60)")
    args = ap.parse_args()
    py = sys.executable
    xm = [py, "-m", "xmedia.cli"]
    rows = []
    with tempfile.TemporaryDirectory(prefix="xmedia-bench-memory-") as tmp:
        tmp = Path(tmp)
        short = write_long_wav(tmp / "short.wav", 10)
        long = write_long_wav(tmp / "long.wav", args.minutes * 60)
        label = f"{args.minutes:g} min"
        rows.append(("python -c 'import xmedia'", "-", *peak_rss_mb([py, "-c", "import xmedia"])))
        rows.append(("python -c 'import torch'", "-", *peak_rss_mb([py, "-c", "import torch"])))
        for name, extra in (("info", []), ("-> look (.cube)", ["filter", "look.cube"]),
                            ("-> robot (.json)", ["robot", "robot.json"])):
            for tag, path in (("10 s", short), (label, long)):
                if extra:
                    argv = xm + ["translate", str(path), "--to", extra[0], "-o", str(tmp / extra[1])]
                else:
                    argv = xm + ["info", str(path)]
                rows.append((f"xmedia {name}", tag, *peak_rss_mb(argv)))
        # The old path: the whole file decoded into memory (what every command did before streaming).
        old = ("import soundfile as sf, numpy as np, sys; d, r = sf.read(sys.argv[1], dtype='float32', "
               "always_2d=True); print(np.abs(d).max())")
        old_minutes = min(args.minutes, 10)
        old_file = long if old_minutes == args.minutes else write_long_wav(tmp / "old.wav", old_minutes * 60)
        rows.append((f"old in-memory read ({old_minutes:g} min)", f"{old_minutes:g} min",
                     *peak_rss_mb([py, "-c", old, str(old_file)])))
    print(f"\nPeak RSS (machine shared with other jobs: wall times are inflated; RSS is not). Long file: {label} "
          "48 kHz stereo 16-bit WAV.\n")
    print(f"{'command':42} {'input':>8} {'peak RSS MB':>12} {'wall s':>8} {'exit':>5}")
    for name, tag, mb, wall, rc in rows:
        print(f"{name:42} {tag:>8} {mb:12.0f} {wall:8.1f} {rc:5d}")


if __name__ == "__main__":
    main()
