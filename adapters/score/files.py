"""Score files: ``read_scores(path) -> list[Score]`` for every format, ``read_score(path, index=0)``, and the
writers, with the ``FORMATS`` the ``xmedia.formats`` entry point registers.

MIDI (``.mid``, ``.midi``) is read and written with mido (``midi.py``); MusicXML (``.musicxml``, ``.mxl``, and
``.xml`` when the file is MusicXML) is read and written through music21; ABC (``.abc``) and Humdrum kern
(``.krn``) are read through music21. An ABC file is often a collection: ``read_scores`` gives every tune,
``xmedia.load(path)`` the first and ``xmedia.load(path, index=i)`` the i-th. Unreadable files are a MediaError
that names the file; a file that parses but holds no notes is a valid, empty ``Score``.
"""
from __future__ import annotations

import re
from pathlib import Path

from xmedia import limits
from xmedia.errors import MediaError
from xmedia.formats import Format
from xmedia.score import Score

from .midi import MIDI_EXT, read_midi, write_midi

MUSICXML_EXT = (".musicxml", ".mxl")
_M21_FORMAT = {".musicxml": "musicxml", ".mxl": "musicxml", ".xml": "musicxml", ".abc": "abc", ".krn": "humdrum"}
_NAMES = {"musicxml": "MusicXML", "abc": "ABC", "humdrum": "Humdrum kern"}
_MUSICXML_MARKS = (b"<score-partwise", b"<score-timewise")


def is_musicxml(path) -> bool:
    """An uncompressed MusicXML file (its root element in the first 4 KiB), for the shared ``.xml`` extension."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return any(mark in head for mark in _MUSICXML_MARKS)


def _parse_m21(path: Path):
    fmt = _M21_FORMAT.get(path.suffix.lower())
    if fmt is None:
        raise MediaError(f"{path}: unknown score extension {path.suffix!r}; use .mid, .midi, .musicxml, .mxl, .xml, "
                         ".abc or .krn")
    from .music21_convert import _m21

    m21 = _m21()
    import warnings

    name = _NAMES[fmt]
    if path.stat().st_size == 0:
        raise MediaError(f"{path}: the file is empty; it is not a {name} score")
    if fmt == "abc" and b"K:" not in path.read_bytes()[: 1 << 20]:
        raise MediaError(f"{path}: no ABC tune in the file (an ABC tune has a K: key line before its notes); is it "
                         "an ABC file?")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return m21.converter.parse(str(path), format=fmt, forceSource=True)
    except Exception as exc:  # noqa: BLE001 - music21 raises many types (XML, zip, ABC, converter errors)
        raise MediaError(f"{path}: not a readable {name} file ({type(exc).__name__}: {str(exc)[:200]}); is it "
                         f"truncated or damaged? Re-export it") from None


def read_scores(path, **_options) -> list[Score]:
    """Every score (tune) in the file at ``path``: one for MIDI and MusicXML, one per tune for an ABC collection."""
    path = Path(path)
    if not path.is_file():
        raise MediaError(f"{path}: no such file")
    if path.suffix.lower() in MIDI_EXT:
        return [read_midi(path)]
    from music21 import stream

    from .music21_convert import from_music21

    parsed = _parse_m21(path)
    pieces = list(parsed.scores) if isinstance(parsed, stream.Opus) else [parsed]
    out = []
    for i, piece in enumerate(pieces):
        try:
            score = from_music21(piece)
        except MediaError as exc:
            raise MediaError(f"{path}: tune {i + 1}: {exc}") from None
        limits.check("score_notes", score.num_notes, f"{path.name}: notes")
        out.append(score.replace(meta={**score.meta, "source": str(path), "index": i}))
    if not out:
        raise MediaError(f"{path}: no score in the file")
    if path.suffix.lower() == ".krn" and not any(s.num_notes for s in out):  # music21 skips what it cannot parse
        raise MediaError(f"{path}: no note of this Humdrum kern file could be read; is it damaged or another "
                         "Humdrum representation than **kern?")
    return out


def abc_tunes(text: str) -> list[str]:
    """The tunes of an ABC collection, each with the file header (the fields before the first ``X:``)."""
    starts = [m.start() for m in re.finditer(r"^X:", text, flags=re.MULTILINE)]
    if not starts:
        return [text]
    header = text[: starts[0]]
    return [header + text[a:b] for a, b in zip(starts, starts[1:] + [len(text)])]


def read_score(path, index: int = 0, **options) -> Score:
    """The ``index``-th score of the file (``xmedia.load(path, index=i)``): an ABC collection parses only that
    tune."""
    path = Path(path)
    if path.suffix.lower() == ".abc" and path.is_file() and isinstance(index, int):
        tunes = abc_tunes(path.read_text(encoding="utf-8", errors="replace"))
        if len(tunes) > 1:
            if not -len(tunes) <= index < len(tunes):
                raise MediaError(f"{path}: index={index} but the file holds {len(tunes)} tunes (0-{len(tunes) - 1})")
            return _abc_tune(path, tunes[index], index % len(tunes))
    scores = read_scores(path, **options)
    if not isinstance(index, int) or not -len(scores) <= index < len(scores):
        raise MediaError(f"{path}: index={index!r} but the file holds {len(scores)} score(s) (0-{len(scores) - 1})")
    return scores[index]


def _abc_tune(path: Path, text: str, index: int) -> Score:
    from .music21_convert import _m21, from_music21

    m21 = _m21()
    try:
        parsed = m21.converter.parseData(text, format="abc")
    except Exception as exc:  # noqa: BLE001 - music21's ABC errors
        raise MediaError(f"{path}: tune {index + 1} is not readable ABC ({type(exc).__name__}: {str(exc)[:200]})"
                         ) from None
    if isinstance(parsed, m21.stream.Opus):
        parsed = parsed.scores[0]
    score = from_music21(parsed)
    limits.check("score_notes", score.num_notes, f"{path.name}: notes")
    return score.replace(meta={**score.meta, "source": str(path), "index": index})


def write_musicxml(score: Score, path, **_options) -> None:
    """MusicXML through music21 (``.mxl`` compressed, ``.musicxml`` / ``.xml`` plain)."""
    from .music21_convert import to_music21

    m21 = to_music21(score)
    try:
        m21.write("musicxml", fp=str(path))
    except Exception as exc:  # noqa: BLE001 - music21 cannot notate every rhythm
        raise MediaError(f"{path}: music21 could not write this score as MusicXML ({type(exc).__name__}: "
                         f"{str(exc)[:200]}); save it as .mid instead") from None


_SCORE = ("xmedia.score.Score",)
FORMATS = (
    Format("score", MIDI_EXT, read_score, write_midi, types=_SCORE, description="Standard MIDI File (mido)"),
    Format("score", MUSICXML_EXT, read_score, write_musicxml, types=_SCORE, description="MusicXML (music21)"),
    Format("score", (".xml",), read_score, write_musicxml, types=_SCORE, sniff=is_musicxml,
           description="MusicXML (music21), recognised by its root element"),
    Format("score", (".abc",), read_score, None, types=_SCORE, description="ABC tunes (music21), read only"),
    Format("score", (".krn",), read_score, None, types=_SCORE, description="Humdrum kern (music21), read only"),
)
