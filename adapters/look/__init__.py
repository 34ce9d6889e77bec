"""Colour looks: ``Filter`` (a 3D LUT plus spatial touches) and ``FilterTrack`` (a look that follows music).

A ``Filter`` holds a 3D colour LUT ``table[r, g, b] -> rgb`` (N x N x N x 3 float32) and optional spatial
parameters with their units in their names. It applies to an ``Image`` or a ``Video`` (frames lazily, audio
kept) with trilinear or tetrahedral interpolation, has a ``strength`` (0 = identity, 1 = full), blends with
another ``Filter`` and saves as an Adobe/Resolve ``.cube`` or a Hald CLUT PNG; ``xmedia.load`` reads both back.
``look_table(params)`` builds the LUT from named, physical look parameters (exposure in stops, CIELAB
shifts...), which is what the audio -> filter bridge (``xmedia.bridges.audio_filter``) predicts.

Modules: ``colour`` (sRGB / linear / CIELAB, ``LOOK_PARAMS``, ``look_table``), ``kernel`` (applying a table:
tetrahedral / trilinear on a thread pool), ``filter`` (``Filter``, spatial effects, lazy video filtering),
``track`` (``Look``, ``FilterTrack``), ``steps`` (the ``lut`` and ``lut-soundtrack`` route steps) and
``formats`` (``.cube``, Hald CLUT, look-track ``.json``). This package is the ``xmedia.providers`` entry point.
"""
from __future__ import annotations

from .colour import (
    CUBE_SIZES,
    DEFAULT_SIZE,
    LOOK_PARAMS,
    identity_table,
    lab_to_srgb,
    linear_to_srgb,
    look_table,
    srgb_to_lab,
    srgb_to_linear,
)
from .filter import SPATIAL_FIELDS, Filter, apply_spatial, filter_video
from .kernel import INTERPOLATIONS, apply_table, resample_table
from .steps import decode_look, encode_soundtrack, look_parameters
from .track import FilterTrack, Look

__all__ = [
    "CUBE_SIZES", "DEFAULT_SIZE", "INTERPOLATIONS", "LOOK_PARAMS", "SPATIAL_FIELDS", "Filter", "FilterTrack", "Look",
    "apply_spatial", "apply_table", "decode_look", "encode_soundtrack", "filter_video", "identity_table",
    "lab_to_srgb", "linear_to_srgb", "look_parameters", "look_table", "resample_table", "srgb_to_lab", "srgb_to_linear",
]
