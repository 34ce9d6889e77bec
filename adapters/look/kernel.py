"""Applying a 3D LUT to many pixels fast: tetrahedral or trilinear interpolation on a thread pool.

``TableKernel`` is the precomputed form of one table; ``apply_kernel`` runs one over (..., 3) pixels in chunks
on every core (numpy and OpenCV release the GIL); ``apply_table`` and ``resample_table`` are the one-shot forms.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import numpy as np

from xmedia.errors import ConfigError

from .colour import identity_table

INTERPOLATIONS = ("tetrahedral", "trilinear")

_POOL: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1), thread_name_prefix="xmedia-lut")
    return _POOL


class TableKernel:
    """Precomputed form of one LUT for fast interpolation of many pixels.

    Per cell (and, for tetrahedral, per ordering of the fractional parts) it stores the polynomial
    coefficients, so each pixel needs ONE row gather and a few multiply-adds, done channel-planar after a
    cv2 transpose (numpy is slow on an inner dimension of 3). For 8/16-bit input the cell offsets and
    fractions come from per-channel tables of 256/65536 entries, and the coefficients are pre-scaled to the
    output's integer range, so the only work left is gather, combine, clip.
    """

    def __init__(self, table: np.ndarray, interpolation: str, domain_min, domain_max, out_scale: float = 1.0):
        n = table.shape[0]
        self.n, self.interpolation = n, interpolation
        self.lo = np.asarray(domain_min, np.float64)
        self.span = np.asarray(domain_max, np.float64) - self.lo
        flat = table.reshape(-1, 3).astype(np.float64) * out_scale
        # Integer outputs: add 0.5 to every corner (weights sum to 1) so a plain truncation rounds.
        flat += 0.5 if out_scale > 1 else 0.0
        sr, sg, sb = n * n, n, 1
        self.strides = np.array([sr, sg, sb], np.int64)
        cells = np.arange(n**3)
        ok = (cells // sr < n - 1) & ((cells // sg) % n < n - 1) & (cells % n < n - 1)
        base = np.where(ok, cells, 0)
        c = lambda off: flat[base + off]  # noqa: E731
        if interpolation == "trilinear":
            self.per_cell = 1
            c000, c100, c010, c001 = c(0), c(sr), c(sg), c(sb)
            c110, c101, c011, c111 = c(sr + sg), c(sr + sb), c(sg + sb), c(sr + sg + sb)
            coef = [c000, c100 - c000, c010 - c000, c001 - c000, c110 - c100 - c010 + c000,
                    c101 - c100 - c001 + c000, c011 - c010 - c001 + c000,
                    c111 - c110 - c101 - c011 + c100 + c010 + c001 - c000]
            self.coef = np.concatenate(coef, axis=1).astype(np.float32)  # (N^3, 24)
        elif interpolation == "tetrahedral":
            # code = (fr >= fg) + 2 (fg >= fb) + 4 (fr >= fb) picks the tetrahedron; 8 slots, 6 possible.
            self.per_cell = 8
            rows = np.zeros((n**3, 8, 12), np.float32)
            for code in range(8):
                rg, gb, rb = code & 1, (code >> 1) & 1, (code >> 2) & 1
                largest = sr if (rg and rb) else (sg if gb else sb)
                smallest = sb if (gb and rb) else (sr if not rg else sg)
                c0, ca, cab, c1 = c(0), c(largest), c(sr + sg + sb - smallest), c(sr + sg + sb)
                rows[:, code] = np.concatenate([c0, ca - c0, cab - ca, c1 - cab], axis=1)
            self.coef = rows.reshape(-1, 12)
        else:
            raise ConfigError(f"interpolation must be one of {INTERPOLATIONS}, got {interpolation!r}")
        self._int_tables: dict[int, tuple] = {}

    def _index_tables(self, levels: int):
        """Per channel: cell offset (times per_cell) and fraction for every integer input code."""
        if levels not in self._int_tables:
            v = np.arange(levels, dtype=np.float64) / (levels - 1)
            offs, fracs = [], []
            for ch in range(3):
                i, f = self._split(v, ch)
                offs.append((i * self.strides[ch] * self.per_cell).astype(np.int32))
                fracs.append(f.astype(np.float32))
            self._int_tables[levels] = (offs, fracs)
        return self._int_tables[levels]

    def _split(self, v: np.ndarray, ch: int):
        x = np.clip((v - self.lo[ch]) / self.span[ch], 0.0, 1.0) * (self.n - 1)
        i = np.minimum(np.floor(x), self.n - 2)
        return i, x - i

    def _combine(self, idx: np.ndarray, fr, fg, fb) -> np.ndarray:
        import cv2

        rows = cv2.transpose(np.take(self.coef, idx, axis=0))  # (K*3, n), channel-planar
        out = np.empty((3, idx.size), np.float32)
        if self.per_cell == 8:
            x1 = np.maximum(np.maximum(fr, fg), fb)
            x3 = np.minimum(np.minimum(fr, fg), fb)
            x2 = fr + fg + fb - x1 - x3
            weights = (x1, x2, x3)
        else:
            frg = fr * fg
            weights = (fr, fg, fb, frg, fr * fb, fg * fb, frg * fb)
        for ch in range(3):
            o = out[ch]
            o[:] = rows[ch]
            for k, w in enumerate(weights, start=1):
                o += w * rows[3 * k + ch]
        return out

    def _codes(self, fr, fg, fb) -> np.ndarray:
        code = (fr >= fg).view(np.uint8) + ((fg >= fb).view(np.uint8) << 1)
        code += (fr >= fb).view(np.uint8) << 2
        return code

    def run_int(self, px: np.ndarray, levels: int) -> np.ndarray:
        offs, fracs = self._index_tables(levels)
        r, g, b = px[:, 0], px[:, 1], px[:, 2]
        fr, fg, fb = np.take(fracs[0], r), np.take(fracs[1], g), np.take(fracs[2], b)
        idx = np.take(offs[0], r) + np.take(offs[1], g)
        idx += np.take(offs[2], b)
        if self.per_cell == 8:
            idx += self._codes(fr, fg, fb)
        return self._combine(idx, fr, fg, fb)

    def run_float(self, px: np.ndarray) -> np.ndarray:
        x = (px - self.lo.astype(np.float32)) * ((self.n - 1) / self.span).astype(np.float32)
        np.clip(x, 0.0, self.n - 1, out=x)
        i = np.minimum(np.floor(x), self.n - 2)
        f = x - i
        fr, fg, fb = f[:, 0], f[:, 1], f[:, 2]
        i *= (self.strides * self.per_cell).astype(np.float32)  # exact: offsets stay below 2**24
        idx = (i[:, 0] + i[:, 1] + i[:, 2]).astype(np.int32)
        if self.per_cell == 8:
            idx += self._codes(fr, fg, fb)
        return self._combine(idx, fr, fg, fb)


def _run_chunks(px: np.ndarray, work: Callable[[np.ndarray, slice], None], chunk: int = 1 << 16) -> None:
    n = px.shape[0]
    slices = [slice(s, min(s + chunk, n)) for s in range(0, n, chunk)]
    if len(slices) == 1:
        work(px, slices[0])
        return
    for f in [_pool().submit(work, px, s) for s in slices]:
        f.result()


def apply_kernel(pixels: np.ndarray, kernel_for: Callable[[float], TableKernel]) -> np.ndarray:
    """Apply to (..., 3) uint8 / uint16 / float32 pixels; the result has the input's dtype."""
    import cv2

    shape, dtype = pixels.shape, pixels.dtype
    px = np.ascontiguousarray(pixels.reshape(-1, 3))
    out = np.empty(px.shape, dtype if dtype in (np.uint8, np.uint16) else np.float32)
    if dtype in (np.uint8, np.uint16):
        levels = 256 if dtype == np.uint8 else 65536
        top = float(levels - 1)
        kernel = kernel_for(top)  # coefficients pre-scaled to 0..255 / 0..65535, plus 0.5

        def work(p, s):
            res = kernel.run_int(p[s], levels)  # already + 0.5: truncation below rounds to nearest
            np.clip(res, 0, top, out=res)
            out[s] = cv2.transpose(res.astype(dtype))

    else:
        kernel = kernel_for(1.0)

        def work(p, s):
            out[s] = kernel.run_float(p[s]).T

    _run_chunks(px, work)
    return out.reshape(shape)


def apply_table(pixels: np.ndarray, table: np.ndarray, interpolation: str = "tetrahedral",
                domain_min=(0, 0, 0), domain_max=(1, 1, 1)) -> np.ndarray:
    """Interpolate ``table`` at every pixel (..., 3); uint8/uint16 stay integer, anything else -> float32."""
    pixels = np.asarray(pixels)
    if pixels.dtype not in (np.uint8, np.uint16):
        pixels = pixels.astype(np.float32)
    return apply_kernel(pixels, lambda scale: TableKernel(table, interpolation, domain_min, domain_max, scale))


def resample_table(table: np.ndarray, size: int, interpolation: str = "tetrahedral") -> np.ndarray:
    """The same LUT sampled on another grid size (the domain is unchanged)."""
    if table.shape[0] == size:
        return table
    grid = identity_table(size).reshape(-1, 3)
    return apply_table(grid, table, interpolation).reshape(size, size, size, 3)
