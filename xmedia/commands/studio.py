"""``xmedia studio [--port N]``: a local web page to translate media without the command line.

Drop a video, song, photo or text; pick the target (every kind the routes reach: soundtrack, look, robot, and
whatever targets installed areas add) and its options; watch the progress; preview the result (the video with
its new soundtrack, the look before/after, the robot's simulation, the report) and download every file. Each run
is ``xmedia translate`` itself (``studio_jobs``); a bad file gets the CLI's one-line message and the server stays
up. It listens on 127.0.0.1 only. Gradio is imported when the verb runs (``pip install 'xmedia[studio]'``).
"""
from __future__ import annotations

import sys

from xmedia.errors import ConfigError

DEFAULT_PORT = 7860


def add_commands(subparsers) -> None:
    s = subparsers.add_parser("studio", help="a local web page to translate media: drop, pick, preview, download",
                              description=__doc__.split("\n\n", 1)[1])
    s.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port on 127.0.0.1 (default {DEFAULT_PORT})")
    s.add_argument("--work-dir", help="folder for the uploads and results (default: a new temporary folder)")
    s.set_defaults(func=cmd_studio)


def cmd_studio(args) -> int:
    try:
        from . import studio_app  # Gradio: seconds to import, so only when the studio starts
    except ImportError as exc:
        raise ConfigError(f"the studio needs Gradio ({exc.name} is missing): pip install 'xmedia[studio]'") from None
    from .studio_jobs import Studio

    if not 1 <= args.port <= 65535:
        raise ConfigError(f"--port must be 1-65535, got {args.port}")
    studio = Studio(args.work_dir)
    try:
        page, address = studio_app.launch(studio, args.port)
    except OSError as exc:
        raise ConfigError(f"cannot listen on 127.0.0.1:{args.port} ({exc}); pick another --port") from None
    print(f"xmedia studio: {address}  (results in {studio.work_dir}; Ctrl+C stops it)", flush=True)
    try:
        page.block_thread()
    except KeyboardInterrupt:
        pass
    finally:
        page.close()
    print("xmedia studio: stopped", file=sys.stderr)
    return 0
