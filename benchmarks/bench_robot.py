"""Robot benchmarks: per-frame latency (frame in -> new joint targets out) on 640x360 frames, live sender jitter,
and the fidelity of the flame -> arm mapping on the real fire clips.

References measured in the same run: OpenCV Farneback dense flow (full 640x360 and at the same 160 px) and a
plain frame difference (the cheapest motion-energy measure); for jitter, a naive ``sleep(period)`` loop.

    python benchmarks/bench_robot.py            # needs ../shared/media/video/fire_*.mp4
"""
from __future__ import annotations

import io
import time
from pathlib import Path

import cv2
import numpy as np

import xmedia
from xmedia.adapters.optical_flow import FlowMotion, video_to_motion
from xmedia.adapters.robot import JointTargetFollower, RobotSpec, commands_to_targets, fidelity
from xmedia.bridges.motion_robot import MotionToJoints, StreamingNormalizer
from xmedia.streaming import JSONLinesSender, stream

MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media" / "video"


def frames_640x360(name="fire_b.mp4", n=200):
    video = xmedia.load(MEDIA / name)
    out = []
    for f in video.iter_frames(stop=n):
        out.append(cv2.resize(f.rgb, (640, 360), interpolation=cv2.INTER_LINEAR))
    return out


def percentiles(samples_s):
    a = np.asarray(samples_s) * 1000
    return np.percentile(a, 50), np.percentile(a, 99)


def bench_latency(frames, fps=24.0):
    spec = RobotSpec.from_urdf("franka_panda")
    flow = FlowMotion(rate_hz=fps, max_side=160)
    bridge = MotionToJoints(len(flow.channels), spec.num_joints, joint_scale=spec.half_window().tolist())
    norm = StreamingNormalizer(len(flow.channels))
    follower = JointTargetFollower(spec)
    ours = []
    for k, rgb in enumerate(frames):
        t0 = time.perf_counter()
        feats = flow.process(rgb, time_s=k / fps)
        norm.update(bridge, feats, 1 / fps)
        follower.set_target(commands_to_targets(spec, bridge.step(feats, 1 / fps)), time_s=k / fps)
        ours.append(time.perf_counter() - t0)

    def farneback(max_side):
        prev, out = None, []
        for rgb in frames:
            t0 = time.perf_counter()
            if max_side:
                rgb = cv2.resize(rgb, (160, 90), interpolation=cv2.INTER_AREA)
            gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
            if prev is not None:
                f = cv2.calcOpticalFlowFarneback(prev, gray, None, 0.5, 3, 15, 3, 5, 1.2, 0)
                np.linalg.norm(f, axis=2).mean()
            prev = gray
            out.append(time.perf_counter() - t0)
        return out[1:]

    def frame_difference():
        prev, out = None, []
        for rgb in frames:
            t0 = time.perf_counter()
            gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
            if prev is not None:
                cv2.absdiff(gray, prev).mean()
            prev = gray
            out.append(time.perf_counter() - t0)
        return out[1:]

    rows = [("xmedia: DIS@160px + features + bridge + ruckig target", ours[1:]),
            ("reference: Farneback @640x360 (flow only)", farneback(None)),
            ("reference: Farneback @160x90 (flow only)", farneback(160)),
            ("reference: frame difference @640x360", frame_difference())]
    print(f"\nper-frame latency on {len(frames)} real 640x360 frames (fire_b upscaled), ms")
    print(f"{'method':58} {'p50':>7} {'p99':>7}")
    for name, s in rows:
        p50, p99 = percentiles(s)
        print(f"{name:58} {p50:7.2f} {p99:7.2f}")


def bench_jitter(duration_s=3.0, rate_hz=100):
    period = 1 / rate_hz
    stamps = []
    sink = JSONLinesSender(io.StringIO())
    for cmd in stream(str(MEDIA / "fire_b.mp4"), "robot", duration_s=duration_s, control_rate_hz=rate_hz):
        sink.send(cmd)
        stamps.append(time.monotonic())
    ours = np.abs(np.diff(stamps) - period)
    naive = []
    for _ in range(len(stamps)):
        time.sleep(period)
        naive.append(time.monotonic())
    naive = np.abs(np.diff(naive) - period)
    drift_ours = (stamps[-1] - stamps[0]) - period * (len(stamps) - 1)
    drift_naive = (naive.size * period + naive.sum()) - period * naive.size
    print(f"\nlive sender at {rate_hz} Hz for {duration_s} s (fire_b.mp4 at real-time pace, JSON lines), ms")
    print(f"{'loop':44} {'|dt-T| p50':>11} {'p99':>7} {'drift over run':>15}")
    print(f"{'xmedia.stream (deadline-scheduled)':44} {np.percentile(ours, 50) * 1e3:11.3f} "
          f"{np.percentile(ours, 99) * 1e3:7.3f} {drift_ours * 1e3:15.2f}")
    print(f"{'reference: sleep(period) loop, no work':44} {np.percentile(naive, 50) * 1e3:11.3f} "
          f"{np.percentile(naive, 99) * 1e3:7.3f} {drift_naive * 1e3:15.2f}")


def bench_fidelity():
    print("\nfidelity: Pearson r, 1 s envelopes of flame motion energy vs arm joint speed (offline translate)")
    print(f"{'clip':12} " + " ".join(f"{r:>13}" for r in ("franka_panda", "kuka_iiwa", "xarm6")))
    for name in ("fire_a.mp4", "fire_b.mp4"):
        motion = video_to_motion(xmedia.load(MEDIA / name))
        rs = [fidelity(motion, xmedia.translate(motion, "robot", urdf=r)) for r in ("franka_panda", "kuka_iiwa", "xarm6")]
        print(f"{name:12} " + " ".join(f"{r:13.3f}" for r in rs))


if __name__ == "__main__":
    bench_latency(frames_640x360())
    bench_jitter()
    bench_fidelity()
