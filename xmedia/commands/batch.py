"""``xmedia batch MANIFEST.jsonl|FOLDER --to KIND -o OUT/ [--workers N] [--engine local|ray] [translate flags]``.

One ``xmedia translate`` job per input (``jobs.run_job``: the very function the CLI runs, area writers included).
Outputs are named after the inputs (``clips/a/beach.mov`` -> ``OUT/a/beach.mp4``; a manifest line may name its
own ``output`` and ``to``, and carry any translate flag by name: ``{"input": "x.mp4", "style": "foley"}``).
The batch resumes: a job whose completion record (``OUT/.xmedia-batch/``) matches its input, flags and outputs
is skipped. A failing item is written to ``OUT/errors.jsonl`` and the rest go on; a summary table ends the run.
Flags naming extra outputs take ``{name}`` (the item's output name without extension): ``--report
{name}.png``, ``--sim {name}_sim.mp4``, relative to OUT. A manifest field holds what its flag takes: a string
(``"via"``: a string or a list of them), a number, ``true``/``false`` for a switch; a wrong type is refused before
any work. ``--workers`` is capped at the CPU cores (more processes than cores only cost memory); set
``XMEDIA_MAX_WORKERS`` to allow more (jobs that mostly wait on a network drive).
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from xmedia.errors import ConfigError
from xmedia.manifest import MEDIA_EXT, items

from . import add_translate_flags, translate_flags
from .batch_engines import ENGINES, cpu_count, run
from .jobs import DONE_DIR, Job, JobResult, default_extension, is_complete

ORDER = 90  # where this area's hooks run among the others' (xmedia.commands.areas)
ERRORS_FILE = "errors.jsonl"


@dataclass
class BatchSummary:
    out_dir: Path
    engine: str
    workers: int
    results: list = field(default_factory=list)
    wall_s: float = 0.0
    ignored_fields: tuple = ()

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if status_of(r) == status)

    @property
    def failed(self) -> list:
        return [r for r in self.results if not r.ok]

    def table(self, max_rows: int = 30) -> str:
        rows = [("item", "status", "seconds", "output")]
        for r in self.results[:max_rows]:
            rows.append((r.job.name, status_of(r), "" if r.skipped else f"{r.seconds:.2f}",
                         _short(r.job.output, self.out_dir) if r.ok else r.error))
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row[:3], widths)) + "  " + row[3] for row in rows]
        if len(self.results) > max_rows:
            lines.append(f"... and {len(self.results) - max_rows} more")
        done = [r for r in self.results if r.ok and not r.skipped]
        mean = sum(r.seconds for r in done) / len(done) if done else 0.0
        cpu = sum(r.cpu_s for r in done) / len(done) if done else 0.0
        lines.append("")
        lines.append(f"{len(self.results)} items: {self.count('done')} done, {self.count('skipped')} skipped "
                     f"(complete from an earlier run), {self.count('failed')} failed"
                     + (f" (see {self.out_dir / ERRORS_FILE})" if self.failed else ""))
        lines.append(f"engine {self.engine}, {self.workers} workers: {self.wall_s:.1f} s wall, {mean:.2f} s per item "
                     f"in a worker ({cpu:.2f} s CPU), {len(done) / self.wall_s if self.wall_s and done else 0:.2f} items/s")
        if self.ignored_fields:
            lines.append(f"manifest fields that are not translate flags (ignored): {', '.join(self.ignored_fields)}")
        return "\n".join(lines)


def status_of(result: JobResult) -> str:
    return "skipped" if result.skipped else "done" if result.ok else "failed"


def _short(path, root) -> str:
    try:
        return str(Path(path).relative_to(Path(root).resolve()))
    except ValueError:
        return str(path)


def translate_flag_defaults() -> dict:
    """Every ``xmedia translate`` flag (argparse name) and its default."""
    from xmedia.cli import build_parser

    args = vars(build_parser().parse_args(["translate", "in", "--to", "audio", "-o", "out"]))
    return {k: v for k, v in args.items() if k not in ("command", "func", "input", "to", "output")}


@functools.lru_cache(maxsize=1)
def translate_actions() -> dict:
    """``xmedia translate``'s argparse actions by their names (``lut_size``), for checking manifest fields."""
    from xmedia.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return {a.dest: a for a in sub.choices["translate"]._actions}


def manifest_flag(key: str, value, where: str):
    """A manifest field as the flag's value, checked like the command line checks it: a string for a text flag
    (a string or a list of them for a repeatable one, ``via``), a number (or a string that reads as one) for a
    number flag, true/false for a switch, one of the choices where the flag has them; else a ``ConfigError``."""
    action = translate_actions().get(key)
    if action is None or value is None:
        return value
    if action.nargs == 0:  # a switch (--sound-poem, --no-temporal)
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: \"{key}\" is a switch: give true or false, got {value!r}")
        return value  # the field holds the flag's value: "temporal": false is --no-temporal
    if isinstance(action, argparse._AppendAction):
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ConfigError(f"{where}: \"{key}\" takes a string or a list of strings (as --{key} does, once or "
                              f"more), got {value!r}")
        return [_flag_value(key, v, action, where) for v in values]
    return _flag_value(key, value, action, where)


def _flag_value(key, value, action, where):
    flag = f"--{key.replace('_', '-')}"
    if action.type in (int, float):
        number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
        if isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                pass
        if number is None or (action.type is int and float(number) != int(number)):
            kind = "a whole number" if action.type is int else "a number"
            raise ConfigError(f"{where}: \"{key}\" ({flag}) must be {kind}, got {value!r}")
        value = action.type(number)
    elif not isinstance(value, str):
        raise ConfigError(f"{where}: \"{key}\" ({flag}) takes a string, got {value!r} ({type(value).__name__})")
    if action.choices and value not in action.choices:
        raise ConfigError(f"{where}: \"{key}\" ({flag}) must be one of {', '.join(map(str, action.choices))}, "
                          f"got {value!r}")
    return value


def plan_jobs(source, out_dir, to=None, ext=None, flags=None) -> tuple[list[Job], tuple]:
    """The jobs for a manifest or folder: output names, per-item flags (manifest fields over ``flags``), and the
    manifest fields that are not translate flags (ignored, reported)."""
    source, out_dir = Path(source), Path(out_dir).resolve()
    defaults = translate_flag_defaults()
    flags = {k: v for k, v in (flags or {}).items() if v is not None and v != defaults.get(k)}
    unknown = sorted(set(flags) - set(defaults))
    if unknown:
        raise ConfigError(f"xmedia translate has no flag(s) {unknown}")
    ext = None if ext is None else ext if ext.startswith(".") else f".{ext}"
    found, ignored, jobs = items(source, MEDIA_EXT), set(), []
    names = _output_names(source, found, to, ext)
    for item, name in zip(found, names):
        target = item.to or to
        if not target:
            raise ConfigError(f"{item.where}: no target: pass --to KIND or give the line a \"to\"")
        item_flags = dict(flags)
        for key, value in item.options.items():
            key = key.replace("-", "_")  # "lut-size" as the flag is spelled, "lut_size" as its argparse name
            if key in defaults:
                item_flags[key] = manifest_flag(key, value, item.where)
            else:
                ignored.add(key)
        output = (out_dir / name).resolve()
        stem = str(Path(name).with_suffix(""))
        for key in (flag.key for flag in translate_flags() if flag.writes_file):  # per item they need {name}
            if item_flags.get(key):
                if "{name}" not in str(item_flags[key]):
                    raise ConfigError(f"--{key} {item_flags[key]}: in a batch it needs {{name}} (the item's output "
                                      f"name), e.g. --{key} {{name}}.png, or every item would overwrite one file")
                item_flags[key] = str((out_dir / str(item_flags[key]).format(name=stem)).resolve())
        done = out_dir / DONE_DIR / f"{name}.json"
        jobs.append(Job(str(item.input.resolve()), target, str(output), item_flags, name=str(name),
                        where=item.where, done=str(done)))
    _refuse_clashes(jobs)
    return jobs, tuple(sorted(ignored))


def _output_names(source: Path, found, to, ext) -> list[str]:
    """``OUT``-relative names: the manifest's ``output``, else the input's path (relative to a folder source)
    with the target's extension; inputs that share a stem keep their own extension in the name."""
    def rel(item):
        if item.output:
            return None
        if source.is_dir():
            return item.input.relative_to(source)
        return Path(item.input.name)

    names = []
    for item in found:
        r = rel(item)
        if r is None:
            names.append(Path(item.output))
            continue
        suffix = ext or default_extension(item.input, item.to or to or "")
        names.append(r.with_suffix(suffix))
    counts = {}
    for n in names:
        counts[n] = counts.get(n, 0) + 1
    out = []
    for item, n in zip(found, names):
        r = rel(item)
        if r is not None and counts[n] > 1:  # beach.mp4 and beach.wav -> beach_mp4.wav, beach_wav.wav
            n = r.with_name(f"{r.stem}_{r.suffix.lstrip('.').lower()}{n.suffix}")
        out.append(str(n))
    return out


def _refuse_clashes(jobs) -> None:
    seen = {}
    for job in jobs:
        if job.output in seen:
            raise ConfigError(f"{seen[job.output]} and {job.where} would both write {job.output}; give each line "
                              "its own \"output\"")
        seen[job.output] = job.where


MAX_WORKERS_ENV = "XMEDIA_MAX_WORKERS"


def capped_workers(workers: int) -> int:
    """``workers``, at most the cores this process may use (``XMEDIA_MAX_WORKERS`` sets another cap, e.g. for
    jobs that wait on a network drive), with a warning when it is lowered."""
    cap = cpu_count()
    env = os.environ.get(MAX_WORKERS_ENV)
    if env:
        try:
            cap = int(env)
        except ValueError:
            raise ConfigError(f"{MAX_WORKERS_ENV}={env!r} must be a whole number") from None
        if cap < 1:
            raise ConfigError(f"{MAX_WORKERS_ENV}={env!r} must be at least 1")
    if workers > cap:
        where = f"{MAX_WORKERS_ENV}={cap}" if env else f"the {cap} CPU cores here"
        warnings.warn(f"--workers {workers} is more than {where}: running {cap} workers (each job uses a whole core; "
                      f"more processes only cost memory); set {MAX_WORKERS_ENV} to allow more", stacklevel=2)
        return cap
    return workers


def run_batch(source, out_dir, to=None, engine: str = "local", workers: int | None = None, address=None,
              ext=None, force: bool = False, progress: bool | None = None, **flags) -> BatchSummary:
    """Translate every input of a manifest or folder into ``out_dir``; see the module docstring."""
    if engine not in ENGINES:
        raise ConfigError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    workers = workers or cpu_count()
    if workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {workers}")
    if engine == "local" or not address:  # on this machine: more processes than cores only add memory and switching
        workers = capped_workers(workers)
    out_dir = Path(out_dir)
    jobs, ignored = plan_jobs(source, out_dir, to=to, ext=ext, flags=flags)
    summary = BatchSummary(out_dir, engine, workers, ignored_fields=ignored)
    start = time.perf_counter()
    todo, results = [], {}
    for job in jobs:
        if not force and is_complete(job):
            results[job.output] = JobResult(job, True, outputs=[job.output], skipped=True)
        else:
            todo.append(job)
    out_dir.mkdir(parents=True, exist_ok=True)
    errors = out_dir / ERRORS_FILE
    errors.write_text("")  # this run's failures (the complete items of earlier runs are skipped, not failed)
    bar = _progress_bar(len(todo), progress)
    with open(errors, "a") as log:
        for result in run(engine, todo, workers, address) if todo else ():
            results[result.job.output] = result
            if not result.ok:
                log.write(json.dumps(result.error_record()) + "\n")
                log.flush()
            if bar is not None:
                bar.set_postfix_str(f"{result.job.name}: {status_of(result)}", refresh=False)
                bar.update(1)
    if bar is not None:
        bar.close()
    summary.results = [results[job.output] for job in jobs]
    summary.wall_s = time.perf_counter() - start
    return summary


def _progress_bar(total: int, progress):
    if progress is None:
        progress = sys.stderr.isatty()
    if not progress or not total:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="item", desc="batch", file=sys.stderr)


# ------------------------------------------------------------------------------------------------------ CLI
def add_commands(subparsers) -> None:
    s = subparsers.add_parser("batch", help="translate every file of a folder or JSON-lines manifest (resumable)",
                              description=__doc__.split("\n\n", 1)[1])
    s.add_argument("source", help="a folder of media files or a JSON-lines manifest (.jsonl)")
    s.add_argument("--to", help="target kind for every item (a manifest line's \"to\" overrides it)")
    s.add_argument("-o", "--output", dest="out_dir", required=True, help="output folder")
    s.add_argument("--workers", type=int, help=f"parallel jobs (default: the CPU count, {cpu_count()} here)")
    s.add_argument("--engine", choices=ENGINES, default="local", help="local process pool (default) or Ray tasks")
    s.add_argument("--address", help="Ray cluster address (auto: the running cluster; default: a local Ray)")
    s.add_argument("--ext", help="output extension (default per target: .mp4 for a video's soundtrack, .wav, .cube, "
                                 ".json for a robot...)")
    s.add_argument("--force", action="store_true", help="redo items that are already complete")
    s.add_argument("--progress", action="store_true", default=None, help="progress bar even when not on a terminal")
    g = s.add_argument_group("translate flags for every item (a manifest line's own fields override them)")
    g.add_argument("--via", action="append", help="a space or step the route must pass through (repeatable)")
    g.add_argument("--bridge", help="name of the bridge step to use")
    g.add_argument("--seed", type=int, help="random seed")
    g.add_argument("--option", action="append", metavar="KEY=VALUE", help="extra option for the route's steps")
    add_translate_flags(s)  # the same flags as xmedia translate; a manifest line may carry them by name
    s.set_defaults(func=cmd_batch)


def cmd_batch(args) -> int:
    own = {"source", "to", "out_dir", "workers", "engine", "address", "ext", "force", "progress", "command", "func"}
    flags = {k: v for k, v in vars(args).items() if k not in own}
    summary = run_batch(args.source, args.out_dir, to=args.to, engine=args.engine, workers=args.workers,
                        address=args.address, ext=args.ext, force=args.force, progress=args.progress, **flags)
    print(summary.table())
    return 1 if summary.failed else 0
