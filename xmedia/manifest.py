"""JSON-lines manifests: one JSON object per line naming an input and its per-item fields (as lhotse's).

```text
{"input": "clips/beach.mp4", "output": "beach_soundtrack.mp4", "style": "foley", "seed": 3}
{"input": "clips/city.mov", "to": "filter"}
```

``input`` is required; paths are relative to the manifest's folder. The other fields belong to whoever reads
the manifest: ``xmedia batch`` takes ``output`` (relative to its output folder) and ``to`` (target kind) and
passes the rest as the item's ``xmedia translate`` flags; a trainer reads its own fields (a label, a target
file). ``read_manifest`` also reads ``.jsonl.gz``; ``items(source)`` gives the same items for a folder of
media files, so every reader accepts a folder or a manifest alike.
"""
from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path

from .atomic import write_text
from .errors import ConfigError
from .io import AUDIO_EXT, IMAGE_EXT, TEXT_EXT, VIDEO_EXT

MEDIA_EXT = tuple(sorted(set(VIDEO_EXT + AUDIO_EXT + IMAGE_EXT + TEXT_EXT)))
RESERVED = ("input", "output", "to")


@dataclass(frozen=True)
class ManifestItem:
    """One line of a manifest: the input (resolved against the manifest's folder), its fields, and where it was."""

    input: Path
    fields: dict = field(default_factory=dict)
    line: int = 0
    source: str = ""

    @property
    def output(self) -> str | None:
        return self.fields.get("output")

    @property
    def to(self) -> str | None:
        return self.fields.get("to")

    @property
    def options(self) -> dict:
        """The fields other than ``input``, ``output`` and ``to``."""
        return {k: v for k, v in self.fields.items() if k not in RESERVED}

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}" if self.line else self.source


def is_manifest(path) -> bool:
    name = Path(path).name.lower()
    return name.endswith((".jsonl", ".jsonl.gz", ".ndjson"))


def read_manifest(path) -> list[ManifestItem]:
    """Every item of a JSON-lines manifest; a bad line is a ``ConfigError`` naming the file and line number."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such manifest; write one JSON object per line, e.g. {{\"input\": \"clip.mp4\"}}")
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    found = []
    with opener(path, "rt", encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            found.append(parse_line(line, path, number))
    if not found:
        raise ConfigError(f"{path}: the manifest is empty; write one JSON object per line, e.g. "
                          '{"input": "clip.mp4"}')
    return found


def parse_line(line: str, path, number: int) -> ManifestItem:
    where = f"{path}:{number}"
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno}); each line of a manifest is "
                          'one JSON object, e.g. {"input": "clip.mp4"}') from None
    if not isinstance(row, dict):
        raise ConfigError(f"{where}: each line must be a JSON object, got {type(row).__name__}")
    if not isinstance(row.get("input"), str) or not row["input"]:
        raise ConfigError(f"{where}: the object has no \"input\" (the media file, relative to the manifest)")
    for key in ("output", "to"):
        if key in row and not isinstance(row[key], str):
            raise ConfigError(f"{where}: \"{key}\" must be a string, got {row[key]!r}")
    src = Path(row["input"]).expanduser()
    src = src if src.is_absolute() else Path(path).parent / src
    return ManifestItem(src, {k: v for k, v in row.items() if k != "input"}, number, str(path))


def folder_items(folder, extensions=MEDIA_EXT) -> list[ManifestItem]:
    """The media files under ``folder`` (recursively, hidden files and folders skipped, in path order) as items."""
    folder = Path(folder)
    found = []
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder)
        if p.is_file() and p.suffix.lower() in extensions and not any(part.startswith(".") for part in rel.parts):
            found.append(ManifestItem(p, {}, 0, str(p)))
    if not found:
        raise ConfigError(f"{folder}: no media files ({', '.join(extensions)}) in this folder")
    return found


def items(source, extensions=MEDIA_EXT) -> list[ManifestItem]:
    """A manifest (``.jsonl``, ``.jsonl.gz``, ``.ndjson``), a folder of media files or one media file, as items."""
    source = Path(source)
    if source.is_dir():
        return folder_items(source, extensions)
    if is_manifest(source):
        return read_manifest(source)
    if source.is_file():
        return [ManifestItem(source, {}, 0, str(source))]
    raise ConfigError(f"{source}: no such file or folder; give a folder of media files or a JSON-lines manifest")


def manifest_files(path, extensions=None) -> list[Path]:
    """The input files a manifest lists, in its order, for a trainer's ``--data``; an input that is missing or
    (with ``extensions``) not of those kinds is a ``ConfigError`` naming the manifest's file and line."""
    found = []
    for item in read_manifest(path):
        if not item.input.is_file():
            raise ConfigError(f"{item.where}: {item.input}: no such file")
        if extensions is not None and item.input.suffix.lower() not in extensions:
            raise ConfigError(f"{item.where}: {item.input.name} is not one of {', '.join(extensions)}")
        found.append(item.input)
    return found


def write_manifest(path, rows) -> Path:
    """Write rows (dicts with ``input``, or ``ManifestItem``s) as a JSON-lines manifest, atomically."""
    lines = []
    for row in rows:
        if isinstance(row, ManifestItem):
            row = {"input": str(row.input), **row.fields}
        if "input" not in row:
            raise ConfigError(f"a manifest row needs an \"input\", got {row!r}")
        lines.append(json.dumps(row, ensure_ascii=False, default=str))
    return write_text(path, "\n".join(lines) + "\n")
