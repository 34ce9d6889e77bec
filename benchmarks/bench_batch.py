"""Batch throughput: the local process pool against one-by-one, and Ray's overhead per item against the pool.

    python benchmarks/bench_batch.py [--clips 8] [--seconds S] [--repeats 2] [--no-ray]

The job is the README's main one: a video's soundtrack muxed into an .mp4 (``--to audio``). The clips are the
real videos of ../shared/media (11-30 s each, cycled to ``--clips``), or with ``--seconds S`` cuts of S seconds
(ffmpeg re-encodes them once). Every batch pays a fixed start-up (imports: torch, scipy, the route's modules)
once, serial or pooled, so short clips cap the pool's gain: (start-up + work) / (start-up + work / workers). Every configuration runs as its own ``xmedia`` process, timed from outside, so each pays
what a user pays (interpreter, imports, pool or Ray start-up):

- single job: one ``xmedia translate`` (the reference for how loaded the machine is right now);
- loop: ``xmedia translate`` once per clip, one after another (a shell loop);
- batch --workers 1: one process, the clips one after another;
- batch --workers N: the local pool;
- batch --engine ray: Ray tasks on a local Ray that the command starts (and Ray's start-up alone, measured apart).

Repeated configurations alternate (serial, pool, serial, pool...) and the fastest run of each counts, since
other work on a shared machine only ever slows a run down.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEDIA = ROOT.parent / "shared" / "media" / "video"
SOURCES = ("phone_portrait.mp4", "megamind.avi", "fire_b.mp4", "tree.avi", "fire_a.mp4")
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def make_clips(folder: Path, count: int, seconds: float) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    clips = []
    for i in range(count):
        src = MEDIA / SOURCES[i % len(SOURCES)]
        out = folder / f"clip{i:02d}_{src.stem}.mp4"
        if seconds:
            if not shutil.which("ffmpeg"):
                raise SystemExit("--seconds needs ffmpeg to cut the clips; leave it out to use the whole clips")
            subprocess.run(["ffmpeg", "-v", "quiet", "-y", "-t", str(seconds), "-i", str(src), "-c:v", "libx264",
                            "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(out)], check=True)
        else:
            out = out.with_suffix(src.suffix)
            shutil.copyfile(src, out)
        clips.append(out)
    return clips


WORK = {}  # configuration -> seconds per item inside the workers (the batch's own summary)


def timed(cmd: list[str], name: str | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=ENV, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    found = re.search(r"([\d.]+) s per item in a worker \(([\d.]+) s CPU\)", done.stdout)
    if name and found:
        WORK.setdefault(name, []).append((seconds, float(found.group(1)), float(found.group(2))))
    return seconds


def xmedia(*args) -> list[str]:
    return [sys.executable, "-m", "xmedia.cli", *map(str, args)]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clips", type=int, default=8)
    p.add_argument("--seconds", type=float, default=0, help="cut each clip to this length (default: whole clips)")
    p.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--no-ray", action="store_true")
    args = p.parse_args()
    if not MEDIA.is_dir():
        raise SystemExit(f"needs the real clips in {MEDIA}")
    tmp = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    clips = make_clips(tmp / "clips", args.clips, args.seconds)
    n = len(clips)
    length = f"{args.seconds:g} s" if args.seconds else "11-30 s"
    print(f"{n} clips of {length} (video -> soundtrack .mp4), {args.workers} workers, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start\n")

    rows = {}

    def keep(name, seconds):
        rows[name] = min(rows.get(name, float("inf")), seconds)

    keep("single job (1 clip)", timed(xmedia("translate", clips[0], "--to", "audio", "-o", tmp / "single.mp4")))
    start = time.perf_counter()
    for i, clip in enumerate(clips):
        timed(xmedia("translate", clip, "--to", "audio", "-o", tmp / "loop" / f"{i}.mp4"))
    keep("loop of xmedia translate", time.perf_counter() - start)
    for r in range(args.repeats):
        keep("batch --workers 1", timed(xmedia("batch", tmp / "clips", "--to", "audio", "-o", tmp / f"serial{r}",
                                               "--workers", 1), "serial"))
        keep(f"batch --workers {args.workers}", timed(xmedia("batch", tmp / "clips", "--to", "audio",
                                                             "-o", tmp / f"pool{r}", "--workers", args.workers),
                                                      "pool"))
    ray_ok = not args.no_ray and subprocess.run([sys.executable, "-c", "import ray"], env=ENV).returncode == 0
    if ray_ok:
        keep("ray start-up alone", timed([sys.executable, "-c", "import ray; ray.init(num_cpus=%d, "
                                          "include_dashboard=False); ray.shutdown()" % args.workers]))
        keep("batch --engine ray", timed(xmedia("batch", tmp / "clips", "--to", "audio", "-o", tmp / "ray",
                                                "--engine", "ray", "--workers", args.workers), "ray"))

    serial, pool = rows["batch --workers 1"], rows[f"batch --workers {args.workers}"]
    print(f"{'configuration':34} {'wall s':>8} {'s/clip':>8} {'vs batch --workers 1':>22}")
    for name, seconds in rows.items():
        per = seconds / (1 if name.startswith(("single", "ray start")) else n)
        speed = "" if name.startswith(("single", "ray start")) else f"{serial / seconds:.2f}x"
        print(f"{name:34} {seconds:8.1f} {per:8.2f} {speed:>22}")
    print(f"\npool vs one-by-one in one process: {serial / pool:.2f}x (target >= 1.7x); "
          f"vs a loop of xmedia translate: {rows['loop of xmedia translate'] / pool:.2f}x")
    print(f"the single job took {rows['single job (1 clip)']:.1f} s in this run: the reference for this machine's "
          "load (a shared machine slows every number)")
    cpu = {k: min(v)[2] for k, v in WORK.items()}
    print("CPU seconds per item inside the workers (a worker's first item includes the imports the pool's fork "
          "server did not preload): " + ", ".join(f"{k} {v:.2f}" for k, v in cpu.items()))
    if WORK.get("serial"):
        wall, per_item, _ = min(WORK["serial"])
        work = per_item * n
        startup = max(0.0, wall - work)
        ideal = (startup + work) / (startup + work / args.workers)
        print(f"batch --workers 1 split: start-up (interpreter, imports) {startup:.1f} s + work {work:.1f} s; "
              f"with that start-up paid once, {args.workers} workers on idle cores can reach at most {ideal:.2f}x")
    autogroup = Path("/proc/sys/kernel/sched_autogroup_enabled")
    if autogroup.is_file() and autogroup.read_text().strip() == "1" and os.getloadavg()[0] > os.cpu_count():
        print(f"note: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs with the kernel's autogroup "
              "scheduling: the CPU is shared between sessions, so this run's workers share one session's slice and "
              "the pool cannot show its gain in wall time here")
    if ray_ok:
        over = rows["batch --engine ray"] - rows["ray start-up alone"] - pool
        print(f"ray: {rows['batch --engine ray']:.1f} s, of which start-up {rows['ray start-up alone']:.1f} s; "
              f"overhead per item against the local pool, start-up excluded: {over / n:+.2f} s "
              f"(start-up included: {(rows['batch --engine ray'] - pool) / n:+.2f} s)")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
