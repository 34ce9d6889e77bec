"""``xmedia studio [--port N]``: a local web page to translate media without the command line.

Drop a video, song, photo or text; pick the target (every kind the routes reach: soundtrack, look, robot, and
whatever targets installed areas add) and its options; watch the progress; preview the result (the video with
its new soundtrack, the look before/after, the robot's simulation, the report) and download every file. Each run
is ``xmedia translate`` itself (``studio_jobs``); a bad file gets the CLI's one-line message and the server stays
up. It listens on 127.0.0.1 only. The uploads Gradio receives are kept in a temporary folder removed when the
studio stops; the results stay in ``--work-dir``. Gradio is imported when the verb runs (``pip install 'xmedia[studio]'``).
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile

from xmedia.errors import ConfigError

ORDER = 100  # where this area's hooks run among the others' (xmedia.commands.areas)
DEFAULT_PORT = 7860


def add_commands(subparsers) -> None:
    s = subparsers.add_parser("studio", help="a local web page to translate media: drop, pick, preview, download",
                              description=__doc__.split("\n\n", 1)[1])
    s.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port on 127.0.0.1 (default {DEFAULT_PORT})")
    s.add_argument("--work-dir", help="folder for the uploads and results (default: a new temporary folder)")
    s.set_defaults(func=cmd_studio)


def cmd_studio(args) -> int:
    from .studio_jobs import Studio

    if not 1 <= args.port <= 65535:
        raise ConfigError(f"--port must be 1-65535, got {args.port}")
    studio = Studio(args.work_dir)  # a bad --work-dir is refused before the server starts
    uploads = private_upload_dir()
    try:
        try:
            from . import studio_app  # Gradio: seconds to import, so only when the studio starts
        except ImportError as exc:
            raise ConfigError(f"the studio needs Gradio ({exc.name} is missing): pip install 'xmedia[studio]'") \
                from None
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
    finally:
        if uploads is not None:  # Gradio's copies of the uploads go with the server
            os.environ.pop("GRADIO_TEMP_DIR", None)
            shutil.rmtree(uploads, ignore_errors=True)
    print("xmedia studio: stopped", file=sys.stderr)
    return 0


def private_upload_dir() -> str | None:
    """Gradio keeps every upload in ``GRADIO_TEMP_DIR`` (default: a shared ``gradio`` folder in the system temp
    folder, never emptied): point it, before Gradio is imported, at a folder of this run that ``cmd_studio``
    removes when the server stops. A ``GRADIO_TEMP_DIR`` the user set is left as it is (and is theirs to empty)."""
    if os.environ.get("GRADIO_TEMP_DIR"):
        return None
    folder = tempfile.mkdtemp(prefix="xmedia-studio-uploads-")
    os.environ["GRADIO_TEMP_DIR"] = folder
    return folder
