"""File formats for colour looks: Adobe/Resolve ``.cube`` (Cube LUT Specification 1.0) and Hald CLUT PNG.

``parse_cube`` reads exactly to the spec (red index fastest, 1D or 3D, TITLE, DOMAIN_MIN/MAX) and names the
line of any malformed row; ``format_cube``/``write_cube`` write it; ``read_hald``/``write_hald`` the Hald image.
``Filter.load``/``Filter.save`` dispatch here by extension.
"""
from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np

from xmedia.atomic import atomic_path, write_text
from xmedia.errors import ConfigError, MediaError

from .lut import CUBE_SIZES, DEFAULT_SIZE, SPATIAL_FIELDS, Filter, identity_table, resample_table


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
    path = Path(path)
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


def write_cube(filt: Filter, path, size: int | None = None) -> Path:
    if size is not None and size not in CUBE_SIZES:
        raise ConfigError(f"LUT size must be one of {CUBE_SIZES} (17, 33 or 65 points per axis), got {size}")
    return write_text(path, format_cube(filt, size))


# ---------------------------------------------------------------------------------------------- Hald CLUT
def read_hald(path) -> Filter:
    """A Hald CLUT image: level L gives an L^2-point cube in an L^3 x L^3 image, red fastest, row by row."""
    from xmedia.io import load

    img = load(Path(path), kind="image")
    h, w = img.height, img.width
    level = round(w ** (1 / 3))
    if h != w or level**3 != w or not 2 <= level <= 16:
        raise MediaError(f"{path}: a Hald CLUT is a square image of side L^3 (L = 2..16, e.g. 512 for level 8), "
                         f"got {w}x{h}")
    n = level * level
    data = img.to_float()[:, :, :3].reshape(-1, 3)
    table = data.reshape(n, n, n, 3).transpose(2, 1, 0, 3)
    return Filter(table, title=Path(path).stem)


def write_hald(filt: Filter, path, level: int | None = None, bit_depth: int = 16) -> Path:
    """Write a Hald CLUT PNG (16-bit by default). Default level: the smallest with L^2 >= the LUT size."""
    import cv2

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
    with atomic_path(path) as tmp:
        if not cv2.imwrite(str(tmp), cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR)):
            raise MediaError(f"{path}: OpenCV could not write the Hald image")
    return path
