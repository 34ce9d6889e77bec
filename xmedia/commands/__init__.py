"""Command-line areas: each module adds flags and verbs to ``xmedia`` and writes what ``translate`` returned.

An area module may define:

- ``TRANSLATE_FLAGS``: its ``xmedia translate`` flags as ``Flag`` data (grouped in the help under
  ``TRANSLATE_GROUP``), each a route option or read by an output writer only; ``REPORTS``: the targets whose
  ``--report`` its writer writes. A flag the planned route does not use is an error, never silently dropped;
- ``check_output(args, x, to)``: refuse a bad output path before any work is done;
- ``write_result(args, x, trace) -> bool``: write the result of ``translate(..., trace=True)`` (and any report
  from the trace's intermediate values); return True when it handled this target;
- ``add_commands(subparsers)``: new verbs (``apply``, ``stream``...);
- ``TRAINERS``: a tuple of ``Trainer`` objects, each a ``xmedia train NAME ...`` verb (``xmedia train timbre``).

Area modules are found through the ``xmedia.areas`` entry-point group (pyproject.toml lists the built-in ones; a
plug-in package lists its own), so a new medium brings its CLI area without editing xmedia. ``areas()`` returns
them in the order their hooks run -- the first ``write_result`` that returns True wins -- sorted by each module's
``ORDER`` number (the built-ins use 10 to 100; an area without one gets ``DEFAULT_ORDER``, after them), then by
module name.

Every translation runs through ``xmedia.translate``: an area only turns flags into options and results into files.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable

from xmedia.errors import XMediaError

AREA_GROUP = "xmedia.areas"
DEFAULT_ORDER = 1000  # an area module without ORDER runs after the built-in ones
_AREAS: list = []


def areas() -> list:
    """The CLI area modules of the ``xmedia.areas`` entry-point group, by ``ORDER`` then name (imported once)."""
    if not _AREAS:
        from xmedia.plugins import entry_modules, import_plugins

        names = entry_modules(AREA_GROUP)
        if not names:
            raise XMediaError("no command-line areas are registered: xmedia's package metadata is missing. Install "
                              "it (pip install -e . in a checkout) so its xmedia.areas entry points exist")
        found = import_plugins(names, "the command-line flags and verbs")
        _AREAS.extend(sorted(found, key=lambda m: (getattr(m, "ORDER", DEFAULT_ORDER), m.__name__)))
    return list(_AREAS)


@dataclass(frozen=True)
class Trainer:
    """``xmedia train NAME [flags]``: ``add_arguments(parser)`` adds the flags, ``run(args) -> int`` trains.

    Import heavy code (torch) inside ``run`` so that ``xmedia --help`` stays light."""

    name: str
    help: str
    add_arguments: Callable
    run: Callable


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


@dataclass(frozen=True)
class Flag:
    """One ``xmedia translate`` flag, declared once, as data, by the area that owns it (``TRANSLATE_FLAGS``).

    A flag is either a route option (``option``, default the flag's own name: the router checks that a step of
    the planned route takes it) or, with ``writer_for``, read only by the output writer of those targets (a
    target node ``"robot"`` or an ``"input->target"`` pair ``"video->audio"``); given anywhere else it is an
    error, never silently dropped. ``choices`` should be the very constant the consuming step checks
    (``CUBE_SIZES``). ``to_options(value) -> dict`` turns a value into options when it is not one option of the
    same name (``--style soundtrack`` selects ``styles``). ``writes_file``: the flag names a file to write."""

    name: str
    help: str
    type: Callable | None = None
    choices: tuple | None = None
    metavar: str | None = None
    action: str | None = None
    default: object = None
    dest: str | None = None
    option: str | None = None
    writer_for: tuple[str, ...] = ()
    to_options: Callable[[object], dict] | None = None
    writes_file: bool = False

    @property
    def key(self) -> str:
        """The argparse name (``args.lut_size``), also the field name in a batch manifest."""
        return self.dest or self.name.replace("-", "_")

    def given(self, args) -> bool:
        value = getattr(args, self.key, None)
        return value is not None and value != self.default

    def options(self, value) -> dict:
        """The route options this flag's value becomes (none for a writer-only flag)."""
        if self.writer_for:
            return {}
        return self.to_options(value) if self.to_options else {self.option or self.key: value}

    def used_by_writer(self, src: str, to: str) -> bool:
        return to in self.writer_for or f"{src}->{to}" in self.writer_for


def translate_flags() -> list[Flag]:
    """Every area's ``TRANSLATE_FLAGS`` and ``--report`` (its targets: every area's ``REPORTS``), in area order.

    A flag two areas read (``--style``) is declared by one of them: a second declaration is an error."""
    flags, owner = [], {}
    reports = tuple(t for area in areas() for t in getattr(area, "REPORTS", ()))
    core = Flag("report", "write a PNG report of the translation here (in a batch: {name}.png)", writer_for=reports,
                writes_file=True)
    for area_name, area_flags in [("xmedia.cli", (core,))] + [(a.__name__, getattr(a, "TRANSLATE_FLAGS", ()))
                                                              for a in areas()]:
        for flag in area_flags:
            if flag.name in owner:
                raise XMediaError(f"--{flag.name} is declared by both {owner[flag.name]} and {area_name}; declare "
                                  "it once and let the other area read it")
            owner[flag.name] = area_name
            flags.append(flag)
    return flags


def add_translate_flags(parser) -> None:
    """Add every translate flag to ``parser``, grouped under each area's ``TRANSLATE_GROUP``."""
    titles, groups = {}, {}
    for area in areas():
        for flag in getattr(area, "TRANSLATE_FLAGS", ()):
            titles[flag.name] = getattr(area, "TRANSLATE_GROUP", area.__name__.rsplit(".", 1)[-1])
    for flag in translate_flags():
        title = titles.get(flag.name)
        if title is not None and title not in groups:
            groups[title] = parser.add_argument_group(title)
        kw = {k: v for k, v in (("type", flag.type), ("choices", flag.choices), ("metavar", flag.metavar),
                                ("action", flag.action)) if v is not None}
        groups.get(title, parser).add_argument(f"--{flag.name}", dest=flag.key, default=flag.default, help=flag.help,
                                               **kw)


def given_flags(args) -> dict[Flag, object]:
    """The translate flags the user gave (not left at their default), with their values."""
    return {flag: getattr(args, flag.key) for flag in translate_flags() if flag.given(args)}
