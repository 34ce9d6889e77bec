"""Transcription: a recording -> a ``Score`` (the ``audio -> score`` route step; a provider, light to import).

``transcribe`` (encoder, ``audio -> score``) runs Spotify's basic-pitch network (Bittner et al., "A Lightweight
Instrument-Agnostic Model for Polyphonic Note Transcription and Multipitch Estimation", ICASSP 2022; the ONNX
file vendored here, sha256-checked) with onnxruntime, and decodes its activations into notes with basic-pitch's
own post-processing ported to numpy (``notes.py``). onnxruntime is imported only when a transcription runs.

    score = xmedia.translate(xmedia.load("hum.wav"), to="score")           # or --to score -o theme.mid
    score = xmedia.translate(audio, to="score", tempo=96, min_hz=80)
"""
from __future__ import annotations

from importlib.util import find_spec

from xmedia.routing import Step


def _onnxruntime_present() -> bool:
    return find_spec("onnxruntime") is not None


transcribe_step = Step("transcribe", "audio", "score", "xmedia.adapters.transcribe.transcribe:transcribe", cost=1.0,
                  kind="encoder", only_for=("score",), available=_onnxruntime_present,
                  description="notes of a recording (Spotify basic-pitch, ICASSP 2022, ONNX via onnxruntime); "
                              "tempo=, onset_threshold=, frame_threshold=, min_note_ms=, min_hz=, max_hz=, "
                              "melodia=, program=")
