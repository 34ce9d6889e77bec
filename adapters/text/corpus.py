"""Corpora for the text processes: read (UTF-8, with clear errors), mix by weight, split, tokenise.

``read_corpus(path)`` reads one file, refusing an empty or binary file and naming the byte offset of the first
invalid UTF-8 sequence (``encoding="latin-1"`` reads any bytes; ``errors="replace"`` keeps going with U+FFFD).
``parse_mix("a.txt:0.5,b.txt:0.5")`` and ``mix_corpora`` build a weighted mix: each corpus is repeated or cut
(by whole lines) to its share of the mix, so a small corpus weighs as much as its weight says, not its size.
A JSON-lines manifest (``xmedia.manifest``) lists corpora with optional weights: ``{"input": "a.txt", "weight": 0.5}``.
``split_text`` holds out the LAST fraction of each corpus as one contiguous block (never interleaved lines).
"""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path

from xmedia.blend import MAX_NAME_PART, check_weights, existing_path, parse_blend, split_weight
from xmedia.errors import ConfigError, MediaError
from xmedia.manifest import is_manifest, read_manifest

TEXT_SUFFIXES = (".txt", ".md", ".text", "")
WORD_RE = re.compile(r"\n|[^\W\d_]+(?:['’][^\W\d_]+)*|\d+|[^\w\s]", re.UNICODE)


def read_corpus(path, encoding: str = "utf-8", errors: str = "strict") -> str:
    """The text of one corpus file, newlines normalised to ``\\n``."""
    path = Path(path)
    if not path.is_file():
        raise MediaError(f"{path}: no such corpus file")
    raw = path.read_bytes()
    return decode_corpus(raw, str(path), encoding, errors)


def decode_corpus(raw: bytes, name: str = "corpus", encoding: str = "utf-8", errors: str = "strict") -> str:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ConfigError(f"unknown text encoding {encoding!r}; use utf-8 (the default), latin-1 (reads any bytes), "
                          "cp1252, utf-16...") from None
    if not raw.strip():
        raise MediaError(f"{name} is empty: a text model needs text to learn from")
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise MediaError(f"{name} looks binary (a NUL byte at byte offset {nul}); give a plain-text corpus")
    try:
        text = raw.decode(encoding, errors=errors)
    except UnicodeDecodeError as exc:
        raise MediaError(f"{name} is not valid {encoding}: byte 0x{raw[exc.start]:02x} at byte offset {exc.start} "
                         f"({exc.reason}); convert it to UTF-8, or read it with encoding='latin-1' "
                         "(--encoding latin-1) or errors='replace'") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    controls = sum(1 for c in text[:100_000] if ord(c) < 32 and c not in "\n\t")
    if controls > 0.01 * min(len(text), 100_000):
        raise MediaError(f"{name} looks binary ({controls} control characters in its first "
                         f"{min(len(text), 100_000)}); give a plain-text corpus")
    return text


def corpus_files(path) -> list[Path]:
    """A file, the text files of a folder (sorted), or the files a JSON-lines manifest lists."""
    p = Path(path)
    if is_manifest(p):
        return [f for f, _ in manifest_mix(p)]
    if p.is_dir():
        files = sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in TEXT_SUFFIXES
                       and not f.name.startswith("."))
        if not files:
            raise MediaError(f"{p}: no text files (.txt, .md) in this folder")
        return files
    if not p.exists():
        raise MediaError(f"{p}: no such corpus file or folder")
    return [p]


def manifest_mix(path) -> list[tuple[Path, float]]:
    """The corpora a manifest lists with their shares (a line's ``weight``, default 1, split among a folder's
    files), summing to 1; a missing input or a bad weight is a ``ConfigError`` naming the manifest's line."""
    out = []
    for item in read_manifest(path):
        weight = item.fields.get("weight", 1.0)
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 < weight < float("inf"):
            raise ConfigError(f"{item.where}: \"weight\" must be a positive number, got {weight!r}")
        if not item.input.exists():
            raise ConfigError(f"{item.where}: {item.input}: no such corpus file or folder")
        if is_manifest(item.input):
            raise ConfigError(f"{item.where}: {item.input.name} is a manifest; list the corpus files themselves")
        files = corpus_files(item.input)
        out += [(f, weight / len(files)) for f in files]
    total = sum(w for _, w in out)
    return [(f, w / total) for f, w in out]


def parse_mix(spec) -> list[tuple[Path, float]]:
    """``"a.txt:0.5,b.txt:0.5"`` (weights optional, default equal; a folder counts as its files, a ``.jsonl``
    manifest as the files it lists, with their ``weight`` fields) as ``[(path, weight), ...]`` summing to 1.

    Names and weights follow ``xmedia.blend.parse_blend``'s rules (the same as ``--timbre a:0.7,b:0.3``): a
    weight is finite and >= 0, not all zero, else a ``ConfigError`` ("weights must be >= 0 and finite"); a
    corpus of weight 0 is left out. An existing path is taken whole (even with ',' or ':' in its name)."""
    if isinstance(spec, (list, tuple)):
        items = [item if isinstance(item, tuple) else _mix_item(str(item).strip()) for item in spec]
    elif not str(spec).strip():
        items = []
    elif existing_path(spec):
        items = [(str(spec), None)]
    else:
        items = [(name, w) for name, w in parse_blend(spec, "corpus", normalise=False)]
    if not items:
        raise ConfigError("no corpus given: --data a.txt[:weight],b.txt[:weight], a folder or a .jsonl manifest")
    weights = check_weights([1.0 if w is None else w for _, w in items], "corpus", spec, [p for p, _ in items])
    out = []
    for (path, _), w in zip(items, weights):
        if w == 0:
            continue
        if is_manifest(path):
            shares = manifest_mix(path)
        else:
            files = corpus_files(path)
            shares = [(f, 1.0 / len(files)) for f in files]
        out += [(f, w * share) for f, share in shares]
    total = sum(w for _, w in out)
    return [(f, w / total) for f, w in out]


def _mix_item(item: str) -> tuple[str, float | None]:
    return (item, None) if existing_path(item) else split_weight(item)


def looks_like_path(s: str) -> bool:
    """Whether a string names corpus files (``a.txt``, ``a.txt:0.5,b/``, an existing path) rather than being the
    text to learn. Never touches the file system for what cannot be a path (a newline, a NUL, longer than a
    path or a file name may be), so one long line of text is text, not an ``OSError``."""
    if not isinstance(s, str) or not s.strip() or len(s) > 4096 or "\n" in s or "\0" in s:
        return False
    if existing_path(s):
        return True
    names = [split_weight(p.strip())[0] for p in s.split(",") if p.strip()]
    return bool(names) and all(_path_like(n) for n in names)


def _path_like(name: str) -> bool:
    if any(len(part) > MAX_NAME_PART for part in Path(name).parts):
        return False
    suffixes = (".txt", ".md", ".text", ".jsonl")
    return existing_path(name) or "/" in name or "\\" in name or name.lower().endswith(suffixes)


def as_corpus(data, val_fraction: float = 0.1, **read_options) -> "Corpus":
    """A ``Corpus`` from a ``Corpus``, a text to learn (a ``str`` that does not name files: see
    ``looks_like_path``) or anything ``mix_corpora`` reads (a path, a weighted mix, a folder, a manifest)."""
    if isinstance(data, Corpus):
        return data
    if isinstance(data, str) and not looks_like_path(data):
        if not data.strip():
            raise ConfigError("the corpus is empty: a text model needs text to learn from")
        train, val = split_text(data, val_fraction)
        return Corpus(train, val, [("<text>", 1.0)])
    return mix_corpora(data, val_fraction, **read_options)


@dataclass
class Corpus:
    """Training and validation text (the validation text is the held-out end of every corpus)."""

    train: str
    val: str
    sources: list

    def describe(self) -> str:
        return ", ".join(f"{Path(p).name} ({w:.0%})" for p, w in self.sources)


def split_text(text: str, val_fraction: float) -> tuple[str, str]:
    """The last ``val_fraction`` of ``text`` as one contiguous block, cut at a line start where there is one."""
    if not 0.0 <= val_fraction < 1.0:
        raise ConfigError(f"val_fraction must be in [0, 1), got {val_fraction}")
    if val_fraction == 0:
        return text, ""
    cut = int(len(text) * (1 - val_fraction))
    nl = text.find("\n", cut)
    if 0 <= nl < cut + 200:
        cut = nl + 1
    return text[:cut], text[cut:]


def mix_corpora(spec, val_fraction: float = 0.1, encoding: str = "utf-8", errors: str = "strict") -> Corpus:
    """Read and mix weighted corpora; each is split first (its end held out), then sized to its weight."""
    sources = parse_mix(spec)
    parts = [(split_text(read_corpus(p, encoding, errors), val_fraction), w) for p, w in sources]
    if len(parts) == 1:
        (train, val), _ = parts[0]
        return Corpus(train, val, sources)
    # Every corpus gets (weight x the total length) characters, repeating whole lines of a small one.
    total_train = sum(len(tr) for (tr, _), _ in parts)
    total_val = sum(len(va) for (_, va), _ in parts)
    train = "".join(_sized(tr, int(w * total_train)) for (tr, _), w in parts)
    val = "".join(_sized(va, int(w * total_val)) for (_, va), w in parts)
    return Corpus(train, val, sources)


def _sized(text: str, n_chars: int) -> str:
    if not text or n_chars <= 0:
        return ""
    reps = -(-n_chars // len(text))
    out = (text if text.endswith("\n") else text + "\n") * reps
    cut = out.find("\n", n_chars)
    return out[: cut + 1] if cut >= 0 else out


def words(text: str) -> list[str]:
    """Word-level tokens: words, numbers, single punctuation marks and line breaks (``\\n``)."""
    return WORD_RE.findall(text)


def detokenize(tokens) -> str:
    """Words back to text: a space between words, none before punctuation or around line breaks."""
    out = []
    for tok in tokens:
        if tok == "\n":
            out.append("\n")
        elif out and out[-1] != "\n" and not (len(tok) == 1 and tok in ".,;:!?')]}’"):
            out.append(" " + tok)
        else:
            out.append(tok)
    return "".join(out)
