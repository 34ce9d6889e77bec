"""Scores in and out: MIDI (mido), MusicXML / ABC / kern (music21), and a built-in synth for score -> audio.

``from_music21`` / ``to_music21`` convert music21 streams; ``read_midi`` / ``write_midi`` read and write Standard
MIDI Files; ``read_scores(path)`` reads every tune of a file (an ABC collection holds many); ``render`` plays a
``Score`` as ``Audio``. Names load on first use, so registering the formats and the route step stays light (no
music21 until a MusicXML/ABC file is read).
"""
from __future__ import annotations

from importlib import import_module

_WHERE = {"from_music21": "music21_convert", "to_music21": "music21_convert", "read_midi": "midi",
          "write_midi": "midi", "read_scores": "files", "read_score": "files", "render": "synth"}
__all__ = sorted(_WHERE)


def __getattr__(name):
    if name in _WHERE:
        return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
