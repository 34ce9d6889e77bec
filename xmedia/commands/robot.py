"""CLI for robots: ``translate VIDEO --to robot --urdf NAME -o traj.json|csv [--sim out.mp4|gif] [--report png]``
and ``stream SOURCE --to robot --urdf NAME [--osc HOST:PORT] [--duration-s N]``."""
from __future__ import annotations

import sys
from pathlib import Path

from xmedia.errors import ConfigError


def add_translate_arguments(parser) -> None:
    g = parser.add_argument_group("robot (--to robot)")
    g.add_argument("--urdf", help="robot: kuka_iiwa, franka_panda, xarm6 or a .urdf path (default franka_panda)")
    g.add_argument("--control-rate-hz", type=float, help="robot control rate, 1-1000 Hz (default 100)")
    g.add_argument("--sim", help="play the trajectory back in pybullet, verify it, and render it to this mp4/gif")


def _robot_options(args) -> dict:
    opts = {"urdf": args.urdf or "franka_panda"}
    if getattr(args, "control_rate_hz", None) is not None:
        opts["control_rate_hz"] = args.control_rate_hz
    return opts


def handle_translate(args, x, to) -> bool:
    """Video/Motion -> robot: run the route, write the trajectory, then the optional sim and report."""
    if to != "robot":
        return False
    from xmedia.cli import translate_options
    from xmedia.media import Motion, Video
    from xmedia.routing import translate

    if not isinstance(x, (Video, Motion)):
        return False
    out = Path(args.output)
    if out.suffix.lower() not in (".json", ".csv"):
        raise ConfigError(f"{out}: write a robot trajectory as .json (ROS 2 JointTrajectory shape) or .csv")
    if args.sim and Path(args.sim).suffix.lower() not in (".mp4", ".gif", ".webm", ".mkv", ".mov"):
        raise ConfigError(f"--sim {args.sim}: render to an .mp4 or .gif")
    options = {**translate_options(args), **_robot_options(args)}
    motion = x
    if isinstance(x, Video):  # flow computed here (not inside the route) so the report can show it
        from xmedia.adapters.optical_flow import video_to_motion

        flow_options = {k: options.pop(k) for k in ("max_side", "allow_static") if k in options}
        motion = video_to_motion(x, progress=sys.stderr.isatty(), **flow_options)
    traj = translate(motion, to="robot", via=args.via, bridge=args.bridge, **options)
    traj.save(out)
    print(f"wrote {out}: {traj}")
    if args.sim:
        from xmedia.adapters.pybullet_sim import simulate

        check = simulate(traj, out_path=args.sim, progress=sys.stderr.isatty())
        print(f"wrote {args.sim}: pybullet playback, worst position excess {check['worst_position_excess_rad']:.2e} "
              f"rad, self-collision points {check['self_collision_points']}")
    if args.report:
        from xmedia.adapters.robot import fidelity, plot_report

        plot_report(motion, traj, args.report)
        print(f"wrote {args.report}: energy/joint-speed envelope correlation r = {fidelity(motion, traj):.3f}")
    return True


def add_commands(subparsers) -> None:
    s = subparsers.add_parser("stream", help="drive a robot live from a video file, camera or stream URL")
    s.add_argument("source", help="video file (played at real-time pace), camera index (0) or stream URL")
    s.add_argument("--to", default="robot", help="streaming target (robot)")
    s.add_argument("--urdf", default="franka_panda", help="kuka_iiwa, franka_panda, xarm6 or a .urdf path")
    s.add_argument("--osc", metavar="HOST:PORT", help="send OSC/UDP here (default: JSON lines on stdout)")
    s.add_argument("--duration-s", type=float, help="stop after this many seconds")
    s.add_argument("--control-rate-hz", type=float, default=100, help="control rate, 1-1000 Hz (default 100)")
    s.add_argument("--seed", type=int, default=0, help="seed of the bridge's initial projection")
    s.set_defaults(func=cmd_stream)


def cmd_stream(args) -> int:
    from xmedia.streaming import JSONLinesSender, OSCSender, stream

    sender = OSCSender(args.osc) if args.osc else JSONLinesSender()
    last = None
    try:
        for cmd in stream(args.source, to=args.to, duration_s=args.duration_s, urdf=args.urdf,
                          control_rate_hz=args.control_rate_hz, seed=args.seed):
            sender.send(cmd)
            last = cmd
    except BrokenPipeError:  # stdout closed by the reader (e.g. `| head`): a normal way to stop
        sys.stderr.close()
        return 0
    if args.osc:
        dropped = last.dropped_frames if last else 0
        print(f"sent {sender.sent} commands to {args.osc} ({dropped} frames dropped)", file=sys.stderr)
    return 0
