"""Every way a live stream ends brings the arm to rest with a jerk-limited ramp: duration reached, source over,
a stop request, a stalled source, Ctrl-C and SIGTERM (the signals through a real ``xmedia stream`` process)."""
import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import xmedia
from xmedia.adapters.robot import RobotSpec, Trajectory


def _check_ramp(cmds, urdf="franka_panda"):
    """The commands stay within every limit (jerk included) and the last is a stop at zero velocity."""
    spec = RobotSpec.from_urdf(urdf)
    traj = Trajectory(spec.joint_names, 100, np.array([c.positions for c in cmds]),
                      np.array([c.velocities for c in cmds]), np.array([c.accelerations for c in cmds]),
                      limits=spec.motion_limits(), robot=spec.name)
    assert traj.limit_violations() == {"position": 0.0, "velocity": 0.0, "acceleration": 0.0, "jerk": 0.0}
    last = cmds[-1]
    assert last.stopping and last.velocities == (0.0,) * spec.num_joints
    assert last.accelerations == (0.0,) * spec.num_joints


def test_duration_reached_ramps_to_rest(media):
    cmds = list(xmedia.stream(str(media("video", "fire_a.mp4")), "robot", realtime=False, duration_s=1.0))
    moving = [c for c in cmds if c.time_s <= 1.0 + 1e-9]
    assert max(abs(v) for v in moving[-1].velocities) > 1e-3  # it was moving when the time was up...
    assert len(cmds) > len(moving)  # ...and ramped down afterwards
    _check_ramp(cmds)


def test_source_over_ends_at_rest(media):
    cmds = list(xmedia.stream(str(media("video", "tree.avi")), "robot", realtime=False))
    _check_ramp(cmds)


def test_stop_request_ramps_to_rest(media):
    stop = threading.Event()
    cmds = []
    for cmd in xmedia.stream(str(media("video", "fire_a.mp4")), "robot", realtime=False, stop=stop):
        cmds.append(cmd)
        if len(cmds) == 80:
            stop.set()
    assert 80 < len(cmds) < 80 + 200  # the ramp, then the end (not the whole clip)
    _check_ramp(cmds)


def test_stalled_source_comes_to_rest(media):
    from xmedia.bridges.robot_stream import RobotController

    frames = list(xmedia.load(media("video", "fire_a.mp4")).iter_frames(max_side=160, stop=30))
    ctrl = RobotController(30, stall_timeout_s=0.3)
    cmds = []
    for k, f in enumerate(frames):  # 1 s of frames at 30 fps, ticking at 100 Hz
        ctrl.on_frame(f.rgb, float(f.time_s))
        for _ in range(3 if k % 3 else 4):
            cmds.append(ctrl.tick())
    moving = max(abs(v) for v in cmds[-1].velocities)
    for _ in range(300):  # then nothing arrives
        cmds.append(ctrl.tick())
        if ctrl.at_rest:
            break
    assert moving > 1e-3 and ctrl.at_rest and cmds[-1].stopping


@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_ramps_to_rest_in_a_real_process(media, sig, code):
    src = str(media("video", "fire_a.mp4"))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "xmedia.cli", "stream", src], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        lines = []
        deadline = time.monotonic() + 60
        while len(lines) < 60 and time.monotonic() < deadline:  # ~0.6 s of commands
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
        assert len(lines) == 60, proc.stderr.read()
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    cmds = [json.loads(x) for x in lines + out.splitlines()]
    assert proc.returncode == code, err
    assert signal.Signals(sig).name in err and "rest" in err
    last = cmds[-1]
    assert last["stopping"] is True and all(v == 0.0 for v in last["velocities"])
    assert len(cmds) < 60 + 300  # stopped soon after the signal, not at the end of the clip
