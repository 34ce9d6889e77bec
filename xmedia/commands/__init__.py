"""Command-line areas: each module adds flags and verbs to ``xmedia`` and writes what ``translate`` returned.

An area module may define:

- ``add_translate_arguments(parser)``: flags for ``xmedia translate`` (grouped under the area's name);
- ``translate_options(args, to) -> dict``: route options from those flags (``to`` is the target node);
- ``check_output(args, x, to)``: refuse a bad output path before any work is done;
- ``write_result(args, x, trace) -> bool``: write the result of ``translate(..., trace=True)`` (and any report
  from the trace's intermediate values); return True when it handled this target;
- ``add_commands(subparsers)``: new verbs (``apply``, ``stream``...);
- ``TRAINERS``: a tuple of ``Trainer`` objects, each a ``xmedia train NAME ...`` verb (``xmedia train timbre``).

``AREAS`` lists the area modules, in the order their hooks run (the first ``write_result`` that returns True wins).

Every translation runs through ``xmedia.translate``: an area only turns flags into options and results into files.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import import_module
from typing import Callable

from xmedia.errors import XMediaError

AREAS = (
    "xmedia.commands.soundtrack",
    "xmedia.commands.look",
    "xmedia.commands.robot",
    "xmedia.commands.style",
    "xmedia.commands.text",
    "xmedia.commands.onsets",
    "xmedia.commands.timbre",
    "xmedia.commands.train",
    "xmedia.commands.batch",
    "xmedia.commands.studio",
)


def areas() -> list:
    return [import_module(name) for name in AREAS]


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


def flag_options(args, names) -> dict:
    """The flags in ``names`` the user gave (``None`` means not given), as route options."""
    return {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}
