"""Command line: ``xmedia info | routes | translate | ...``.

This is the CLI shell: every translation is one ``translate(..., trace=True)`` call; the feature areas in
``xmedia.commands`` (see its docstring for the protocol) add flags, turn them into route options and write the
result and its reports. Errors of the project's type print one clear line.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path

from .atomic import check_destination, written_since
from .commands import add_translate_flags, areas, given_flags, parse_options
from .errors import MediaError, RouteError, XMediaError
from .formats import formats


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
    s.add_argument("input", nargs="?", help="the file to translate (or --text)")
    s.add_argument("--text", help='a phrase to translate instead of a file: --text "warm slow evening"')
    s.add_argument("--to", required=True, help="target kind: audio, filter, robot, image, motion, ...")
    s.add_argument("-o", "--output", required=True, help="output file (its extension picks the format)")
    s.add_argument("--via", action="append", help="a space or step the route must pass through (repeatable)")
    s.add_argument("--bridge", help="name of the bridge step to use")
    s.add_argument("--seed", type=int, help="random seed (results are deterministic for a seed)")
    s.add_argument("--option", action="append", metavar="KEY=VALUE", help="extra option for the route's steps")
    s.set_defaults(func=cmd_translate)
    add_translate_flags(s)  # --report and every area's flags, each declared once as data

    for area in areas():
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
    from .routing import node_name, plan, source_node

    given = given_flags(args)
    check_destination(args.output, what="output")  # before any work: can the outputs be written?
    for flag, value in given.items():
        if flag.writes_file:
            check_destination(value, what=f"--{flag.name}")
    ext = Path(args.output).suffix.lower()
    if ext not in {e for f in formats() if f.writer is not None for e in f.extensions}:
        raise MediaError(f"{args.output}: unknown output extension {ext or '(none)'!r}; the extension picks the format")
    x = _translate_input(args)
    to = node_name(args.to)
    for flag in given:  # a flag only an output writer reads is refused where that writer does not run
        if flag.writer_for and not flag.used_by_writer(source_node(x), to):
            raise RouteError(f"--{flag.name} is not used when translating {source_node(x)} to {to}: only the "
                             f"output for {', '.join(flag.writer_for)} reads it; drop it or change --to")
    for area in areas():
        if hasattr(area, "check_output"):
            area.check_output(args, x, to)
    options = parse_options(args.option)
    from_flags = {flag: flag.options(value) for flag, value in given.items()}
    for flag_options in from_flags.values():
        options.update(flag_options)
    route = plan(x, to, via=args.via, bridge=args.bridge, options=options)  # options may select steps (style=sfx)
    _refuse_unused_flags(from_flags, route, x, options)
    if args.seed is not None and "seed" in route.options():  # a route with no randomness ignores --seed
        options["seed"] = args.seed
    if "progress" in route.options():
        options.setdefault("progress", sys.stderr.isatty())  # bars for people, not for logs
    try:
        trace = route.run(x, trace=True, **options)
    except XMediaError as exc:  # name the input file in every error of the run
        if str(args.input) not in str(exc):
            exc.args = (f"{args.input}: {exc}",) + exc.args[1:]
        raise
    for area in areas():
        if hasattr(area, "write_result") and area.write_result(args, x, trace):
            return 0
    result = trace.output
    if not hasattr(result, "save"):
        raise XMediaError(f"the result ({type(result).__name__}) cannot be saved to a file")
    result.save(Path(args.output))
    print(f"wrote {args.output}")
    return 0


def _refuse_unused_flags(from_flags: dict, route, x, options: dict) -> None:
    """A flag whose option no step of the planned route takes is an error naming the flag and the targets that
    take it (the router refuses the same option given through ``--option`` or the API)."""
    from .routing import registry, source_node

    taken = route.options()
    for flag, flag_options in from_flags.items():
        unused = set(flag_options) - taken
        if unused:
            targets = [t for t in sorted(n for n in registry().nodes() if ":" not in n)
                       if any(unused <= _route_options(x, t, o) for o in (flag_options, options))]
            where = (f"it applies to --to {', '.join(targets)}" if targets else
                     f"no translation of {source_node(x)} takes it with these flags")
            raise RouteError(f"--{flag.name} is not used by the route {route} (no step takes the option "
                             f"{', '.join(sorted(unused))}); {where}")


def _route_options(x, to, options) -> set:
    """The options the route to ``to`` takes for these options (none when there is no such route)."""
    from .routing import plan

    try:
        return plan(x, to, options=options).options()
    except XMediaError:  # no route to that target, or a step that cannot load here
        return set()


def run_translate(input, to, output, **flags) -> int:
    """Run exactly what ``xmedia translate INPUT --to TO -o OUTPUT [flags]`` runs (the batch and the studio call
    this): ``flags`` are the translate flags by their argparse names (``seed=3``, ``report="r.png"``,
    ``option=["k=v"]``); errors are raised, not printed."""
    args = build_parser().parse_args(["translate", str(input), "--to", str(to), "-o", str(output)])
    unknown = sorted(set(flags) - set(vars(args)))
    if unknown:
        raise XMediaError(f"xmedia translate has no flag(s) {unknown}")
    for name, value in flags.items():
        setattr(args, name, value)
    return cmd_translate(args)


ANALYSIS_MAX_SIDE = 4096  # an image translated to another medium is only analysed (at 160 px): no need for more


def _translate_input(args):
    """The file named by ``input``, or the phrase given with ``--text`` (``args.input`` then names it)."""
    from .io import IMAGE_EXT, load
    from .media import Text
    from .routing import node_name

    if (args.input is None) == (args.text is None):
        raise XMediaError("give either an input file or --text \"a phrase\" (one of them)")
    if args.text is not None:
        args.input = f'"{args.text}"'
        return Text(args.text)
    if not Path(args.input).exists() and " " in args.input and not Path(args.input).is_symlink():
        raise MediaError(f"{args.input}: no such file; to translate a phrase use --text \"{args.input}\"")
    if Path(args.input).suffix.lower() in IMAGE_EXT and node_name(args.to) != "image":
        return load(args.input, max_side=ANALYSIS_MAX_SIDE)  # only analysed: a huge JPEG is read at reduced size
    return load(args.input)


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    return f"xmedia: warning: {message}\n"


def main(argv=None) -> int:
    import warnings

    warnings.formatwarning = _one_line_warning  # users see the message, not our source line
    parser = build_parser()
    args = parser.parse_args(argv)
    mark = len(written_since())
    main_thread = threading.current_thread() is threading.main_thread()  # signals can only be caught there
    previous = signal.signal(signal.SIGTERM, _terminate) if main_thread else None  # unwind like Ctrl-C: temps go
    try:
        return args.func(args)
    except XMediaError as exc:
        print(f"xmedia: error: {exc}", file=sys.stderr)
        done = written_since(mark)
        if done:  # say what was written before the failure; the failed output itself was not
            print(f"xmedia: partly done: wrote {', '.join(map(str, done))} before the error", file=sys.stderr)
            return 3
        return 2
    except KeyboardInterrupt as exc:
        return 143 if isinstance(exc, Terminated) else 130
    except BrokenPipeError:  # the reader went away (xmedia info f | head): nothing more to say, no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's flush cannot fail again
        return 0
    except Exception:  # a bug: the traceback follows, but first say what was already written
        if written_since(mark):
            print(f"xmedia: partly done: wrote {', '.join(map(str, written_since(mark)))} before the failure",
                  file=sys.stderr)
        raise
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every ``finally`` (temporary files) runs before the exit."""


def _terminate(signum, frame):
    raise Terminated()


if __name__ == "__main__":
    sys.exit(main())
