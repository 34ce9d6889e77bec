"""Command line: ``xmedia info | routes | translate | ...``.

Feature areas plug in through modules in ``xmedia.commands`` (listed in ``COMMAND_MODULES``), each with any of:
``add_translate_arguments(parser)`` (flags for ``translate``), ``handle_translate(args, x, to) -> bool`` (take
over a translation it knows better, e.g. muxing a soundtrack into an mp4) and ``add_commands(subparsers)``
(new verbs such as ``apply``, ``stream``, ``train``). Errors of the project's type print one clear line.
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from .errors import XMediaError

COMMAND_MODULES = [
    "xmedia.commands.soundtrack",
    "xmedia.commands.look",
    "xmedia.commands.robot",
    "xmedia.commands.train",
]


def _extensions():
    mods = []
    for name in COMMAND_MODULES:
        try:
            mods.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return mods


def parse_options(pairs) -> dict:
    """``--option key=value`` pairs; values parsed as JSON where they can be (numbers, true/false)."""
    out = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise XMediaError(f"--option takes key=value, got {pair!r}")
        key, value = pair.split("=", 1)
        try:
            out[key.replace("-", "_")] = json.loads(value)
        except json.JSONDecodeError:
            out[key.replace("-", "_")] = value
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="xmedia", description="Cross-media translation (deep remixes).")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("info", help="what a media file is: streams, duration, displayed size, fps, rotation, audio")
    s.add_argument("file")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.set_defaults(func=cmd_info)

    s = sub.add_parser("routes", help="list the possible translations and the steps they take")
    s.add_argument("--steps", action="store_true", help="also list every registered step")
    s.set_defaults(func=cmd_routes)

    s = sub.add_parser("translate", help="translate a file into another medium")
    s.add_argument("input")
    s.add_argument("--to", required=True, help="target kind: audio, filter, robot, image, motion, ...")
    s.add_argument("-o", "--output", required=True, help="output file (its extension picks the format)")
    s.add_argument("--via", action="append", help="a space or step the route must pass through (repeatable)")
    s.add_argument("--bridge", help="name of the bridge step to use")
    s.add_argument("--seed", type=int, help="random seed (results are deterministic for a seed)")
    s.add_argument("--report", help="write a PNG report of the translation here")
    s.add_argument("--option", action="append", metavar="KEY=VALUE", help="extra option for the route's steps")
    s.set_defaults(func=cmd_translate)

    exts = _extensions()
    for mod in exts:
        if hasattr(mod, "add_translate_arguments"):
            mod.add_translate_arguments(s)
        if hasattr(mod, "add_commands"):
            mod.add_commands(sub)
    p.set_defaults(extensions=exts)
    return p


def cmd_info(args) -> int:
    from .io import info

    d = info(args.file)
    if args.json:
        print(json.dumps(d, indent=2))
        return 0
    print(f"{d['path']}: {d['kind']}, {d['bytes']} bytes")
    for key, value in d.items():
        if key in ("path", "kind", "bytes", "streams"):
            continue
        print(f"  {key}: {value}")
    for st in d.get("streams", []):
        print(f"  stream #{st['index']}: " + ", ".join(f"{k}={v}" for k, v in st.items() if k != "index"))
    return 0


def cmd_routes(args) -> int:
    from .routing import registry

    reg = registry()
    for a, b, route in reg.routes():
        print(f"{a:>7} -> {b:<8} cost {route.cost:5.2f}  {route}")
    if args.steps:
        print("\nsteps:")
        for st in sorted(reg.steps.values(), key=lambda s: (s.kind, s.name)):
            avail = "" if st.is_available() else "  [not available: weights/packages missing]"
            print(f"  {st.kind:8} {st.name:28} {st.src} -> {st.dst}  cost {st.cost}{avail}")
    return 0


def translate_options(args) -> dict:
    opts = parse_options(args.option)
    if args.seed is not None:
        opts["seed"] = args.seed
    return opts


def cmd_translate(args) -> int:
    from . import load, translate
    from .routing import _node_name, plan

    x = load(args.input)
    to = _node_name(args.to)
    for mod in args.extensions:
        handler = getattr(mod, "handle_translate", None)
        if handler is not None and handler(args, x, to):
            return 0
    route = plan(x, to, via=args.via, bridge=args.bridge)
    options = translate_options(args)
    if "progress" in route.options():
        options.setdefault("progress", True)
    result = translate(x, to=to, via=args.via, bridge=args.bridge, **options)
    if not hasattr(result, "save"):
        raise XMediaError(f"the result ({type(result).__name__}) cannot be saved to a file")
    result.save(Path(args.output))
    print(f"wrote {args.output}")
    return 0


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    return f"xmedia: warning: {message}\n"


def main(argv=None) -> int:
    import warnings

    warnings.formatwarning = _one_line_warning  # users see the message, not our source line
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except XMediaError as exc:
        print(f"xmedia: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
