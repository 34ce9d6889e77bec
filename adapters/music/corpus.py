"""Training data for the composition models: ``corpus:NAME`` (music21's bundled corpus), a folder or file of
scores (MIDI, MusicXML, ABC, kern; a collection file gives every tune in it), ``Score`` objects, or a list of any
of these; split by piece (the LAST ``val_fraction`` of the pieces, in corpus order, is held out).

Named corpora (``corpus:NAME``): ``bach`` (J. S. Bach's chorales, 4 voices), ``ryansMammoth`` (Ryan's Mammoth
Collection, 1883: Irish and Scottish fiddle tunes, one ABC file each), ``oneill`` (O'Neill's 1850 Irish tunes),
``essen-han`` (the Essen folk-song collection's Chinese Han songs), ``essen`` (its European songs), or any
music21 composer/corpus folder name (``palestrina``, ``monteverdi``...). music21 parses slowly (a minute for
the chorales), so the pieces of a named corpus are cached as JSON in ``$XMEDIA_CACHE/music`` (default
``~/.cache/xmedia/music``), keyed by music21's version.
"""
from __future__ import annotations

import json
import os
import warnings
from dataclasses import asdict
from pathlib import Path

from xmedia.errors import ConfigError, MediaError
from xmedia.score import Key, Score

from .tokens import Piece, score_to_piece

SCORE_SUFFIXES = (".mid", ".midi", ".xml", ".musicxml", ".mxl", ".abc", ".krn")
CACHE_VERSION = 1
ALIASES = {"bach": ("bach", None), "bach-chorales": ("bach", None), "ryansmammoth": ("ryansMammoth", None),
           "irish": ("ryansMammoth", None), "oneill": ("oneills1850", None), "oneills1850": ("oneills1850", None),
           "essen-han": ("essenFolksong", ("han",)), "han": ("essenFolksong", ("han",)),
           "essen": ("essenFolksong", ("altdeu", "ballad", "boehme", "dva", "erk", "fink", "kinder", "lot", "lux",
                                       "variant", "zuccal"))}


def _music21():
    try:
        import music21
    except ImportError:  # pragma: no cover - depends on the install
        raise MediaError("training on scores needs music21: pip install 'xmedia[music]'") from None
    return music21


def corpus_paths(name: str) -> list[Path]:
    """The files of music21's bundled corpus ``name`` (sorted), or a ConfigError listing the known names."""
    m21 = _music21()
    folder, prefixes = ALIASES.get(name.lower(), (name, None))
    paths = sorted(Path(p) for p in m21.corpus.getCorePaths())
    found = [p for p in paths if folder in p.parts and p.suffix.lower() in SCORE_SUFFIXES
             and (prefixes is None or p.name.startswith(prefixes))]
    if not found:
        raise ConfigError(f"corpus:{name}: no such music21 corpus; try corpus:bach, corpus:ryansMammoth, "
                          "corpus:oneill, corpus:essen-han, corpus:essen or a composer (corpus:palestrina)")
    return found


def read_file(path: Path) -> list[Score]:
    """Every tune of one score file (an ABC collection holds many), via music21."""
    m21 = _music21()
    from xmedia.adapters.score.music21_convert import from_music21

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = m21.converter.parse(str(path))
    streams = list(parsed.scores) if isinstance(parsed, m21.stream.Opus) else [parsed]
    return [from_music21(s) for s in streams]


def _pieces_of_files(files, what: str, max_pieces: int | None) -> list[Piece]:
    pieces, bad = [], []
    for f in files:
        if max_pieces is not None and len(pieces) >= max_pieces:
            break
        try:
            scores = read_file(f)
        except Exception as exc:  # noqa: BLE001 - music21 raises many kinds on a bad file: name it, go on
            bad.append(f"{Path(f).name} ({type(exc).__name__})")
            continue
        for s in scores:
            try:
                pieces.append(score_to_piece(s))
            except MediaError as exc:
                bad.append(f"{Path(f).name}: {exc}")
    if not pieces:
        shown = "; ".join(bad[:3]) or "no files"
        raise MediaError(f"{what}: no readable score with pitched notes ({shown}); give MIDI, MusicXML, ABC or "
                         "kern files")
    if bad:
        warnings.warn(f"{what}: skipped {len(bad)} unreadable file(s) or tune(s), e.g. {bad[0]}", stacklevel=3)
    return pieces[:max_pieces] if max_pieces is not None else pieces


def _cache_file(name: str) -> Path:
    base = Path(os.environ.get("XMEDIA_CACHE") or Path.home() / ".cache" / "xmedia")
    m21 = _music21()
    return base / "music" / f"{name.lower()}-m21_{m21.VERSION_STR}-v{CACHE_VERSION}.json"


def _to_json(pieces) -> str:
    return json.dumps([{**asdict(p), "key": [p.key.tonic, p.key.mode]} for p in pieces])


def _from_json(text: str) -> list[Piece]:
    out = []
    for d in json.loads(text):
        out.append(Piece([tuple(n) for n in d["notes"]], d["bar"], Key(0, *d["key"]),
                         [tuple(x) for x in d["beat_pairs"]], d.get("title", ""),
                         tuple(d.get("metre", (4, 4)))))
    return out


def named_corpus(name: str, max_pieces: int | None = None) -> list[Piece]:
    cache = _cache_file(name)
    if cache.is_file():
        pieces = _from_json(cache.read_text())
        return pieces[:max_pieces] if max_pieces is not None else pieces
    pieces = _pieces_of_files(corpus_paths(name), f"corpus:{name}", max_pieces)
    if max_pieces is None:
        from xmedia.atomic import write_text

        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            write_text(cache, _to_json(pieces))
        except OSError:  # a read-only home: parse again next time
            pass
    return pieces


def as_pieces(data, max_pieces: int | None = None) -> tuple[list[Piece], str]:
    """``(pieces, description)`` from ``corpus:NAME``, a folder, a score file, a ``Score``, a ``Piece`` or a
    list of them."""
    if isinstance(data, (list, tuple)):
        if not data:
            raise ConfigError("no training data: give corpus:NAME, a folder of scores or Score objects")
        pieces, names = [], []
        for item in data:
            p, d = as_pieces(item, None)
            pieces += p
            names.append(d)
        return (pieces[:max_pieces] if max_pieces is not None else pieces), ", ".join(dict.fromkeys(names))
    if isinstance(data, Piece):
        return [data], "1 piece"
    if isinstance(data, Score):
        return [score_to_piece(data)], data.title or "a Score"
    text = str(data)
    if text.startswith("corpus:"):
        name = text.split(":", 1)[1].strip()
        return named_corpus(name, max_pieces), f"music21 corpus {name}"
    path = Path(text)
    if path.is_dir():
        files = sorted(f for f in path.rglob("*") if f.is_file() and f.suffix.lower() in SCORE_SUFFIXES)
        if not files:
            raise MediaError(f"{path}: no score files ({', '.join(SCORE_SUFFIXES)}) in this folder")
        return _pieces_of_files(files, str(path), max_pieces), f"{len(files)} score files in {path}"
    if path.is_file():
        return _pieces_of_files([path], str(path), max_pieces), str(path)
    raise MediaError(f"{text}: no such score file or folder; give corpus:NAME (corpus:bach), a folder of "
                     "MIDI/MusicXML/ABC files or a score file")


def split_pieces(pieces: list[Piece], val_fraction: float) -> tuple[list[Piece], list[Piece]]:
    """The first pieces to train on, the last ``val_fraction`` of them held out (none when there is one)."""
    n_val = int(round(len(pieces) * val_fraction)) if len(pieces) > 1 else 0
    n_val = min(n_val, len(pieces) - 1)
    return pieces[:len(pieces) - n_val], pieces[len(pieces) - n_val:]
