"""CLI for robots: ``translate VIDEO --to robot --urdf NAME -o traj.json|csv [--sim out.mp4|gif] [--report png]``
and ``stream SOURCE --to robot --urdf NAME [--osc HOST:PORT] [--duration-s N]``.

``translate`` runs the route (``video -[flow-motion]-> motion -[motion-robot]-> controls:robot
-[robot-trajectory]-> robot``) once; the report reads the flow features the route computed from its trace.
"""
from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

from xmedia.adapters.robot import MAX_CONTROL_RATE_HZ, RobotSpec, Trajectory, fidelity, plot_report, simulate
from xmedia.errors import ConfigError
from xmedia.streaming import JSONLinesSender, OSCSender, stream

from . import Flag, parse_options

ORDER = 30  # where this area's hooks run among the others' (xmedia.commands.areas)
DEFAULT_URDF = "franka_panda"
TRAJECTORY_EXT = (".json", ".csv")
SIM_EXT = (".mp4", ".gif", ".webm", ".mkv", ".mov")
REPORTS = ("robot",)
TRANSLATE_GROUP = "robot (--to robot)"
TRANSLATE_FLAGS = (
    Flag("urdf", f"robot: kuka_iiwa, franka_panda, xarm6 or a .urdf path (default {DEFAULT_URDF})"),
    Flag("control-rate-hz", f"robot control rate, 1-{MAX_CONTROL_RATE_HZ:g} Hz (default 100)", type=float),
    Flag("sim", "play the trajectory back in pybullet, verify it, and render it to this mp4/gif",
         writer_for=("robot",), writes_file=True),
)


def check_output(args, x, to) -> None:
    """Refuse a bad output, --sim path or robot before the route runs."""
    if to != "robot":
        return
    out = Path(args.output)
    if out.suffix.lower() not in TRAJECTORY_EXT:
        raise ConfigError(f"{out}: write a robot trajectory as .json (ROS 2 JointTrajectory shape) or .csv")
    if args.sim and Path(args.sim).suffix.lower() not in SIM_EXT:
        raise ConfigError(f"--sim {args.sim}: render to an .mp4 or .gif")
    RobotSpec.from_urdf(args.urdf or DEFAULT_URDF)  # an unknown robot fails now, not after the optical flow


def write_result(args, x, trace) -> bool:
    """Write the trajectory, then the optional pybullet playback (--sim) and report (--report)."""
    traj = trace.output
    if not isinstance(traj, Trajectory):
        return False
    out = traj.save(Path(args.output))
    print(f"wrote {out}: {traj}")
    if args.sim:
        check = simulate(traj, out_path=args.sim, progress=sys.stderr.isatty())
        print(f"wrote {args.sim}: pybullet playback, worst position excess {check['worst_position_excess_rad']:.2e} "
              f"rad, self-collision points {check['self_collision_points']}")
    if args.report:
        motion = trace["motion"]  # the flow features (or any Motion) the route turned into commands
        plot_report(motion, traj, args.report)
        print(f"wrote {args.report}: energy/joint-speed envelope correlation r = {fidelity(motion, traj):.3f}")
    return True


def add_commands(subparsers) -> None:
    s = subparsers.add_parser("stream", help="drive a robot (or a plug-in's stream target) live from a video file, "
                                             "camera or stream URL")
    s.add_argument("source", help="video file (played at real-time pace), camera index (0) or stream URL")
    s.add_argument("--to", default="robot", help="streaming target: robot, or one a plug-in package declares")
    s.add_argument("--urdf", help=f"robot: kuka_iiwa, franka_panda, xarm6 or a .urdf path (default {DEFAULT_URDF})")
    s.add_argument("--osc", metavar="HOST:PORT", help="send OSC/UDP here (default: JSON lines on stdout)")
    s.add_argument("--duration-s", type=float, help="stop after this many seconds")
    s.add_argument("--control-rate-hz", type=float, help="robot control rate, 1-1000 Hz (default 100)")
    s.add_argument("--seed", type=int, help="robot: seed of the bridge's initial projection (default 0)")
    s.add_argument("--option", action="append", metavar="KEY=VALUE", help="another option of the target")
    s.set_defaults(func=cmd_stream)


def cmd_stream(args) -> int:
    """Stream until the source ends, ``--duration-s`` passes, Ctrl-C or SIGTERM; every ending ramps the arm to
    rest first (the last command says ``"stopping": true`` with zero velocity). A second Ctrl-C quits at once."""
    sender = OSCSender(args.osc, prefix=f"/xmedia/{args.to.lower()}") if args.osc else JSONLinesSender()
    options = parse_options(args.option)  # the robot's own flags go only when given: another target has none
    options.update({k: getattr(args, k) for k in ("urdf", "control_rate_hz", "seed") if getattr(args, k) is not None})
    stop, received = threading.Event(), []

    def request_stop(signum, frame):
        received.append(signum)
        stop.set()
        signal.signal(signum, signal.SIG_DFL)  # a second signal ends the process without the ramp

    main_thread = threading.current_thread() is threading.main_thread()  # signals can only be caught there
    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)} if main_thread else {}
    last = None
    try:
        for cmd in stream(args.source, to=args.to, duration_s=args.duration_s, stop=stop, **options):
            sender.send(cmd)
            last = cmd
    except BrokenPipeError:  # stdout closed by the reader (e.g. `| head`): a normal way to stop
        sys.stderr.close()
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if args.osc:
        dropped = last.dropped_frames if last else 0
        print(f"sent {sender.sent} commands to {args.osc} ({dropped} frames dropped)", file=sys.stderr)
    if received:
        name = signal.Signals(received[0]).name
        print(f"xmedia: stream stopped by {name}; the {args.to} was brought to rest (last command: stopping"
              f"{', zero velocity' if args.to == 'robot' else ''})", file=sys.stderr)
        return 128 + received[0]
    return 0
