"""Command line: ``xmedia info | routes | translate | ...``.

This is the CLI shell: every translation is one ``translate(..., trace=True)`` call; the feature areas in
``xmedia.commands`` (see its docstring for the protocol) add flags, turn them into route options and write the
result and its reports. Errors of the project's type print one clear line.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .commands import areas, parse_options
from .errors import XMediaError


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

    for area in areas():
        if hasattr(area, "add_translate_arguments"):
            area.add_translate_arguments(s)
        if hasattr(area, "add_commands"):
            area.add_commands(sub)
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


def cmd_translate(args) -> int:
    from .io import load
    from .routing import node_name, plan

    x = load(args.input)
    to = node_name(args.to)
    for area in areas():
        if hasattr(area, "check_output"):
            area.check_output(args, x, to)
    options = parse_options(args.option)
    if args.seed is not None:
        options["seed"] = args.seed
    for area in areas():
        if hasattr(area, "translate_options"):
            options.update(area.translate_options(args, to))
    route = plan(x, to, via=args.via, bridge=args.bridge, options=options)  # options may select steps (style=sfx)
    if "progress" in route.options():
        options.setdefault("progress", sys.stderr.isatty())  # bars for people, not for logs
    trace = route.run(x, trace=True, **options)
    for area in areas():
        if hasattr(area, "write_result") and area.write_result(args, x, trace):
            return 0
    result = trace.output
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
