"""One persistence system: every saveable object's formats, found through the ``xmedia.formats`` entry points.

A ``Format`` names a ``kind``, the extensions it uses, a reader and a writer. Modules in the entry-point group
list theirs in a module-level ``FORMATS`` tuple (another package adds formats the same way). ``save(obj,
path)`` picks the writer by the object's type and the extension and writes atomically (a temporary sibling,
then a rename); ``load(path)`` picks the reader by extension, and where several formats share one (``.json``,
``.png``) by each format's ``sniff``. Every JSON the project writes starts with a ``"kind"`` tag (as diffusers'
``_class_name``), so a ``.json`` always finds its way back to the type that wrote it.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .atomic import atomic_dir, atomic_path
from .errors import MediaError

FORMAT_GROUP = "xmedia.formats"
_KIND_AT_START = re.compile(rb'^\s*\{\s*"kind"\s*:\s*"([^"]+)"')


@dataclass(frozen=True)
class Format:
    """How one kind of object is stored.

    ``reader(path, **options) -> object``; ``writer(obj, tmp_path, **options)`` writes into a temporary file (a
    directory when ``directory``) that then replaces the target. ``types`` are the classes the writer takes,
    as classes or ``"module.QualName"`` strings (so a light module can name a heavy class). ``sniff(path)``
    tells formats that share an extension apart; a format without one is the fallback for its extensions.
    """

    kind: str
    extensions: tuple[str, ...]
    reader: Callable[..., Any] | None = None
    writer: Callable[..., None] | None = None
    types: tuple = ()
    sniff: Callable[[Path], bool] | None = None
    directory: bool = False
    description: str = ""

    def writes(self, obj) -> bool:
        names = {t if isinstance(t, str) else f"{t.__module__}.{t.__qualname__}" for t in self.types}
        return any(f"{c.__module__}.{c.__qualname__}" in names for c in type(obj).__mro__)


_FORMATS: list[Format] = []
_LOADED: list[str] = []


def formats() -> list[Format]:
    """Every registered format (the entry-point modules are imported on first use)."""
    if not _LOADED:
        from .plugins import entry_modules, import_plugins

        names = entry_modules(FORMAT_GROUP)
        if not names:
            raise MediaError("no file formats are registered: xmedia's package metadata is missing. Install it "
                             "(pip install -e . in a checkout) so its xmedia.formats entry points exist")
        for module in import_plugins(names, "the file formats"):
            _FORMATS.extend(f for f in getattr(module, "FORMATS", ()) if f not in _FORMATS)
        _LOADED.extend(names)
    return _FORMATS


def json_kind(path) -> str | None:
    """The ``"kind"`` tag of a JSON file (read from its first bytes when it leads, else from the whole file)."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(256)
        m = _KIND_AT_START.match(head)
        if m:
            return m.group(1).decode()
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data.get("kind") if isinstance(data, dict) else None


def tagged(kind: str, body: dict) -> dict:
    """``body`` with ``"kind"`` as its first key (what ``json_kind`` reads back cheaply)."""
    return {"kind": kind, **{k: v for k, v in body.items() if k != "kind"}}


def is_json_kind(kind: str, untagged: bool = False) -> Callable[[Path], bool]:
    """A sniff for JSON files tagged ``kind`` (``untagged=True`` also claims JSON without a tag)."""
    return lambda p: json_kind(p) == kind or (untagged and json_kind(p) is None)


def _suffix(path: Path) -> str:
    return "" if path.is_dir() else path.suffix.lower()


def reader_for(path, kind: str | None = None) -> Format:
    """The format that reads ``path`` (``kind=`` narrows the choice, and overrides the extension)."""
    path = Path(path)
    is_dir, ext = path.is_dir(), _suffix(path)
    candidates = [f for f in formats() if f.reader is not None and f.directory == is_dir]
    if kind is not None:
        of_kind = [f for f in candidates if f.kind == kind]
        if not of_kind:
            raise MediaError(f"{path}: no reader for kind {kind!r}; known kinds: {sorted({f.kind for f in candidates})}")
        matching = [f for f in of_kind if ext in f.extensions or not f.extensions]
        candidates = matching or of_kind
    else:
        candidates = [f for f in candidates if ext in f.extensions or (is_dir and not f.extensions)]
    sniffed = [f for f in candidates if f.sniff is not None and f.sniff(path)]
    fallback = [f for f in candidates if f.sniff is None]
    if sniffed or fallback:
        return (sniffed or fallback)[0]
    if is_dir:
        raise MediaError(f"{path} is a directory but not a saved xmedia object (no config.json with a known "
                         "\"kind\"); give a media file")
    known = sorted({e for f in formats() if f.reader is not None for e in f.extensions})
    if candidates:
        raise MediaError(f"{path}: none of the {ext} readers recognises this file (kinds tried: "
                         f"{[f.kind for f in candidates]}); was it written by xmedia or is it damaged?")
    raise MediaError(f"{path}: unknown extension {ext!r}. Known: {known}; or pass kind='video'|'audio'|...")


def writer_for(obj, path) -> Format:
    path = Path(path)
    ext = path.suffix.lower()
    mine = [f for f in formats() if f.writer is not None and f.writes(obj)]
    if not mine:
        raise MediaError(f"cannot save a {type(obj).__name__}: no format writes it")
    for f in mine:
        if f.directory or ext in f.extensions:
            return f
    exts = sorted({e for f in mine for e in f.extensions})
    raise MediaError(f"{path}: cannot write a {type(obj).__name__} as {ext!r}; use one of {exts}")


def save(obj, path, **options) -> Path:
    """Write ``obj`` to ``path`` atomically in the format its type and the extension choose."""
    path = Path(path)
    fmt = writer_for(obj, path)
    with (atomic_dir if fmt.directory else atomic_path)(path) as tmp:
        fmt.writer(obj, tmp, **options)
    return path


def load(path, kind: str | None = None, **options):
    """Read ``path`` with the format its extension (or content, or ``kind=``) chooses."""
    return reader_for(path, kind).reader(Path(path), **options)
