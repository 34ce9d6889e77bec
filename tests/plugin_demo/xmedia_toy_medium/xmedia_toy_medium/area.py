"""The toy medium's CLI area: ``--pattern-bpm`` for ``xmedia translate ... --to pattern``, and its writer."""
from __future__ import annotations

from pathlib import Path

from xmedia.commands import Flag

from . import Pattern

TRANSLATE_GROUP = "toy rhythm (--to pattern)"
TRANSLATE_FLAGS = (Flag("pattern-bpm", "tempo of the rhythm, beats per minute", type=float, option="bpm"),)


def write_result(args, x, trace) -> bool:
    """Write the pattern, and say what it is (a plain save would print nothing about it)."""
    pattern = trace.output
    if not isinstance(pattern, Pattern):
        return False
    pattern.save(Path(args.output))
    print(f"wrote {args.output}: {len(pattern.cells)} beats at {pattern.bpm:g} bpm, {pattern.cells}")
    return True
