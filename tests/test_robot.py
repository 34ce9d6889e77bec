"""Robots: URDF specs, jerk-limited safety under hostile inputs, outputs, fidelity on real flames, live streaming."""
import json
import threading
import time
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xmedia
from xmedia.adapters.optical_flow import video_to_motion
from xmedia.adapters.robot import (
    RobotError,
    RobotSpec,
    Trajectory,
    commands_to_targets,
    fidelity,
    follow_targets,
    robot_names,
    simulate,
    stopping_distance,
)
from xmedia.bridges.motion_map import MotionMap, initial_parameters
from xmedia.bridges.motion_robot import MotionToJoints, motion_to_commands
from xmedia.errors import ConfigError, MediaError, WeightsError

ROBOTS = ["franka_panda", "kuka_iiwa", "xarm6"]


def _no_violations(traj: Trajectory):
    v = traj.limit_violations()
    assert v == {"position": 0.0, "velocity": 0.0, "acceleration": 0.0, "jerk": 0.0}, v


# ---------------------------------------------------------------------------------------------- spec
@pytest.mark.parametrize("name,joints", [("franka_panda", 7), ("kuka_iiwa", 7), ("xarm6", 6)])
def test_spec_limits_agree_with_pybullet(name, joints):
    import pybullet as pb

    spec = RobotSpec.from_urdf(name)
    assert spec.num_joints == joints and name in robot_names()
    c = pb.connect(pb.DIRECT)
    try:
        body = pb.loadURDF(spec.urdf_path, useFixedBase=True, physicsClientId=c)
        info = {pb.getJointInfo(body, i, physicsClientId=c)[1].decode(): pb.getJointInfo(body, i, physicsClientId=c)
                for i in range(pb.getNumJoints(body, physicsClientId=c))}
    finally:
        pb.disconnect(c)
    for k, j in enumerate(spec.joint_names):
        assert spec.lower[k] == pytest.approx(info[j][8]) and spec.upper[k] == pytest.approx(info[j][9])
        assert spec.max_velocity[k] <= info[j][11] + 1e-9  # the YAML may only tighten the URDF velocity
    assert np.all(spec.home >= spec.lower) and np.all(spec.home <= spec.upper)
    assert np.all(spec.max_acceleration > 0) and np.all(spec.max_jerk > 0)


@pytest.mark.parametrize("name", ROBOTS)
def test_braking_from_the_window_edge_fits_inside_the_limits(name):
    spec = RobotSpec.from_urdf(name)
    lim = spec.motion_limits()
    for k in range(spec.num_joints):
        d = stopping_distance(lim["max_velocity"][k], lim["max_acceleration"][k], lim["max_jerk"][k])
        assert lim["target_upper"][k] + d <= spec.upper[k] and lim["target_lower"][k] - d >= spec.lower[k]


def test_bad_robots_are_clear_errors(tmp_path):
    with pytest.raises(RobotError, match="unknown robot 'ur5'.*franka_panda"):
        RobotSpec.from_urdf("ur5")
    broken = tmp_path / "broken.urdf"
    broken.write_text('<robot name="x"><link name="a"/><joint name="j" type="revolute">')
    with pytest.raises(RobotError, match="not a readable URDF"):
        RobotSpec.from_urdf(broken)
    nolimit = tmp_path / "nolimit.urdf"
    nolimit.write_text('<robot name="x"><link name="a"/><link name="b"/><joint name="j" type="revolute">'
                       '<parent link="a"/><child link="b"/></joint></robot>')
    with pytest.raises(RobotError, match="no <limit>"):
        RobotSpec.from_urdf(nolimit)
    with pytest.raises(RobotError, match="does not exist"):
        RobotSpec.from_urdf(tmp_path / "missing.urdf")
    assert issubclass(RobotError, xmedia.XMediaError)
    with pytest.raises(ConfigError, match="control_rate_hz"):
        follow_targets(RobotSpec.from_urdf("xarm6"), [0.0], np.zeros((1, 6)), control_rate_hz=5000)


# ---------------------------------------------------------------------------------------------- safety
_values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.floats(-1.5, 1.5),
    st.sampled_from([0.0, 1.0, -1.0, 1e9, -1e9, float("nan"), float("inf")]),
)


@st.composite
def hostile_streams(draw):
    """Commands with NaN/inf, spikes, constants, white noise, and times with long gaps."""
    robot = draw(st.sampled_from(ROBOTS))
    j = {"xarm6": 6}.get(robot, 7)
    n = draw(st.integers(1, 40))
    kind = draw(st.sampled_from(["any", "constant", "noise", "spikes"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "any":
        cmds = np.array(draw(st.lists(st.lists(_values, min_size=j, max_size=j), min_size=n, max_size=n)))
    elif kind == "constant":
        cmds = np.full((n, j), draw(st.floats(-1, 1)))
    elif kind == "noise":
        cmds = rng.normal(0, draw(st.floats(0.01, 3)), (n, j))
    else:
        cmds = np.zeros((n, j))
        idx = rng.integers(0, n, max(1, n // 5))
        cmds[idx] = rng.choice([1e6, -1e6, np.nan, 1.0, -1.0], size=(idx.size, j))
    steps = draw(st.lists(st.sampled_from([1 / 60, 1 / 24, 0.1, 0.7, 2.5]), min_size=n, max_size=n))
    times = np.cumsum(steps) - steps[0]
    rate = draw(st.sampled_from([100, 250, 1000]))
    return robot, times, cmds, rate


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_streams())
def test_hostile_inputs_never_violate_limits(case):
    robot, times, cmds, rate = case
    spec = RobotSpec.from_urdf(robot)
    traj = follow_targets(spec, times, commands_to_targets(spec, cmds), control_rate_hz=rate, settle_s=1.5)
    assert np.all(np.isfinite(traj.positions))
    _no_violations(traj)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(3, 200), st.sampled_from(["noise", "constant", "steps"]))
def test_any_motion_through_the_bridge_is_safe(seed, n, kind):
    rng = np.random.default_rng(seed)
    values = {"noise": lambda: rng.normal(0, 1, (n, 5)) * rng.uniform(0, 100),
              "constant": lambda: np.ones((n, 5)) * rng.uniform(-5, 5),
              "steps": lambda: np.repeat(rng.normal(0, 10, (n // 3 + 1, 5)), 3, axis=0)[:n]}[kind]()
    motion = xmedia.Motion(values, rate_hz=int(rng.choice([10, 25, 60])))
    cmds = motion_to_commands(motion, urdf="franka_panda")
    assert np.all(np.abs(cmds.values) <= 1)
    traj = xmedia.translate(cmds, "robot", urdf="franka_panda")
    _no_violations(traj)


def test_stall_brings_the_arm_to_a_smooth_stop():
    spec = RobotSpec.from_urdf("franka_panda")
    t = np.arange(30) / 30  # a target moving fast for one second, then nothing
    cmds = np.zeros((30, 7))
    cmds[:, 0] = np.linspace(0, 1, 30)
    traj = follow_targets(spec, t, commands_to_targets(spec, cmds), stall_timeout_s=0.3, settle_s=3)
    _no_violations(traj)
    speed = traj.joint_speed()
    assert speed[traj.times_s() < 1.0].max() > 0.2  # it was moving ...
    assert speed[-1] < 1e-9 and np.all(np.abs(traj.accelerations[-1]) < 1e-9)  # ... and is at rest, not mid-air
    # the stop happened: after the timeout the arm never sped up again
    after = speed[traj.times_s() > 1.0 + 0.3 + 0.02]
    assert np.all(np.diff(after) <= 1e-9)


# ---------------------------------------------------------------------------------------------- outputs
def test_json_is_ros2_shaped_and_csv_roundtrips(tmp_path):
    spec = RobotSpec.from_urdf("kuka_iiwa")
    t = np.arange(20) / 10
    traj = follow_targets(spec, t, commands_to_targets(spec, np.sin(t)[:, None] * np.ones(7)), control_rate_hz=250)
    d = json.loads(traj.save(tmp_path / "t.json").read_text())
    assert d["joint_names"] == list(spec.joint_names)
    assert set(d["points"][0]) == {"positions", "velocities", "accelerations", "effort", "time_from_start"}
    stamps = [p["time_from_start"]["sec"] * 10**9 + p["time_from_start"]["nanosec"] for p in d["points"]]
    assert stamps[1] == 4_000_000 and np.all(np.diff(stamps) == 4_000_000)  # 250 Hz, exact
    assert all(0 <= p["time_from_start"]["nanosec"] < 10**9 for p in d["points"])
    assert set(d["limits"]) >= {"lower", "upper", "max_velocity", "max_acceleration", "max_jerk"}
    for path in (tmp_path / "t.json", traj.save(tmp_path / "t.csv")):
        back = Trajectory.load(path)
        np.testing.assert_allclose(back.positions, traj.positions)
        assert back.joint_names == traj.joint_names and back.control_rate_hz == traj.control_rate_hz
    with pytest.raises(MediaError, match=".json"):
        traj.save(tmp_path / "t.yaml")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv", "t.json"]  # nothing half-written left


def _assert_same_trajectory(a: Trajectory, b: Trajectory):
    assert type(a) is type(b) is Trajectory
    assert a.joint_names == b.joint_names and a.control_rate_hz == b.control_rate_hz and a.robot == b.robot
    for q in ("positions", "velocities", "accelerations"):
        np.testing.assert_array_equal(getattr(a, q), getattr(b, q))
    assert set(a.limits) == set(b.limits)
    for k in a.limits:
        np.testing.assert_array_equal(np.asarray(a.limits[k]), np.asarray(b.limits[k]))


def test_xmedia_load_gives_back_the_saved_trajectory(tmp_path):
    spec = RobotSpec.from_urdf("xarm6")
    t = np.arange(12) / 6
    traj = follow_targets(spec, t, commands_to_targets(spec, np.sin(2 * t)[:, None] * np.ones(6)),
                          control_rate_hz=Fraction(1000, 3), settle_s=0.3)
    motion = xmedia.Motion(np.random.default_rng(0).normal(size=(20, 3)), rate_hz=10)
    xmedia.save(motion, tmp_path / "m.csv")
    xmedia.save(motion, tmp_path / "m.json")
    for ext in ("json", "csv"):
        path = traj.save(tmp_path / f"t.{ext}")
        _assert_same_trajectory(xmedia.load(path), traj)  # the "kind" tag / first line picks the reader
        _assert_same_trajectory(Trajectory.load(path), traj)
        assert isinstance(xmedia.load(tmp_path / f"m.{ext}"), xmedia.Motion)  # a Motion file stays a Motion
        with pytest.raises(MediaError, match="trajectory"):
            Trajectory.load(tmp_path / f"m.{ext}")
    assert json.loads((tmp_path / "t.json").read_text())["kind"] == "trajectory"
    assert (tmp_path / "t.csv").read_text().splitlines()[0] == "# kind=trajectory"


def test_pybullet_playback_verifies_and_renders(tmp_path):
    spec = RobotSpec.from_urdf("xarm6")
    t = np.arange(16) / 8
    traj = follow_targets(spec, t, commands_to_targets(spec, np.cos(3 * t)[:, None] * np.ones(6)), settle_s=0.5)
    check = simulate(traj, out_path=tmp_path / "sim.gif", fps=8, size=(96, 72))
    assert check["ok"] and check["frames"] >= 15
    frames = xmedia.load(tmp_path / "sim.gif").load_frames()
    assert frames.shape[1:3] == (72, 96) and np.abs(np.diff(frames.astype(int), axis=0)).sum() > 0  # it moves


# ---------------------------------------------------------------------------------------------- real flames
@pytest.mark.parametrize("name", ["fire_a.mp4", "fire_b.mp4"])
def test_fidelity_on_real_flames(media, name):
    motion = video_to_motion(xmedia.load(media("video", name)))
    traj = xmedia.translate(motion, "robot", urdf="franka_panda")
    _no_violations(traj)
    r = fidelity(motion, traj)
    assert r >= 0.7, f"motion-energy envelope vs joint-speed envelope r = {r:.3f} on {name}"
    # the arm actually moves, at a speed an arm can do, and comes to rest at the end
    assert 0.05 < traj.joint_speed().mean() < 1.0 and traj.joint_speed()[-1] < 1e-9


def test_cli_translate_writes_trajectory_and_report(media, tmp_path, capsys):
    from xmedia.cli import main

    out, png = tmp_path / "traj.csv", tmp_path / "report.png"
    rc = main(["translate", str(media("video", "fire_a.mp4")), "--to", "robot", "--urdf", "xarm6", "-o", str(out),
               "--report", str(png), "--control-rate-hz", "200"])
    assert rc == 0 and png.stat().st_size > 10_000
    traj = Trajectory.load(out)
    assert traj.control_rate_hz == 200 and traj.robot == "xarm6" and len(traj.joint_names) == 6
    _no_violations(traj)
    assert "r = " in capsys.readouterr().out
    assert main(["translate", str(media("video", "fire_a.mp4")), "--to", "robot", "--urdf", "nope", "-o",
                 str(tmp_path / "x.json")]) == 2
    assert "unknown robot" in capsys.readouterr().err


def test_route_and_trainable_bridge():
    video = xmedia.Video.from_frames(np.zeros((3, 16, 16, 3), np.uint8), fps=10)
    assert [s.name for s in xmedia.plan(video, "robot").steps] == ["flow-motion", "motion-robot", "robot-trajectory"]
    import torch

    bridge = MotionToJoints(4, 6, energy_index=0, joint_scale=[0.5] * 6)
    x = torch.rand(40, 4)
    bridge(x, rate_hz=20).pow(2).sum().backward()
    assert bridge.proj.weight.grad is not None and bridge.log_speed_gain.grad is not None


def test_route_options_come_from_the_step_signatures():
    video = xmedia.Video.from_frames(np.zeros((3, 16, 16, 3), np.uint8), fps=10)
    assert xmedia.plan(video, "robot").options() >= {
        "max_side", "allow_static", "urdf", "range_fraction", "seed", "speed_gain_rad_s", "control_rate_hz",
        "stall_timeout_s"}


def test_a_bridge_object_runs_on_motion_and_in_a_route():
    rng = np.random.default_rng(1)
    motion = xmedia.Motion(np.abs(rng.normal(size=(60, 3))), rate_hz=20, channels=("energy", "a", "b"))
    default = motion_to_commands(motion, urdf="xarm6", seed=3)
    spec = RobotSpec.from_urdf("xarm6")
    bridge = MotionToJoints(3, 6, energy_index=0, joint_scale=spec.half_window().tolist(), seed=3)
    bridge.fit_default(motion.values)
    cmds = bridge(motion, urdf="xarm6")  # media in: run(); a tensor would go to forward()
    assert cmds.channels == spec.joint_names and cmds.rig.name == "xarm6"
    np.testing.assert_array_equal(cmds.values, default.values)
    traj = xmedia.translate(motion, "robot", bridge=bridge, urdf="xarm6")
    assert traj.joint_names == spec.joint_names
    _no_violations(traj)
    with pytest.raises(ConfigError, match="6 joints"):
        bridge(motion, urdf="franka_panda")


def test_a_fitted_bridge_saves_and_loads_back(tmp_path):
    rng = np.random.default_rng(2)
    motion = xmedia.Motion(np.abs(rng.normal(size=(50, 4))), rate_hz=25, channels=("energy", "a", "b", "c"))
    spec = RobotSpec.from_urdf("kuka_iiwa")
    bridge = MotionToJoints(4, 7, joint_scale=spec.half_window().tolist(), seed=5).fit_default(motion.values)
    bridge.save_pretrained(tmp_path / "mtj")
    back = xmedia.load(tmp_path / "mtj")
    assert type(back) is MotionToJoints and back.config == bridge.config
    np.testing.assert_array_equal(back(motion, urdf="kuka_iiwa").values, bridge(motion, urdf="kuka_iiwa").values)



@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 6), st.sampled_from([6, 7]), st.integers(1, 120),
       st.sampled_from([0, None]), st.booleans())
def test_numpy_map_equals_the_torch_module(seed, c, j, n, energy_index, fit):
    """The route's numpy MotionMap and the trainable MotionToJoints compute the same commands for the same
    parameters (initial, fitted, or moved away from both as training would), offline and causal."""
    import torch

    rng = np.random.default_rng(seed)
    values = np.abs(rng.normal(0, 1, (n, c))) * rng.uniform(0.01, 10)
    rate = float(rng.choice([10, 24, 60]))
    scale = rng.uniform(0.2, 1.5, j).tolist()
    bridge = MotionToJoints(c, j, energy_index=energy_index, joint_scale=scale, seed=seed % 1000)
    init = initial_parameters(c, j, scale, seed=seed % 1000)
    assert all(np.array_equal(bridge.state_dict()[k].numpy(), v) for k, v in init.items())
    if fit:
        bridge.fit_default(values)
    with torch.no_grad():
        for p in bridge.parameters():
            p.add_(torch.from_numpy(rng.normal(0, 0.1, tuple(p.shape)).astype(np.float32)))
    numpy_map = MotionMap(**bridge.config, parameters={k: v.numpy() for k, v in bridge.state_dict().items()})
    for causal in (False, True):
        with torch.no_grad():
            want = bridge(torch.from_numpy(values), rate_hz=rate, causal=causal).numpy()
        np.testing.assert_allclose(numpy_map.forward(values, rate, causal=causal), want, atol=2e-4)
    motion = xmedia.Motion(values, rate_hz=rate, channels=("energy",) + tuple(f"c{i}" for i in range(1, c)))
    spec = RobotSpec.from_urdf("xarm6" if j == 6 else "franka_panda")
    np.testing.assert_array_equal(bridge.commands(motion, spec).values, numpy_map.forward(values, rate, causal=False))
    steps = np.array([numpy_map.step(v, 1 / rate) for v in values])
    bridge.reset()
    np.testing.assert_allclose(steps, [bridge.step(v, 1 / rate) for v in values], atol=2e-4)


def test_numpy_map_loads_a_saved_bridge_and_refuses_other_classes(tmp_path):
    from xmedia.bridges.soundtrack import PerceptualToComposer

    rng = np.random.default_rng(4)
    motion = xmedia.Motion(np.abs(rng.normal(size=(40, 4))), rate_hz=25, channels=("energy", "a", "b", "c"))
    bridge = MotionToJoints(4, 7, joint_scale=[0.4] * 7, seed=2, smooth_s=0.2).fit_default(motion.values)
    bridge.save_pretrained(tmp_path / "mtj")
    loaded = MotionMap.from_pretrained(tmp_path / "mtj")
    assert loaded.smooth_s == 0.2
    np.testing.assert_array_equal(loaded.run(motion).values, bridge.run(motion).values)
    PerceptualToComposer().save_pretrained(tmp_path / "other")
    with pytest.raises(WeightsError, match="MotionToJoints"):
        MotionMap.from_pretrained(tmp_path / "other")


def test_the_default_robot_route_needs_no_torch(media):
    """Flame video -> motion -> robot, the default route (optical flow, the numpy map, the follower), runs without
    importing torch (``import torch`` alone is about 630 MB, over a long file's whole memory budget)."""
    import subprocess
    import sys

    code = ("import sys, xmedia; m = xmedia.translate(xmedia.load(sys.argv[1]), to='motion'); "
            "t = xmedia.translate(m, 'robot', urdf='franka_panda'); "
            "print(type(m).__name__, type(t).__name__, len(t.positions) > 0, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(media("video", "fire_a.mp4"))],
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == ["Motion", "Trajectory", "True", "False"]

# ---------------------------------------------------------------------------------------------- streaming
def test_simulated_stream_is_safe_and_ends_at_rest(media):
    cmds = list(xmedia.stream(str(media("video", "fire_a.mp4")), "robot", realtime=False, urdf="kuka_iiwa"))
    spec = RobotSpec.from_urdf("kuka_iiwa")
    used = [c.frame_index for c in cmds if c.frame_index is not None]
    assert used == list(range(258))  # every frame, in order
    lim = spec.motion_limits()
    traj = Trajectory(spec.joint_names, 100, np.array([c.positions for c in cmds]),
                      np.array([c.velocities for c in cmds]), np.array([c.accelerations for c in cmds]),
                      limits=lim, robot=spec.name)
    _no_violations(traj)
    assert cmds[-1].stopping and max(map(abs, cmds[-1].velocities)) < 1e-9
    assert traj.joint_speed().max() > 0.05


def test_realtime_stream_keeps_time_and_survives_dropped_frames(media):
    src = str(media("video", "fire_b.mp4"))
    start = time.monotonic()
    cmds = list(xmedia.stream(src, "robot", duration_s=0.6))
    n = sum(1 for c in cmds if c.time_s <= 0.6 + 1e-9)  # then the ramp to rest (tests/test_hardening_stream.py)
    assert 0.55 <= time.monotonic() - start < 2.0 and 45 <= n <= 62  # 100 Hz ticks for 0.6 s
    # a consumer slower than the video: frames are dropped, the loop goes on
    got = []
    for cmd in xmedia.stream(src, "robot", duration_s=1.2):
        got.append(cmd)
        if len(got) < 6:
            time.sleep(0.15)
    assert got[-1].dropped_frames > 0 and any(c.frame_index is not None for c in got[6:])


def test_bad_sources_and_addresses(tmp_path):
    from xmedia.streaming import OSCSender, StreamError

    with pytest.raises(MediaError, match="does not exist"):
        next(xmedia.stream(tmp_path / "missing.mp4", "robot"))
    fake = tmp_path / "fake.mp4"
    fake.write_text("not a video")
    with pytest.raises(MediaError, match="cannot open"):
        next(xmedia.stream(str(fake), "robot"))
    with pytest.raises(xmedia.RouteError, match="robot"):
        next(xmedia.stream(str(fake), "lights"))
    with pytest.raises(ConfigError, match="host:port"):
        OSCSender("127.0.0.1")
    with pytest.raises(StreamError, match="cannot be reached"):
        OSCSender("no-such-host.invalid:9000")


def test_osc_reaches_a_local_receiver(media):
    from pythonosc.dispatcher import Dispatcher
    from pythonosc.osc_server import ThreadingOSCUDPServer

    from xmedia.streaming import OSCSender

    received, lock = [], threading.Lock()
    disp = Dispatcher()
    disp.map("/xmedia/robot/positions", lambda addr, *args: (lock.acquire(), received.append(args), lock.release()))
    server = ThreadingOSCUDPServer(("127.0.0.1", 0), disp)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        sender = OSCSender(f"127.0.0.1:{server.server_address[1]}")
        sent = []
        for cmd in xmedia.stream(str(media("video", "fire_a.mp4")), "robot", realtime=False, duration_s=0.5):
            sender.send(cmd)
            sent.append(cmd.positions)
        deadline = time.monotonic() + 3
        while len(received) < len(sent) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=2)
    # 0.5 s at 100 Hz, then the ramp to rest; UDP on loopback: essentially nothing lost
    assert 50 < len(sent) <= 100 and len(received) >= len(sent) - 5
    np.testing.assert_allclose(received[-1], sent[len(received) - 1], rtol=1e-6)  # float32 on the wire


def test_cli_stream_prints_json_lines(media, capsys):
    from xmedia.cli import main

    assert main(["stream", str(media("video", "fire_a.mp4")), "--to", "robot", "--urdf", "xarm6",
                 "--duration-s", "0.3"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    before = [d for d in lines if d["time_s"] <= 0.3 + 1e-9]  # then the ramp to rest
    assert 25 <= len(before) <= 31 and len(lines[0]["positions"]) == 6 and lines[-1]["stopping"]
    assert np.all(np.diff([d["time_s"] for d in lines]) > 0)


def test_music_drives_the_arm_faster_when_it_is_louder(media):
    """audio -> perceptual track -> Motion -> robot: the loudness envelope becomes the arm's speed envelope."""
    amen = xmedia.load(media("audio", "loop_amen.flac"))
    drone = xmedia.load(media("audio", "ambi_drone.flac"))
    loud = np.tile(amen.samples, (3, 1))
    quiet = 0.05 * np.resize(drone.samples, loud.shape)
    song = xmedia.Audio(np.concatenate([loud, quiet, loud]), amen.sample_rate_hz)
    assert xmedia.plan(song, to="robot").nodes[:3] == ["audio", "space:perceptual", "motion"]
    traj = xmedia.translate(song, to="robot", urdf="kuka_iiwa")
    assert not any(traj.limit_violations().values())
    t = np.arange(len(traj.joint_speed())) / float(traj.control_rate_hz)
    third = len(loud) / amen.sample_rate_hz
    speed = [traj.joint_speed()[(t > k * third + 0.5) & (t < (k + 1) * third)].mean() for k in range(3)]
    assert speed[1] < 0.7 * min(speed[0], speed[2])
