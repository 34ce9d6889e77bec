"""File formats of the colour looks, registered with ``xmedia.formats`` (the ``xmedia.formats`` entry point).

- ``.cube`` (Adobe/Resolve, Cube LUT Specification 1.0): ``parse_cube`` reads exactly to the spec (red index
  fastest, 1D or 3D, TITLE, DOMAIN_MIN/MAX) and names the line of any malformed row; ``format_cube`` writes it.
- Hald CLUT image (``.png``; ``.tif`` too): xmedia writes a PNG ``tEXt`` chunk ``xmedia-kind=filter`` right
  after the header, so ``xmedia.load`` tells it from an ordinary PNG (which still loads as an ``Image``). A Hald
  image from another tool (ffmpeg ``haldclutsrc``) has no tag: read it with ``Filter.load`` or ``kind="filter"``.
- Look track ``.json`` (``"kind": "look-track"``): a ``FilterTrack``'s parameter track.

``xmedia.load(path)`` gives back the ``Filter`` or ``FilterTrack`` that ``.save(path)`` wrote.
"""
from __future__ import annotations

import json
import re
import struct
import warnings
import zlib
from fractions import Fraction
from pathlib import Path

import numpy as np

from xmedia.errors import ConfigError, MediaError
from xmedia.formats import Format, is_json_kind, tagged
from xmedia.io import load as load_media

from .colour import CUBE_SIZES, DEFAULT_SIZE, identity_table
from .filter import SPATIAL_FIELDS, Filter
from .kernel import resample_table
from .track import FilterTrack, Look

LOOK_TRACK_KIND = "look-track"


def _existing(path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise MediaError(f"{path}: no such file")
    return path


# ---------------------------------------------------------------------------------------------- .cube
_KEYWORDS = ("TITLE", "LUT_1D_SIZE", "LUT_3D_SIZE", "DOMAIN_MIN", "DOMAIN_MAX", "LUT_1D_INPUT_RANGE",
             "LUT_3D_INPUT_RANGE")
_XMEDIA_TAG = "# xmedia:"


def _numbers(text: str, count: int, where: str) -> list[float]:
    parts = text.split()
    if len(parts) != count:
        raise MediaError(f"{where}: expected {count} numbers, found {len(parts)} ({text.strip()[:60]!r})")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise MediaError(f"{where}: {text.strip()[:60]!r} is not {count} numbers") from None
    if not all(np.isfinite(values)):
        raise MediaError(f"{where}: NaN/inf values are not allowed in a .cube")
    return values


def parse_cube(text: str, name: str = "<cube>") -> Filter:
    """Parse the text of an Adobe/Resolve ``.cube``; errors name the line (1-based)."""
    title, size3, size1, dmin, dmax = "", None, None, [0.0] * 3, [1.0] * 3
    size_line = 0
    extra: dict[str, float] = {}
    rows, first_row_line, last_row_line = [], 0, 0
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith(_XMEDIA_TAG):
            for item in line[len(_XMEDIA_TAG):].split():
                key, _, value = item.partition("=")
                if key in SPATIAL_FIELDS or key == "strength":
                    extra[key] = float(value)
            continue
        if not line or line.startswith("#"):
            continue
        where = f"{name}, line {lineno}"
        head = line.split(maxsplit=1)[0]
        if head in _KEYWORDS:
            if rows:
                raise MediaError(f"{where}: keyword {head} after the table data started (line {first_row_line}); "
                                 "keywords must come before the data")
            rest = line[len(head):].strip()
            if head == "TITLE":
                m = re.fullmatch(r'"(.*)"', rest)
                if not m:
                    raise MediaError(f'{where}: TITLE must be in double quotes, e.g. TITLE "My look"')
                title = m.group(1)
            elif head in ("LUT_3D_SIZE", "LUT_1D_SIZE"):
                if (size1 if head == "LUT_3D_SIZE" else size3) is not None:
                    raise MediaError(f"{where}: a .cube holds a 1D or a 3D table, not both "
                                     f"(LUT_1D_SIZE and LUT_3D_SIZE mixed; the other is on line {size_line})")
                try:
                    n = int(rest)
                except ValueError:
                    raise MediaError(f"{where}: {head} must be an integer, got {rest!r}") from None
                limit = (2, 256) if head == "LUT_3D_SIZE" else (2, 65536)
                if not limit[0] <= n <= limit[1]:
                    raise MediaError(f"{where}: {head} {n} is out of range {limit[0]}..{limit[1]}")
                size3, size1, size_line = (n, None, lineno) if head == "LUT_3D_SIZE" else (None, n, lineno)
            elif head in ("DOMAIN_MIN", "DOMAIN_MAX"):
                v = _numbers(rest, 3, where)
                dmin, dmax = (v, dmax) if head == "DOMAIN_MIN" else (dmin, v)
            else:  # Resolve's LUT_*_INPUT_RANGE min max: the same range for all three channels
                lo, hi = _numbers(rest, 2, where)
                dmin, dmax = [lo] * 3, [hi] * 3
            continue
        if head[0].isalpha() and not head.lower().startswith(("nan", "inf")):
            raise MediaError(f"{where}: unknown keyword {head!r} (known: {', '.join(_KEYWORDS)})")
        rows.append(_numbers(line, 3, where))
        first_row_line = first_row_line or lineno
        last_row_line = lineno
    if size3 is None and size1 is None:
        raise MediaError(f"{name}: no LUT_3D_SIZE (or LUT_1D_SIZE) line: not a .cube LUT")
    expected = size3**3 if size3 else size1
    if len(rows) != expected:
        kind = f"LUT_3D_SIZE {size3} needs {size3}^3 = {expected}" if size3 else f"LUT_1D_SIZE {size1} needs {expected}"
        at = f"; the data runs from line {first_row_line} to line {last_row_line}" if rows else ""
        raise MediaError(f"{name}: {kind} rows of data (declared on line {size_line}), found {len(rows)}{at}")
    if any(a >= b for a, b in zip(dmin, dmax)):
        raise MediaError(f"{name}: DOMAIN_MIN {dmin} must be below DOMAIN_MAX {dmax} in every channel")
    data = np.asarray(rows, dtype=np.float32)
    if size3:
        table = data.reshape(size3, size3, size3, 3).transpose(2, 1, 0, 3)  # file: red fastest -> [r, g, b]
    else:  # a 1D LUT is a per-channel curve: bake it into a 33^3 cube
        grid = identity_table(DEFAULT_SIZE, dmin, dmax)
        x = np.linspace(0, 1, size1)
        table = np.stack([np.interp((grid[..., c] - dmin[c]) / (dmax[c] - dmin[c]), x, data[:, c]) for c in range(3)],
                         axis=-1)
    strength = extra.pop("strength", 1.0)
    return Filter(table, strength=strength, title=title, domain_min=tuple(dmin), domain_max=tuple(dmax), **extra)


def read_cube(path) -> Filter:
    path = _existing(path)
    try:
        text = path.read_text(encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise MediaError(f"{path}: not a text .cube file (binary data)") from None
    return parse_cube(text, str(path))


def format_cube(filt: Filter, size: int | None = None, precision: int = 6) -> str:
    """The ``.cube`` text: TITLE, LUT_3D_SIZE, DOMAIN_MIN/MAX, then N^3 rows with red changing fastest.

    The table is written at the filter's strength; spatial parameters, which .cube cannot hold, go into a
    ``# xmedia:`` comment line that other readers ignore.
    """
    table = filt.effective_table()
    if size is not None and size != filt.size:
        table = resample_table(table, size)
    n = table.shape[0]
    head = []
    if filt.title:
        head.append(f'TITLE "{filt.title.replace(chr(34), chr(39))}"')
    head.append(f"LUT_3D_SIZE {n}")
    if filt.domain_min != (0.0, 0.0, 0.0) or filt.domain_max != (1.0, 1.0, 1.0):
        head.append("DOMAIN_MIN " + " ".join(f"{v:.{precision}g}" for v in filt.domain_min))
        head.append("DOMAIN_MAX " + " ".join(f"{v:.{precision}g}" for v in filt.domain_max))
    spatial = {k: v for k, v in filt.spatial().items()}
    if spatial:
        head.insert(0, _XMEDIA_TAG + " " + " ".join(f"{k}={v:.6g}" for k, v in spatial.items()))
    head.insert(0, "# written by xmedia (Adobe Cube LUT Specification 1.0)")
    rows = table.transpose(2, 1, 0, 3).reshape(-1, 3)  # [b, g, r] order: red fastest
    rows = np.where(np.abs(rows) < 0.5 * 10.0**-precision, 0.0, rows)  # no "-0.000000"
    body = "\n".join(" ".join(f"{v:.{precision}f}" for v in row) for row in rows.tolist())
    return "\n".join(head) + "\n" + body + "\n"


def write_cube(look: Filter | FilterTrack, path, size: int | None = None) -> None:
    """Write the ``.cube`` text to ``path`` (a look track writes its pooled look, built at ``size``).

    This is the format's writer: ``Filter.save`` / ``xmedia.save`` call it on a temporary file they rename."""
    if size is not None and size not in CUBE_SIZES:
        raise ConfigError(f"LUT size must be one of {CUBE_SIZES} (17, 33 or 65 points per axis), got {size}")
    if isinstance(look, FilterTrack):
        look, size = look.pooled(size or DEFAULT_SIZE), None
    Path(path).write_text(format_cube(look, size))


# ---------------------------------------------------------------------------------------------- Hald CLUT
HALD_EXTENSIONS = (".png", ".tif", ".tiff")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_HALD_TAG = b"xmedia-kind\x00filter"  # a PNG tEXt chunk: keyword, NUL, text


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def is_xmedia_hald(path) -> bool:
    """Whether ``path`` is a PNG carrying xmedia's Hald tag (a ``tEXt`` chunk before the image data)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(1024)
    except OSError:
        return False
    if not head.startswith(_PNG_SIGNATURE):
        return False
    pos = len(_PNG_SIGNATURE)
    while pos + 8 <= len(head):
        length, kind = struct.unpack(">I4s", head[pos:pos + 8])
        if kind == b"IDAT":
            return False
        if kind == b"tEXt" and head[pos + 8:pos + 8 + length] == _HALD_TAG:
            return True
        pos += 12 + length
    return False


def read_hald(path) -> Filter:
    """A Hald CLUT image: level L gives an L^2-point cube in an L^3 x L^3 image, red fastest, row by row."""
    path = _existing(path)
    if path.suffix.lower() not in HALD_EXTENSIONS:
        raise MediaError(f"{path}: unknown LUT format {path.suffix!r}; use .cube or a Hald CLUT .png")
    img = load_media(path, kind="image")
    h, w = img.height, img.width
    level = round(w ** (1 / 3))
    if h != w or level**3 != w or not 2 <= level <= 16:
        raise MediaError(f"{path}: a Hald CLUT is a square image of side L^3 (L = 2..16, e.g. 512 for level 8), "
                         f"got {w}x{h}")
    n = level * level
    data = img.to_float()[:, :, :3].reshape(-1, 3)
    table = data.reshape(n, n, n, 3).transpose(2, 1, 0, 3)
    return Filter(table, title=path.stem)


def write_hald(look: Filter | FilterTrack, path, level: int | None = None, bit_depth: int = 16) -> None:
    """Write a Hald CLUT image (16-bit by default; a PNG gets xmedia's tag). Default level: the smallest with
    L^2 >= the LUT size. A look track writes its pooled look. This is the format's writer (see ``write_cube``)."""
    import cv2

    filt = look.pooled() if isinstance(look, FilterTrack) else look
    level = level or max(2, int(np.ceil(np.sqrt(filt.size))))
    if not 2 <= level <= 16:
        raise ConfigError(f"Hald level must be 2..16, got {level}")
    if bit_depth not in (8, 16):
        raise ConfigError(f"bit_depth must be 8 or 16, got {bit_depth}")
    if filt.spatial():
        warnings.warn("a Hald CLUT holds colour only: the spatial parameters (grain, vignette, ...) are not saved; "
                      "save as .cube to keep them", UserWarning, stacklevel=2)
    n = level * level
    table = resample_table(filt.effective_table(), n) if n != filt.size else filt.effective_table()
    if filt.domain_min != (0.0, 0.0, 0.0) or filt.domain_max != (1.0, 1.0, 1.0):
        raise ConfigError("a Hald CLUT covers the input range 0..1 only; this LUT has another DOMAIN: save as .cube")
    top = 255 if bit_depth == 8 else 65535
    pixels = np.clip(np.round(table.transpose(2, 1, 0, 3).reshape(level**3, level**3, 3) * top), 0, top)
    pixels = pixels.astype(np.uint8 if bit_depth == 8 else np.uint16)
    path = Path(path)
    ok, encoded = cv2.imencode(path.suffix.lower(), cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR))
    if not ok:
        raise MediaError(f"{path}: OpenCV could not write the Hald image")
    data = encoded.tobytes()
    if data.startswith(_PNG_SIGNATURE):  # the tag goes right after the IHDR chunk, where is_xmedia_hald looks
        ihdr_end = len(_PNG_SIGNATURE) + 12 + struct.unpack(">I", data[8:12])[0]
        data = data[:ihdr_end] + _png_chunk(b"tEXt", _HALD_TAG) + data[ihdr_end:]
    path.write_bytes(data)


# ---------------------------------------------------------------------------------------------- look track
def write_look_track(track: FilterTrack, path) -> None:
    """The parameter track as JSON tagged ``"kind": "look-track"`` (this is the format's writer)."""
    look = track.look
    body = {"rate_hz": str(look.rate_hz), "start_s": str(look.start_s), "lut_size": track.lut_size,
            "strength": track.strength, "grain_seed": track.grain_seed, "params": look.params,
            "param_names": list(look.param_names), "track": np.round(look.track, 5).tolist()}
    Path(path).write_text(json.dumps(tagged(LOOK_TRACK_KIND, body)))


def read_look_track(path) -> FilterTrack:
    """A ``FilterTrack`` from a look-track ``.json``."""
    path = _existing(path)
    try:
        d = json.loads(path.read_text())
        look = Look(dict(d["params"]), track=np.asarray(d["track"], np.float32), rate_hz=Fraction(d["rate_hz"]),
                    start_s=Fraction(d.get("start_s", "0")), param_names=tuple(d["param_names"]))
        return FilterTrack(look, lut_size=int(d.get("lut_size", 17)), strength=float(d.get("strength", 1.0)),
                           grain_seed=int(d.get("grain_seed", 0)))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise MediaError(f"{path}: not a look-track .json ({type(exc).__name__}: {exc}); write one with "
                         "`xmedia translate video.mp4 --to filter -o look.json`") from None


FORMATS = (
    Format("filter", (".cube",), read_cube, write_cube, types=(Filter, FilterTrack),
           description="Adobe/Resolve .cube 3D LUT (a look track writes its pooled look)"),
    Format("filter", HALD_EXTENSIONS, read_hald, write_hald, types=(Filter, FilterTrack), sniff=is_xmedia_hald,
           description="Hald CLUT image written by xmedia (PNG tEXt xmedia-kind=filter)"),
    Format("filter", (), read_hald,
           description="a Hald CLUT image from any tool (untagged): load(path, kind='filter') or Filter.load"),
    Format(LOOK_TRACK_KIND, (".json",), read_look_track, write_look_track, types=(FilterTrack,),
           sniff=is_json_kind(LOOK_TRACK_KIND), description="a FilterTrack's parameter track"),
)
