"""basic-pitch's note-event decoding, ported to numpy from ``basic_pitch/note_creation.py`` (basic-pitch 0.4.0,
Apache-2.0, Spotify AB): ``output_to_notes_polyphonic`` with ``get_infered_onsets`` and ``constrain_frequency``.

1. Onsets: the model's onset activations, or (``infer_onsets``) the larger of them and the rise of the note
   activations over one and two frames (rescaled to the onsets' maximum).
2. Every local maximum in time of the onsets at or above ``onset_thresh`` starts a note, latest first; the note
   lasts while the note activation of its key stays at or above ``frame_thresh`` (up to ``energy_tol`` = 11
   frames below it are bridged, then dropped); notes not longer than ``min_note_len`` frames are dropped; a
   kept note's energy (its key and the keys either side) is used up.
3. The melodia trick: while some leftover activation exceeds ``frame_thresh``, the strongest one grows a note
   forwards and backwards the same way (consuming as it goes) and keeps it when long enough.

A note's amplitude is the mean note activation over its frames (MIDI velocity ``round(127 * amplitude)``).
Pitch bends (from the contour output) are not decoded: a ``Score`` holds whole semitones.
"""
from __future__ import annotations

import numpy as np
from scipy.signal import argrelmax

MIDI_OFFSET = 21
MAX_FREQ_IDX = 87
ENERGY_TOL = 11


def hz_to_midi(hz: float) -> float:
    return 12.0 * (np.log2(hz) - np.log2(440.0)) + 69.0


def constrain_frequency(onsets: np.ndarray, frames: np.ndarray, max_freq: float | None,
                        min_freq: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Zero the activations above ``max_freq`` and below ``min_freq`` (Hz), in place."""
    if max_freq is not None:
        top = max(int(np.round(hz_to_midi(max_freq) - MIDI_OFFSET)), 0)
        onsets[:, top:] = 0
        frames[:, top:] = 0
    if min_freq is not None:
        bottom = max(int(np.round(hz_to_midi(min_freq) - MIDI_OFFSET)), 0)
        onsets[:, :bottom] = 0
        frames[:, :bottom] = 0
    return onsets, frames


def inferred_onsets(onsets: np.ndarray, frames: np.ndarray, n_diff: int = 2) -> np.ndarray:
    """The larger of the predicted onsets and the frames' rise over 1..n_diff frames (rescaled to the onsets'
    maximum). Where the frames never rise (silence) the predicted onsets are returned as they are (basic-pitch
    divides by zero there)."""
    diffs = []
    for n in range(1, n_diff + 1):
        appended = np.concatenate([np.zeros((n, frames.shape[1])), frames])
        diffs.append(appended[n:, :] - appended[:-n, :])
    frame_diff = np.min(diffs, axis=0)
    frame_diff[frame_diff < 0] = 0
    frame_diff[:n_diff, :] = 0
    top = np.max(frame_diff) if frame_diff.size else 0.0
    if top <= 0:
        return onsets.copy()
    frame_diff = np.max(onsets) * frame_diff / top
    return np.maximum(onsets, frame_diff)


def _clear(energy: np.ndarray, rows, freq_idx: int) -> None:
    energy[rows, freq_idx] = 0
    if freq_idx < MAX_FREQ_IDX:
        energy[rows, freq_idx + 1] = 0
    if freq_idx > 0:
        energy[rows, freq_idx - 1] = 0


def notes_from_activations(frames: np.ndarray, onsets: np.ndarray, onset_thresh: float = 0.5,
                           frame_thresh: float = 0.3, min_note_len: int = 11, infer_onsets: bool = True,
                           max_freq: float | None = None, min_freq: float | None = None,
                           melodia_trick: bool = True, energy_tol: int = ENERGY_TOL) -> list[tuple[int, int, int, float]]:
    """Note events ``(start_frame, end_frame, midi_pitch, amplitude)`` from ``(frames, 88)`` activations."""
    frames = np.array(frames, np.float64)
    onsets = np.array(onsets, np.float64)
    n_frames = frames.shape[0]
    if n_frames == 0:
        return []
    onsets, frames = constrain_frequency(onsets, frames, max_freq, min_freq)
    if infer_onsets:
        onsets = inferred_onsets(onsets, frames)

    peak_thresh_mat = np.zeros(onsets.shape)
    peaks = argrelmax(onsets, axis=0)
    peak_thresh_mat[peaks] = onsets[peaks]
    onset_idx = np.where(peak_thresh_mat >= onset_thresh)
    onset_time_idx = onset_idx[0][::-1]  # backwards in time
    onset_freq_idx = onset_idx[1][::-1]

    remaining = frames.copy()
    events = []
    for start, freq_idx in zip(onset_time_idx, onset_freq_idx):
        if start >= n_frames - 1:  # too close to the end
            continue
        i, k = start + 1, 0  # k: frames since the energy dropped below the threshold
        while i < n_frames - 1 and k < energy_tol:
            k = k + 1 if remaining[i, freq_idx] < frame_thresh else 0
            i += 1
        i -= k
        if i - start <= min_note_len:
            continue
        _clear(remaining, slice(start, i), freq_idx)
        events.append((int(start), int(i), int(freq_idx) + MIDI_OFFSET, float(np.mean(frames[start:i, freq_idx]))))

    if melodia_trick:
        while True:
            flat = int(np.argmax(remaining))
            i_mid, freq_idx = np.unravel_index(flat, remaining.shape)
            if remaining[i_mid, freq_idx] <= frame_thresh:
                break
            remaining[i_mid, freq_idx] = 0
            i, k = i_mid + 1, 0  # forward pass
            while i < n_frames - 1 and k < energy_tol:
                k = k + 1 if remaining[i, freq_idx] < frame_thresh else 0
                _clear(remaining, i, freq_idx)
                i += 1
            i_end = i - 1 - k
            i, k = i_mid - 1, 0  # backward pass
            while i > 0 and k < energy_tol:
                k = k + 1 if remaining[i, freq_idx] < frame_thresh else 0
                _clear(remaining, i, freq_idx)
                i -= 1
            i_start = i + 1 + k
            if i_end - i_start <= min_note_len:
                continue
            events.append((int(i_start), int(i_end), int(freq_idx) + MIDI_OFFSET,
                           float(np.mean(frames[i_start:i_end, freq_idx]))))
    return events
