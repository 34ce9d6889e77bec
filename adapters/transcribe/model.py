"""Spotify's basic-pitch network (Bittner et al., ICASSP 2022), run with onnxruntime: the front end.

The ONNX file is vendored beside this module (``basic_pitch_icassp2022.onnx``, 230 KB), copied unchanged from
the ``basic-pitch==0.4.0`` wheel (``basic_pitch/saved_models/icassp_2022/nmp.onnx``; Apache-2.0, Copyright 2022
Spotify AB: ``LICENSE-basic-pitch`` and ``NOTICE-basic-pitch`` here). The wheel itself is not a dependency: it
requires TensorFlow, which xmedia never installs or imports. Its sha256 is checked when the model is loaded
(once a process); a missing, truncated or swapped file is a ``WeightsError``.

The windowing is basic-pitch's own (``basic_pitch/inference.py`` and ``constants.py``): mono audio at
22 050 Hz, 15 hop-lengths (3 840 samples) of zeros in front, windows of 43 844 samples (2 s less one hop) every
36 164 samples (30 frames of overlap), 172 output frames a window of which the 15 at each edge are dropped,
the rest joined and cut to ``floor(n_samples * 86 / 22050)`` frames. Outputs per frame: ``note`` (88 piano
keys, A0 = MIDI 21), ``onset`` (88) and ``contour`` (264, a third of a semitone each).
"""
from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import numpy as np

from xmedia.errors import MediaError, WeightsError

SAMPLE_RATE_HZ = 22050  # constants.AUDIO_SAMPLE_RATE
FFT_HOP = 256  # constants.FFT_HOP: one output frame per 256 samples
WINDOW_SAMPLES = SAMPLE_RATE_HZ * 2 - FFT_HOP  # constants.AUDIO_N_SAMPLES = 43 844
FRAMES_PER_WINDOW = 172  # the model's output frames for one window (ANNOT_N_FRAMES)
OVERLAP_FRAMES = 30  # inference.run_inference: n_overlapping_frames
OVERLAP_SAMPLES = OVERLAP_FRAMES * FFT_HOP  # 7 680
WINDOW_HOP = WINDOW_SAMPLES - OVERLAP_SAMPLES  # 36 164
ANNOTATIONS_FPS = SAMPLE_RATE_HZ // FFT_HOP  # 86 (an integer in basic-pitch too)
KEPT_FRAMES = FRAMES_PER_WINDOW - OVERLAP_FRAMES  # 142 frames of each window are kept
MIDI_OFFSET = 21  # note bin 0 is A0
N_KEYS = 88

MODEL_FILE = Path(__file__).with_name("basic_pitch_icassp2022.onnx")
MODEL_SHA256 = "2c3c1d144bfa61ad236e92e169c13535c880469a12a047d4e73451f2c059a0ec"
SOURCE = "basic-pitch==0.4.0 wheel, basic_pitch/saved_models/icassp_2022/nmp.onnx (Apache-2.0, Spotify AB)"
_INPUT = "serving_default_input_2:0"
_OUTPUTS = ("StatefulPartitionedCall:1", "StatefulPartitionedCall:2", "StatefulPartitionedCall:0")  # note, onset, contour
BATCH_WINDOWS = 8  # windows per onnxruntime call (bounded memory on long files)

_SESSIONS: dict = {}
_LOCK = threading.Lock()


def _refetch_hint(path: Path) -> str:
    return (f"reinstall xmedia (pip install -e '.[music]') to restore {path.name}, or copy it again from the wheel: "
            "pip download --no-deps basic-pitch==0.4.0, unzip it and take basic_pitch/saved_models/icassp_2022/"
            "nmp.onnx")


def verify(path: Path | None = None, sha256: str | None = None) -> bytes:
    """The model file's bytes, after checking its sha256 (``WeightsError`` when missing or different); the
    defaults are the vendored file and its pinned digest."""
    path, sha256 = Path(path or MODEL_FILE), sha256 or MODEL_SHA256
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise WeightsError(f"the basic-pitch model {path} is missing; {_refetch_hint(path)}") from None
    except OSError as exc:
        raise WeightsError(f"the basic-pitch model {path} cannot be read ({exc}); {_refetch_hint(path)}") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise WeightsError(f"the basic-pitch model {path} is corrupt or not the pinned one (sha256 {digest[:16]}..., "
                           f"{len(data)} bytes; expected {sha256[:16]}..., from {SOURCE}); {_refetch_hint(path)}")
    return data


def session(path: Path | None = None, sha256: str | None = None):
    """An onnxruntime session of the verified model (built once per file and digest)."""
    path, sha256 = Path(path or MODEL_FILE), sha256 or MODEL_SHA256
    key = (str(path.resolve()), sha256)
    with _LOCK:
        if key not in _SESSIONS:
            data = verify(path, sha256)
            try:
                import onnxruntime as ort
            except ImportError:
                raise WeightsError("transcription runs the basic-pitch model with onnxruntime, which is not "
                                   "installed: pip install 'xmedia[music]' (or pip install onnxruntime)") from None
            options = ort.SessionOptions()
            options.log_severity_level = 3
            try:
                _SESSIONS[key] = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
            except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own types
                raise WeightsError(f"onnxruntime cannot load {path} ({exc}); {_refetch_hint(Path(path))}") from None
        return _SESSIONS[key]


def mono_22k(audio) -> np.ndarray:
    """The audio as float32 mono at 22 050 Hz (channels averaged, then a polyphase resampler)."""
    from scipy.signal import resample_poly

    x = np.asarray(audio.samples, np.float32)
    x = x.mean(axis=1) if x.ndim == 2 else x
    if not np.isfinite(x).all():
        raise MediaError(f"{getattr(audio, 'source', None) or 'the audio'} holds NaN or infinite samples: clean "
                         "or re-export the recording before transcribing it")
    rate = int(audio.sample_rate_hz)
    if rate != SAMPLE_RATE_HZ and len(x):
        g = np.gcd(SAMPLE_RATE_HZ, rate)
        x = resample_poly(x, SAMPLE_RATE_HZ // g, rate // g).astype(np.float32)
    return np.ascontiguousarray(x, np.float32)


def windows(x: np.ndarray) -> np.ndarray:
    """``(n_windows, 43844, 1)`` float32: basic-pitch's ``get_audio_input`` / ``window_audio_file``."""
    padded = np.concatenate([np.zeros(OVERLAP_SAMPLES // 2, np.float32), x])
    starts = range(0, len(padded), WINDOW_HOP)
    out = np.zeros((len(starts), WINDOW_SAMPLES, 1), np.float32)
    for k, i in enumerate(starts):
        piece = padded[i: i + WINDOW_SAMPLES]
        out[k, : len(piece), 0] = piece
    return out


def n_frames(n_samples: int) -> int:
    """Output frames for ``n_samples`` at 22 050 Hz (``unwrap_output``'s trim)."""
    return int(np.floor(n_samples * (ANNOTATIONS_FPS / SAMPLE_RATE_HZ)))


def frame_start_samples(n: int) -> np.ndarray:
    """The exact start (in 22 050 Hz samples of the input) of each of ``n`` unwrapped frames.

    Kept frame ``j`` of window ``w`` is that window's frame ``j + 15``, which starts ``(j + 15) * 256`` samples
    into a window that starts at ``w * 36164 - 3840`` in the input; so frame ``f = 142 w + j`` starts at
    ``w * 36164 + j * 256``. (basic-pitch's ``model_frames_to_time`` approximates the same shift per window
    with a fitted constant; this is the geometry itself.)"""
    f = np.arange(n, dtype=np.int64)
    w, j = np.divmod(f, KEPT_FRAMES)
    return w * WINDOW_HOP + j * FFT_HOP


def predict(x: np.ndarray, path: Path | None = None, sha256: str | None = None,
            outputs: tuple[str, ...] = ("note", "onset", "contour")) -> dict[str, np.ndarray]:
    """The model's ``note``, ``onset`` ``(frames, 88)`` and ``contour`` ``(frames, 264)`` for mono 22 050 Hz
    samples ``x`` (basic-pitch's ``run_inference``); ``outputs`` picks which to keep (memory on long files)."""
    width = {"note": N_KEYS, "onset": N_KEYS, "contour": 3 * N_KEYS}
    names = dict(zip(("note", "onset", "contour"), _OUTPUTS))
    frames = n_frames(len(x))
    sess = session(path, sha256)
    if frames == 0:
        return {k: np.zeros((0, width[k]), np.float32) for k in outputs}
    wins = windows(x)
    half = OVERLAP_FRAMES // 2
    kept: dict[str, list] = {k: [] for k in outputs}
    for a in range(0, len(wins), BATCH_WINDOWS):
        for name, y in zip(outputs, sess.run([names[k] for k in outputs], {_INPUT: wins[a: a + BATCH_WINDOWS]})):
            kept[name].append(y[:, half:-half, :].reshape(-1, y.shape[-1]))
    return {k: np.concatenate(v)[:frames].astype(np.float32) for k, v in kept.items()}
